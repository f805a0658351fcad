"""SMART Scheduling Links bulk publications: the ``$bulk-publish`` manifest and its NDJSON files, read from disk.

Fixtures: ``tests/data/fhir/smart-bulk/`` (SMART's example publication, unchanged: ten sites, 300 free
Slots) and small publications written per test. The clinic is ``tests/data/fhir/real/clinic.json`` for
SMART's files, the builders' immunization clinic of ``test_fhir_actors`` for the written ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder._errors import InvalidClinic
from slotfinder._limits import CalendarTooLarge, Limits
from slotfinder.fhir import BulkPublication, load_bulk_publication, read_bulk_publication
from slotfinder.fhir._bulk import BulkFile, is_bulk_envelope, is_bulk_manifest, local_name
from slotfinder.store._imports import read_import
from tests.clinic_builders import MAIN, MONDAY, at
from tests.fhir.test_fhir_actors import SITE, immunization_clinic
from tests.fuzz.hostile import SENTINEL, mutated, no_sentinel, paths, preset, problem_texts, typed

DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"
SMART = DATA / "smart-bulk"
REQUEST = "https://pub.example.org/vaccines/$bulk-publish"
SECRET = "Jane-Q-Patient-4711"  # planted where a value could leak into a message

LOCATION = {"resourceType": "Location", "id": "l1", "identifier": [{"value": MAIN.id}]}
SCHEDULE = {"resourceType": "Schedule", "id": "s1", "actor": [{"reference": "Location/l1"}]}


def slot(sid: str = "f1", start: str = "2025-06-02T10:00:00-05:00", **more: Any) -> dict[str, Any]:
    """A free Slot of Schedule s1 (MONDAY 10:00-10:15 Chicago)."""
    end = start.replace("10:00:00", "10:15:00")
    found = {"resourceType": "Slot", "id": sid, "schedule": {"reference": "Schedule/s1"}, "status": "free"}
    return {**found, "start": start, "end": end, **more}


def ndjson(*resources: Any) -> str:
    return "".join(json.dumps(r) + "\n" for r in resources)


def publish(
    folder: Path,
    files: dict[str, str] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    **manifest: Any,
) -> Path:
    """A publication in ``folder``: the files (name -> text) and a manifest listing ``outputs`` (by default
    one output per file, its type from the file name, its URL below ``REQUEST``'s folder)."""
    if files is None:
        files = {
            "locations.ndjson": ndjson(LOCATION),
            "schedules.ndjson": ndjson(SCHEDULE),
            "slots.ndjson": ndjson(slot()),
        }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(text.encode("utf-8"))
    kinds = {"locations": "Location", "schedules": "Schedule", "slots": "Slot"}
    if outputs is None:
        outputs = [
            {"type": kinds[Path(name).stem.split("-")[0]], "url": f"https://pub.example.org/vaccines/{name}"}
            for name in files
        ]
    body = {"transactionTime": "2025-06-01T00:00:00Z", "request": REQUEST, "output": outputs, "error": []}
    (folder / "$bulk-publish").write_text(json.dumps({**body, **manifest}))
    return folder


# ---- SMART's example ----------------------------------------------------------------------------


def test_smart_example_publication_imports_from_its_folder_or_its_manifest() -> None:
    """The folder and the manifest file give the same publication: 10 Locations, 10 Schedules, 300 Slots;
    the clinic's two sites open their 60 whole-day Slots for the site's provider, at 9:00 Eastern."""
    publication = load_bulk_publication(SMART)
    assert load_bulk_publication(SMART / "$bulk-publish") == publication
    assert publication.resources() == {"Location": 10, "Schedule": 10, "Slot": 300}
    assert [f.name for f in publication.files][:2] == ["locations.ndjson", "schedules.ndjson"]
    clinic = slotfinder.load_clinic(DATA / "real" / "clinic.json")
    items = read_bulk_publication(publication, clinic)
    assert {(o.provider_id, o.location_id) for o in items.open_times} == {
        ("smart-boston", "smart-boston"),
        ("smart-worcester", "smart-worcester"),
    }
    assert len(items.open_times) == 60 and items.busy == ()
    first = next(o for o in items.open_times if o.source == "20")  # slots-2021-W09.ndjson line 1
    assert (first.start, first.end, first.visit_types) == (
        at_utc("2021-03-01T14:00"),
        at_utc("2021-03-01T23:00"),
        ("57",),
    )
    assert items.skipped[0] == (
        "schedules.ndjson:3:$.actor[0]: its location is not one of the clinic's, so the Schedule is skipped"
    )
    assert items.skipped[8] == "slots-2021-W09.ndjson:3:$: its Schedule (schedules.ndjson:3:$) is skipped"
    assert len(items.skipped) == 248
    text = " ".join(items.skipped + items.notes)
    assert "Springfield" not in text and "fake-vtrcks" not in text and "ehr-portal" not in text


def at_utc(text: str) -> int:
    """Minutes since the epoch of a UTC ``YYYY-MM-DDTHH:MM``."""
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return int(moment.timestamp()) // 60


# ---- where an output's file is ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "request_url", "expected"),
    [
        ("https://pub.example.org/vaccines/locations.ndjson", REQUEST, "locations.ndjson"),
        ("https://pub.example.org/vaccines/MA/slots.ndjson", REQUEST, "MA/slots.ndjson"),
        ("https://cdn.example.net/a/b/slots.ndjson?sig=" + SECRET, REQUEST, "slots.ndjson"),
        ("https://pub.example.org/other/slots.ndjson", REQUEST, "slots.ndjson"),  # above the folder: last segment
        ("http://pub.example.org/vaccines/MA/slots.ndjson", REQUEST, "slots.ndjson"),  # another scheme
        ("MA/slots.ndjson#part", REQUEST, "MA/slots.ndjson"),  # relative to the request
        ("./MA/slots.ndjson", None, "MA/slots.ndjson"),  # relative, no request: from the manifest's folder
        ("MA/slots.ndjson", "$bulk-publish", "MA/slots.ndjson"),  # a request that is a bare name
        ("https://pub.example.org/vaccines/%24bulk-slots.ndjson", REQUEST, "$bulk-slots.ndjson"),
        ("../slots.ndjson", None, None),  # above the folder
        ("/slots.ndjson", None, "slots.ndjson"),  # from the root of an unknown host: the last segment
        ("https://pub.example.org/vaccines/", REQUEST, None),  # no file name
        ("https://pub.example.org/vaccines/a%2F..%2F..%2Fetc", REQUEST, None),  # an encoded ..
        ("slots file.ndjson", None, None),  # an unusual character
        ("https://[broken", REQUEST, None),
    ],
)
def test_output_urls_name_files_in_the_manifests_folder(
    url: str, request_url: str | None, expected: str | None
) -> None:
    assert local_name(url, request_url) == expected


