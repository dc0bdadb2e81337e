"""The `lumen` process keeps the cyclic garbage collector on for its command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_collector_is_on_while_a_command_runs(tmp_path: Path) -> None:
    """Start-up imports are frozen out of the collector's passes; what the command makes is
    still collected (a long `lumen watch` must not grow with garbage cycles)."""
    probe = (
        "import gc, sys\n"
        "from desktop_app import cli\n"
        "import desktop_app.cli.app as app\n"
        "seen = []\n"
        "real = app.build_parser\n"
        "def build_parser(*args, **kwargs):\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "    return real(*args, **kwargs)\n"
        "app.build_parser = build_parser\n"
        f"sys.argv = ['lumen', '--data-dir', {str(tmp_path / 'data')!r}, 'status']\n"
        "code = cli.main()\n"
        "print('SEEN', seen, code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "SEEN [(True, True)] 0" in done.stdout, done.stdout + done.stderr
