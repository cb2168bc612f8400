"""Hostile requests to the page forms, as a logged-in owner's browser could send them:
Generate (urlencoded and multipart), the live preview, reorder, invite and upload.

Property: never a 5xx; a refused request (a 4xx, or Generate sending you back to its
form with the reason) leaves every table as it was; an invitation never adds a member.
`bench/fuzz.py --targets pages` runs the same property with thousands of cases.
"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.fuzz import strategies as fz


@pytest.fixture
def alice_pages(client, alice, settings):
    from django.core.cache import cache

    # The upload rate limit has its own test; here it would only cut the fuzzing short.
    settings.TASTEBASE_API_RATES = {"token": "1000000/min", "uploads": "1000000/min"}
    cache.clear()
    client.force_login(alice)
    yield client
    cache.clear()


@fz.fuzz_settings(300)
@given(case=fz.page_cases())
def test_fuzzed_page_forms_never_5xx_and_refusals_change_nothing(alice_pages, api_ids, case):
    with fz.hang_guard():
        fz.check_page(alice_pages, case, api_ids)
