"""Where media lives: local disk (the default) or an S3-compatible bucket.

Read from the environment by `settings.py`; a function so the tests can build the
same storage settings from a test environment.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .env import env

# Local disk, written atomically: a failed write (disk full) leaves no half file.
FILESYSTEM_BACKEND = "config.safe_storage.AtomicFileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"


def media_storage() -> dict[str, Any]:
    """The `STORAGES["default"]` entry for media.

    `TASTEBASE_S3_BUCKET` switches to S3 (AWS, MinIO, Cloudflare R2, Ceph…). Every
    image is served through the app's access-checked views, read with
    `storage.open`: the bucket stays private and no public or signed URL is ever
    handed to a browser.
    """
    bucket = env("TASTEBASE_S3_BUCKET")
    if not bucket:
        return {"BACKEND": env("TASTEBASE_STORAGE_BACKEND", FILESYSTEM_BACKEND)}
    if importlib.util.find_spec("storages") is None or importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured(
            "TASTEBASE_S3_BUCKET is set but django-storages/boto3 are not installed: "
            'run .venv/bin/pip install -e ".[s3]"'
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # Unset for AWS; MinIO/Ceph: http(s)://host:9000; R2: https://<account>.r2.cloudflarestorage.com
        "endpoint_url": env("TASTEBASE_S3_ENDPOINT_URL") or None,
        "region_name": env("TASTEBASE_S3_REGION") or env("AWS_S3_REGION_NAME") or None,
        # A key prefix, so one bucket can hold several installations.
        "location": (env("TASTEBASE_S3_PREFIX") or "").strip("/"),
        # Stored names are random or derived from row ids; never silently replace
        # an object: a clash gets a new name, exactly like the local disk.
        "file_overwrite": False,
        # No ACL header: every provider then stores the object private (owner only),
        # and AWS buckets with ACLs disabled (their default) refuse most ACL headers.
        # Set TASTEBASE_S3_ACL only for a provider that insists on one.
        "default_acl": env("TASTEBASE_S3_ACL") or None,
        "querystring_auth": True,  # should a URL ever be made, it is signed and expires
        "signature_version": "s3v4",
        # "path" for MinIO and most self-hosted servers; "virtual" or unset for AWS.
        "addressing_style": env("TASTEBASE_S3_ADDRESSING_STYLE") or None,
        # A private CA for a self-hosted server's TLS certificate.
        "verify": env("TASTEBASE_S3_CA_BUNDLE") or None,
    }
    # Keys from the environment (or AWS_*_FILE); when unset, boto3 looks for them
    # itself (~/.aws, an instance or pod role).
    for option, name in (
        ("access_key", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "AWS_SECRET_ACCESS_KEY"),
        ("security_token", "AWS_SESSION_TOKEN"),
    ):
        value = env(name)
        if value:
            options[option] = value
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
