"""FHIR R4 calendars: read a Bundle of ``Schedule`` + ``Slot``, write free ``Slot``s (see ``docs/fhir.md``).

>>> items = read_fhir_bundle(bundle, clinic)         # open time, busy time, what was skipped
>>> clinic = items.add_to(clinic)                    # the engine then honours the Slots
>>> write_slots_bundle(result)                       # a search's ranked slots as a searchset Bundle
>>> write_clinic_bundle(clinic, first, last)         # a clinic's calendars as a collection Bundle

A SMART Scheduling Links bulk publication (a ``$bulk-publish`` manifest and its NDJSON files) is read
from disk, never from the network:

>>> publication = load_bulk_publication("examples/")  # the folder holding $bulk-publish, or the manifest
>>> items = read_bulk_publication(publication, clinic)

The runtime code reads and writes plain ``dict``s; no FHIR model library is imported.
"""

from slotfinder.fhir._bulk import BulkPublication, load_bulk_publication, read_bulk_publication
from slotfinder.fhir._read import FhirItems, read_fhir_bundle
from slotfinder.fhir._write import write_clinic_bundle, write_slots_bundle

__all__ = [
    "BulkPublication",
    "FhirItems",
    "load_bulk_publication",
    "read_bulk_publication",
    "read_fhir_bundle",
    "write_clinic_bundle",
    "write_slots_bundle",
]
