"""Command line: ``slotfinder find REQUEST.json`` prints the AvailableSlotsResponse JSON.

Bad input exits with status 2 and one line naming the field and the rule; never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slotfinder import __version__
from slotfinder._errors import InvalidRequest, Problem, SlotfinderError
from slotfinder._limits import Limits, depth_rule, exceeded, limits_in_force, load_limits, shape_problems

if TYPE_CHECKING:
    from slotfinder.fhir._bulk import BulkPublication

__all__ = ["main"]

BAD_INPUT = 2

# Capacity-planning commands: their module (and matplotlib, tqdm, dask) loads only when one runs.
PLANNING_COMMANDS = {
    "bench": "latency benchmark grid: engine vs interval-sweep baseline, JSON and a Markdown table",
    "simulate": "capacity simulation: requests over weeks, offers, choices, bookings; metrics and plots",
}
_PLANNING_EXTRA = ("matplotlib", "tqdm")  # what `pip install 'slotfinder[planning]'` adds (dask only with --scheduler)
_LIMITS_HELP = (
    "TOML file of input limits, e.g. max_array_items = 500 (see docs/limits.md; default: the documented ones)"
)


def _parser(planning: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slotfinder", description="When can this patient be seen?")
    parser.add_argument("--version", action="version", version=f"slotfinder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    find = commands.add_parser("find", help="answer a Redox Scheduling.AvailableSlots request")
    find.add_argument("request", help="AvailableSlots request JSON file ('-' reads standard input)")
    _search_options(find)
    demo = commands.add_parser("demo", help="answer the bundled example request against the demo clinic")
    _search_options(demo)
    imports = commands.add_parser(
        "import", help="load calendars into a store: clinic JSON, FHIR bundle, SMART $bulk-publish, .ics"
    )
    imports.add_argument("--db", required=True, help="SQLite calendar store (created when missing)")
    imports.add_argument(
        "sources",
        nargs="+",
        help="clinic JSON, FHIR R4 Bundle JSON, a $bulk-publish manifest or its folder (SMART Scheduling Links), .ics",
    )
    imports.add_argument("--map", help="calendar map JSON: which provider or room and location each .ics is")
    imports.add_argument("--from", dest="first", help="first local date of .ics expansion (default: 30 days ago)")
    imports.add_argument("--to", dest="last", help="last local date of .ics expansion (default: a year after --from)")
    imports.add_argument(
        "--strict", action="store_true", help="refuse an .ics file for one broken component (default: skip it)"
    )
    imports.add_argument("--limits", help=_LIMITS_HELP)
    ingest = commands.add_parser("ingest", help="apply Redox scheduling messages to a store")
    ingest.add_argument("--db", required=True, help="SQLite calendar store")
    ingest.add_argument("messages", nargs="*", help="message files: one message, or a JSON array of messages")
    ingest.add_argument(
        "--reasons", help='PushSlots Reason mapping JSON, e.g. {"Office Visit": ["210"], "Blocked": null}'
    )
    ingest.add_argument("--limits", help=_LIMITS_HELP)
    reconcile = commands.add_parser("reconcile", help="compare a Redox BookedResponse or FHIR Slot bundle with a store")
    reconcile.add_argument("--db", required=True, help="SQLite calendar store")
    reconcile.add_argument("booked", help="BookedResponse JSON file, or a FHIR R4 Bundle of Slots")
    reconcile.add_argument("--start", help="window start, ISO 8601 with offset (default: the earliest visit)")
    reconcile.add_argument("--end", help="window end, ISO 8601 with offset (default: after the latest visit)")
    reconcile.add_argument("--limits", help=_LIMITS_HELP)
    purge = commands.add_parser("purge", help="forget what a store holds from before a cutoff (retention)")
    purge.add_argument("--db", required=True, help="SQLite calendar store")
    cutoff = purge.add_mutually_exclusive_group()
    cutoff.add_argument("--before", help="cutoff: a date YYYY-MM-DD (00:00 UTC) or a date-time with offset")
    cutoff.add_argument("--older-than", type=int, metavar="DAYS", help="cutoff: this many days ago")
    purge.add_argument(
        "--retention", metavar="DAYS", help="keep this many days from now on (the default cutoff); 'off' clears it"
    )
    serve = commands.add_parser("serve", help="serve a store over HTTP: the Redox destination, health checks")
    serve.add_argument("--db", required=True, help="SQLite calendar store")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--config", help="TOML settings: redox_token, max_body_bytes, rejected_event_status")
    if planning:
        from slotfinder.planning import _cli as planning_cli

        planning_cli.add_parsers(commands)
    else:  # named in the help, parsed in full once one of them is asked for
        for name, text in PLANNING_COMMANDS.items():
            commands.add_parser(name, help=text, add_help=False).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def _search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clinic", help="clinic JSON file (default: the bundled demo clinic)")
    parser.add_argument("--db", help="search the calendars of this SQLite store instead of a clinic file")
    parser.add_argument("--now", help="the current instant, ISO 8601 with offset (default: Meta.EventDateTime)")
    parser.add_argument("--visit-type", help="ask for this visit type code instead of the request's")
    parser.add_argument("--limit", type=int, help="how many slots (top K, default 10)")
    parser.add_argument("--per-day", type=int, help="at most this many slots on one local date (default 3)")
    parser.add_argument("--per-provider-day", type=int, help="at most this many per provider and date (default 2)")
    parser.add_argument("--per-provider", type=int, help="at most this many slots of one provider (default: no cap)")
    parser.add_argument("--min-providers", type=int, help="at least this many distinct providers, when possible")
    parser.add_argument("--spread", action="store_true", help="a morning and an afternoon slot, when both exist")
    parser.add_argument("--hard-preferences", action="store_true", help="preferences filter instead of ranking")
    parser.add_argument("--explain", action="store_true", help="also print score breakdowns and notes to stderr")
    parser.add_argument(
        "--output", choices=("redox", "fhir"), default="redox", help="AvailableSlotsResponse, or a FHIR R4 Bundle"
    )
    parser.add_argument("--limits", help=_LIMITS_HELP)


def _text(path: str, limit: int, name: str) -> str:
    """The text of a file ('-': standard input), refused past ``limit`` bytes before it is decoded.

    Newlines are translated as text mode does, so a file's text (and the digest a store logs) is
    what it was when files were read with ``read_text``.
    """
    try:
        data = _stdin(limit) if path == "-" else _bounded(Path(path), limit, name)
    except OSError as error:
        raise _InputError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > limit:
        raise _InputError(f"{path}: {exceeded(limit, name, 'bytes')}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _InputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _stdin(limit: int) -> bytes:
    """At most one byte more than ``limit`` of standard input (enough to know it is too large)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read(limit + 1))
    return sys.stdin.read(limit + 1).encode("utf-8")  # a text stream (tests): counted as UTF-8


