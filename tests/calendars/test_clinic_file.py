"""The clinic file format: what it allows, what it forbids, and where it says a problem is."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from slotfinder._calendars import zones
from slotfinder._calendars.clinic_file import check_clinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._domain import Busy, BusyKind, Clinic, PatientId
from slotfinder._errors import InvalidClinic, Problem, UnknownTimeZone

ANA = "1234567890"
SECRET_PATIENT = "0000000999"


def minutes(iso: str) -> int:
    """An ISO date-time with offset as an instant (minutes since the epoch)."""
    return int((dt.datetime.fromisoformat(iso) - zones.EPOCH) // dt.timedelta(minutes=1))


def base() -> dict[str, Any]:
    """A small valid clinic, fresh for each test to mutate."""
    return {
        "name": "test clinic",
        "providers": [{"id": "p1", "first_name": "Ana", "credentials": ["MD"]}, {"id": "p2"}],
        "locations": [
            {"id": "l1", "facility": "F", "department": "D", "time_zone": "America/Chicago", "rooms": ["1", "2"]},
            {"id": "l2", "facility": "G", "department": None, "time_zone": "Europe/Berlin"},
        ],
        "visit_types": [
            {"code": "210", "codeset": "DNER15", "description": "Office Visit", "duration": 30, "needs_room": True},
            {"code": "220", "codeset": None, "description": None, "duration": 15},
        ],
        "templates": [
            {"provider_id": "p1", "location_id": "l1", "weekdays": ["Mon", "Fri"], "start": "08:00", "end": "12:00",
             "visit_types": ["210"], "room": "1", "effective_from": "2025-01-01"},
        ],
        "openings": [
            {"provider_id": "p2", "location_id": "l2", "date": "2025-11-08", "start": "09:00", "end": "24:00"},
        ],
        "busy": [
            {"kind": "booking", "start": "2025-10-24T09:00:00-05:00", "duration": 30, "provider_id": "p1",
             "location_id": "l1", "room": "1", "visit_number": "V-1",
             "patients": [{"id": SECRET_PATIENT, "id_type": "MR"}]},
        ],
    }  # fmt: skip


def problems_of(raw: dict[str, Any]) -> tuple[Problem, ...]:
    """The problems load_clinic reports for ``raw`` (it must report some)."""
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    return caught.value.problems


def paths_of(raw: dict[str, Any]) -> set[str]:
    """The JSON paths of the problems load_clinic reports for ``raw``."""
    return {p.path for p in problems_of(raw)}


# ---- the demo clinic --------------------------------------------------------------------------


def test_demo_clinic_has_ana_lindqvist_res_3n_and_office_visit() -> None:
    """The demo clinic has the provider, location and visit type the seed request and response name."""
    clinic = demo_clinic()
    ana = clinic.provider(ANA)
    assert (ana.id_type, ana.first_name, ana.last_name, ana.credentials) == ("NPI", "Ana", "Lindqvist", ("MD",))
    ward = clinic.location("res-3n")
    assert (ward.facility, ward.department, ward.type, ward.time_zone) == (
        "RES General Hospital", "3N", "Inpatient", "America/Chicago",
    )  # fmt: skip
    assert ward.rooms == ("136", "137", "138")
    office = clinic.visit_type("210")
    assert (office.codeset, office.description, office.duration, office.needs_room) == (
        "DNER15", "Office Visit", 30, True,
    )  # fmt: skip
    assert clinic.name == "RES Health demo clinic"
    assert clinic.default_duration == 30


def test_demo_clinic_ana_works_weekday_mornings_in_room_136_without_expiry() -> None:
    """Ana's template: Mon-Fri 08:00-12:00 at res-3n room 136, 15-minute grid, never expiring."""
    (template,) = [t for t in demo_clinic().templates if t.provider_id == ANA and t.room == "136"]
    assert template.weekdays == frozenset(range(5))
    assert (template.start, template.end, template.slot_length) == (8 * 60, 12 * 60, 15)
    assert {"210", "220"} <= set(template.visit_types)
    assert template.effective_from == dt.date(2025, 1, 1)
    assert template.effective_until is None


