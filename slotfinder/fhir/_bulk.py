"""SMART Scheduling Links bulk publications: a ``$bulk-publish`` manifest and its NDJSON files, read locally.

A publication is read from disk, never from the network. The manifest's ``output`` items of type
Location, Schedule and Slot are read (a SMART client ignores the others); each names its NDJSON file by
``url``, found in the manifest's folder (see ``docs/fhir.md``, "Bulk publications"):

* the URL resolved against the manifest's ``request`` URL (the manifest's own address) and lying in the
  folder of that URL (same scheme and host): its path below that folder, below the manifest's folder
  (``https://x.example/pub/MA/slots.ndjson`` for ``https://x.example/pub/$bulk-publish`` is
  ``MA/slots.ndjson``); a relative URL without a ``request`` likewise;
* any other URL: its last path segment, in the manifest's folder.

Query strings and fragments are ignored (a signed URL's token is never read nor shown). A name with an
empty or ``..`` segment or a character outside ``A-Z a-z 0-9 . _ ~ $ @ + = , -``, and a file that resolves
outside the manifest's folder, are refused.

Each line is one resource, read as an entry of one Bundle (``read.py``); errors and skipped lines name the
file and the line (``slots-2021-W09.ndjson:3:$.start``), never a value.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from attrs import field, frozen

from slotfinder._domain import Clinic
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._limits import CalendarTooLarge, Limits, depth_rule, exceeded, resolve, shape_problems
from slotfinder._problems import Problems, Reader
from slotfinder.fhir._read import _FHIR, FhirItems, _type_name, read_resources

__all__ = [
    "MANIFEST",
    "READ_TYPES",
    "BulkFile",
    "BulkPublication",
    "is_bulk_envelope",
    "is_bulk_manifest",
    "load_bulk_publication",
    "local_name",
    "read_bulk_publication",
]

MANIFEST = "$bulk-publish"
"""The manifest's name: a folder holding a file of this name is a publication."""

READ_TYPES = ("Location", "Schedule", "Slot")
"""The output types read; SMART Scheduling Links clients ignore the others."""

_SEGMENT = re.compile(r"[A-Za-z0-9._~$@+=,-]{1,255}")
_ENVELOPE = "bulk_publish"


@frozen
class BulkFile:
    """One NDJSON file of a publication: the ``output`` item naming it, its name next to the manifest, its text."""

    output: int
    name: str
    text: str = field(repr=False)


@frozen
class BulkPublication:
    """A manifest and the files of its Location, Schedule and Slot outputs, as read from disk."""

    name: str  # the manifest's file name, as errors name it
    manifest: Mapping[str, Any] = field(repr=False)
    files: tuple[BulkFile, ...] = field(repr=False)

    def resources(self) -> dict[str, int]:
        """Resources (non-blank lines) per output type, in the order of ``READ_TYPES``."""
        outputs = self.manifest.get("output")
        counts: Counter[str] = Counter()
        for file in self.files:
            item = outputs[file.output] if isinstance(outputs, list) and file.output < len(outputs) else {}
            kind = item.get("type") if isinstance(item, Mapping) else None
            counts[str(kind)] += sum(1 for line in file.text.split("\n") if line.strip())
        return {kind: counts[kind] for kind in READ_TYPES if counts[kind]}

    def envelope(self) -> str:
        """The publication as one JSON text (what ``CalendarStore.import_calendar("fhir", ...)`` is given)."""
        files = [{"output": f.output, "name": f.name, "text": f.text} for f in self.files]
        return json.dumps({_ENVELOPE: {"name": self.name, "manifest": self.manifest, "files": files}}, sort_keys=True)

    @classmethod
    def from_envelope(cls, data: Mapping[str, Any]) -> BulkPublication:
        """The publication an :meth:`envelope` holds (parsed JSON)."""
        body = data[_ENVELOPE]
        files = tuple(BulkFile(int(f["output"]), str(f["name"]), str(f["text"])) for f in body["files"])
        return cls(str(body["name"]), body["manifest"], files)


def is_bulk_manifest(data: Any) -> bool:
    """Whether parsed JSON is a ``$bulk-publish`` manifest: no ``resourceType``, an ``output`` list, and a
    ``transactionTime`` or a ``request``."""
    return (
        isinstance(data, Mapping)
        and "resourceType" not in data
        and isinstance(data.get("output"), list)
        and ("transactionTime" in data or "request" in data)
    )


