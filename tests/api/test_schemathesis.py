"""Property-based run of the served OpenAPI schema against the live app (schemathesis).

Every operation gets generated requests (half of them with real ids of the seeded
board, image, profile and generation so they reach the code past the 404) from a
real token, and every response must be a non-5xx that matches the schema: status
code, content type, headers and body.

Left out: DELETE operations (they would remove the seeded data halfway through and
make later examples flaky) and the operations that start long work
(POST analyses, generations, rerun, upscale: tests run tasks eagerly, so each
example would render in the request). Their access and validation paths are
covered by the request tests.
"""

from __future__ import annotations

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12
SKIPPED = {
    ("POST", "/api/boards/{board_id}/analyses/"),
    ("POST", "/api/generations/"),
    ("POST", "/api/generations/{generation_id}/rerun/"),
    ("POST", "/api/generations/{generation_id}/outputs/{index}/upscale/"),
}


@pytest.fixture
def seeded(live_server, alice, board, image, small_profile, finished_generation, token_for):
    return {
        "token": token_for(alice),
        "ids": {
            "team_id": board.team_id,
            "board_id": board.pk,
            "image_id": image.pk,
            "kind": "thumb",
            "version": small_profile.version,
            "ref": small_profile.code,
            "generation_id": finished_generation.pk,
            "index": 0,
            "analysis_id": small_profile.analyses.first().pk,
            "membership_id": board.team.memberships.get(user=alice).pk,
        },
    }


def test_schema_holds_against_the_live_app(live_server, seeded, settings):
    settings.TASTEBASE_API_RATES = {"token": "100000/min", "uploads": "100000/min"}
    raw = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    ids = seeded["ids"]
    session = requests.Session()
    ran = []

    for result in schema.get_all_operations():
        operation = result.ok()
        if (
            operation.method.upper() == "DELETE"
            or (operation.method.upper(), operation.path) in SKIPPED
        ):
            continue

        @given(case=operation.as_strategy(), real_ids=st.booleans())
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case, real_ids):
            if real_ids and case.path_parameters:
                for name in case.path_parameters:
                    if name in ids:
                        case.path_parameters[name] = ids[name]
            case.call_and_validate(
                base_url=live_server.url, session=session, headers=headers, checks=CHECKS
            )
            ran.append(case.operation.label)

        check()

    operations = set(ran)
    print(f"schemathesis: {len(ran)} requests over {len(operations)} operations")
    # Sanity: the run reached (nearly) every operation, with many requests.
    assert len(operations) >= 20, operations
    assert len(ran) >= 200, len(ran)
