"""Calendars kept current: scheduling events applied by visit number, in an SQLite calendar store."""