def test_demo_clinic_keeps_ana_free_where_the_ingestion_test_books() -> None:
    """No busy item of Ana's touches 2025-10-24 14:30-15:00Z or 16:00-17:00Z (the ingestion test adds them)."""
    reserved = [(minutes("2025-10-24T14:30Z"), minutes("2025-10-24T15:00Z")),
                (minutes("2025-10-24T16:00Z"), minutes("2025-10-24T17:00Z"))]  # fmt: skip
    clinic = demo_clinic()
    for busy in clinic.busy:
        occupies_ana = busy.provider_id == ANA or (busy.location_id == "res-3n" and busy.room in (None, "136"))
        if occupies_ana:
            assert all(busy.end <= start or busy.start >= end for start, end in reserved), busy.visit_number


def test_demo_clinic_books_the_seed_patient_with_another_provider() -> None:
    """The seed's patient (MR 0000000001) has one booking, not with Ana, on 2025-10-28 15:00-15:30Z."""
    seed_patient = PatientId("0000000001", "MR")
    (booking,) = [b for b in demo_clinic().busy if seed_patient in b.patients]
    assert booking.kind is BusyKind.BOOKING
    assert booking.provider_id != ANA
    assert (booking.start, booking.end) == (minutes("2025-10-28T15:00Z"), minutes("2025-10-28T15:30Z"))


def test_demo_clinic_has_every_kind_of_busy_item() -> None:
    """Bookings, holds, a reserved block with release time, out-of-office and closures all appear."""
    clinic = demo_clinic()
    assert {b.kind for b in clinic.busy} == set(BusyKind)
    assert any(b.reserved_for == ("230",) and b.release_before == 1440 for b in clinic.busy)
    closed = {b.location_id for b in clinic.busy if b.kind is BusyKind.CLOSURE}
    assert closed == {loc.id for loc in clinic.locations}
    assert len(clinic.providers) >= 5
    assert clinic.openings


def test_demo_clinic_is_read_afresh() -> None:
    """demo_clinic() reads the packaged file on each call (no module-level cache): equal values, new objects."""
    first, second = demo_clinic(), demo_clinic()
    assert first == second and first is not second


# ---- reading and writing ----------------------------------------------------------------------


def test_round_trip_of_the_demo_clinic_through_json() -> None:
    """clinic_to_dict is the inverse of load_clinic, also through JSON text."""
    clinic = demo_clinic()
    assert load_clinic(json.loads(json.dumps(clinic_to_dict(clinic)))) == clinic


def test_round_trip_of_a_small_clinic() -> None:
    """A clinic that uses an end of 24:00, a duration instead of an end and null fields survives the round trip."""
    clinic = load_clinic(base())
    assert load_clinic(clinic_to_dict(clinic)) == clinic


def test_load_allows_a_path_as_str_or_pathlike(tmp_path: Path) -> None:
    """A path to a JSON file, as str or Path, reads the same clinic as the parsed mapping."""
    file = tmp_path / "clinic.json"
    file.write_text(json.dumps(base()), encoding="utf-8")
    assert load_clinic(file) == load_clinic(str(file)) == load_clinic(base())


def test_wire_forms_become_domain_values() -> None:
    """Wall times become minutes after midnight, weekday names 0..6, busy times instants."""
    clinic = load_clinic(base())
    template = clinic.templates[0]
    assert (template.start, template.end, template.weekdays) == (480, 720, frozenset({0, 4}))
    assert clinic.openings[0].end == 1440
    busy = clinic.busy[0]
    assert (busy.start, busy.end) == (minutes("2025-10-24T14:00Z"), minutes("2025-10-24T14:30Z"))
    assert busy.patients == (PatientId(SECRET_PATIENT, "MR"),)


def test_busy_end_allows_an_offset_or_z() -> None:
    """The same instant written with Z or with a local offset loads the same."""
    with_z, with_offset = base(), base()
    with_z["busy"][0].update(start="2025-10-24T14:00Z", end="2025-10-24T14:30:00Z", duration=None)
    del with_z["busy"][0]["duration"]
    with_offset["busy"][0].update(start="2025-10-24T09:00:00-05:00", end="2025-10-24T09:30-05:00")
    del with_offset["busy"][0]["duration"]
    assert load_clinic(with_z) == load_clinic(with_offset) == load_clinic(base())


def test_busy_forbids_a_naive_datetime() -> None:
    """A busy start without Z or offset is rejected as naive, at its path."""
    raw = base()
    raw["busy"][0]["start"] = "2025-10-24T09:00:00"
    (problem,) = problems_of(raw)
    assert problem.path == "$.busy[0].start"
    assert "naive" in problem.rule