def _bounded(path: Path, limit: int, name: str) -> bytes:
    if path.stat().st_size > limit:  # refused before it is read into memory
        raise _InputError(f"{path}: {exceeded(limit, name, 'bytes')}")
    return path.read_bytes()


def _read_json(path: str, limits: Limits, *, request: bool = False) -> Any:
    """A JSON file: a request or message (``request``: max_request_bytes) or a calendar file (max_file_bytes)."""
    limit, name = (
        (limits.max_request_bytes, "max_request_bytes") if request else (limits.max_file_bytes, "max_file_bytes")
    )
    text = _text(path, limit, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _InputError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise _InputError(f"{path}: JSON {depth_rule(limits)}") from None


class _InputError(Exception):
    """A file problem, reported in one line."""


def _run(args: argparse.Namespace) -> int:
    from slotfinder._calendars.clinic_file import load_clinic
    from slotfinder._settings import Settings
    from slotfinder.redox._api import find_slots_redox, with_visit_type
    from slotfinder.redox._values import parse_instant

    limits = args.limits
    if args.command == "demo":
        message = json.loads(resources.files("slotfinder").joinpath("data/demo_request.json").read_text("utf-8"))
    else:
        message = _read_json(args.request, limits, request=True)
    clinic = load_clinic(args.clinic, limits=limits) if args.clinic else None
    if args.db:
        from slotfinder.store._sqlite import CalendarStore

        with CalendarStore(_existing(args.db)) as store:
            clinic = store.snapshot()
    now = None
    if args.now is not None:
        try:
            now = parse_instant(args.now)
        except ValueError as error:
            raise InvalidRequest([Problem("--now", str(error))]) from None
    options = {
        "limit": args.limit,
        "per_day": args.per_day,
        "per_provider_day": args.per_provider_day,
        "per_provider": args.per_provider,
        "min_providers": args.min_providers,
        "spread": args.spread or None,
        "hard_preferences": args.hard_preferences or None,
    }
    try:
        settings = Settings(**{k: v for k, v in options.items() if v is not None})
    except ValueError as error:
        raise _InputError(f"invalid option: {error}") from None
    if args.visit_type:
        message = with_visit_type(message, args.visit_type)
    result = find_slots_redox(message, clinic, settings, now, limits=limits)
    if args.output == "fhir":
        from slotfinder.fhir import write_slots_bundle

        sys.stdout.write(json.dumps(write_slots_bundle(result), indent=2) + "\n")
    else:
        sys.stdout.write(result.to_json())
    if args.explain:
        _explain(result)
    return 0


_METHODS = {
    "ranking": "ranked: the caps nest, so the pruned ranking is optimal and no solver ran",
    "cp-sat": "chosen by CP-SAT",
    "chain": "best chains by dynamic programming: one participant per step, exact without a solver",
    "greedy": "best-first greedy: CP-SAT found nothing within its time limit",
    "none": "nothing to choose",
}


def _explain(result: Any) -> None:
    err = sys.stderr
    found = _METHODS.get(result.method, result.method)
    err.write(f"status {result.status} ({found}); {result.candidates} candidates, {result.pruned_to} after pruning\n")
    for rank, slot in enumerate(result.slots, start=1):
        terms = ", ".join(f"{k} {v:+.2f}" for k, v in slot.breakdown().items() if v)
        err.write(
            f"{rank:>2}. {slot.slot_id}  {slot.local_date} {slot.local_time:%H:%M}  score {slot.score:.2f}  ({terms})\n"
        )
    for path in result.ignored:
        err.write(f"ignored: {path}\n")
    for reason in result.reasons:
        err.write(f"why empty: {reason}\n")
    for slot in result.alternatives:
        err.write(f"alternative: {slot.slot_id}\n")


def _existing(path: str) -> str:
    if not Path(path).exists():
        raise _InputError(f"{path}: no such store (create it with slotfinder import)")
    return path


def _messages(path: str, limits: Limits) -> list[str]:
    """The messages of a file, each as the text given to the store (whose digest it logs).

    Past a limit (the file's bytes, a message's bytes, nesting, items of an array) the file is refused
    before any of its messages is given to the store: one line, exit 2.
    """
    text = _text(path, limits.max_file_bytes, "max_file_bytes")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return [text]  # rejected by the store and logged (its digest and problems), not lost here
    except RecursionError:
        raise _InputError(f"{path}: JSON {depth_rule(limits)}") from None
    messages = data if isinstance(data, list) else [data]
    if isinstance(data, list) and len(data) > limits.max_import_items:
        raise _InputError(f"{path}: {exceeded(limits.max_import_items, 'max_import_items', 'messages')}")
    texts = [json.dumps(m) for m in data] if isinstance(data, list) else [text]
    for n, (message, body) in enumerate(zip(messages, texts, strict=True)):
        where = f"{path}[{n}]" if isinstance(data, list) else path
        if len(body.encode("utf-8")) > limits.max_request_bytes:
            raise _InputError(f"{where}: {exceeded(limits.max_request_bytes, 'max_request_bytes', 'bytes')}")
        found = shape_problems(message, limits)
        if found:
            raise _InputError(f"{where}: {found[0]}")
    return texts


def _dates(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(args.first) if args.first else dt.datetime.now(dt.UTC).date() - dt.timedelta(30)
        last = dt.date.fromisoformat(args.last) if args.last else first + dt.timedelta(days=366)
    except ValueError:
        raise _InputError("--from/--to: must be dates YYYY-MM-DD") from None
    if last < first:
        raise _InputError("--to: must not be before --from")
    return first, last


_NOT_A_BUNDLE = (
    "a single FHIR resource, not a Bundle: gather its Schedules and Slots (and the Locations they name) into "
    "a collection Bundle, or give the folder of their $bulk-publish manifest (see docs/fhir.md)"
)
_CLINIC_COUNTS = ("providers", "locations", "visit_types", "templates", "openings", "open_times", "busy")


def _clinic_counts(data: Any) -> str:
    """What a clinic file holds, counted: ``a clinic of 6 providers, 3 locations, ...`` (lists it has only)."""
    counts = [
        f"{len(data[key])} {key.replace('_', ' ')}"
        for key in _CLINIC_COUNTS
        if isinstance(data, dict) and isinstance(data.get(key), list)
    ]
    return f"a clinic of {', '.join(counts)}" if counts else "a clinic"


def _publication(path: str, limits: Limits) -> BulkPublication:
    """The SMART Scheduling Links publication of a manifest file or of the folder holding ``$bulk-publish``."""
    from slotfinder.fhir._bulk import MANIFEST, load_bulk_publication

    if path == "-":
        raise _InputError("-: a $bulk-publish manifest is read from its file or folder (its files are beside it)")
    if Path(path).is_dir() and not (Path(path) / MANIFEST).is_file():
        raise _InputError(f"{path}: a folder without a {MANIFEST} manifest (a SMART Scheduling Links publication)")
    try:
        return load_bulk_publication(path, limits=limits)
    except OSError as error:
        raise _InputError(f"{path}: cannot read ({error.strerror})") from None


def _import(args: argparse.Namespace) -> int:
    """Each file: a clinic, or a calendar whose counts are printed (applied, skipped and why); a calendar
    that applies nothing is named on stderr and the command exits 2 (after the other files)."""
    from slotfinder.fhir._bulk import is_bulk_manifest
    from slotfinder.ical._read import declared_source, load_calendar_map
    from slotfinder.store._imports import ical_envelope, import_summary
    from slotfinder.store._sqlite import CalendarStore

    limits = args.limits
    mapped = {p.resolve(): s for p, s in load_calendar_map(args.map)} if args.map else {}
    empty: list[str] = []
    with CalendarStore(args.db) as store:
        for path in args.sources:
            if path.endswith(".ics"):
                first, last = _dates(args)
                text = _text(path, limits.max_file_bytes, "max_file_bytes")
                source = mapped.get(Path(path).resolve()) or declared_source(text, Path(path).name)
                body = ical_envelope(
                    text, source.name, source.location_id, source.provider_id, source.room, first, last,
                    strict=args.strict,
                )  # fmt: skip
                done = store.import_calendar("ical", body)
                notes = []
            else:
                data = None if Path(path).is_dir() else _read_json(path, limits)
                if data is None or is_bulk_manifest(data):
                    publication = _publication(path, limits)
                    done = store.import_calendar("fhir", publication.envelope())
                    read = ", ".join(f"{n} {kind}" for kind, n in publication.resources().items()) or "nothing"
                    notes = [f"read {read} ({len(publication.files)} files)"]
                elif isinstance(data, dict) and data.get("resourceType") == "Bundle":
                    done = store.import_calendar("fhir", json.dumps(data))
                    notes = []
                elif isinstance(data, dict) and "resourceType" in data:
                    raise _InputError(f"{path}: {_NOT_A_BUNDLE}")
                else:
                    done = store.load_clinic(data)
                    sys.stdout.write(f"{path}: imported (log {done.seq}): {_clinic_counts(data)}\n")
                    for note in done.anomalies:
                        sys.stdout.write(f"  {note}\n")
                    continue
            entry = store.entry(done.seq)  # just written, in this connection: always there
            assert entry is not None
            record = entry.record
            busy, open_times, lines = import_summary(record, done.anomalies)
            sys.stdout.write(f"{path}: imported (log {done.seq}): {lines[0]}\n")
            for line in [*notes, *lines[1:], *done.anomalies]:
                sys.stdout.write(f"  {line}\n")
            if busy + open_times == 0:
                empty.append(path)
    for path in empty:
        sys.stderr.write(f"slotfinder: {path}: applied nothing (every item skipped; see the reasons above)\n")
    return BAD_INPUT if empty else 0


def _ingest(args: argparse.Namespace) -> int:
    from slotfinder.store._sqlite import CalendarStore

    rejected = 0
    with CalendarStore(_existing(args.db)) as store:
        if args.reasons:
            store.set_reasons(_read_json(args.reasons, args.limits))
            sys.stdout.write(f"{args.reasons}: Reason mapping in force\n")
        for path in args.messages:
            for n, text in enumerate(_messages(path, args.limits)):
                done = store.ingest(text)
                rejected += not done.applied
                state = "applied" if done.applied else "rejected"
                sys.stdout.write(f"{path}[{n}]: {state} (log {done.seq})\n")
                for anomaly in done.anomalies:
                    sys.stdout.write(f"  {anomaly}\n")
    return BAD_INPUT if rejected else 0


def _reconcile(args: argparse.Namespace) -> int:
    from slotfinder.fhir._read import is_bundle, slot_window
    from slotfinder.redox._booked import booked_window, format_differences
    from slotfinder.redox._values import parse_instant
    from slotfinder.store._reconcile import reconcile_booked, reconcile_fhir
    from slotfinder.store._sqlite import CalendarStore

    message = _read_json(args.booked, args.limits)
    is_fhir = is_bundle(message)
    first, last = slot_window(message) if is_fhir else booked_window(message)
    try:
        first = parse_instant(args.start) if args.start else first
        last = parse_instant(args.end) if args.end else last
    except ValueError as error:
        raise _InputError(f"--start/--end: a date-time {error}") from None
    with CalendarStore(_existing(args.db)) as store:
        clinic = store.snapshot()
    found = (reconcile_fhir if is_fhir else reconcile_booked)(message, clinic, (first, last))
    sys.stdout.write(json.dumps(format_differences(found), indent=2))
    sys.stdout.write("\n")
    return 0


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # in sys.modules as None: blocked, as good as missing
        return False


def _cutoff(args: argparse.Namespace) -> dt.datetime | None:
    """The cutoff --before or --older-than gives, if either does."""
    from slotfinder.redox._values import parse_instant

    if args.older_than is not None:
        if args.older_than < 0:
            raise _InputError("--older-than: must be a whole number of days, 0 or more")
        return dt.datetime.now(dt.UTC) - dt.timedelta(days=args.older_than)
    if args.before is None:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(args.before), dt.time(), dt.UTC)
    except ValueError:
        pass
    try:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=parse_instant(args.before))
    except ValueError:
        raise _InputError("--before: must be a date YYYY-MM-DD or an ISO 8601 date-time with offset") from None


