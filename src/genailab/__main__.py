"""``python -m genailab`` is the ``genailab`` command."""

from genailab.lab.cli import main

raise SystemExit(main())
