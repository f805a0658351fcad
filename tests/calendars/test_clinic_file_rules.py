"""The clinic file's scheduling rules: date overrides, a visit type's booking horizon and the start
alignment are read, written back, and every broken rule is reported at its JSON path."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slotfinder._calendars.clinic_file import check_clinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._domain import DateOverride, StartAlignment, WorkingHours
from slotfinder._errors import InvalidClinic, Problem

SECRET_PATIENT = "0000000999"

DOCS = Path(__file__).resolve().parents[2] / "docs" / "clinic-format.md"


def documented(heading: str) -> list[dict[str, Any]]:
    """The JSON objects of the first ``json`` code block under ``heading`` in docs/clinic-format.md."""
    text = DOCS.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1]
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    decoder, found, at = json.JSONDecoder(), [], 0
    while block[at:].strip():
        at = len(block) - len(block[at:].lstrip())  # past the whitespace between two objects
        value, at = decoder.raw_decode(block, at)
        found.append(value)
    return found


def base() -> dict[str, Any]:
    """A small valid clinic with every new key, fresh for each test to mutate."""
    return {
        "providers": [{"id": "p1"}, {"id": "p2"}],
        "locations": [
            {"id": "l1", "facility": "F", "department": "D", "time_zone": "America/Chicago", "rooms": ["1", "2"]},
            {"id": "l2", "facility": "G", "department": None, "time_zone": "Europe/Berlin"},
        ],
        "visit_types": [
            {"code": "210", "codeset": None, "description": None, "duration": 30,
             "min_notice_minutes": 120, "max_advance_days": 60, "rolling_dates": 5},
            {"code": "220", "codeset": None, "description": None, "duration": 15},
        ],
        "templates": [
            {"provider_id": "p1", "location_id": "l1", "weekdays": ["Mon"], "start": "08:00", "end": "12:00"},
        ],
        "date_overrides": [
            {"provider_id": "p1", "location_id": "l1", "date": "2025-11-24",
             "hours": [{"start": "13:00", "end": "17:00", "slot_length": 20, "visit_types": ["210"], "room": "1"}]},
            {"provider_id": "p2", "location_id": None, "date": "2025-11-24"},
        ],
        "start_alignment": "clock",
    }  # fmt: skip


def paths_of(raw: dict[str, Any]) -> set[str]:
    """The JSON paths of the problems load_clinic reports for ``raw`` (it must report some)."""
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    return {p.path for p in caught.value.problems}


def test_wire_forms_become_domain_values() -> None:
    """Overrides, horizon fields and the alignment are read into domain values (minutes, dates, an enum)."""
    clinic = load_clinic(base())
    assert clinic.start_alignment is StartAlignment.CLOCK
    assert clinic.date_overrides == (
        DateOverride("p1", "l1", dt.date(2025, 11, 24), [WorkingHours(780, 1020, 20, ("210",), "1")]),
        DateOverride("p2", None, dt.date(2025, 11, 24)),
    )
    v = clinic.visit_types[0]
    assert (v.min_notice_minutes, v.max_advance_days, v.rolling_dates) == (120, 60, 5)
    w = clinic.visit_types[1]
    assert (w.min_notice_minutes, w.max_advance_days, w.rolling_dates) == (0, None, None)


def test_round_trip_keeps_every_new_key() -> None:
    """clinic_to_dict writes the new keys in the file's forms, and reading that back gives the same clinic."""
    clinic = load_clinic(base())
    written = clinic_to_dict(clinic)
    assert written["date_overrides"] == base()["date_overrides"]
    assert written["start_alignment"] == "clock"
    assert written["visit_types"] == base()["visit_types"]
    assert load_clinic(written) == clinic


def test_absent_keys_take_their_defaults_and_are_not_written() -> None:
    """Without the new keys a clinic has no overrides, the block alignment, no horizon; none is written back."""
    raw = base()
    del raw["date_overrides"], raw["start_alignment"]
    raw["visit_types"][0] = {"code": "210", "codeset": None, "description": None, "duration": 30}
    clinic = load_clinic(raw)
    assert (clinic.date_overrides, clinic.start_alignment) == ((), StartAlignment.BLOCK)
    written = clinic_to_dict(clinic)
    assert not {"date_overrides", "start_alignment"} & written.keys()
    assert written["visit_types"][0] == raw["visit_types"][0]
    assert not {"date_overrides", "start_alignment"} & clinic_to_dict(demo_clinic()).keys()


def test_null_means_the_default() -> None:
    """null for an optional key is its default: no advance limit, no rolling dates."""
    raw = base()
    raw["visit_types"][0].update(max_advance_days=None, rolling_dates=None)
    v = load_clinic(raw).visit_types[0]
    assert (v.max_advance_days, v.rolling_dates) == (None, None)


@pytest.mark.parametrize("alignment", ["block", "clock", "after_busy"])
def test_every_alignment_is_read(alignment: str) -> None:
    """Each documented alignment name is accepted."""
    raw = base()
    raw["start_alignment"] = alignment
    assert load_clinic(raw).start_alignment is StartAlignment(alignment)