def _purge(args: argparse.Namespace) -> int:
    from slotfinder.store._sqlite import CalendarStore

    before = _cutoff(args)
    with CalendarStore(_existing(args.db)) as store:
        if args.retention is not None:
            try:
                days = None if args.retention == "off" else int(args.retention)
                store.set_retention(days)
            except ValueError:
                raise _InputError("--retention: must be a whole number of days, at least 1, or off") from None
            sys.stdout.write(f"retention: {'off' if days is None else f'{days} days'}\n")
            if days is None and before is None:
                return 0
        if before is None and store.retention_days is None:
            raise _InputError("purge: no cutoff (give --before or --older-than, or set --retention)")
        try:
            done = store.purge(before)
        except ValueError as error:
            raise _InputError(f"purge: {error}") from None
    if not done.through:
        sys.stdout.write(f"nothing to purge before {done.cutoff}\n")
        return 0
    sys.stdout.write(
        f"purged {done.log_entries} log entries received before {done.cutoff} and {done.appointments} "
        f"appointment records ended before {done.ended_before}; a checkpoint stands for log 1..{done.through}\n"
    )
    if not done.compacted:
        sys.stdout.write("  compaction postponed: the store is in use (retried when it is next opened)\n")
    return 0


_SERVER_EXTRA = ("starlette", "uvicorn")  # what `pip install 'slotfinder[server]'` adds