def test_publication_in_a_folder_of_its_own(tmp_path: Path) -> None:
    """Outputs in a subfolder, a URL with a query string, a file listed twice (read once): the Slot opens
    the site provider's time at MAIN."""
    files = {
        "locations.ndjson": ndjson(LOCATION),
        "schedules.ndjson": ndjson(SCHEDULE),
        "MA/slots.ndjson": ndjson(slot()),
    }
    outputs: list[dict[str, Any]] = [
        {"type": "Location", "url": "https://cdn.example.net/x/locations.ndjson?sig=abc"},
        {"type": "Schedule", "url": "schedules.ndjson"},
        {"type": "Slot", "url": "https://pub.example.org/vaccines/MA/slots.ndjson", "extension": {"state": ["MA"]}},
        {"type": "Slot", "url": "MA/slots.ndjson"},
    ]
    publication = load_bulk_publication(publish(tmp_path, files, outputs))
    assert [f.name for f in publication.files] == ["locations.ndjson", "schedules.ndjson", "MA/slots.ndjson"]
    items = read_bulk_publication(publication, immunization_clinic(site=True))
    assert [(o.provider_id, o.location_id, o.start, o.source) for o in items.open_times] == [
        (SITE.id, MAIN.id, at(MONDAY, "10:00"), "f1")
    ]
    assert items.skipped == ()


