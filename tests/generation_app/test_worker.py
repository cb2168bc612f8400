"""A batch through a real worker, killed half-way and finished on restart."""

from __future__ import annotations

import signal

import pytest

from generation.models import Generation, Output

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_killed_worker_batch_completes_without_duplicates(
    make_generation, start_worker, wait_for
):
    worker = start_worker(name="doomed")
    generation = make_generation(count=8, cohesion=0.0)
    wait_for(
        lambda: 0 < Output.objects.filter(generation=generation).count() < 8,
        timeout=120,
        what="the batch to be half-way",
        poll=0.01,
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    half = {o.index: o.file.name for o in Output.objects.filter(generation=generation)}
    assert Generation.objects.get(pk=generation.pk).status == "running"

    start_worker(name="rescuer")
    wait_for(
        lambda: Generation.objects.get(pk=generation.pk).status == "done",
        timeout=180,
        what="the redelivered batch",
    )
    outputs = list(Output.objects.filter(generation=generation))
    assert sorted(o.index for o in outputs) == list(range(8))
    assert {o.index: o.file.name for o in outputs if o.index in half} == half
