"""Privacy by design in the calendar store: messages full of planted patient data leave none of it in the
database files, the log, the anomalies, or anything the command line prints.

Each sentinel is a unique string planted where a sender puts demographics, free text, unknown keys and
keys made of data. The store keeps what the event fold needs (identifiers, times, resources, visit
numbers) and a digest of each message, so none of them may appear in the bytes of ``.db``, ``-wal`` or
``-shm``, while the store is open or after it is closed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slotfinder import demo_clinic
from slotfinder._errors import InvalidClinic
from slotfinder.store import CalendarStore
from tests.support import EXAMPLES, ROOT, example

DEMO = ROOT / "slotfinder" / "data" / "demo_clinic.json"

# Unique values, none of which the store may keep. Letters-only ones are used as keys that look like
# field names (a path names such a key); the accented one checks the JSON-escaped form too.
SENTINELS = {
    "first": "ZQXFIRSTNAME01",
    "last": "ZQXLASTNAME02",
    "middle": "ZQXMIDDLE03",
    "dob": "1911-11-11ZQX04",
    "ssn": "999-11-ZQX05",
    "street": "ZQX 6 Sentinel Street",
    "city": "ZQXCITY07",
    "zip": "ZQX08",
    "phone": "+1-555-ZQX-0009",
    "email": "zqx10@sentinel.example",
    "note": "ZQX patient note 11",
    "diagnosis": "ZQX diagnosis 12",
    "reason": "ZQX free-text reason 13",
    "instructions": "ZQX instructions 14",
    "provider_name": "ZQXPROVIDERNAME15",
    "location_type": "ZQXLOCTYPE16",
    "unknown_value": "ZQX unknown value 17",
    "key_field_like": "Zqxfieldlikekey",  # looks like a field name
    "key_data": "ZQX-KEY 19 (data)",  # does not
    "source_name": "ZQXSOURCE20",
    "slot_reason": "ZQX slot reason 21",
    "event_type": "ZqxEventType",
    "bad_time": "ZQX-time-23",
    "bad_duration": "ZQX-duration-24",
    "accented": "ZQXÉLODIE25",
    "fhir_comment": "ZQX fhir comment 26",
    "fhir_text": "ZQX fhir narrative 27",
    "ics_summary": "ZQX summary 28",
    "ics_description": "ZQX description 29",
    "ics_attendee": "ZQXATTENDEE30",
    "nested_key": "Zqxnestedfieldkey",
}
S = SENTINELS


def patient() -> dict[str, Any]:
    """A Patient object with every demographic, free text and odd key planted (identifiers are kept)."""
    return {
        "Identifiers": [{"ID": "0000000001", "IDType": "MR"}],
        "Demographics": {
            "FirstName": S["first"],
            "MiddleName": S["middle"],
            "LastName": S["last"],
            "DOB": S["dob"],
            "SSN": S["ssn"],
            "Address": {"StreetAddress": S["street"], "City": S["city"], "ZIP": S["zip"]},
            "PhoneNumber": {"Home": S["phone"], "Mobile": S["phone"]},
            "EmailAddresses": [S["email"]],
            S["key_field_like"]: S["unknown_value"],
            S["key_data"]: {S["nested_key"]: S["accented"]},
        },
        "Notes": [S["note"]],
        "Diagnoses": [{"Code": "R69", "Name": S["diagnosis"]}],
    }


def meta(event_type: str) -> dict[str, Any]:
    """A Meta with a planted source name and an unknown key."""
    return {
        "DataModel": "Scheduling",
        "EventType": event_type,
        "Source": {"Name": S["source_name"]},
        S["key_field_like"]: S["unknown_value"],
    }


def visit(number: str, when: str = "2025-10-24T14:30:00Z") -> dict[str, Any]:
    """A Visit with free text, provider names, a location type and odd keys planted."""
    return {
        "VisitNumber": number,
        "VisitDateTime": when,
        "Duration": 30,
        "Reason": S["reason"],
        "Instructions": [S["instructions"]],
        "AttendingProvider": {
            "ID": "1234567890",
            "IDType": "NPI",
            "FirstName": S["provider_name"],
            "LastName": S["provider_name"],
        },
        "Location": {"Type": S["location_type"], "Facility": "RES General Hospital", "Department": "3N"},
        "Diagnoses": [{"Name": S["diagnosis"]}],
        "AdditionalStaff": [{"ID": "2345678901", "FirstName": S["provider_name"]}],
        S["key_data"]: S["unknown_value"],
        S["key_field_like"]: {S["nested_key"]: S["accented"]},
    }


def applied_messages() -> list[dict[str, Any]]:
    """Valid messages of every kind, full of sentinels."""
    new = {"Meta": meta("New"), "Patient": patient(), "Visit": visit("ZV-1")}
    modified = {"Meta": meta("Modification"), "Patient": patient(), "Visit": visit("ZV-1", "2025-10-24T15:00:00Z")}
    rescheduled = {"Meta": meta("Reschedule"), "Patient": patient(), "Visit": visit("ZV-2", "2025-10-24T16:00:00Z")}
    rescheduled["Visit"] |= {"OldVisitNumber": "ZV-1", "OldDateTime": "2025-10-24T15:00:00Z"}
    cancel = {"Meta": meta("Cancel"), "Patient": patient(), "Visit": visit("ZV-3")}
    no_show = {"Meta": meta("NoShow"), "Patient": patient(), "Visit": visit("ZV-2")}
    slot = {
        "ID": "zs-1",
        "DateTime": "2025-10-24T18:00:00Z",
        "Duration": 15,
        "Reason": S["slot_reason"],
        "Provider": {"ID": "1234567890", "FirstName": S["provider_name"], "LastName": S["provider_name"]},
        "Location": {"Type": S["location_type"], "Department": "3N"},
        S["key_data"]: S["unknown_value"],
    }
    push = {"Meta": meta("PushSlots"), "Slots": [slot, {**slot, "ID": "zs-2", "Reason": "Office Visit"}]}
    return [new, modified, rescheduled, cancel, no_show, push]


def rejected_texts() -> list[str]:
    """Messages the parser refuses, full of sentinels, as text (some not even JSON)."""
    no_number = {"Meta": meta("New"), "Patient": patient(), "Visit": {**visit("x"), "VisitNumber": None}}
    bad_type = {"Meta": meta(S["event_type"]), "Patient": patient(), "Visit": visit("ZV-9")}
    bad_values = {"Meta": meta("New"), "Patient": patient(), "Visit": visit("ZV-8", S["bad_time"])}
    bad_values["Visit"]["Duration"] = S["bad_duration"]
    bad_values["Visit"]["AdditionalStaff"] = [S["unknown_value"]]
    wrong_shapes = {"Meta": meta("New"), "Patient": S["first"], "Visit": [S["last"]]}
    not_json = json.dumps({"Meta": meta("New"), "Patient": patient()})[:-7]
    return [
        json.dumps(no_number),
        json.dumps(bad_type),
        json.dumps(bad_values),
        json.dumps(wrong_shapes),
        json.dumps([S["first"], {S["key_field_like"]: S["ssn"]}]),
        not_json,
        f'{{"{S["key_data"]}": "{S["ssn"]}"',
    ]


FHIR_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Schedule", "id": "ana-3n", "comment": S["fhir_comment"], "actor": [
            {"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567890"}},
            {"type": "Location", "identifier": {"value": "res-3n"}}]}},
        {"resource": {"resourceType": "Slot", "id": "sat-1", "schedule": {"reference": "Schedule/ana-3n"},
                      "status": "busy", "start": "2025-10-25T15:00:00Z", "end": "2025-10-25T15:30:00Z",
                      "comment": S["fhir_comment"],
                      "text": {"status": "generated", "div": f"<div>{S['fhir_text']}</div>"}}},
    ],
}  # fmt: skip

ICS = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//slotfinder tests//privacy//EN
X-SLOTFINDER-PROVIDER:1234567890
X-SLOTFINDER-LOCATION:res-3n
BEGIN:VEVENT
UID:ana-visit@example.org
DTSTAMP:20251001T000000Z
DTSTART;TZID=America/Chicago:20251024T100000
DTEND;TZID=America/Chicago:20251024T103000
SUMMARY:{S["ics_summary"]}
DESCRIPTION:{S["ics_description"]}
ATTENDEE;CN={S["ics_attendee"]}:mailto:zqx@sentinel.example
END:VEVENT
END:VCALENDAR
"""


