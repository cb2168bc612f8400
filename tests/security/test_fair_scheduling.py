"""Finding 1, starvation: one worker with two slots served every queue, and two
"Upscale ×4" clicks held both for ten minutes while nobody's thumbnails were made.

Now `make run` starts one worker for thumbnails and one for heavy work, a user's (and a
team's) heavy jobs run a few at a time with a "queued behind your other N jobs" state,
a freed slot goes to whoever started work least recently, and upscales are capped in
size with the reason and an estimate from measured throughput.
"""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from generation import scheduling
from generation import services as generation_services
from generation.models import Backend, Generation, GenerationStatus
from moodboards import services
from moodboards.models import BoardImage, ImageStatus, Role
from moodboards.samples import sample_jpeg

ROOT = Path(__file__).resolve().parents[2]


def _upscale(user, image) -> Generation:
    # Not run: on_commit callbacks don't fire in these tests, so the job stays queued,
    # as it does behind a busy worker.
    return generation_services.generation_upscale(user=user, source=image)


def test_a_users_second_heavy_job_waits_and_says_why(alice, bob, image):
    first, second = _upscale(alice, image), _upscale(alice, image)
    assert scheduling.next_to_run(first.pk, scheduling.ML) == first.pk
    # The worker that takes the second message must not start it: alice runs one at a time.
    assert scheduling.next_to_run(second.pk, scheduling.ML) is None
    second.refresh_from_db()
    assert second.status == GenerationStatus.QUEUED
    state = scheduling.queue_state(second)
    assert state.behind_own == 1
    assert state.reason.startswith("Queued behind your other 1 job")
    # Meanwhile bob's job gets the free slot.
    bobs = _upscale(bob, image)
    assert scheduling.next_to_run(bobs.pk, scheduling.ML) == bobs.pk


def test_the_queued_state_is_on_the_page_and_in_the_api(client, alice, image):
    _upscale(alice, image)
    second = _upscale(alice, image)
    scheduling.next_to_run(Generation.objects.order_by("pk").first().pk, scheduling.ML)
    client.force_login(alice)
    page = client.get(second.get_absolute_url()).content.decode()
    assert "Queued behind your other 1 job" in page
    status = client.get(reverse("generation_status", args=[second.pk])).json()
    assert status["queue"]["behind_own"] == 1
    api = client.get(f"/api/generations/{second.pk}/").json()
    assert api["queue"]["reason"].startswith("Queued behind your other 1 job")


def test_a_freed_slot_goes_to_whoever_started_work_least_recently(alice, bob, image):
    a1, a2, a3 = (_upscale(alice, image) for _ in range(3))
    b1 = _upscale(bob, image)  # bob clicked last
    assert scheduling.next_to_run(a1.pk, scheduling.ML) == a1.pk
    Generation.objects.filter(pk=a1.pk).update(status=GenerationStatus.DONE)
    # A message for alice's next job arrives first, yet bob, who has not had a turn, goes first.
    assert scheduling.next_to_run(a2.pk, scheduling.ML) == b1.pk
    assert scheduling.next_to_run(a2.pk, scheduling.ML) == a2.pk
    assert Generation.objects.get(pk=a3.pk).status == GenerationStatus.QUEUED


def test_a_team_runs_a_few_jobs_at_a_time(settings, alice, bob, carol, team, image, make_user):
    settings.TASTEBASE_HEAVY_JOBS_PER_TEAM = 2
    dave = make_user("dave")
    services.membership_add(team=team, user=dave, role=Role.EDITOR)
    jobs = [_upscale(user, image) for user in (alice, bob, dave)]
    assert [scheduling.next_to_run(j.pk, scheduling.ML) for j in jobs] == [
        jobs[0].pk,
        jobs[1].pk,
        None,
    ]
    assert "of this team" in scheduling.queue_state(Generation.objects.get(pk=jobs[2].pk)).reason


def test_a_finished_job_sends_the_next_one(alice, image, monkeypatch):
    """The message of a job that waited at a cap was used up: finishing a job sends one."""
    from generation import tasks

    first, second = _upscale(alice, image), _upscale(alice, image)
    Generation.objects.filter(pk=first.pk).update(status=GenerationStatus.RUNNING)
    assert scheduling.next_to_run(second.pk, scheduling.ML) is None
    Generation.objects.filter(pk=first.pk).update(status=GenerationStatus.DONE)
    sent = []
    monkeypatch.setattr(tasks.leases, "dispatch", lambda model, pk: sent.append(pk))
    tasks._kick(scheduling.ML)
    assert sent == [second.pk]


