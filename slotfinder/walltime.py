"""Local wall time <-> instants under slotfinder's DST policy (public; the boundary itself is private).

Instants are whole minutes since 1970-01-01T00:00Z. A wall time in a spring-forward gap moves
forward by the gap; a repeated wall time takes the earlier instant (see the README's time section).

>>> instant_of("America/New_York", dt.date(2026, 3, 8), 150)   # 02:30 does not exist: 03:30 EDT
>>> local_of("America/New_York", instant)                     # (local date, minute after midnight)
"""

from slotfinder._calendars.zones import EPOCH, check_zone, instant_of, local_of, offset_at, to_datetime

__all__ = ["EPOCH", "check_zone", "instant_of", "local_of", "offset_at", "to_datetime"]