def test_missing_or_outside_files_are_errors_at_the_output_never_the_url(tmp_path: Path) -> None:
    outside = tmp_path / "outside.ndjson"
    outside.write_text(ndjson(LOCATION))
    folder = tmp_path / "pub"
    folder.mkdir()
    (folder / "linked.ndjson").symlink_to(outside)
    outputs = [
        {"type": "Location", "url": f"https://pub.example.org/vaccines/gone.ndjson?token={SECRET}"},
        {"type": "Schedule", "url": "linked.ndjson"},
        {"type": "Slot", "url": "../outside.ndjson"},
    ]
    publish(folder, {}, outputs)
    with pytest.raises(InvalidClinic) as caught:
        load_bulk_publication(folder)
    assert [str(p) for p in caught.value.problems] == [
        "$bulk-publish:$.output[0].url: names no file in the manifest's folder (see docs/fhir.md: bulk publications)",
        "$bulk-publish:$.output[1].url: names a file outside the manifest's folder",
        "$bulk-publish:$.output[2].url: names no file in the manifest's folder (see docs/fhir.md: bulk publications)",
    ]
    assert SECRET not in caught.value.details()


def test_other_outputs_and_error_files_are_skipped_unread(tmp_path: Path) -> None:
    """A Patient output (its file absent: never opened) and an error file are skipped lines, so is a
    Schedule in the Slot file; the rest is read."""
    files = {
        "locations.ndjson": ndjson(LOCATION),
        "schedules.ndjson": ndjson(SCHEDULE),
        "slots.ndjson": ndjson(slot(), SCHEDULE),
    }
    outputs = [{"type": t, "url": f"{n}.ndjson"} for t, n in [("Location", "locations"), ("Schedule", "schedules")]]
    outputs += [{"type": "Slot", "url": "slots.ndjson"}, {"type": "Patient", "url": "patients.ndjson"}]
    publish(tmp_path, files, outputs, error=[{"type": "OperationOutcome", "url": "errors.ndjson"}])
    items = read_bulk_publication(load_bulk_publication(tmp_path), immunization_clinic(site=True))
    assert len(items.open_times) == 1
    assert items.skipped == (
        "$bulk-publish:$.output[3]: an output of type Patient is not read (only Location, Schedule and Slot)",
        "$bulk-publish:$.error[0]: an error file of the publisher is not read",
        "slots.ndjson:2:$: a resource of type Schedule in a Slot file is not read",
    )


def test_blank_lines_crlf_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    text = "\ufeff" + json.dumps(slot("a")) + "\r\n\r\n   \n" + json.dumps(slot("b", "2025-06-02T10:00:00-05:00"))
    publish(
        tmp_path, {"locations.ndjson": ndjson(LOCATION), "schedules.ndjson": ndjson(SCHEDULE), "slots.ndjson": text}
    )
    publication = load_bulk_publication(tmp_path)
    assert publication.resources() == {"Location": 1, "Schedule": 1, "Slot": 2}
    items = read_bulk_publication(publication, immunization_clinic(site=True))
    assert [o.source for o in items.open_times] == ["a", "b"]


