"""``python -m opcore``: the same as the ``opcore`` command."""

from opcore.cli import main

raise SystemExit(main())
