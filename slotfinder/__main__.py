"""``python -m slotfinder`` runs the command line."""

from slotfinder.cli import main

raise SystemExit(main())
