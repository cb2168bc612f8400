"""The default prefork pool: the child process running a batch is killed (the OOM
killer's way). Celery requeues the message, the lease keeps the batch from running
twice, and the batch completes once, without duplicates, while the page says so."""

from __future__ import annotations

import signal
import subprocess

import pytest
from django.urls import reverse

from generation.models import Generation, Output

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_killed_pool_child_batch_completes_once(
    client, alice, make_generation, start_worker, wait_for
):
    worker = start_worker(name="prefork", pool="prefork")
    generation = make_generation(count=8, cohesion=0.0)
    wait_for(
        lambda: 0 < Output.objects.filter(generation=generation).count() < 8,
        timeout=120,
        what="the batch to be half-way",
        poll=0.01,
    )
    (child,) = _children(worker.pid)
    subprocess.run(["kill", "-KILL", str(child)], check=True)
    half = {o.index: o.file.name for o in Output.objects.filter(generation=generation)}

    client.force_login(alice)
    status_url = reverse("generation_status", args=[generation.pk])
    assert client.get(status_url).json()["status"] == "running"
    wait_for(
        lambda: Generation.objects.get(pk=generation.pk).status == "done",
        timeout=180,
        what="the requeued batch",
        proc=worker,
    )
    outputs = list(Output.objects.filter(generation=generation))
    assert sorted(o.index for o in outputs) == list(range(8))
    assert {o.index: o.file.name for o in outputs if o.index in half} == half
    assert client.get(status_url).json()["status"] == "done"
    assert worker.poll() is None  # the worker itself lived on
    worker.send_signal(signal.SIGTERM)
