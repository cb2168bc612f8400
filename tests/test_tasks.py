"""A task whose service breaks leaves a clear failed state, not an endless spinner."""

from __future__ import annotations

import pytest

from taste import services as taste_services
from taste.tasks import analyze_board


def test_a_crashing_analysis_is_marked_failed_with_the_reason(
    board, alice, fill_board, monkeypatch
):
    fill_board(board, alice, per_look=2)
    analysis = taste_services.analysis_start(board=board, user=alice)

    def broken(*args, **kwargs):
        raise ZeroDivisionError("bad maths")

    monkeypatch.setattr(taste_services, "build_profile", broken)
    with pytest.raises(ZeroDivisionError):
        analyze_board.run(analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == "failed"
    assert "ZeroDivisionError: bad maths" in analysis.error
    assert not board.profiles.exists()


def test_every_app_registers_its_leased_work():
    from config import leases
    from generation.models import Generation
    from moodboards.models import BoardImage, Team
    from taste.models import Analysis

    kinds = {kind.model: kind.label for kind in leases.work_kinds()}
    assert kinds == {BoardImage: "image", Analysis: "analysis", Generation: "generation"}
    # Rows that are not leased work can't be dispatched: a clear error, not a silent no-op.
    with pytest.raises(LookupError, match="Team is not registered"):
        leases.work_kind(Team)