def test_the_documented_examples_load() -> None:
    """The worked examples of docs/clinic-format.md load into the demo clinic (whose ids they use)."""
    raw = clinic_to_dict(demo_clinic())
    raw["date_overrides"] = documented("## Date overrides")
    raw["visit_types"] += documented("### Booking horizon")
    raw["start_alignment"] = "after_busy"
    clinic = load_clinic(raw)
    assert [o.location_id for o in clinic.date_overrides] == ["res-3n", None]
    assert clinic.visit_type("270").rolling_dates == 10


def _override(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["date_overrides"][index].update(values)


def _hours(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["date_overrides"][0]["hours"][0].update(values)


def _visit_type(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw["visit_types"][0].update(values)


CASES = [
    ("hours without a location", _override(1, hours=[{"start": "08:00", "end": "09:00"}]), "$.date_overrides[1].hours"),
    ("override location missing", lambda raw: raw["date_overrides"][1].pop("location_id"),
     "$.date_overrides[1].location_id"),
    ("override date missing", lambda raw: raw["date_overrides"][0].pop("date"), "$.date_overrides[0].date"),
    ("override date impossible", _override(0, date="2025-02-30"), "$.date_overrides[0].date"),
    ("override of an unknown provider", _override(0, provider_id="nobody"), "$.date_overrides[0].provider_id"),
    ("override at an unknown location", _override(0, location_id="nowhere"), "$.date_overrides[0].location_id"),
    ("hours not a list", _override(0, hours={"start": "08:00"}), "$.date_overrides[0].hours"),
    ("hours end before start", _hours(end="12:00"), "$.date_overrides[0].hours[0].end"),
    ("hours start 24:00", _hours(start="24:00"), "$.date_overrides[0].hours[0].start"),
    ("hours slot length zero", _hours(slot_length=0), "$.date_overrides[0].hours[0].slot_length"),
    ("hours room not in location", _hours(room="9"), "$.date_overrides[0].hours[0].room"),
    ("hours unknown visit type", _hours(visit_types=["210", "999"]), "$.date_overrides[0].hours[0].visit_types[1]"),
    ("hours misspelt key", _hours(rom="1"), "$.date_overrides[0].hours[0].rom"),
    ("duplicate override", lambda raw: raw["date_overrides"].append(dict(raw["date_overrides"][1])),
     "$.date_overrides[2]"),
    ("unknown alignment", lambda raw: raw.update(start_alignment="quarter"), "$.start_alignment"),
    ("alignment not text", lambda raw: raw.update(start_alignment=15), "$.start_alignment"),
    ("negative notice", _visit_type(min_notice_minutes=-1), "$.visit_types[0].min_notice_minutes"),
    ("notice as text", _visit_type(min_notice_minutes="60"), "$.visit_types[0].min_notice_minutes"),
    ("negative advance", _visit_type(max_advance_days=-1), "$.visit_types[0].max_advance_days"),
    ("zero rolling dates", _visit_type(rolling_dates=0), "$.visit_types[0].rolling_dates"),
    ("rolling dates as a flag", _visit_type(rolling_dates=True), "$.visit_types[0].rolling_dates"),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "path"), [pytest.param(m, p, id=name) for name, m, p in CASES])
def test_load_forbids_each_broken_rule_at_its_path(mutate: Callable[[dict[str, Any]], None], path: str) -> None:
    """Each broken rule raises InvalidClinic with a problem at exactly the offending key."""
    raw = base()
    mutate(raw)
    assert path in paths_of(raw)


def test_allows_an_override_at_a_location_and_one_without_on_the_same_date() -> None:
    """Only the same provider, location (or none) and date twice is a duplicate."""
    raw = base()
    raw["date_overrides"].append({"provider_id": "p1", "location_id": None, "date": "2025-11-24"})
    assert len(load_clinic(raw).date_overrides) == 3


def test_errors_never_repeat_values_from_the_file() -> None:
    """An identifier put where a provider id belongs, a bad date and alignment: no message repeats them."""
    raw = base()
    raw["date_overrides"][0].update(provider_id=SECRET_PATIENT, date="0000999-01")
    raw["date_overrides"][0]["hours"][0]["room"] = SECRET_PATIENT
    raw["start_alignment"] = SECRET_PATIENT
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    problems: tuple[Problem, ...] = caught.value.problems
    assert len(problems) >= 3
    assert all(SECRET_PATIENT not in p.path + p.rule and "0000999" not in p.rule for p in problems)


def test_check_clinic_applies_the_rules_to_a_python_clinic() -> None:
    """check_clinic reports an override of a provider the clinic does not have, at its path."""
    clinic = load_clinic(base())
    broken = clinic.__class__(
        providers=clinic.providers,
        locations=clinic.locations,
        visit_types=clinic.visit_types,
        date_overrides=[DateOverride("nobody", None, dt.date(2025, 11, 24))],
    )
    with pytest.raises(InvalidClinic) as caught:
        check_clinic(broken)
    assert [p.path for p in caught.value.problems] == ["$.date_overrides[0].provider_id"]