def _serve(args: argparse.Namespace) -> int:
    missing = [name for name in _SERVER_EXTRA if not _installed(name)]
    if missing:
        sys.stderr.write(f"slotfinder: serve needs the server extra ({', '.join(missing)} missing): ")
        sys.stderr.write("pip install 'slotfinder[server]'\n")
        return BAD_INPUT
    from slotfinder.server._app import run

    try:
        run(args.db, args.config, args.host, args.port, args.workers)
    except ValueError as error:  # one line, never the token
        raise _InputError(str(error)) from None
    return 0


def _limits(path: str | None) -> Limits:
    """``--limits FILE.toml``, else the defaults."""
    if path is None:
        return Limits()
    try:
        return load_limits(path)
    except ValueError as error:
        raise _InputError(f"--limits {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``slotfinder`` command."""
    words = list(sys.argv[1:] if argv is None else argv)
    planning = bool(words) and words[0] in PLANNING_COMMANDS
    args = _parser(planning).parse_args(words)
    commands = {"import": _import, "ingest": _ingest, "reconcile": _reconcile, "purge": _purge, "serve": _serve}
    if planning:
        missing = [name for name in _PLANNING_EXTRA if not _installed(name)]
        if missing:  # before any work is done: a one-line hint, not a traceback at the end of a long run
            sys.stderr.write(
                f"slotfinder: {args.command} needs the planning extra ({', '.join(missing)} missing): "
                "pip install 'slotfinder[planning]'\n"
            )
            return BAD_INPUT
        from slotfinder.planning import _cli as planning_cli

        commands.update(planning_cli.COMMANDS)
    try:
        args.limits = _limits(getattr(args, "limits", None))
        with limits_in_force(args.limits):  # also for what the store reads on the command's behalf
            return commands.get(args.command, _run)(args)
    except (SlotfinderError, _InputError) as error:
        sys.stderr.write(f"slotfinder: {error}\n")
        return BAD_INPUT


if __name__ == "__main__":
    raise SystemExit(main())
