"""Media in an S3-compatible bucket: moto's standalone S3 server is a real HTTP endpoint,
and django-storages talks to it through boto3 over the network, as it would to MinIO.
Uploads, the worker's thumbnails, the served images, Analyze Board and backup/restore
all go through it; nothing touches the local media folder."""

from __future__ import annotations

import socket
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from config.media import FILESYSTEM_BACKEND, S3_BACKEND, media_storage
from moodboards.models import BoardImage, ImageStatus
from moodboards.samples import sample_jpeg
from taste.models import Analysis, AnalysisStatus

BUCKET = "tastebase-media"
SAMPLES = ("astronaut", "coffee", "rocket", "chelsea-the-cat", "china-temple", "flower")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch, tmp_path):
    """The environment an operator sets, secret key from a file (Docker/K8s style).
    Set in os.environ, so worker and command subprocesses get it too."""
    secret = tmp_path / "aws-secret"
    secret.write_text("moto-secret-key\n")
    monkeypatch.setenv("TASTEBASE_S3_BUCKET", BUCKET)
    monkeypatch.setenv("TASTEBASE_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("TASTEBASE_S3_REGION", "us-east-1")
    monkeypatch.setenv("TASTEBASE_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "moto-access-key")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY_FILE", str(secret))
    return s3_endpoint


@pytest.fixture
def bucket(s3_env):
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_env,
        region_name="us-east-1",
        aws_access_key_id="moto-access-key",
        aws_secret_access_key="moto-secret-key",
    )
    s3.create_bucket(Bucket=BUCKET)
    return s3.Bucket(BUCKET)


@pytest.fixture
def s3_media(bucket, settings, tmp_path):
    """This process's media storage switched to the bucket, from the same environment."""
    settings.STORAGES = {**settings.STORAGES, "default": media_storage()}
    settings.MEDIA_ROOT = tmp_path / "local-media"  # must stay empty
    return bucket


def _objects(bucket) -> dict[str, bytes]:
    return {o.key: o.get()["Body"].read() for o in bucket.objects.all()}


def test_storage_settings_come_from_the_environment(s3_env, monkeypatch):
    config = media_storage()
    assert config["BACKEND"] == S3_BACKEND
    options = config["OPTIONS"]
    assert options["bucket_name"] == BUCKET and options["endpoint_url"] == s3_env
    assert options["secret_key"] == "moto-secret-key"  # read from AWS_SECRET_ACCESS_KEY_FILE
    assert options["file_overwrite"] is False and options["default_acl"] is None
    monkeypatch.delenv("TASTEBASE_S3_BUCKET")
    assert media_storage() == {"BACKEND": FILESYSTEM_BACKEND}


@pytest.mark.worker
def test_a_board_lives_in_the_bucket_end_to_end(
    client, bob, carol, board, s3_media, start_worker, wait_until_ready, wait_for, wipe, manage,
    page_text, tmp_path,
):  # fmt: skip
    bucket = s3_media
    worker = start_worker()  # its settings read the same S3 environment

    # 1. Upload through the real upload view; the worker makes the thumbnails.
    client.force_login(bob)
    files = [SimpleUploadedFile(f"{n}.jpg", sample_jpeg(n)) for n in SAMPLES]
    results = client.post(reverse("board_upload", args=[board.pk]), {"files": files}).json()
    ids = [r["image_id"] for r in results["results"]]
    assert [r["status"] for r in results["results"]] == ["added"] * len(SAMPLES)
    wait_until_ready(ids)
    images = list(BoardImage.objects.filter(pk__in=ids))
    assert all(i.status == ImageStatus.READY for i in images), [i.error for i in images]
    stored = _objects(bucket)
    for image in images:
        assert {image.original.name, image.display.name, image.thumbnail.name} <= set(stored)
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing went to local disk
    client_s3 = bucket.meta.client
    grants = client_s3.get_object_acl(Bucket=BUCKET, Key=images[0].original.name)["Grants"]
    assert all("AllUsers" not in str(g.get("Grantee")) for g in grants)  # private objects

    # 2. The board page and the image views serve the bucket's bytes themselves.
    client.force_login(carol)
    page = client.get(board.get_absolute_url())
    assert page.status_code == 200
    for image in images:
        url = reverse("image_file", args=[board.pk, image.pk, "thumb"])
        assert url in page.content.decode()
        response = client.get(url)
        assert response.status_code == 200  # not a redirect to a bucket URL
        assert b"".join(response.streaming_content) == stored[image.thumbnail.name]
        assert response["X-Content-Type-Options"] == "nosniff"

    # 3. Analyze Board on the worker reads the images from the bucket.
    client.force_login(bob)
    response = client.post(reverse("analysis_start", args=[board.pk]))
    assert response.status_code == 302
    wait_for(
        lambda: Analysis.objects.filter(board=board, status__in=["done", "failed"]).exists(),
        timeout=180, what="the analysis", proc=worker, log=worker.log_path,
    )  # fmt: skip
    analysis = Analysis.objects.get(board=board)
    assert analysis.status == AnalysisStatus.DONE, analysis.error
    profile_url = analysis.profile.get_absolute_url()
    client.force_login(carol)
    profile_page = page_text(client, profile_url)
    worker.terminate()
    worker.wait(timeout=30)

    # 4. Backup, lose the bucket's objects and the database, restore.
    archive = tmp_path / "s3.tar"
    call_command("backup", str(archive), verbosity=0)
    before = _objects(bucket)
    wipe(bucket=bucket)
    assert _objects(bucket) == {}
    restore = manage("restore", str(archive))
    assert restore.returncode == 0, restore.stderr
    assert _objects(bucket) == before
    client.force_login(carol)
    assert page_text(client, profile_url) == profile_page
    url = reverse("image_file", args=[board.pk, images[0].pk, "display"])
    assert b"".join(client.get(url).streaming_content) == before[images[0].display.name]
    assert not Path(settings.MEDIA_ROOT).exists()
