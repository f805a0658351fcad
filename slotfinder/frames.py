"""Tables and pictures for research notebooks: the calendars, the candidates and the offered slots.

Everything here reads public values (a ``Clinic``, a ``SlotResult``, ``Candidate`` rows) and returns
pandas DataFrames or matplotlib figures. pandas and matplotlib are imported inside the functions, so
``import slotfinder`` stays light. No patient data leaves these functions: bookings keep their visit
number, never their patients.

>>> from slotfinder import frames
>>> frames.calendar_frame(clinic, date(2025, 10, 27), date(2025, 11, 2))  # blocks and busy time
>>> frames.plot_week(clinic, result, date(2025, 10, 27))                   # the week on one timeline
>>> frames.plot_breakdown(result)                                          # points per ranking term
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

from slotfinder._calendars import zones
from slotfinder._calendars.expand import Block, expand_blocks
from slotfinder._domain import Busy, Clinic, Opening, OpenTime, Provider, WeeklyTemplate
from slotfinder._pipeline import Candidate
from slotfinder._rank import TERMS
from slotfinder._result import RankedSlot, SlotResult

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CALENDAR_COLUMNS",
    "CANDIDATE_COLUMNS",
    "KIND_STYLE",
    "calendar_frame",
    "candidates_frame",
    "demo_request",
    "plot_breakdown",
    "plot_week",
]

CALENDAR_COLUMNS = (
    "kind",  # template, opening, open_time (working time) or a BusyKind value (booking, hold, block, ...)
    "provider_id",
    "provider",
    "location_id",
    "room",
    "equipment",
    "time_zone",  # the zone of the location (of the provider's first location for items without one)
    "local_date",
    "start_utc",
    "end_utc",
    "start_local",
    "end_local",
    "duration_min",
    "visit_types",  # working time: the types it allows (empty: any); a block: the types it is reserved for
    "step_min",  # working time: the grid step of starts, in minutes
    "release_before_min",  # a reserved block: minutes before its start at which it opens to every type
    "visit_number",
)

CANDIDATE_COLUMNS = (
    "start_utc",
    "start_local",
    "time_zone",
    "local_date",
    "weekday",
    "local_time",
    "duration_min",
    "provider_id",
    "location_id",
    "visit_type",
    "room",
    "score",
    "eligible",
)

# How each kind is drawn by plot_week: (colour, legend label), working time first, then busy time.
KIND_STYLE: dict[str, tuple[str, str]] = {
    "template": ("#c7e9c0", "working time (weekly template)"),
    "opening": ("#9ecae1", "working time (one-off opening)"),
    "open_time": ("#dadaeb", "working time (pushed open time)"),
    "booking": ("#636363", "booking"),
    "hold": ("#fd8d3c", "hold"),
    "block": ("#8c6d31", "block (reserved or unavailable)"),
    "out_of_office": ("#de2d26", "out of office"),
    "closure": ("#252525", "location closed"),
}
_WORKING = ("template", "opening", "open_time")
_SLOT_STYLE = ("#2171b5", "offered slot (rank)")
_TERM_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def demo_request() -> dict[str, Any]:
    """The bundled example ``Scheduling.AvailableSlots`` message (the seed's request), as a dict."""
    text = resources.files("slotfinder").joinpath("data/demo_request.json").read_text("utf-8")
    message: dict[str, Any] = json.loads(text)
    return message


# ---- the calendars as a table --------------------------------------------------------------------


def _provider_name(provider: Provider | None) -> str | None:
    if provider is None:
        return None
    name = " ".join(p for p in (provider.first_name, provider.last_name) if p) or provider.id
    return ", ".join([name, *provider.credentials]) if provider.credentials else name


def _rules(clinic: Clinic) -> list[WeeklyTemplate | Opening | OpenTime]:
    return [*clinic.templates, *clinic.openings, *clinic.open_times]


def _provider_zones(clinic: Clinic) -> dict[str, str]:
    """Each provider's zone: that of the first location of its templates, openings or open times."""
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    found: dict[str, str] = {}
    for rule in _rules(clinic):
        found.setdefault(rule.provider_id, zone_of[rule.location_id])
    return found


def _working_kind(
    clinic: Clinic, first: dt.date, last: dt.date, providers: Iterable[str] | None
) -> list[tuple[str, Block]]:
    """Working-time blocks on local dates ``first``..``last``, each with where it came from."""
    wanted = None if providers is None else list(providers)
    parts = {
        "template": attrs.evolve(clinic, openings=(), open_times=()),
        "opening": attrs.evolve(clinic, templates=(), open_times=()),
        "open_time": attrs.evolve(clinic, templates=(), openings=()),
    }
    return [(kind, block) for kind, part in parts.items() for block in expand_blocks(part, first, last, wanted)]


def _busy_zone(item: Busy, zone_of: dict[str, str], provider_zone: dict[str, str], fallback: str) -> str:
    if item.location_id is not None:
        return zone_of[item.location_id]
    if item.provider_id is not None:
        return provider_zone.get(item.provider_id, fallback)
    return fallback


def calendar_frame(
    clinic: Clinic, first: dt.date, last: dt.date, providers: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per block of working time and per busy item touching local dates ``first``..``last``.

    Working time (``kind`` template, opening, open_time) comes from the templates expanded under the
    DST policy; busy items keep their kind (booking, hold, block, out_of_office, closure), visit number,
    room and reserved visit types, never their patients. Times are pandas Timestamps in UTC
    (``start_utc``, ``end_utc``) and in the row's ``time_zone`` (``start_local``, ``end_local``).
    ``providers`` (IDs) keeps their rows and the location-wide items (closures, room bookings) of the
    locations they work at. Rows are ordered by start, provider and kind.
    """
    import pandas as pd

    wanted = None if providers is None else set(providers)
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    provider_zone = _provider_zones(clinic)
    fallback = clinic.locations[0].time_zone if clinic.locations else "UTC"
    names = {p.id: _provider_name(p) for p in clinic.providers}
    rows: list[dict[str, Any]] = []

    def touches(zone: str, start: int, end: int) -> bool:
        return start < zones.instant_of(zone, last, 1440) and zones.instant_of(zone, first, 0) < end

    def times(zone: str, start: int, end: int) -> dict[str, Any]:
        start_utc = pd.Timestamp(zones.to_datetime(start))
        end_utc = pd.Timestamp(zones.to_datetime(end))
        return {
            "time_zone": zone,
            "local_date": zones.local_of(zone, start)[0],
            "start_utc": start_utc,
            "end_utc": end_utc,
            "start_local": start_utc.tz_convert(zone),
            "end_local": end_utc.tz_convert(zone),
            "duration_min": end - start,
        }

    for kind, block in _working_kind(clinic, first, last, wanted):
        zone = zone_of[block.location_id]
        if touches(zone, block.start, block.end):
            rows.append(
                {
                    "kind": kind,
                    "provider_id": block.provider_id,
                    "provider": names.get(block.provider_id),
                    "location_id": block.location_id,
                    "room": block.room,
                    "equipment": None,
                    **times(zone, block.start, block.end),
                    "visit_types": block.visit_types,
                    "step_min": block.step,
                    "release_before_min": None,
                    "visit_number": None,
                }
            )
    sites = {rule.location_id for rule in _rules(clinic) if wanted is None or rule.provider_id in wanted}
    for item in clinic.busy:
        if wanted is not None and (
            item.provider_id not in wanted if item.provider_id is not None else item.location_id not in sites
        ):
            continue
        zone = _busy_zone(item, zone_of, provider_zone, fallback)
        if touches(zone, item.start, item.end):
            rows.append(
                {
                    "kind": item.kind.value,
                    "provider_id": item.provider_id,
                    "provider": names.get(item.provider_id) if item.provider_id else None,
                    "location_id": item.location_id,
                    "room": item.room,
                    "equipment": item.equipment,
                    **times(zone, item.start, item.end),
                    "visit_types": item.reserved_for,
                    "step_min": None,
                    "release_before_min": item.release_before,
                    "visit_number": item.visit_number,
                }
            )
    kind_order = {kind: i for i, kind in enumerate(KIND_STYLE)}
    rows.sort(key=lambda r: (r["start_utc"], r["provider_id"] or "", kind_order[r["kind"]], r["end_utc"]))
    frame = pd.DataFrame(rows, columns=list(CALENDAR_COLUMNS))
    return frame.astype({"duration_min": "int64", "step_min": "Int64", "release_before_min": "Int64"})


def candidates_frame(clinic: Clinic, candidates: Iterable[Candidate]) -> pd.DataFrame:
    """``list_candidates`` output as a DataFrame: one row per open start, with its local weekday and time."""
    import pandas as pd

    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    rows: list[dict[str, Any]] = []
    for c in candidates:
        zone = zone_of[c.location_id]
        start_utc = pd.Timestamp(zones.to_datetime(c.start))
        minute = zones.local_of(zone, c.start)[1]
        rows.append(
            {
                "start_utc": start_utc,
                "start_local": start_utc.tz_convert(zone),
                "time_zone": zone,
                "local_date": c.local_date,
                "weekday": _WEEKDAYS[c.local_date.weekday()],
                "local_time": dt.time(minute // 60, minute % 60),
                "duration_min": c.duration,
                "provider_id": c.provider_id,
                "location_id": c.location_id,
                "visit_type": c.visit_type,
                "room": c.room,
                "score": c.score,
                "eligible": c.eligible,
            }
        )
    return pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))


# ---- pictures ------------------------------------------------------------------------------------


def _wall_span(zone: str, day: dt.date, start: int, end: int) -> tuple[float, float] | None:
    """Hours after local midnight of ``day`` (wall clock) covered by ``start``..``end``, clipped to the day."""
    day_start, day_end = zones.instant_of(zone, day, 0), zones.instant_of(zone, day, 1440)
    lo, hi = max(start, day_start), min(end, day_end)
    if hi <= lo:
        return None
    x0 = zones.local_of(zone, lo)[1] if lo > day_start else 0
    x1 = 1440 if hi >= day_end else zones.local_of(zone, hi)[1]
    if x1 <= x0:  # the repeated hour of a fall-back night: keep the elapsed length
        x1 = x0 + (hi - lo)
    return x0 / 60, x1 / 60


def _instant(stamp: Any) -> int:
    """A pandas Timestamp (aware) as an instant."""
    return int(stamp.timestamp()) // 60


def _offset_label(zone: str, day: dt.date) -> str:
    minutes = zones.offset_at(zone, zones.instant_of(zone, day, 720))
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _default_zone(clinic: Clinic) -> str:
    found = {loc.time_zone for loc in clinic.locations}
    return found.pop() if len(found) == 1 else "UTC"


def plot_week(
    clinic: Clinic,
    result: SlotResult | None,
    first: dt.date,
    last: dt.date | None = None,
    *,
    providers: Iterable[str] | None = None,
    time_zone: str | None = None,
    hours: tuple[int, int] | None = None,
) -> Figure:
    """Each provider's working time, busy time and the offered slots, one panel per local date.

    Dates ``first``..``last`` (default: a week, ``first`` + 6 days) run down the figure; within a
    panel each provider (and each location with location-wide busy items) is a row and the x axis is
    the wall-clock time of day in ``time_zone`` (default: the clinic's zone when it has one, else UTC),
    so templates stay at their clock times across DST changes; each panel names its UTC offset.
    Offered slots are blue bars labelled with their rank. ``hours`` (first, last) limits the x axis
    (default: the working hours of the dates shown).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    last = last if last is not None else first + dt.timedelta(days=6)
    if last < first:
        raise ValueError("last must not be before first")
    zone = time_zone or _default_zone(clinic)
    wanted = None if providers is None else list(providers)
    frame = calendar_frame(clinic, first, last, wanted)
    slots = [s for s in (result.slots if result is not None else ()) if wanted is None or s.provider.id in wanted]

    # Rows: providers in clinic order, then locations with items that name no provider.
    present = set(frame["provider_id"].dropna()) | {s.provider.id for s in slots}
    staff = [p for p in clinic.providers if p.id in present]
    names = [_provider_name(p) or p.id for p in staff]
    rows: list[tuple[str, str]] = [
        (p.id, name if names.count(name) == 1 else f"{name} ({p.id})") for p, name in zip(staff, names, strict=True)
    ]
    site_items = frame[frame["provider_id"].isna()]
    for loc in clinic.locations:
        if (site_items["location_id"] == loc.id).any():
            name = " ".join(p for p in (loc.facility, loc.department) if p) or loc.id
            rows.append((f"@{loc.id}", f"{name} (location, rooms)"))
    row_of = {key: i for i, (key, _) in enumerate(rows)}

    def row_key(provider_id: Any, location_id: Any) -> str:
        return str(provider_id) if isinstance(provider_id, str) else f"@{location_id}"

    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    if hours is None:
        working = frame[frame["kind"].isin(_WORKING)]
        spans = [
            _wall_span(zone, day, _instant(r.start_utc), _instant(r.end_utc))
            for day in days
            for r in working.itertuples()
        ]
        found = [s for s in spans if s is not None]
        lo = int(min((s[0] for s in found), default=8.0))
        hi = int(-(-max((s[1] for s in found), default=18.0) // 1))
        hours = (max(lo - 1, 0), min(hi + 1, 24))

    height = max(len(rows), 1) * 0.32 + 0.5
    fig, axes = plt.subplots(
        len(days), 1, sharex=True, figsize=(13, height * len(days) + 1.2), squeeze=False, layout="constrained"
    )
    kinds_drawn: set[str] = set()
    shown: set[RankedSlot] = set()
    for ax, day in zip(axes[:, 0], days, strict=True):
        for r in frame.itertuples():
            start, end = _instant(r.start_utc), _instant(r.end_utc)
            span = _wall_span(zone, day, start, end)
            key = row_key(r.provider_id, r.location_id)
            if span is None or key not in row_of:
                continue
            kind = str(r.kind)
            is_working = kind in _WORKING
            half = 0.42 if is_working else 0.3
            colour = KIND_STYLE[kind][0]
            ax.barh(
                row_of[key], span[1] - span[0], left=span[0], height=2 * half, color=colour,
                alpha=0.9 if is_working else 0.85, linewidth=0,
            )  # fmt: skip
            kinds_drawn.add(kind)
        for rank, slot in enumerate(result.slots if result is not None else (), start=1):
            if slot not in slots:
                continue
            span = _wall_span(zone, day, slot.start, slot.start + slot.duration)
            if span is None:
                continue
            shown.add(slot)
            y = row_of[slot.provider.id]
            ax.barh(y, span[1] - span[0], left=span[0], height=0.3, color=_SLOT_STYLE[0], alpha=0.75,
                    edgecolor="white", linewidth=0.5)  # fmt: skip
            ax.text(span[0], y - 0.2, str(rank), fontsize=7, ha="left", va="bottom", color="#08306b")
        ax.set_yticks(range(len(rows)), [label for _, label in rows], fontsize=8)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(f"{_WEEKDAYS[day.weekday()]} {day.isoformat()} ({_offset_label(zone, day)})", fontsize=9,
                     loc="left")  # fmt: skip
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    bottom = axes[-1, 0]
    bottom.set_xlim(*hours)
    bottom.set_xticks(range(hours[0], hours[1] + 1))
    bottom.set_xticklabels([f"{h:02d}:00" for h in range(hours[0], hours[1] + 1)], fontsize=8)
    bottom.set_xlabel(f"local time of day in {zone} (hours, wall clock)")
    handles = [Patch(color=KIND_STYLE[k][0], label=KIND_STYLE[k][1]) for k in KIND_STYLE if k in kinds_drawn]
    if slots:
        handles.append(Patch(color=_SLOT_STYLE[0], label=_SLOT_STYLE[1]))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=8)
    title = f"{clinic.name}: calendars"
    if result is not None:
        title += f" and offered slots ({len(shown)} of {len(result.slots)} fall on these dates)"
    fig.suptitle(f"{title}, {first.isoformat()} to {last.isoformat()}, {zone}")
    fig.supylabel("provider (or location) calendar")
    return fig


def plot_breakdown(slots: SlotResult | Sequence[RankedSlot], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Each slot's score as stacked bars of points per ranking term (costs to the left of 0).

    One row per slot in rank order, labelled with its rank, local date and time (at the slot's
    location) and provider; a black dot marks the total score.
    """
    import matplotlib.pyplot as plt

    ranked = list(slots.slots if isinstance(slots, SlotResult) else slots)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.38 * max(len(ranked), 1) + 1.6), layout="constrained")
    ys = list(range(len(ranked)))
    positive = [0.0] * len(ranked)
    negative = [0.0] * len(ranked)
    for term, colour in zip(TERMS, _TERM_COLOURS, strict=True):
        points = [slot.breakdown().get(term, 0.0) for slot in ranked]
        if not any(points):
            continue
        lefts = [neg if p < 0 else pos for p, pos, neg in zip(points, positive, negative, strict=True)]
        ax.barh(ys, points, left=lefts, color=colour, label=term, height=0.7)
        for i, p in enumerate(points):
            if p < 0:
                negative[i] += p
            else:
                positive[i] += p
    ax.scatter([s.score for s in ranked], ys, color="black", s=14, zorder=3, label="total score")
    labels = [
        f"{rank}. {_WEEKDAYS[s.local_date.weekday()]} {s.local_date.isoformat()} {s.local_time:%H:%M}"
        f" {s.provider.last_name or s.provider.id}"
        for rank, s in enumerate(ranked, start=1)
    ]
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylim(len(ranked) - 0.5, -0.5)
    ax.axvline(0, color="#444444", linewidth=0.8)
    zones_shown = sorted({s.location.time_zone for s in ranked})
    ax.set_ylabel(f"offered slot (rank, local start in {', '.join(zones_shown) or 'its zone'}, provider)")
    ax.set_xlabel("points (term value × weight)")
    ax.set_title(title or "Score breakdown of the offered slots")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="term", title_fontsize=8)
    ax.margins(x=0.03)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    return ax
