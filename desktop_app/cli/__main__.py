"""``python -m desktop_app.cli``: the `lumen` command."""

import sys

from desktop_app.cli.app import main

sys.exit(main())
