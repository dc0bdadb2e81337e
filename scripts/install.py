"""Install Lumen and its dependencies into the running Python (a virtual environment).

    python3 -m venv .venv && . .venv/bin/activate && python scripts/install.py [--dev]

On Linux with no NVIDIA GPU it first takes PyTorch's CPU-only build from PyTorch's own package
index (about 1 GB less to download and store than the CUDA build); when that index cannot be
reached, or there is an NVIDIA GPU, PyTorch comes from PyPI like everything else. ``--cuda`` and
``--cpu`` force either choice. Uses only the standard library, so it runs before anything is
installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TORCH = ("torch==2.14.1", "torchvision==0.29.1")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
MIN_PYTHON = (3, 11)


def has_nvidia_gpu() -> bool:
    """Whether an NVIDIA driver is loaded (the CUDA build of PyTorch would use it)."""
    if Path("/proc/driver/nvidia/version").exists():
        return True
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    try:
        return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def index_reachable(url: str, timeout_s: float = 5.0) -> bool:
    """Whether ``url`` answers at all within ``timeout_s`` (pip would otherwise retry for minutes)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def wants_cpu_build(force: str | None) -> tuple[bool, str]:
    """Whether to take the CPU-only PyTorch build, and why."""
    if force == "cuda":
        return False, "--cuda given"
    if force == "cpu":
        return True, "--cpu given"
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return False, "PyPI's PyTorch for this system has no CUDA libraries anyway"
    if has_nvidia_gpu():
        return False, "an NVIDIA GPU was found"
    return True, "no NVIDIA GPU found"


def pip(*args: str) -> int:
    """Run pip in this Python; its exit code."""
    command = [sys.executable, "-m", "pip", "install", *args]
    print("+", " ".join(command), flush=True)
    return subprocess.call(command)


def main(argv: list[str] | None = None) -> int:
    """Install PyTorch (CPU-only where it suits) and then Lumen in editable mode."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true", help="also install the test tools")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--cpu", dest="force", action="store_const", const="cpu")
    choice.add_argument("--cuda", dest="force", action="store_const", const="cuda")
    args = parser.parse_args(argv)

    if sys.version_info < MIN_PYTHON:
        print(f"Lumen needs Python {'.'.join(map(str, MIN_PYTHON))} or newer.", file=sys.stderr)
        return 1
    if sys.prefix == sys.base_prefix and not os.environ.get("LUMEN_INSTALL_SYSTEM"):
        print(
            "install.py: not in a virtual environment. Make one first:\n"
            "  python3 -m venv .venv && . .venv/bin/activate && python scripts/install.py\n"
            "(Debian/Ubuntu: sudo apt install python3-venv; LUMEN_INSTALL_SYSTEM=1 skips this check)",
            file=sys.stderr,
        )
        return 1

    cpu, why = wants_cpu_build(args.force)
    installed = False
    if cpu:
        if index_reachable(CPU_INDEX + "/"):
            print(f"PyTorch: the CPU-only build ({why}).", flush=True)
            installed = pip("--index-url", CPU_INDEX, *TORCH) == 0
            if not installed:
                print("PyTorch's CPU-only build failed to install; taking PyPI's.", flush=True)
        else:
            print(f"PyTorch: {why}, but PyTorch's CPU index is out of reach; PyPI's build.")
    if not installed and pip(*TORCH) != 0:
        return 1
    return pip("-e", f"{REPO}[dev]" if args.dev else str(REPO))


if __name__ == "__main__":
    sys.exit(main())
