"""``python -m llmphys``: the ``llmphys`` command (see :mod:`llmphys.cli`)."""

from llmphys.cli import main

raise SystemExit(main())