def is_bulk_envelope(data: Any) -> bool:
    """Whether parsed JSON is a :meth:`BulkPublication.envelope`."""
    return isinstance(data, Mapping) and set(data) == {_ENVELOPE}


# ---- the manifest -------------------------------------------------------------------------------


def _outputs(manifest: Reader) -> tuple[list[tuple[int, str, str]], list[str], str | None]:
    """The outputs read ``(index, type, url)``, the skipped lines (other types, error files), the request URL."""
    read: list[tuple[int, str, str]] = []
    skipped: list[str] = []
    if manifest.object(required=True) is None:
        return read, skipped, None
    request = manifest.at("request").string()
    for index, item in enumerate(manifest.at("output").items(required=True)):
        if item.object(required=True) is None:
            continue
        kind = item.at("type").string(required=True)
        url = item.at("url").string(required=True)
        if kind is None or url is None:
            continue
        if kind in READ_TYPES:
            read.append((index, kind, url))
        else:
            skipped.append(
                f"{item.path}: an output of type {_type_name(kind)} is not read (only Location, Schedule and Slot)"
            )
    for item in manifest.at("error").items():
        skipped.append(f"{item.path}: an error file of the publisher is not read")
    return read, skipped, request


def local_name(url: str, request: str | None) -> str | None:
    """Where an output's file is, relative to the manifest's folder (see the module); None when refused."""
    try:
        full = urlsplit(urljoin(request, url) if request else url)
        base = urlsplit(request) if request else None
    except ValueError:
        return None
    path = unquote(full.path)
    relative = path.rsplit("/", 1)[-1]
    if base is not None and (full.scheme, full.netloc) == (base.scheme, base.netloc):
        base_path = unquote(base.path)
        folder = base_path[: base_path.rfind("/") + 1]  # "" for a bare "$bulk-publish"
        if path.startswith(folder):
            relative = path[len(folder) :]
    elif not full.scheme and not full.netloc and not path.startswith("/"):
        relative = path
    segments = [s for s in relative.split("/") if s != "."]
    if segments and all(_SEGMENT.fullmatch(s) and s != ".." for s in segments):
        return "/".join(segments)
    return None


# ---- loading from disk --------------------------------------------------------------------------