def test_upscale_refuses_images_over_the_size_cap_and_says_how_long(settings, client, bob, image):
    settings.TASTEBASE_UPSCALE_MAX_PIXELS = 100_000  # the coffee photo is 600×400
    with pytest.raises(ValidationError) as caught:
        generation_services.generation_upscale(user=bob, source=image)
    message = " ".join(caught.value.messages)
    assert "Upscale ×4 takes images up to 0.1 MP" in message
    assert "keep a worker busy for about" in message
    client.force_login(bob)
    response = client.post(
        reverse("board_image_upscale", args=[image.board_id, image.pk]), follow=True
    )
    assert "takes images up to" in response.content.decode()
    assert not Generation.objects.exists()


def test_the_upscale_batch_path_has_a_pixel_budget(settings, bob, board, add_image, alice):
    settings.TASTEBASE_UPSCALE_MAX_JOB_PIXELS = 500_000
    images = [add_image(board, alice, name) for name in ("coffee", "chelsea-the-cat", "rocket")]
    with pytest.raises(ValidationError, match="Upscale them in smaller groups"):
        generation_services.generation_create(
            user=bob, ingredients=[], backend=Backend.UPSCALE, contents=images
        )


def test_estimates_come_from_measured_throughput(alice, image):
    now = timezone.now()
    for seconds in (10, 20, 30):
        job = _upscale(alice, image)
        Generation.objects.filter(pk=job.pk).update(
            status=GenerationStatus.DONE,
            started=now - timedelta(seconds=seconds),
            finished=now,
            work_pixels=1_000_000,
        )
    assert scheduling.seconds_per_pixel(Backend.UPSCALE) == pytest.approx(20e-6, rel=1e-3)
    assert scheduling.estimate_seconds(Backend.UPSCALE, 3_000_000) == pytest.approx(60, rel=1e-3)


# --- the `make run` layout, with real workers -----------------------------------------------


def _layout() -> list[tuple[str, str, int]]:
    out = subprocess.run(
        ["bash", str(ROOT / "bin/run"), "--workers"], capture_output=True, text=True, check=True
    ).stdout
    return [(n, q, int(c)) for n, q, c in (line.split() for line in out.splitlines())]


def test_make_run_gives_thumbnails_a_worker_of_their_own():
    queues = [set(q.split(",")) for _, q, _ in _layout()]
    assert {"default"} in queues, queues
    assert all(not ({"default"} & q and {"ml", "diffusion"} & q) for q in queues), queues
    assert set().union(*queues) >= {"default", "ml", "diffusion"}


@pytest.mark.worker
def test_thumbnails_are_made_while_upscales_hold_the_heavy_worker(
    start_worker, alice, bob, board, wait_for, django_capture_on_commit_callbacks
):
    for name, queues, _ in _layout():
        start_worker(queues=queues, name=name)
    # Two users' upscales of a photo big enough to take a while (~0.8 MP each).
    from PIL import Image

    big = Image.open(io.BytesIO(sample_jpeg("astronaut"))).resize((1024, 800))
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90)
    with django_capture_on_commit_callbacks(execute=True):
        source = services.board_add_image(
            board=board, user=alice, name="big.jpg", data=buf.getvalue()
        )
    wait_for(
        lambda: BoardImage.objects.get(pk=source.image_id).status == ImageStatus.READY,
        timeout=120,
        what="the source image's thumbnail",
    )
    source_image = BoardImage.objects.get(pk=source.image_id)
    with django_capture_on_commit_callbacks(execute=True):
        jobs = [
            generation_services.generation_upscale(user=user, source=source_image)
            for user in (alice, bob)
        ]
    wait_for(
        lambda: Generation.objects.filter(status=GenerationStatus.RUNNING).exists(),
        timeout=60,
        what="an upscale to start",
    )
    with django_capture_on_commit_callbacks(execute=True):
        later = services.board_add_image(
            board=board, user=bob, name="coffee.jpg", data=sample_jpeg("coffee")
        )
    wait_for(
        lambda: BoardImage.objects.get(pk=later.image_id).status == ImageStatus.READY,
        timeout=120,
        what="the thumbnail of an image uploaded while upscales run",
    )
    # The thumbnail did not wait for the upscales: they are still under way.
    assert Generation.objects.filter(
        pk__in=[j.pk for j in jobs], status__in=["queued", "running"]
    ).exists()