def test_malformed_lines_are_errors_at_file_and_line_never_their_values(tmp_path: Path) -> None:
    bad_start = slot("f2", comment=SECRET)
    bad_start["start"] = "2025-06-02T10:00:00"  # no offset
    lines = ndjson(slot()) + '{"resourceType": "Slot", "comment": "' + SECRET + '", \n' + ndjson(bad_start, [SECRET])
    publish(
        tmp_path, {"locations.ndjson": ndjson(LOCATION), "schedules.ndjson": ndjson(SCHEDULE), "slots.ndjson": lines}
    )
    with pytest.raises(InvalidClinic) as caught:
        read_bulk_publication(load_bulk_publication(tmp_path), immunization_clinic(site=True))
    assert [str(p) for p in caught.value.problems] == [
        "slots.ndjson:2: not valid JSON (column 60)",
        "slots.ndjson:4:$: must be a JSON object",
        "slots.ndjson:3:$.start: must have a UTC offset (Z or +HH:MM): a FHIR instant always carries one",
    ]
    assert SECRET not in caught.value.details()


def test_not_a_manifest_or_no_manifest(tmp_path: Path) -> None:
    (tmp_path / "clinic.json").write_text(json.dumps({"providers": [], "output": "x"}))
    with pytest.raises(InvalidClinic, match=r"clinic\.json:\$: must be a \$bulk-publish manifest"):
        load_bulk_publication(tmp_path / "clinic.json")
    with pytest.raises(FileNotFoundError):
        load_bulk_publication(tmp_path)  # a folder without $bulk-publish
    publish(tmp_path, {}, [{"type": "Slot"}, {"url": 7}])
    with pytest.raises(InvalidClinic) as caught:
        load_bulk_publication(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "$bulk-publish:$.output[0].url: is required",
        "$bulk-publish:$.output[1].type: is required",
        "$bulk-publish:$.output[1].url: must be a non-empty string",
    ]


def test_manifest_shapes() -> None:
    assert is_bulk_manifest({"transactionTime": "x", "output": []})
    assert is_bulk_manifest({"request": "x", "output": [], "error": []})
    assert not is_bulk_manifest({"resourceType": "Bundle", "request": "x", "output": []})
    assert not is_bulk_manifest({"providers": [], "output": []})  # neither transactionTime nor request
    assert not is_bulk_manifest([])


# ---- limits -------------------------------------------------------------------------------------


def smart_limits(**limits: int) -> tuple[BulkPublication, Limits]:
    return load_bulk_publication(SMART), Limits(**limits)


@pytest.mark.parametrize(
    ("limits", "first"),
    [
        ({"max_import_items": 20}, "slots-2021-W09.ndjson:1: more than 20 resources (limit max_import_items)"),
        ({"max_request_bytes": 401}, "locations.ndjson:2: more than 401 bytes (limit max_request_bytes)"),
        ({"max_array_items": 2}, "slots-2021-W09.ndjson:1:$.extension: more than 2 items (limit max_array_items)"),
        ({"max_depth": 3}, "schedules.ndjson:1:$.serviceType[0].coding: nests deeper than 3 levels (limit max_depth)"),
    ],
)
def test_a_publication_past_a_limit_is_refused_at_file_and_line(limits: dict[str, int], first: str) -> None:
    """Past a limit nothing is read; the first problem names the file and the line where it was passed."""
    publication, chosen = smart_limits(**limits)
    with pytest.raises(CalendarTooLarge) as caught:
        read_bulk_publication(publication, slotfinder.load_clinic(DATA / "real" / "clinic.json"), limits=chosen)
    assert str(caught.value.problems[0]) == first


def test_files_together_past_max_file_bytes_are_refused_before_reading(tmp_path: Path) -> None:
    slots = ndjson(*(slot(f"f{n}") for n in range(10)))  # the files, together, larger than the manifest
    publish(
        tmp_path, {"locations.ndjson": ndjson(LOCATION), "schedules.ndjson": ndjson(SCHEDULE), "slots.ndjson": slots}
    )
    size = sum(os.path.getsize(tmp_path / n) for n in ("locations.ndjson", "schedules.ndjson", "slots.ndjson"))
    assert load_bulk_publication(tmp_path, limits=Limits(max_file_bytes=size)).resources()["Slot"] == 10
    with pytest.raises(CalendarTooLarge) as caught:
        load_bulk_publication(tmp_path, limits=Limits(max_file_bytes=size - 1))
    assert str(caught.value.problems[0]).startswith("slots.ndjson: the publication's files together: more than")
    publication = load_bulk_publication(tmp_path)
    with pytest.raises(CalendarTooLarge):
        read_bulk_publication(publication, immunization_clinic(site=True), limits=Limits(max_file_bytes=size - 1))