def _bounded(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a file (enough to know it is too large)."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def _decode(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidClinic([Problem(where, f"not UTF-8 text (byte {error.start})")]) from None
    return text.removeprefix("\ufeff")


def _manifest(path: Path, limits: Limits) -> Any:
    """The parsed manifest at ``path``, checked against the limits and the shape of a manifest."""
    name = path.name
    data = _bounded(path, limits.max_file_bytes)
    if len(data) > limits.max_file_bytes:
        raise CalendarTooLarge([Problem(name, exceeded(limits.max_file_bytes, "max_file_bytes", "bytes"))])
    try:
        manifest = json.loads(_decode(data, name))
    except json.JSONDecodeError as error:
        raise InvalidClinic([Problem(name, f"not valid JSON (line {error.lineno}, column {error.colno})")]) from None
    except RecursionError:
        raise CalendarTooLarge([Problem(name, f"JSON {depth_rule(limits)}")]) from None
    too_large = shape_problems(manifest, limits)
    if too_large:
        raise CalendarTooLarge([Problem(f"{name}:{p.path}", p.rule) for p in too_large])
    if not is_bulk_manifest(manifest):
        rule = "must be a $bulk-publish manifest (transactionTime, request, output)"
        raise InvalidClinic([Problem(f"{name}:$", rule)])
    return manifest


def load_bulk_publication(path: str | Path, *, limits: Limits | None = None) -> BulkPublication:
    """A publication from disk: ``path`` is its manifest, or a folder holding a file named ``$bulk-publish``.

    Reads the files of its Location, Schedule and Slot outputs (see the module for how their URLs are
    found; nothing is fetched). Raises :class:`InvalidClinic` naming the manifest's path (``$bulk-publish:
    $.output[2].url: names no file in the manifest's folder``) for a malformed manifest or a file that
    cannot be found or read, and ``CalendarTooLarge`` when the manifest, or the files together, are more
    than ``max_file_bytes``. An ``OSError`` when the manifest itself cannot be read.
    """
    limits = resolve(limits)
    where = Path(path)
    manifest_path = where / MANIFEST if where.is_dir() else where
    name = manifest_path.name
    manifest = _manifest(manifest_path, limits)
    problems = Problems()
    outputs, _, request = _outputs(Reader(manifest, f"{name}:$", problems, _FHIR))
    folder = manifest_path.parent
    files: list[BulkFile] = []
    seen: set[str] = set()
    total = 0
    for index, _, url in outputs:
        at = f"{name}:$.output[{index}].url"
        relative = local_name(url, request)
        if relative is None:
            problems.add(at, "names no plain file name (an empty or .. segment, or an unusual character)")
            continue
        if relative in seen:
            continue  # listed twice: read once
        seen.add(relative)
        file = folder.joinpath(*relative.split("/"))
        try:
            if not file.resolve().is_relative_to(folder.resolve()):
                problems.add(at, "names a file outside the manifest's folder")
                continue
            content = _bounded(file, limits.max_file_bytes - total)
        except FileNotFoundError:
            problems.add(at, "names no file in the manifest's folder (see docs/fhir.md: bulk publications)")
            continue
        except OSError as error:
            problems.add(at, f"its file cannot be read ({error.strerror})")
            continue
        total += len(content)
        if total > limits.max_file_bytes:
            rule = exceeded(limits.max_file_bytes, "max_file_bytes", "bytes")
            raise CalendarTooLarge([Problem(relative, f"the publication's files together: {rule}")])
        files.append(BulkFile(index, relative, _decode(content, relative)))
    problems.raise_if_any(InvalidClinic)
    return BulkPublication(name, manifest, tuple(files))


# ---- reading ------------------------------------------------------------------------------------


def _lines(publication: BulkPublication, types: Mapping[int, str]) -> Iterator[tuple[str, str, str]]:
    """``(file:line, output type, text)`` of every non-blank line of the files of read outputs."""
    for file in publication.files:
        kind = types.get(file.output)
        if kind is None:
            continue
        for number, line in enumerate(file.text.split("\n"), start=1):
            if line.strip():
                yield f"{file.name}:{number}", kind, line.removesuffix("\r")


def read_bulk_publication(publication: BulkPublication, clinic: Clinic, *, limits: Limits | None = None) -> FhirItems:
    """Open and busy time of ``clinic`` from a SMART Scheduling Links publication: its Locations,
    Schedules and Slots read as the entries of one Bundle (every rule of :func:`read_fhir_bundle`).

    Past ``limits`` it raises ``CalendarTooLarge`` before any resource is read: the files together past
    ``max_file_bytes``, more than ``max_import_items`` resources, a line past ``max_request_bytes``, a
    resource nested past ``max_depth`` or with an array past ``max_array_items``. Raises
    :class:`InvalidClinic` listing every malformed line and field at its ``file:line:$.path``. Skipped:
    outputs of other types, the publisher's error files, a resource in an output of another type, and
    what :func:`read_fhir_bundle` skips.
    """
    limits = resolve(limits)
    problems = Problems()
    outputs, skipped, _ = _outputs(Reader(publication.manifest, f"{publication.name}:$", problems, _FHIR))
    types = {index: kind for index, kind, _ in outputs}
    too_large: list[Problem] = []
    size = sum(len(f.text.encode("utf-8")) for f in publication.files)
    if size > limits.max_file_bytes:
        rule = exceeded(limits.max_file_bytes, "max_file_bytes", "bytes")
        raise CalendarTooLarge([Problem(publication.name, f"the publication's files together: {rule}")])
    resources: list[Reader] = []
    for count, (at, kind, line) in enumerate(_lines(publication, types), start=1):
        if count > limits.max_import_items:
            too_large.append(Problem(at, exceeded(limits.max_import_items, "max_import_items", "resources")))
            break
        if len(line.encode("utf-8")) > limits.max_request_bytes:
            too_large.append(Problem(at, exceeded(limits.max_request_bytes, "max_request_bytes", "bytes")))
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            problems.add(at, f"not valid JSON (column {error.colno})")
            continue
        except RecursionError:
            too_large.append(Problem(at, f"JSON {depth_rule(limits)}"))
            continue
        shape = shape_problems(value, limits)
        if shape:
            too_large += [Problem(f"{at}:{p.path}", p.rule) for p in shape]
            continue
        resource = Reader(value, f"{at}:$", problems, _FHIR).object(required=True)
        if resource is None:
            continue
        declared = value.get("resourceType")
        if isinstance(declared, str) and declared != kind:
            skipped.append(f"{resource.path}: a resource of type {_type_name(declared)} in a {kind} file is not read")
            continue
        resources.append(resource)
    if too_large:
        raise CalendarTooLarge(too_large)
    return read_resources(resources, problems, clinic, skipped)
