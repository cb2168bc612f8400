"""A real pipeline, when an operator has installed weights; skipped otherwise."""

from __future__ import annotations

import os

import numpy as np
import pytest

from generation.diffusion import get_backend
from generation.weights import ENV_MODEL_DIR, FAMILY_DEFAULTS, DiffusionConfig

pytestmark = pytest.mark.realweights


@pytest.mark.skipif(not os.environ.get(ENV_MODEL_DIR), reason=f"{ENV_MODEL_DIR} is not set")
def test_real_pipeline_follows_the_centroids():
    config = DiffusionConfig.from_settings()
    assert config is not None
    backend = get_backend(config)
    size = int(FAMILY_DEFAULTS[config.family]["size"])
    kwargs = {
        "prompt": "a quiet harbour at dawn, film grain",
        "negative_prompt": "text, watermark",
        "seed": 3,
        "steps": config.default_steps,
        "width": size,
        "height": size,
    }
    if backend.has_ip_adapter:
        rng = np.random.default_rng(0)
        centroid = rng.normal(size=(1, backend.image_embed_dim)).astype(np.float32)
        off = np.asarray(backend(ip_embeds=centroid, ip_scale=0.0, **kwargs)[0], dtype=float)
        on = np.asarray(backend(ip_embeds=centroid, ip_scale=1.0, **kwargs)[0], dtype=float)
        assert np.abs(off - on).mean() > 1.0
    image = backend(ip_embeds=None, ip_scale=0.0, **kwargs)[0]
    assert image.size == (size, size)
    assert np.asarray(image).std() > 5  # a picture, not a flat or black frame