def planted_in(data: bytes) -> list[str]:
    """The sentinels found in ``data``: as UTF-8 and as JSON writes them (non-ASCII escaped)."""
    found = []
    for name, value in SENTINELS.items():
        forms = {value.encode(), json.dumps(value).encode()[1:-1], json.dumps(value, ensure_ascii=False).encode()}
        if any(form in data for form in forms):
            found.append(name)
    return found


def files_of(db: Path) -> dict[str, bytes]:
    """The bytes of the store's files that exist (database, WAL, shared memory)."""
    paths = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {p.name: p.read_bytes() for p in paths if p.exists()}


def assert_clean(db: Path) -> None:
    """No sentinel in any file of the store."""
    found = {name: planted_in(data) for name, data in files_of(db).items()}
    assert found and all(not hits for hits in found.values()), found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slotfinder", *args], capture_output=True, text=True, check=False)


def test_the_planted_messages_really_carry_the_sentinels() -> None:
    """The test's own premise: every sentinel is in the messages (so finding none in the store means something)."""
    texts = [json.dumps(m, ensure_ascii=False) for m in applied_messages()] + rejected_texts()
    texts += [json.dumps(FHIR_BUNDLE), ICS]
    assert sorted(set(planted_in("\n".join(texts).encode()))) == sorted(SENTINELS)


