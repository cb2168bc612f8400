"""Diffusion backend fixtures: tiny random weights, saved the way an operator lays them out."""

from __future__ import annotations

import os

# Before diffusers/transformers are imported anywhere: a hub lookup must fail fast here,
# never hang on a network that does not exist.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path

import numpy as np
import pytest

from generation.weights import ENV_DEVICE, ENV_DTYPE, ENV_FAMILY, ENV_IP_ADAPTER, ENV_MODEL_DIR


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    # Two cores: one thread per pytest-xdist worker, both cores for a plain run.
    import torch

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> dict[str, Path]:
    """A complete weights folder: model/ (save_pretrained) + ip-adapter_tiny.safetensors."""
    from testkit.tiny_diffusion import save_tiny_weights

    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="session")
def tiny_config(tiny_weights):
    from generation.weights import DiffusionConfig

    # guidance 6 as in diffusers' fast tests: CFG on, so the negative path is exercised.
    return DiffusionConfig(
        model_dir=tiny_weights["model_dir"],
        ip_adapter_path=tiny_weights["ip_adapter_path"],
        guidance=6.0,
    )


@pytest.fixture(scope="session")
def backend(tiny_config):
    """Loaded from disk through the production path (from_pretrained + load_ip_adapter)."""
    from generation.diffusion import DiffusionBackend

    return DiffusionBackend(tiny_config)


@pytest.fixture
def centroids() -> np.ndarray:
    """Three sub-style centroids in the tiny IP-Adapter's 32-d image-embedding space."""
    from testkit.tiny_diffusion import TINY_IMAGE_EMBED_DIM

    rng = np.random.default_rng(7)
    return rng.normal(size=(3, TINY_IMAGE_EMBED_DIM)).astype(np.float32)


@pytest.fixture
def generate(backend, centroids):
    """Call the backend with sensible small defaults; tests override what they vary."""

    def run(**overrides):
        kwargs = {
            "prompt": "grainy autumn photograph, warm light",
            "negative_prompt": "neon, glossy",
            "ip_embeds": centroids,
            "ip_scale": 0.7,
            "seed": 11,
            "steps": 2,
            "width": 64,
            "height": 64,
        }
        kwargs.update(overrides)
        return backend(**kwargs)

    return run


@pytest.fixture
def no_weights_env(model_settings, settings, tmp_path):
    for name in (ENV_MODEL_DIR, ENV_IP_ADAPTER, ENV_FAMILY):
        model_settings(name, None)
    model_settings(ENV_DEVICE, "cpu")
    model_settings(ENV_DTYPE, "fp32")
    settings.TASTEBASE_WEIGHTS_REGISTRY = tmp_path / "no-registry.json"