# ---- the store ----------------------------------------------------------------------------------


def test_envelope_is_what_the_store_reads_and_replays(tmp_path: Path) -> None:
    """The envelope holds the publication whole: the store reads it as kind fhir, logs the items (not the
    files' text) and replays to the same state."""
    from slotfinder.store._sqlite import CalendarStore

    publication = load_bulk_publication(SMART)
    data = json.loads(publication.envelope())
    assert is_bulk_envelope(data) and not is_bulk_envelope({"resourceType": "Bundle"})
    assert BulkPublication.from_envelope(data) == publication
    clinic = slotfinder.load_clinic(DATA / "real" / "clinic.json")
    busy, open_times, skipped = read_import("fhir", publication.envelope(), clinic)
    assert len(open_times) == 60 and len(skipped) == 248 and busy == ()
    with CalendarStore(tmp_path / "c.db") as store:
        store.load_clinic(json.loads((DATA / "real" / "clinic.json").read_text()))
        done = store.import_calendar("fhir", publication.envelope())
        assert len(done.anomalies) == 248
        assert store.replay() == store.state()
    assert b"ehr-portal.example.org" not in (tmp_path / "c.db").read_bytes()


# ---- hostile lines ------------------------------------------------------------------------------

_SMART = load_bulk_publication(SMART)
_CLINIC = slotfinder.load_clinic(DATA / "real" / "clinic.json")


def _planted_lines() -> list[tuple[int, int, Any]]:
    """``(file index, line index, resource)`` of SMART's first lines of each file, a sentinel in their texts."""
    found = []
    for k, file in enumerate(_SMART.files):
        for n, line in enumerate(file.text.split("\n")[:3]):
            resource = json.loads(line)
            for path in list(paths(resource)):
                node: Any = resource
                for step in path[:-1]:
                    node = node[step]
                if path and isinstance(node[path[-1]], str) and path[-1] in ("name", "valueString", "city"):
                    node[path[-1]] = SENTINEL
            found.append((k, n, resource))
    return found


_LINES = _planted_lines()


def located(error: BaseException, name: str) -> None:
    """A refusal of a changed line names that line's file (a missing Schedule names the referring Slot's)."""
    assert any(text.startswith(f"{name}:") or ".ndjson:" in text for text in problem_texts(error)), str(error)


@preset(60)
@given(st.sampled_from(_LINES), st.data(), st.sampled_from(["json", "text"]))
def test_mutated_lines_read_or_raise_a_typed_error_without_their_values(
    line: tuple[int, int, Any], data: st.DataObject, how: str
) -> None:
    """A line changed (its JSON mutated, or its text cut and a sentinel spliced in): the publication reads,
    or is refused with InvalidClinic naming file and line; nothing planted leaks."""
    k, n, resource = line
    if how == "json":
        text = json.dumps(data.draw(mutated(resource)))
    else:
        original = json.dumps(resource)
        cut = data.draw(st.integers(0, len(original)))
        text = original[:cut] + SENTINEL + original[cut:]
    lines = _SMART.files[k].text.split("\n")
    lines[n] = text
    files = list(_SMART.files)
    files[k] = BulkFile(files[k].output, files[k].name, "\n".join(lines))
    publication = BulkPublication(_SMART.name, _SMART.manifest, tuple(files))
    try:
        items = read_bulk_publication(publication, _CLINIC)
    except Exception as error:
        typed(error, InvalidClinic)
        located(error, files[k].name)
        return
    no_sentinel(*items.skipped, *items.notes)
