"""Calendars: wall time <-> instants, interval algebra, template expansion, clinic files."""