def test_busy_forbids_seconds() -> None:
    """A busy time must lie on a whole minute."""
    raw = base()
    raw["busy"][0]["start"] = "2025-10-24T09:00:30-05:00"
    assert problems_of(raw) == (Problem("$.busy[0].start", "must be on a whole minute"),)


def test_end_allows_24_00_and_start_forbids_it() -> None:
    """24:00 is the end of the day: a valid end, not a valid start."""
    assert load_clinic(base()).openings[0].end == 1440
    raw = base()
    raw["openings"][0]["start"] = "24:00"
    assert "$.openings[0].start" in paths_of(raw)


# ---- every rule, at its path ------------------------------------------------------------------


def change(section: str, index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting keys of one object of ``section``."""
    return lambda raw: raw[section][index].update(values)


def drop(section: str, index: int, key: str) -> Callable[[dict[str, Any]], None]:
    """A mutation removing a key of one object of ``section``."""
    return lambda raw: raw[section][index].pop(key)


def top(**values: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting top-level keys."""
    return lambda raw: raw.update(values)


def duplicate(section: str) -> Callable[[dict[str, Any]], None]:
    """A mutation repeating the first object of ``section``."""
    return lambda raw: raw[section].append(copy.deepcopy(raw[section][0]))


CASES = [
    ("wall time without leading zero", change("templates", 0, start="8:00"), "$.templates[0].start"),
    ("wall time past 24:00", change("templates", 0, end="24:01"), "$.templates[0].end"),
    ("wall time as a number", change("templates", 0, start=480), "$.templates[0].start"),
    ("end before start", change("templates", 0, start="13:00"), "$.templates[0].end"),
    ("full weekday name", change("templates", 0, weekdays=["Monday"]), "$.templates[0].weekdays"),
    ("no weekdays", change("templates", 0, weekdays=[]), "$.templates[0].weekdays"),
    ("impossible date", change("templates", 0, effective_from="2025-02-30"), "$.templates[0].effective_from"),
    ("date in another form", change("templates", 0, effective_from="01/02/2025"), "$.templates[0].effective_from"),
    ("expiry before start", change("templates", 0, effective_until="2024-12-31"), "$.templates[0].effective_until"),
    ("slot length zero", change("templates", 0, slot_length=0), "$.templates[0].slot_length"),
    ("slot length as text", change("templates", 0, slot_length="15"), "$.templates[0].slot_length"),
    ("unknown template provider", change("templates", 0, provider_id="nobody"), "$.templates[0].provider_id"),
    ("unknown template location", change("templates", 0, location_id="nowhere"), "$.templates[0].location_id"),
    ("unknown template visit type", change("templates", 0, visit_types=["210", "999"]),
     "$.templates[0].visit_types[1]"),
    ("room not in location", change("templates", 0, room="136"), "$.templates[0].room"),
    ("missing weekdays", drop("templates", 0, "weekdays"), "$.templates[0].weekdays"),
    ("opening date missing", drop("openings", 0, "date"), "$.openings[0].date"),
    ("unknown opening provider", change("openings", 0, provider_id="nobody"), "$.openings[0].provider_id"),
    ("unknown busy kind", change("busy", 0, kind="meeting"), "$.busy[0].kind"),
    ("busy start not a date-time", change("busy", 0, start="soon"), "$.busy[0].start"),
    ("busy end and duration", change("busy", 0, end="2025-10-24T15:00Z"), "$.busy[0].duration"),
    ("busy without end or duration", drop("busy", 0, "duration"), "$.busy[0].end"),
    ("busy duration zero", change("busy", 0, duration=0), "$.busy[0].duration"),
    ("busy end before start", lambda raw: raw["busy"][0].update(end="2025-10-24T13:00Z", duration=None),
     "$.busy[0].end"),
    ("unknown busy provider", change("busy", 0, provider_id="nobody"), "$.busy[0].provider_id"),
    ("unknown busy location", change("busy", 0, location_id="nowhere"), "$.busy[0].location_id"),
    ("busy room not in location", change("busy", 0, room="9"), "$.busy[0].room"),
    ("busy room without location", change("busy", 0, location_id=None), "$.busy[0].room"),
    ("reserved for an unknown code", change("busy", 0, kind="block", patients=[], reserved_for=["999"]),
     "$.busy[0].reserved_for[0]"),
    ("reserved booking", change("busy", 0, reserved_for=["210"]), "$.busy[0].reserved_for"),
    ("release without reservation", change("busy", 0, kind="block", release_before=60), "$.busy[0].release_before"),
    ("negative release", change("busy", 0, kind="block", reserved_for=["210"], release_before=-1),
     "$.busy[0].release_before"),
    ("closure without location", change("busy", 0, kind="closure", location_id=None, room=None),
     "$.busy[0].location_id"),
    ("out of office without provider", change("busy", 0, kind="out_of_office", provider_id=None),
     "$.busy[0].provider_id"),
    ("busy occupying nothing", change("busy", 0, provider_id=None, location_id=None, room=None, patients=[]),
     "$.busy[0]"),
    ("patient without id", change("busy", 0, patients=[{"id_type": "MR"}]), "$.busy[0].patients[0].id"),
    ("busy item not an object", top(busy=["booking"]), "$.busy[0]"),
    ("duplicate provider id", duplicate("providers"), "$.providers[2].id"),
    ("duplicate location id", duplicate("locations"), "$.locations[2].id"),
    ("duplicate visit type code", duplicate("visit_types"), "$.visit_types[2].code"),
    ("empty provider id", change("providers", 0, id=" "), "$.providers[0].id"),
    ("missing provider id", drop("providers", 0, "id"), "$.providers[0].id"),
    ("provider id as a number", change("providers", 0, id=1234567890), "$.providers[0].id"),
    ("credentials as text", change("providers", 0, credentials="MD"), "$.providers[0].credentials"),
    ("misspelt key", change("providers", 0, frist_name="Ana"), "$.providers[0].frist_name"),
    ("empty time zone", change("locations", 0, time_zone=""), "$.locations[0].time_zone"),
    ("duplicate room", change("locations", 0, rooms=["1", "2", "1"]), "$.locations[0].rooms[2]"),
    ("missing facility", drop("locations", 0, "facility"), "$.locations[0].facility"),
    ("visit type duration zero", change("visit_types", 0, duration=0), "$.visit_types[0].duration"),
    ("visit type longer than a day", change("visit_types", 0, duration=1441), "$.visit_types[0].duration"),
    ("needs_room as text", change("visit_types", 0, needs_room="yes"), "$.visit_types[0].needs_room"),
    ("rooms without needs_room", change("visit_types", 1, rooms=["1"]), "$.visit_types[1].rooms"),
    ("visit type room nowhere", change("visit_types", 0, rooms=["9"]), "$.visit_types[0].rooms[0]"),
    ("default duration zero", top(default_duration=0), "$.default_duration"),
    ("providers not a list", top(providers={"id": "p1"}), "$.providers"),
    ("missing providers", lambda raw: raw.pop("providers"), "$.providers"),
    ("unknown top-level key", top(version=2), "$.version"),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "path"), [pytest.param(m, p, id=name) for name, m, p in CASES])
