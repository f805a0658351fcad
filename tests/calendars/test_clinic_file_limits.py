"""The clinic file's buffers, busy visit types and booking limits: read, written back, and checked with paths."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from slotfinder._calendars.clinic_file import check_clinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._domain import BookingLimit, Busy, BusyKind, LimitPeriod, VisitType
from slotfinder._errors import InvalidClinic, Problem

SECRET = "0000000999"


def base() -> dict[str, Any]:
    """A small valid clinic with the new keys, fresh for each test to mutate."""
    return {
        "providers": [{"id": "p1"}, {"id": "p2"}],
        "locations": [{"id": "l1", "facility": "F", "department": "D", "time_zone": "America/Chicago",
                       "rooms": ["1"]}],
        "visit_types": [
            {"code": "OV", "codeset": None, "description": "Office Visit", "duration": 30,
             "buffer_before": 5, "buffer_after": 10},
            {"code": "NP", "codeset": None, "description": "New Patient", "duration": 60},
        ],
        "templates": [{"provider_id": "p1", "location_id": "l1", "weekdays": ["Mon"], "start": "08:00",
                       "end": "12:00"}],
        "busy": [
            {"kind": "booking", "start": "2025-10-20T09:00:00-05:00", "duration": 30, "provider_id": "p1",
             "visit_type": "OV", "patients": [{"id": SECRET, "id_type": "MR"}]},
            {"kind": "hold", "start": "2025-10-20T10:00:00-05:00", "duration": 60, "provider_id": "p1",
             "visit_type": "NP"},
        ],
        "booking_limits": [
            {"period": "session", "max_visits": 2, "visit_types": ["NP"]},
            {"period": "day", "max_minutes": 240, "providers": ["p1"]},
            {"period": "week", "max_visits": 20, "max_minutes": 600},
        ],
        "limits_count_holds": True,
    }  # fmt: skip


def problems_of(raw: dict[str, Any]) -> tuple[Problem, ...]:
    """The problems load_clinic reports for ``raw`` (it must report some)."""
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    return caught.value.problems


def test_reads_buffers_visit_types_and_limits() -> None:
    """Every new key becomes its domain value."""
    clinic = load_clinic(base())
    assert (clinic.visit_types[0].buffer_before, clinic.visit_types[0].buffer_after) == (5, 10)
    assert (clinic.visit_types[1].buffer_before, clinic.visit_types[1].buffer_after) == (0, 0)
    assert [b.visit_type for b in clinic.busy] == ["OV", "NP"]
    assert clinic.booking_limits == (
        BookingLimit(LimitPeriod.SESSION, max_visits=2, visit_types=("NP",)),
        BookingLimit(LimitPeriod.DAY, max_minutes=240, providers=("p1",)),
        BookingLimit(LimitPeriod.WEEK, max_visits=20, max_minutes=600),
    )
    assert clinic.limits_count_holds


def test_round_trips_the_new_keys() -> None:
    """clinic_to_dict writes them back (defaults left out) and load_clinic reads the same clinic."""
    clinic = load_clinic(base())
    written = clinic_to_dict(clinic)
    assert load_clinic(written) == clinic
    assert written["booking_limits"][0] == {"period": "session", "max_visits": 2, "visit_types": ["NP"]}
    assert written["limits_count_holds"] is True
    assert "buffer_before" not in written["visit_types"][1]
    assert written["busy"][0]["visit_type"] == "OV"


def test_absent_keys_mean_no_buffers_no_limits() -> None:
    """Without the new keys: buffers 0, no visit types on busy items, no limits, holds not counted; none written."""
    raw = base()
    for key in ("booking_limits", "limits_count_holds"):
        del raw[key]
    for vt in raw["visit_types"]:
        vt.pop("buffer_before", None)
        vt.pop("buffer_after", None)
    for item in raw["busy"]:
        del item["visit_type"]
    clinic = load_clinic(raw)
    assert (clinic.booking_limits, clinic.limits_count_holds) == ((), False)
    written = clinic_to_dict(clinic)
    assert not {"booking_limits", "limits_count_holds"} & written.keys()
    assert not any("visit_type" in b for b in written["busy"])


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        (lambda r: r["visit_types"][0].update(buffer_before=-1), "$.visit_types[0].buffer_before",
         "buffer_before must not be negative"),
        (lambda r: r["visit_types"][0].update(buffer_after=1441), "$.visit_types[0].buffer_after",
         "buffer_after must be at most 1440 minutes, got 1441"),
        (lambda r: r["visit_types"][0].update(buffer_after="10"), "$.visit_types[0].buffer_after",
         "must be a whole number"),
        (lambda r: r["busy"][0].update(visit_type="XX"), "$.busy[0].visit_type", "no visit type has this code"),
        (lambda r: r["busy"][0].update(kind="out_of_office"), "$.busy[0].visit_type",
         "only a booking, a hold or a block is a visit of some type"),
        (lambda r: r["busy"][1].update(kind="block", reserved_for=["OV"]), "$.busy[1].visit_type",
         "a block reserved for visit types is not itself a visit: give one or the other"),
        (lambda r: r["booking_limits"][0].update(period="month"), "$.booking_limits[0].period",
         "must be one of day, week, session"),
        (lambda r: r["booking_limits"][0].pop("period"), "$.booking_limits[0].period", "required key is missing"),
        (lambda r: r["booking_limits"][0].update(max_visits=0), "$.booking_limits[0].max_visits",
         "max_visits must be a positive whole number"),
        (lambda r: r["booking_limits"][1].update(max_minutes=-30), "$.booking_limits[1].max_minutes",
         "max_minutes must be a positive whole number"),
        (lambda r: r["booking_limits"][0].pop("max_visits"), "$.booking_limits[0].max_minutes",
         "max_visits or max_minutes (or both) must be given"),
        (lambda r: r["booking_limits"][0].update(visit_types=["NP", "XX"]), "$.booking_limits[0].visit_types[1]",
         "no visit type has this code"),
        (lambda r: r["booking_limits"][1].update(providers=["p9"]), "$.booking_limits[1].providers[0]",
         "no provider has this id"),
        (lambda r: r["booking_limits"][1].update(providers="p1"), "$.booking_limits[1].providers", "must be a list"),
        (lambda r: r["booking_limits"][2].update(per="day"), "$.booking_limits[2].per", "unknown key"),
        (lambda r: r.update(limits_count_holds="yes"), "$.limits_count_holds", "must be true or false"),
        (lambda r: r.update(booking_limits={}), "$.booking_limits", "must be a list"),
    ],
)  # fmt: skip
def test_reports_each_broken_rule_at_its_path(change: Any, path: str, rule: str) -> None:
    """Each broken rule is one problem at its JSON path, worded as the rule."""
    raw = copy.deepcopy(base())
    change(raw)
    assert Problem(path, rule) in problems_of(raw)


def test_reports_every_problem_at_once_without_values() -> None:
    """Several broken rules are reported together, and no message repeats the file's values."""
    raw = base()
    raw["busy"][0]["visit_type"] = SECRET
    raw["booking_limits"][0]["visit_types"] = [SECRET]
    raw["booking_limits"][1]["providers"] = [SECRET]
    raw["booking_limits"][2]["max_visits"] = -7
    found = problems_of(raw)
    assert len(found) == 4
    assert not any(SECRET in p.rule or SECRET in p.path or "-7" in p.rule for p in found)