def test_no_sentinel_in_the_database_files_after_ingesting_messages_full_of_them(tmp_path: Path) -> None:
    """Valid and rejected messages, a FHIR bundle and an .ics full of patient data: the store applies and
    logs them, and no planted value is in the .db, -wal or -shm bytes, while open or after closing."""
    from slotfinder.store._imports import ical_envelope

    db = tmp_path / "calendars.db"
    with CalendarStore(db) as store:
        store.load_clinic(demo_clinic())
        outcomes = [store.ingest(json.dumps(m)).applied for m in applied_messages()]
        outcomes += [store.ingest(json.dumps(m, ensure_ascii=False)).applied for m in applied_messages()[:1]]
        outcomes += [store.ingest(text).applied for text in rejected_texts()]
        store.import_calendar("fhir", json.dumps(FHIR_BUNDLE))
        first, last = (__import__("datetime").date(2025, 10, d) for d in (1, 31))
        store.import_calendar("ical", ical_envelope(ICS, "ana.ics", "res-3n", "1234567890", None, first, last))
        assert outcomes == [True] * 7 + [False] * len(rejected_texts())
        state = store.state()
        assert state.appointments["ZV-2"].patients[0].id == "0000000001"  # identifiers are kept: they match
        assert store.replay() == state
        text = json.dumps([store.anomalies(), [e.record for e in store.log()]], ensure_ascii=False)
        assert planted_in(text.encode()) == []
        assert_clean(db)  # open: everything written is in the WAL too
        busy = {b.visit_number for b in store.snapshot().busy}
        assert {"ZV-2", "sat-1", "ana-visit@example.org"} <= busy
    assert_clean(db)


def test_the_log_keeps_the_digest_of_each_message(tmp_path: Path) -> None:
    """Each log entry's digest is the SHA-256 of the text received, applied or rejected."""
    texts = [json.dumps(applied_messages()[0]), rejected_texts()[-1]]
    with CalendarStore(tmp_path / "calendars.db") as store:
        store.load_clinic(demo_clinic())
        for text in texts:
            store.ingest(text)
        digests = [e.digest for e in store.log()[1:]]
    assert digests == [hashlib.sha256(t.encode()).hexdigest() for t in texts]


