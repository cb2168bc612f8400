"""Scale-out: a CPU worker on the default and ml queues and a "GPU" worker on the
diffusion queue, as the deployment guide lays them out. Each task lands on the
worker whose queues it belongs to, and the row says which worker ran it."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

from generation import services as generation_services
from generation.models import Generation
from generation.weights import ENV_FAMILY, ENV_IP_ADAPTER, ENV_MODEL_DIR
from moodboards.models import BoardImage
from taste import services as taste_services
from taste.models import Analysis, TasteProfile
from testkit.tiny_diffusion import TINY_IMAGE_EMBED_DIM, save_tiny_weights

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def diffusion_weights(tmp_path, monkeypatch, settings, model_settings):
    paths = save_tiny_weights(tmp_path / "weights")
    # Both this process (which checks the backend is installed) and the workers
    # (started after this, with this environment) see the weights.
    model_settings(ENV_MODEL_DIR, str(paths["model_dir"]))
    model_settings(ENV_IP_ADAPTER, str(paths["ip_adapter_path"]))
    model_settings(ENV_FAMILY, "sd15")
    model_settings("TASTEBASE_DIFFUSION_STEPS", 2)
    model_settings("TASTEBASE_DIFFUSION_SIZE", 64)
    return paths


def _clip_space_copy(profile: TasteProfile) -> TasteProfile:
    """The profile with sub-style centroids in the tiny IP-Adapter's embedding space,
    as an OpenCLIP analysis would store them."""
    rng = np.random.default_rng(0)
    data = dict(profile.data)
    data["clusters"] = [
        {**c, "centroid": (lambda v: (v / np.linalg.norm(v)).tolist())(rng.normal(size=TINY_IMAGE_EMBED_DIM))}
        for c in data["clusters"]
    ]  # fmt: skip
    return TasteProfile.objects.create(
        board=profile.board, version=profile.version + 1, encoder_id="openclip:tiny",
        fingerprint="clip", image_count=profile.image_count, data=data, images=profile.images,
    )  # fmt: skip


def test_each_task_runs_on_the_worker_of_its_queue(
    alice, board, fill_board, diffusion_weights, start_worker, wait_for, wait_until_ready
):
    cpu = start_worker(queues="default,ml", name="cpu")
    gpu = start_worker(queues="diffusion", name="gpu")

    images = fill_board(board, alice, looks=("mono_contrast", "saturated_pop"), per_look=3)
    wait_until_ready([i.pk for i in images])
    assert {w.split("-")[0] for w in BoardImage.objects.values_list("worker", flat=True)} == {"cpu"}

    analysis = taste_services.analysis_start(board=board, user=alice)
    wait_for(
        lambda: Analysis.objects.get(pk=analysis.pk).status == "done",
        timeout=120,
        what="the analysis",
    )
    analysis.refresh_from_db()
    assert analysis.worker.startswith("cpu-")

    profile = analysis.profile
    content = BoardImage.objects.get(pk=images[0].pk)  # processed by the worker since
    with content.display.open("rb") as fh:
        data = fh.read()
    stylize = generation_services.generation_create(
        team=board.team, user=alice,
        ingredients=[generation_services.IngredientSpec(profile, None, 1.0)],
        contents=[generation_services.ContentSpec("photo.jpg", data, content)],
        strength=1.0, count=1, cohesion=1.0, seed=1,
    )  # fmt: skip
    diffusion = generation_services.generation_create(
        team=board.team, user=alice,
        ingredients=[generation_services.IngredientSpec(_clip_space_copy(profile), None, 1.0)],
        backend="diffusion", prompt="a lighthouse", count=1, strength=1.0, seed=1,
    )  # fmt: skip
    for generation in (stylize, diffusion):
        wait_for(
            lambda g=generation: Generation.objects.get(pk=g.pk).status == "done",
            timeout=240,
            what=f"the {generation.backend} batch",
        )
    assert Generation.objects.get(pk=stylize.pk).worker.startswith("cpu-")
    assert Generation.objects.get(pk=diffusion.pk).worker.startswith("gpu-")

    # And each worker's own log shows only its queues' tasks (not just the banner).
    def ran(log: str) -> set[str]:
        names = ("process_image", "analyze_board", "run_generation", "run_diffusion_generation")
        return {n for n in names if f".{n}[" in log}

    assert ran(cpu.log_path.read_text()) == {"process_image", "analyze_board", "run_generation"}
    assert ran(gpu.log_path.read_text()) == {"run_diffusion_generation"}
