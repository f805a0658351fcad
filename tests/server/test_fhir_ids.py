"""The ids of $find's proposals read back into what they propose (no server needed)."""

from __future__ import annotations

import re

from slotfinder.server._ids import proposal_id, read_proposal_id
from tests.clinic_builders import MAIN, OV, P2, clinic

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def test_a_proposal_id_reads_back() -> None:
    """Start, duration, provider, location and visit type come back; the id is a valid FHIR id."""
    where = clinic()
    for code in (OV.code, None):
        text = proposal_id(29_000_000, 30, P2.id, MAIN.id, code)
        assert FHIR_ID.fullmatch(text)
        found = read_proposal_id(text, where)
        assert found is not None
        assert (found.start, found.end, found.provider_id, found.location_id, found.visit_type) == (
            29_000_000,
            29_000_030,
            P2.id,
            MAIN.id,
            code,
        )


def test_other_ids_read_as_nothing() -> None:
    """Ids of holds, foreign ids and proposals naming what the clinic lacks are not proposals."""
    where = clinic()
    gone = proposal_id(29_000_000, 30, "9999999999", MAIN.id, None)
    for text in ("fhir-0123abcd", "proposed-zz-1e-0000000000000000", gone, ""):
        assert read_proposal_id(text, where) is None
