"""The root API in use: the error tree, the result object, and the two ways to search.

``__all__`` and what ``import slotfinder`` loads are checked in tests/test_public_api.py and
tests/test_architecture.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import slotfinder
from slotfinder import _errors as errors
from slotfinder.walltime import to_datetime
from tests.support import seed


def test_error_tree() -> None:
    """Every typed error derives from SlotfinderError; WindowTooLarge is an InvalidRequest."""
    for cls in (errors.InvalidRequest, errors.InvalidClinic, errors.UnknownTimeZone, errors.WindowTooLarge):
        assert issubclass(cls, errors.SlotfinderError)
    assert issubclass(errors.WindowTooLarge, errors.InvalidRequest)


def test_result_object_from_redox() -> None:
    """The result carries ranked slots with breakdowns that add up, status, and ignored paths."""
    result = slotfinder.find_slots_redox(seed())
    assert result.status == "OPTIMAL" and result.complete
    assert len(result.slots) == 10
    scores = [s.score for s in result.slots]
    assert scores == sorted(scores, reverse=True)
    for slot in result.slots:
        assert abs(sum(slot.breakdown().values()) - slot.score) < 1e-6
    assert "$.Patient.Demographics" in result.ignored
    assert result.candidates >= result.pruned_to >= len(result.slots)


def test_result_to_frame() -> None:
    """to_frame gives one row per slot with each term's points as a column."""
    frame = slotfinder.find_slots_redox(seed()).to_frame()
    assert len(frame) == 10
    assert list(frame["rank"]) == list(range(1, 11))
    assert {"slot_id", "start_utc", "provider_id", "score", "points_preferred_day"} <= set(frame.columns)


def test_find_slots_from_domain_objects_matches_redox_path() -> None:
    """The domain-object API and the Redox API give the same slots for the same request."""
    parsed = slotfinder.parse_request(seed())
    assert parsed.now is not None
    direct = slotfinder.find_slots(slotfinder.demo_clinic(), parsed.request, now=parsed.now)
    via_redox = slotfinder.find_slots_redox(seed())
    assert [s.slot_id for s in direct.slots] == [s.slot_id for s in via_redox.slots]


def test_now_must_be_aware() -> None:
    """A naive now is refused rather than guessed."""
    parsed = slotfinder.parse_request(seed())
    with pytest.raises(slotfinder.InvalidRequest, match="now: must carry a UTC offset"):
        slotfinder.find_slots(slotfinder.demo_clinic(), parsed.request, now=dt.datetime(2025, 10, 21))  # noqa: DTZ001


def _starts(now: dt.datetime) -> set[int]:
    """Every start offered to the test clinic's Monday request at ``now`` (caps wide open)."""
    from tests.clinic_builders import clinic, request

    settings = slotfinder.Settings(limit=50, per_day=50, per_provider_day=50)
    return {s.start for s in slotfinder.find_slots(clinic(), request(), settings, now).slots}


def test_forbids_a_start_seconds_before_now() -> None:
    """now = 09:15:30 local (an aware datetime): the 09:15 start is already 30 s past and is not offered."""
    from tests.clinic_builders import MONDAY, at

    now = to_datetime(at(MONDAY, "09:15")) + dt.timedelta(seconds=30)
    starts = _starts(now)
    assert at(MONDAY, "09:15") not in starts and at(MONDAY, "09:30") in starts


def test_allows_a_start_exactly_at_now() -> None:
    """now = 09:15:00 local exactly: the 09:15 start is offered."""
    from tests.clinic_builders import MONDAY, at

    assert at(MONDAY, "09:15") in _starts(to_datetime(at(MONDAY, "09:15")))


@pytest.mark.parametrize(
    "make",
    [
        lambda: slotfinder.Preference(duration=0),
        lambda: slotfinder.Preference(duration=-30),
        lambda: slotfinder.Preference(days={7}),
        lambda: slotfinder.Preference(times=[1440]),
        lambda: slotfinder.Weights(earliness=float("nan")),
        lambda: slotfinder.Weights(adjacency=float("inf")),
    ],
    ids=["zero duration", "negative duration", "day 7", "time 24:00", "NaN weight", "infinite weight"],
)
def test_forbids_domain_values_that_cannot_rank(make: Any) -> None:
    """A preference of 0 or -30 minutes, an unknown weekday or wall time, and a NaN or infinite weight are
    refused when built, naming the field (they used to give 'optimal' 0-minute slots or silent rankings)."""
    with pytest.raises(ValueError, match=r"duration|days|times|earliness|adjacency"):
        make()


def test_allows_the_edges_of_domain_values() -> None:
    """One-minute and whole-day preferences, Sunday, 23:59 and negative (cost) weights are accepted."""
    slotfinder.Preference(days={0, 6}, times=[0, 1439], duration=1)
    slotfinder.Preference(duration=1440)
    slotfinder.Weights(fragmentation=-100.0, earliness=0)
