"""``python -m slotfinder`` runs the command line."""

from slotfinder._cli import main

raise SystemExit(main())
