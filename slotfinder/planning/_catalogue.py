"""The catalogue synthetic health systems are built from: specialties and the visit types they book."""

from __future__ import annotations

from attrs import frozen

from slotfinder.planning._minutes import DAY

__all__ = ["SHARED", "SPECIALTIES", "Specialty", "VisitKind"]


@frozen
class VisitKind:
    """A visit type of the catalogue: ``room`` is ``"exam"``, ``"procedure"`` or None (no room)."""

    code: str
    description: str
    duration: int
    room: str | None = "exam"
    equipment: tuple[str, ...] = ()
    weight: float = 1.0  # how often it is booked, relative to the other types of the session


@frozen
class Specialty:
    """A specialty: its share of providers, its own visit types and its access visit type."""

    name: str
    share: float
    kinds: tuple[VisitKind, ...]
    access: str  # the visit type reserved blocks keep (new patients, same-day sick visits)
    access_release: int | None  # minutes before start a reserved block opens to every type
    saturday: bool = False  # some of its providers hold a Saturday morning clinic


SHARED = (
    VisitKind("OV", "Office visit", 30, weight=3.0),
    VisitKind("FU", "Follow-up visit", 20, weight=3.0),
    VisitKind("TELE", "Telehealth visit", 15, room=None, weight=1.0),
    VisitKind("PROC", "Ultrasound-guided procedure", 30, room="procedure", equipment=("ultrasound",), weight=0.3),
)

SPECIALTIES = (
    Specialty(
        "Primary Care",
        0.30,
        (
            VisitKind("PC-NEW", "New patient visit", 40, weight=1.5),
            VisitKind("PC-AWV", "Annual wellness visit", 30, weight=2.0),
            VisitKind("PC-SICK", "Same-day sick visit", 15, weight=2.0),
            VisitKind("PC-ECG", "Office visit with ECG", 20, equipment=("ecg-cart",), weight=0.5),
        ),
        access="PC-SICK",
        access_release=120,
        saturday=True,
    ),
    Specialty(
        "Pediatrics",
        0.15,
        (
            VisitKind("PED-WELL", "Well-child visit", 30, weight=3.0),
            VisitKind("PED-SICK", "Sick child visit", 15, weight=2.0),
            VisitKind("PED-NB", "Newborn visit", 40, weight=1.0),
            VisitKind("PED-VAX", "Immunization visit", 15, weight=1.0),
        ),
        access="PED-SICK",
        access_release=120,
        saturday=True,
    ),
    Specialty(
        "Cardiology",
        0.12,
        (
            VisitKind("CARD-NEW", "Cardiology consultation", 60, weight=1.5),
            VisitKind("CARD-ECG", "Electrocardiogram", 15, equipment=("ecg-cart",), weight=1.0),
            VisitKind("CARD-ECHO", "Echocardiogram", 40, room="procedure", equipment=("echo",), weight=1.0),
            VisitKind(
                "CARD-STRESS",
                "Exercise stress test",
                60,
                room="procedure",
                equipment=("treadmill", "ecg-cart"),
                weight=0.5,
            ),
        ),
        access="CARD-NEW",
        access_release=2 * DAY,
    ),
    Specialty(
        "Dermatology",
        0.10,
        (
            VisitKind("DERM-NEW", "New patient visit", 30, weight=2.0),
            VisitKind("DERM-SKIN", "Full skin examination", 20, weight=2.0),
            VisitKind("DERM-BX", "Skin biopsy", 30, room="procedure", weight=1.0),
            VisitKind("DERM-CRYO", "Cryotherapy", 15, room="procedure", equipment=("cryo",), weight=1.0),
        ),
        access="DERM-NEW",
        access_release=None,
    ),
    Specialty(
        "Orthopedics",
        0.13,
        (
            VisitKind("ORTH-NEW", "New patient visit", 40, weight=2.0),
            VisitKind("ORTH-XR", "X-ray and review", 20, equipment=("xray",), weight=1.5),
            VisitKind("ORTH-INJ", "Joint injection", 15, room="procedure", equipment=("ultrasound",), weight=1.0),
            VisitKind("ORTH-CAST", "Cast application", 30, room="procedure", weight=0.5),
        ),
        access="ORTH-NEW",
        access_release=DAY,
    ),
    Specialty(
        "Obstetrics and Gynecology",
        0.12,
        (
            VisitKind("OB-NEW", "New obstetric visit", 60, weight=1.0),
            VisitKind("OB-PRE", "Prenatal visit", 20, weight=3.0),
            VisitKind("OB-US", "Obstetric ultrasound", 30, room="procedure", equipment=("ultrasound",), weight=1.0),
            VisitKind("GYN-ANN", "Annual gynecologic exam", 30, weight=1.0),
        ),
        access="OB-NEW",
        access_release=DAY,
    ),
)