def test_load_forbids_each_broken_rule_at_its_path(mutate: Callable[[dict[str, Any]], None], path: str) -> None:
    """Each broken rule raises InvalidClinic with a problem at exactly the offending key."""
    raw = base()
    mutate(raw)
    assert path in paths_of(raw)


def test_load_reports_every_problem_at_once() -> None:
    """Problems in several objects, of several sorts (format, domain rule, reference), are all reported."""
    raw = base()
    raw["providers"][1]["credentials"] = "MD"
    raw["templates"][0].update(start="12:00", end="08:00")
    raw["openings"][0]["location_id"] = "nowhere"
    raw["busy"][0].update(start="2025-10-24T09:00:00", kind="appointment")
    raw["visit_types"][1]["duration"] = -5
    assert paths_of(raw) >= {
        "$.providers[1].credentials",
        "$.templates[0].end",
        "$.openings[0].location_id",
        "$.busy[0].start",
        "$.busy[0].kind",
        "$.visit_types[1].duration",
    }


def test_load_allows_null_for_optional_keys() -> None:
    """null in an optional key means the default (no room, no expiry, no visit number)."""
    raw = base()
    raw["templates"][0].update(room=None, effective_until=None)
    raw["busy"][0]["visit_number"] = None
    template = load_clinic(raw).templates[0]
    assert (template.room, template.effective_until) == (None, None)


# ---- time zones -------------------------------------------------------------------------------


