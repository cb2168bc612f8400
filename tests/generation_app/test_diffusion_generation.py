"""A diffusion batch end to end with tiny random weights laid out like an operator's."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest
from PIL import Image

from generation import rendering, services
from generation.weights import ENV_FAMILY, ENV_IP_ADAPTER, ENV_MODEL_DIR
from taste.models import TasteProfile
from testkit.tiny_diffusion import TINY_IMAGE_EMBED_DIM, save_tiny_weights


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture
def diffusion_installed(tiny_weights, monkeypatch, settings, model_settings):
    model_settings(ENV_MODEL_DIR, str(tiny_weights["model_dir"]))
    model_settings(ENV_IP_ADAPTER, str(tiny_weights["ip_adapter_path"]))
    model_settings(ENV_FAMILY, "sd15")
    settings.TASTEBASE_DIFFUSION_STEPS = 2
    settings.TASTEBASE_DIFFUSION_SIZE = 64


@pytest.fixture
def clip_profile(profile):
    """The board's profile as an OpenCLIP-encoder analysis would store it: sub-style
    centroids in the IP-Adapter's image-embedding space (random, as the weights are)."""
    rng = np.random.default_rng(0)
    data = dict(profile.data)
    data["clusters"] = [
        {**c, "centroid": (v := rng.normal(size=TINY_IMAGE_EMBED_DIM)) / np.linalg.norm(v)}
        for c in data["clusters"]
    ]
    for c in data["clusters"]:
        c["centroid"] = c["centroid"].tolist()
    return TasteProfile.objects.create(
        board=profile.board, version=2, encoder_id="openclip:tiny", fingerprint="clip", image_count=profile.image_count,
        data=data, images=profile.images,
    )  # fmt: skip


def _run(profile, alice, **recipe):
    generation = services.generation_create(
        team=profile.board.team, user=alice, ingredients=[services.IngredientSpec(profile, None, 1.0)],
        backend="diffusion", prompt="a lighthouse", **recipe,
    )  # fmt: skip
    return rendering.generation_run(generation_id=generation.pk)


def _pixels(output):
    with output.file.open("rb") as fh:
        return np.asarray(Image.open(fh).convert("RGB"), dtype=np.int16)


def test_diffusion_is_offered_once_weights_are_installed(diffusion_installed):
    info = {b.id: b for b in services.backend_statuses()}["diffusion"]
    assert info.installed, info.message


def test_diffusion_batch_with_the_profile_centroids(diffusion_installed, clip_profile, alice):
    done = _run(clip_profile, alice, count=2, strength=1.0, seed=5)
    assert done.status == "done", [o.error for o in done.outputs.all()]
    outputs = list(done.outputs.all())
    assert [(o.width, o.height) for o in outputs] == [(64, 64), (64, 64)]
    assert all(o.fidelity is not None for o in outputs)
    # The centroids reach the IP-Adapter: no taste (strength 0) gives another image.
    plain = _run(clip_profile, alice, count=1, strength=0.0, seed=5).outputs.get()
    assert np.abs(_pixels(outputs[0]) - _pixels(plain)).mean() > 0.5


def test_profiles_from_another_encoder_still_guide_by_keywords(diffusion_installed, profile, alice):
    done = _run(profile, alice, count=1, strength=1.0, seed=1)
    assert done.status == "done", [o.error for o in done.outputs.all()]


def test_diffusion_runs_on_its_own_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "generation.tasks.run_diffusion_generation")
    assert route["queue"].name == "diffusion"
    assert app.amqp.router.route({}, "generation.tasks.run_generation")["queue"].name == "ml"
    assert app.amqp.router.route({}, "taste.tasks.analyze_board")["queue"].name == "ml"
    assert app.amqp.router.route({}, "moodboards.tasks.process_image")["queue"].name == "default"
