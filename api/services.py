"""Writes for API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, hash_secret, new_secret

# last_used_at is a hint for the settings page, not an audit log: at most one
# write a minute per token keeps a busy script from writing on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned once and never stored."""
    secret = new_secret()
    token = ApiToken(user=user, name=name.strip(), prefix=secret[:10], key_hash=hash_secret(secret))
    token.full_clean()
    token.save()
    return token, secret


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # Conditional update: parallel calls don't all write.
        ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