def test_unknown_time_zone_alone_raises_unknown_time_zone() -> None:
    """When an unknown IANA zone is the only problem, UnknownTimeZone names its path; the zone is an attribute."""
    raw = base()
    raw["locations"][1]["time_zone"] = "Mars/Olympus_Mons"
    with pytest.raises(UnknownTimeZone) as caught:
        load_clinic(raw)
    assert (caught.value.path, caught.value.zone) == ("$.locations[1].time_zone", "Mars/Olympus_Mons")
    assert str(caught.value) == "$.locations[1].time_zone: unknown IANA time zone"


def test_unknown_time_zone_message_never_echoes_the_value_given() -> None:
    """A long or odd time_zone (300 characters here) is not repeated in the message: path and rule only."""
    raw = base()
    raw["locations"][1]["time_zone"] = "Mars/" + "x" * 295
    with pytest.raises(UnknownTimeZone) as caught:
        load_clinic(raw)
    assert "Mars" not in str(caught.value)
    assert str(caught.value) == "$.locations[1].time_zone: unknown IANA time zone"


def test_unknown_time_zone_among_other_problems_is_one_of_them() -> None:
    """With other problems, the unknown zone is reported as one problem of InvalidClinic."""
    raw = base()
    raw["locations"][1]["time_zone"] = "America/Chicgo"
    raw["providers"][0]["id"] = ""
    problems = problems_of(raw)
    assert Problem("$.locations[1].time_zone", "unknown IANA time zone") in problems
    assert "$.providers[0].id" in {p.path for p in problems}


# ---- privacy and broken files -----------------------------------------------------------------


@pytest.mark.parametrize(
    "busy",
    [
        {"kind": "booking", "start": "2025-10-24T09:00:00", "duration": 30, "provider_id": "p1",
         "patients": [{"id": SECRET_PATIENT, "id_type": "MR"}]},
        {"kind": "booking", "start": "2025-10-24T09:00Z", "duration": 30, "patients": [SECRET_PATIENT]},
        {"kind": "booking", "start": "2025-10-24T09:00Z", "duration": 30, "patients": {SECRET_PATIENT: "MR"}},
        {"kind": "booking", "start": "2025-10-24T09:00Z", "duration": 30, "patients": [{SECRET_PATIENT: "MR"}]},
        {"kind": "booking", "start": "2025-10-24T09:00Z", "duration": 30, "patients": [{"id": 999, "id_type": "MR"}]},
        {"kind": SECRET_PATIENT, "start": SECRET_PATIENT, "end": SECRET_PATIENT, "provider_id": SECRET_PATIENT,
         "room": SECRET_PATIENT, "patients": [{"id": SECRET_PATIENT, "id_type": SECRET_PATIENT}]},
    ],
    ids=["naive start", "id as text", "patients as object", "id as key", "id as number", "id everywhere"],
)  # fmt: skip
def test_errors_never_repeat_patient_identifiers(busy: dict[str, Any]) -> None:
    """No message or path of an error about a busy item repeats a patient identifier."""
    raw = base()
    raw["busy"] = [busy]
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    text = f"{caught.value}\n{caught.value.details()}\n{caught.value.problems!r}"
    assert SECRET_PATIENT not in text
    assert "999" not in text


def test_json_syntax_error_names_the_position(tmp_path: Path) -> None:
    """A file that is not valid JSON gives one problem at $ with line and column, not the text."""
    file = tmp_path / "clinic.json"
    file.write_text('{\n  "busy": [{"patients": [{"id": "0000000999"},, ]}]\n}', encoding="utf-8")
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(file)
    (problem,) = caught.value.problems
    assert problem.path == "$"
    assert "line 2 column" in problem.rule
    assert SECRET_PATIENT not in problem.rule


def test_json_that_is_not_an_object_is_forbidden(tmp_path: Path) -> None:
    """The top level of a clinic file must be an object."""
    file = tmp_path / "clinic.json"
    file.write_text("[]", encoding="utf-8")
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(file)
    assert caught.value.problems == (Problem("$", "must be a JSON object"),)


def test_check_clinic_applies_the_file_rules_to_a_python_clinic() -> None:
    """A Clinic built in Python is checked by the same rules, with paths into its tuples."""
    clinic = load_clinic(base())
    check_clinic(clinic)  # valid: no error
    stray = Busy(BusyKind.HOLD, start=0, end=30, provider_id="nobody")
    broken = Clinic(clinic.providers, clinic.locations, clinic.visit_types, busy=(*clinic.busy, stray))
    with pytest.raises(InvalidClinic) as caught:
        check_clinic(broken)
    assert "$.busy[1].provider_id" in {p.path for p in caught.value.problems}
