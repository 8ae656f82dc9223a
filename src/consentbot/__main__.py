"""``python -m consentbot`` runs the command-line interface."""

from consentbot.cli import main

raise SystemExit(main())