def test_no_sentinel_in_what_the_command_line_prints(tmp_path: Path) -> None:
    """import, ingest (applied and rejected), find --db and purge print no planted value."""
    db = str(tmp_path / "c.db")
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps(applied_messages() + [json.loads(t) for t in rejected_texts()[:4]]))
    broken = tmp_path / "broken.json"
    broken.write_text(rejected_texts()[-2])
    ics = tmp_path / "ana.ics"
    ics.write_text(ICS)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(FHIR_BUNDLE))
    done = [
        run("import", "--db", db, str(DEMO)),
        run("import", "--db", db, str(ics), str(bundle), "--from", "2025-10-01", "--to", "2025-10-31"),
        run("ingest", "--db", db, str(messages), str(broken)),
        run("find", str(EXAMPLES / "availableslots-request.json"), "--db", db, "--explain"),
    ]
    assert_clean(Path(db))
    done.append(run("purge", "--db", db, "--older-than", "0"))
    assert [d.returncode for d in done] == [0, 0, 2, 0, 0], [d.stderr for d in done]
    assert "rejected" in done[2].stdout and "applied" in done[2].stdout
    printed = "".join(d.stdout + d.stderr for d in done)
    assert planted_in(printed.encode()) == []
    assert_clean(Path(db))


def test_anomalies_name_visits_and_rules_only(tmp_path: Path) -> None:
    """Anomalies of odd but valid messages (unknown location and provider, unmapped Reason) carry visit
    numbers, slot IDs and rules: no planted value."""
    new = {"Meta": meta("New"), "Patient": patient(), "Visit": visit("ZV-5")}
    new["Visit"]["Location"]["Department"] = "Nowhere"
    new["Visit"]["AttendingProvider"]["ID"] = "0000000000"
    modified = {"Meta": meta("Modification"), "Patient": patient(), "Visit": visit("ZV-6")}
    with CalendarStore(tmp_path / "calendars.db") as store:
        store.load_clinic(demo_clinic())
        found = [a for m in (new, modified, applied_messages()[-1]) for a in store.ingest(json.dumps(m)).anomalies]
    assert any("location" in a for a in found) and any("provider" in a for a in found)
    assert any("Modification of an unknown visit" in a for a in found)
    assert any("zs-1" in a and "Reason" in a for a in found)
    assert planted_in(" ".join(found).encode()) == []


# ---- the Reason mapping reader ------------------------------------------------------------------


def test_reason_mapping_problems_name_field_like_reasons_only(tmp_path: Path) -> None:
    """A malformed mapping is refused with a path per Reason: ``$.Blocked`` for a field-like Reason, ``$``
    for one that is not (it may be data); nothing is written."""
    with CalendarStore(tmp_path / "calendars.db") as store:
        store.load_clinic(demo_clinic())
        with pytest.raises(InvalidClinic) as caught:
            store.set_reasons({"Blocked": "210", S["key_data"]: [7], "Office Visit": ["210"], "Lunch": None})
        assert [str(p) for p in caught.value.problems] == [
            "$.Blocked: must be a list of visit-type codes or null",
            "$: must be a list of visit-type codes or null",
        ]
        assert len(store.log()) == 1
        with pytest.raises(InvalidClinic, match=r"\$: must be an object"):
            store.set_reasons([S["first"]])  # type: ignore[arg-type]
    assert planted_in(str(caught.value).encode() + caught.value.details().encode()) == []


def test_reason_mapping_refuses_blank_codes(tmp_path: Path) -> None:
    """A code that is blank text names no visit type: refused at the Reason's path."""
    with CalendarStore(tmp_path / "calendars.db") as store, pytest.raises(InvalidClinic, match=r"\$\.Any: must"):
        store.set_reasons({"Any": [" "]})


def test_a_late_mapping_does_not_change_slots_already_pushed(tmp_path: Path) -> None:
    """A PushSlots is logged with what the mapping in force decided, so a later mapping changes only
    later pushes, live and on replay."""
    with CalendarStore(tmp_path / "calendars.db") as store:
        store.load_clinic(demo_clinic())
        store.ingest(json.dumps(example("pushslots.json")))
        store.set_reasons({"Blocked": ["210"]})
        assert {e.slot_id: e.bookable for e in store.state().pushed} == {"s-1": True, "s-2": False}
        assert store.replay() == store.state()