def test_check_clinic_applies_the_rules_to_python_values() -> None:
    """check_clinic finds a limit naming an unknown visit type in a clinic built in Python."""
    clinic = load_clinic(base())
    broken = evolve(clinic, booking_limits=(BookingLimit(LimitPeriod.DAY, max_visits=1, visit_types=("XX",)),))
    with pytest.raises(InvalidClinic) as caught:
        check_clinic(broken)
    assert caught.value.problems == (Problem("$.booking_limits[0].visit_types[0]", "no visit type has this code"),)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BookingLimit(LimitPeriod.DAY), "max_visits or max_minutes (or both) must be given"),
        (lambda: BookingLimit(LimitPeriod.DAY, max_visits=0), "max_visits must be a positive whole number"),
        (lambda: BookingLimit(LimitPeriod.WEEK, max_minutes=0), "max_minutes must be a positive whole number"),
        (lambda: VisitType("OV", None, None, 30, buffer_before=-1), "buffer_before must not be negative"),
        (lambda: VisitType("OV", None, None, 30, buffer_after=2000), "buffer_after must be at most 1440 minutes"),
    ],
)
def test_domain_values_are_checked_on_construction(build: Any, message: str) -> None:
    """The attrs values refuse what the file refuses, naming the field."""
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_busy_carries_its_visit_type() -> None:
    """Busy.visit_type defaults to None and is kept as given."""
    assert Busy(BusyKind.BOOKING, 0, 30, provider_id="p1").visit_type is None
    assert Busy(BusyKind.BOOKING, 0, 30, provider_id="p1", visit_type="OV").visit_type == "OV"


DOCS = Path(__file__).resolve().parents[2] / "docs" / "clinic-format.md"


def documented(heading: str) -> list[Any]:
    """The JSON values of the first ``json`` code block under ``heading`` in docs/clinic-format.md."""
    text = DOCS.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1]
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    decoder, found, at = json.JSONDecoder(), [], 0
    while block[at:].strip():
        at = len(block) - len(block[at:].lstrip())
        value, at = decoder.raw_decode(block, at)
        found.append(value)
    return found


def test_the_documented_buffers_and_limits_load_into_the_demo_clinic() -> None:
    """The examples of "Buffers" and "Booking limits" in docs/clinic-format.md use the demo clinic's ids and load."""
    raw = clinic_to_dict(demo_clinic())
    with_buffers = {vt["code"]: vt for vt in documented("### Buffers")}
    raw["visit_types"] = [with_buffers.get(vt["code"], vt) for vt in raw["visit_types"]]
    (limits,) = documented("## Booking limits")
    raw.update(limits)
    clinic = load_clinic(raw)
    assert (clinic.visit_type("240").buffer_before, clinic.visit_type("240").buffer_after) == (5, 15)
    assert [limit.period for limit in clinic.booking_limits] == [LimitPeriod.SESSION, LimitPeriod.DAY, LimitPeriod.WEEK]
    assert clinic.limits_count_holds
