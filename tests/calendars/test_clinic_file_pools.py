"""The clinic file's pooled resources: read, written back, and checked with paths (docs/clinic-format.md, "Pools")."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from attrs import evolve

from slotfinder._calendars.clinic_file import check_clinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._domain import Busy, BusyKind, Need, Pool
from slotfinder._errors import InvalidClinic, Problem

SECRET = "0000000999"


def base() -> dict[str, Any]:
    """A small valid clinic with pools, fresh for each test to mutate."""
    return {
        "providers": [{"id": "p1"}],
        "locations": [
            {"id": "l1", "facility": "F", "department": "D", "time_zone": "America/Chicago",
             "pools": [{"kind": "infusion_chair", "units": 3}, {"kind": "exam_room", "units": 2}]},
            {"id": "l2", "facility": "F", "department": "E", "time_zone": "America/Chicago",
             "pools": [{"kind": "infusion_chair", "units": 1}]},
        ],
        "visit_types": [
            {"code": "INF", "codeset": None, "description": "Infusion", "duration": 60,
             "needs": [{"kind": "infusion_chair"}, {"kind": "exam_room", "units": 1}]},
            {"code": "DBL", "codeset": None, "description": "Paired infusion", "duration": 60,
             "needs": [{"kind": "infusion_chair", "units": 2}]},
        ],
        "templates": [{"provider_id": "p1", "location_id": "l1", "weekdays": ["Mon"], "start": "08:00",
                       "end": "12:00"}],
        "busy": [
            {"kind": "booking", "start": "2025-10-20T09:00:00-05:00", "duration": 60, "location_id": "l1",
             "pool": "infusion_chair", "pool_units": 2, "patients": [{"id": SECRET, "id_type": "MR"}]},
            {"kind": "block", "start": "2025-10-20T10:00:00-05:00", "duration": 60, "location_id": "l1",
             "pool": "exam_room"},
        ],
    }  # fmt: skip


def problems_of(raw: dict[str, Any]) -> tuple[Problem, ...]:
    """The problems load_clinic reports for ``raw`` (it must report some)."""
    with pytest.raises(InvalidClinic) as caught:
        load_clinic(raw)
    return caught.value.problems


def test_reads_pools_needs_and_pooled_items() -> None:
    """Every new key becomes its domain value; a need's units default to 1, an item's pool_units too."""
    clinic = load_clinic(base())
    assert clinic.locations[0].pools == (Pool("infusion_chair", 3), Pool("exam_room", 2))
    assert clinic.visit_types[0].needs == (Need("infusion_chair", 1), Need("exam_room", 1))
    assert clinic.visit_types[1].needs == (Need("infusion_chair", 2),)
    assert (clinic.busy[0].pool, clinic.busy[0].pool_units) == ("infusion_chair", 2)
    assert (clinic.busy[1].pool, clinic.busy[1].pool_units) == ("exam_room", 1)


def test_round_trip_keeps_pools_and_leaves_defaults_out() -> None:
    """clinic_to_dict then load_clinic gives the same clinic; units and pool_units of 1 are left out."""
    clinic = load_clinic(base())
    data = clinic_to_dict(clinic)
    assert load_clinic(json.loads(json.dumps(data))) == clinic
    assert data["busy"][0]["pool_units"] == 2
    assert "pool_units" not in data["busy"][1]
    assert data["visit_types"][0]["needs"] == [{"kind": "infusion_chair"}, {"kind": "exam_room"}]


def test_a_clinic_without_pools_writes_no_pool_keys() -> None:
    """The demo clinic has no pools: its written form has none of the new keys (nothing changes without them)."""
    text = json.dumps(clinic_to_dict(demo_clinic()))
    assert all(key not in text for key in ('"pools"', '"needs"', '"pool"', '"pool_units"'))


def test_a_location_without_the_needed_units_is_allowed() -> None:
    """l2 has one chair, fewer than DBL needs: allowed, since l1 has enough (l2 just offers no DBL)."""
    load_clinic(base())


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        (lambda r: r["visit_types"][0]["needs"][0].update(kind="bed"),
         "$.visit_types[0].needs[0].kind", "no location has a pool of this kind"),
        (lambda r: r["visit_types"][1]["needs"][0].update(units=4),
         "$.visit_types[1].needs[0].units", "more units than any location's pool of this kind has"),
        (lambda r: r["visit_types"][1]["needs"][0].update(units=0),
         "$.visit_types[1].needs[0].units", "units must be at least 1"),
        (lambda r: r["visit_types"][1]["needs"].append({"kind": "infusion_chair"}),
         "$.visit_types[1].needs[1].kind", "duplicate kind (give it once, with its units)"),
        (lambda r: r["locations"][0]["pools"].append({"kind": "exam_room", "units": 1}),
         "$.locations[0].pools[2].kind", "duplicate kind (give it once, with its units)"),
        (lambda r: r["locations"][0]["pools"][0].update(units=0),
         "$.locations[0].pools[0].units", "units must be at least 1"),
        (lambda r: r["locations"][0]["pools"][0].pop("units"),
         "$.locations[0].pools[0].units", "required key is missing"),
        (lambda r: r["locations"][0]["pools"][0].update(kind=""),
         "$.locations[0].pools[0].kind", "kind must not be empty"),
        (lambda r: r["busy"][0].update(pool="bed"),
         "$.busy[0].pool", "the location has no pool of this kind"),
        (lambda r: r["busy"][0].update(pool_units=4),
         "$.busy[0].pool_units", "more units than the location's pool of this kind has"),
        (lambda r: r["busy"][0].update(pool_units=0),
         "$.busy[0].pool_units", "pool_units must be at least 1"),
        (lambda r: r["busy"][0].pop("location_id"),
         "$.busy[0].pool", "needs location_id: pools belong to a location"),
        (lambda r: r["busy"][1].update(pool=None, pool_units=2),
         "$.busy[1].pool_units", "only applies with pool"),
        (lambda r: r["busy"][0].update(pool_units="2"),
         "$.busy[0].pool_units", "must be a whole number"),
    ],
)  # fmt: skip
def test_broken_pool_rules_are_reported_at_their_path(change: Any, path: str, rule: str) -> None:
    """Each broken rule is one problem at its JSON path, with a message that names no value."""
    raw = copy.deepcopy(base())
    change(raw)
    problems = problems_of(raw)
    assert Problem(path, rule) in problems, problems
    assert all(SECRET not in p.path and SECRET not in p.rule for p in problems)


def test_check_clinic_applies_the_pool_rules_to_python_clinics() -> None:
    """A clinic built in Python whose item takes more units than its location has fails check_clinic."""
    clinic = load_clinic(base())
    bad = Busy(BusyKind.HOLD, clinic.busy[0].start, clinic.busy[0].end, location_id="l2", pool="infusion_chair",
               pool_units=2)  # fmt: skip
    with pytest.raises(InvalidClinic) as caught:
        check_clinic(evolve(clinic, busy=(*clinic.busy, bad)))
    assert (
        Problem("$.busy[2].pool_units", "more units than the location's pool of this kind has") in caught.value.problems
    )
