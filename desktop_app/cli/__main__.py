"""``python -m desktop_app.cli``: the `lumen` command."""

import sys

from desktop_app.cli import main

sys.exit(main())
