"""`lumen doctor`: what Lumen finds on this machine, and what stands in the way of using it."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop_app import __version__, qt_check
from desktop_app.config import Settings

OK, WARN, FAIL = "ok", "warn", "FAIL"
LOW_SPACE_MB = 1024  # below this, indexing a large library may fill the disk
NO_SPACE_MB = 200


@dataclass(frozen=True)
class Finding:
    """One line of the report: a topic, how it stands, and what to do when it is not ok."""

    topic: str
    state: str
    detail: str
    advice: str = ""


def run_checks(settings: Settings, environ: dict[str, str] | None = None) -> list[Finding]:
    """Every check, in the order the report shows them (a check that crashes reports so)."""
    env = dict(os.environ) if environ is None else environ
    checks: list[Callable[[], Finding]] = [
        versions,
        device_finding,
        lambda: window_finding(env),
        lambda: model_finding(settings),
        lambda: data_dir_finding(settings),
        lambda: inotify_finding(settings),
        lambda: index_finding(settings),
        faces_finding,
    ]
    findings = []
    for check in checks:
        try:
            findings.append(check())
        except Exception as exc:  # a broken check is a finding, not a crash of the doctor
            findings.append(Finding("check", WARN, f"{type(exc).__name__}: {exc}"))
    return findings


def format_report(findings: list[Finding]) -> str:
    """The report as text, one finding per line with its advice indented below."""
    lines = []
    for f in findings:
        lines.append(f"{f.state:5} {f.topic + ':':9} {f.detail}")
        lines += [f"{'':16}{line}" for line in f.advice.splitlines()]
    blocked = [f.topic for f in findings if f.state == FAIL]
    lines.append(
        f"Blocked: {', '.join(blocked)}." if blocked else "Nothing blocks Lumen on this machine."
    )
    return "\n".join(lines)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> Finding:
    """Lumen, Python, PyTorch, open_clip, Qt and SQLite versions."""
    parts = [
        f"Lumen {__version__}",
        f"Python {platform.python_version()}",
        f"PyTorch {_version('torch')}",
        f"PySide6 {_version('PySide6-Essentials')}",
        f"SQLite {sqlite3.sqlite_version}",
    ]
    missing = [p.split()[0] for p in parts if p.endswith("not installed")]
    # open_clip builds only the models Lumen does not build itself (its CPU bundle leaves it out).
    parts.insert(3, f"open_clip {_version('open_clip_torch')}")
    if missing:
        return Finding(
            "versions",
            FAIL,
            ", ".join(parts),
            f"Install what is missing: python scripts/install.py ({', '.join(missing)})",
        )
    return Finding("versions", OK, ", ".join(parts))


def device_finding() -> Finding:
    """Where the model will run, and why not on a GPU when it runs on the CPU."""
    import torch

    if torch.cuda.is_available():
        return Finding("device", OK, f"CUDA GPU: {torch.cuda.get_device_name(0)}")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Finding("device", OK, "Apple GPU (MPS)")
    if sys.platform == "darwin":
        why = "this Mac or PyTorch build has no MPS support"
    elif torch.version.cuda is None:
        why = "this PyTorch is the CPU-only build (python scripts/install.py --cuda for a GPU)"
    elif not Path("/proc/driver/nvidia/version").exists() and shutil.which("nvidia-smi") is None:
        why = f"no NVIDIA GPU driver found (PyTorch is built for CUDA {torch.version.cuda})"
    else:
        why = f"the NVIDIA driver does not work with PyTorch's CUDA {torch.version.cuda}"
    from desktop_app.core.embedding import bf16

    return Finding(
        "device", OK, f"CPU ({os.cpu_count()} cores; {bf16.describe()}); not a GPU: {why}"
    )


def window_finding(env: dict[str, str]) -> Finding:
    """Whether Qt's platform plugin can start the window here."""
    if not qt_check.uses_xcb(env):
        chosen = env.get("QT_QPA_PLATFORM") or (
            "wayland" if env.get("WAYLAND_DISPLAY") else "native"
        )
        return Finding("window", OK, f"Qt platform: {chosen}")
    check = qt_check.check_xcb_plugin()
    if check.note:
        return Finding("window", WARN, f"Qt's X11 plugin was not checked: {check.note}")
    if check.ok:
        display = env.get("DISPLAY")
        if not display:
            return Finding("window", WARN, "Qt's X11 plugin is complete, but DISPLAY is not set")
        return Finding("window", OK, f"Qt's X11 plugin is complete (display {display})")
    # Without a display only the command line is in use: the window is not blocked yet.
    state = FAIL if env.get("DISPLAY") else WARN
    advice = "\n".join(line for line in check.advice().splitlines()[1:] if "doctor" not in line)
    return Finding("window", state, f"Qt's X11 plugin misses {', '.join(check.missing)}", advice)


def faces_finding() -> Finding:
    """Whether faces can be found (People): dlib and its two model files, without loading them."""
    from desktop_app.core.people.model import INSTALL_HINT, face_model_problem, models_folder

    problem = face_model_problem()
    if problem is not None:
        return Finding("faces", WARN, problem, f"People need it: {INSTALL_HINT}")
    return Finding("faces", OK, f"dlib {_version('dlib-bin')}, face models in {models_folder()}")


def model_finding(settings: Settings) -> Finding:
    """Whether the model's weights are at hand (a file, or the cache), or will be downloaded."""
    from desktop_app.core.embedding.weights import cached_weights, hub_endpoint, unreachable_reason
    from desktop_app.core.models import get_model_spec

    spec = get_model_spec(settings.model)
    if settings.weights is not None:
        if settings.weights.is_file():
            size = settings.weights.stat().st_size / 1e6
            return Finding(
                "model", OK, f"{spec.key}: weights file {settings.weights} ({size:.0f} MB)"
            )
        return Finding(
            "model",
            FAIL,
            f"{spec.key}: the weights file {settings.weights} does not exist",
            "Give the right file with --weights FILE, or remove it from settings.json.",
        )
    if spec.config_file is not None:
        return Finding(
            "model", FAIL, f"{spec.key} needs its weights file", "Give it with --weights FILE."
        )
    found = cached_weights(spec, settings.model_cache_dir)
    if found is not None:
        return Finding("model", OK, f"{spec.key}: cached in {found.parent}")
    detail = (
        f"{spec.key}: not downloaded yet (about {spec.download_mb} MB, into "
        f"{settings.model_cache_dir}, once, at the first `lumen index`)"
    )
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        unreachable: str | None = "offline mode: HF_HUB_OFFLINE is set"
    else:
        unreachable = unreachable_reason(hub_endpoint())
    if unreachable:
        return Finding(
            "model",
            FAIL,
            f"{detail}; it cannot be downloaded now ({unreachable})",
            "Connect to the internet, or download the weights file on another machine and "
            "give it with --weights FILE.",
        )
    return Finding("model", OK, detail)


def _tree_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                continue
    return total


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def data_dir_finding(settings: Settings) -> Finding:
    """The data dir: where it is, how big, and the free space where it lives."""
    data_dir = settings.data_dir
    where = _existing_parent(data_dir)
    free_mb = shutil.disk_usage(where).free / 1e6
    size = f"{_tree_size(data_dir) / 1e6:.1f} MB" if data_dir.exists() else "not created yet"
    detail = f"{data_dir}: {size}, {free_mb / 1000:.1f} GB free"
    if not os.access(where, os.W_OK):
        return Finding("data", FAIL, detail, f"{where} is not writable: use --data-dir DIR.")
    if free_mb < NO_SPACE_MB:
        return Finding("data", FAIL, detail, "Free some space, or move the data dir (README).")
    if free_mb < LOW_SPACE_MB:
        return Finding("data", WARN, detail, "Little space left for thumbnails and the index.")
    return Finding("data", OK, detail)


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _count_dirs(roots: list[Path], stop_at: int) -> int:
    count = 0
    for root in roots:
        for _dirpath, dirs, _files in os.walk(root):
            count += 1
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            if count > stop_at:
                return count
    return count


def inotify_finding(settings: Settings) -> Finding:
    """Whether the kernel lets Lumen watch every folder (else the excess is polled)."""
    watches = _read_int("/proc/sys/fs/inotify/max_user_watches")
    instances = _read_int("/proc/sys/fs/inotify/max_user_instances")
    if watches is None:
        return Finding("inotify", OK, "not Linux: folders are watched by the system's own means")
    folders = _watched_folders(settings)
    if not folders:
        return Finding("inotify", OK, f"{watches} watches, {instances} instances; no folders yet")
    needed = _count_dirs(folders, stop_at=watches)
    detail = (
        f"{watches} watches, {instances} instances; the watched folders have "
        f"{'more than ' if needed > watches else ''}{needed} folder{'' if needed == 1 else 's'}"
    )
    if needed > watches:
        return Finding(
            "inotify",
            WARN,
            detail,
            "Folders past the limit are polled (changes seen later). To raise it:\n"
            "echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-lumen.conf "
            "&& sudo sysctl --system",
        )
    return Finding("inotify", OK, detail)


def _watched_folders(settings: Settings) -> list[Path]:
    if not settings.catalog_path.exists():
        return []
    from desktop_app.core.library import Library

    with Library.open(settings) as library:
        return [f.path for f in library.folders() if f.online]


def index_finding(settings: Settings) -> Finding:
    """The catalog and the vector index agree (the catalog wins; the index is rebuilt from it)."""
    if not settings.catalog_path.exists():
        return Finding("index", OK, "no library yet (lumen index FOLDER creates it)")
    from desktop_app.core.library import Library

    with Library.open(settings) as library:
        st = library.status()
        detail = (
            f"{st.indexed} files indexed, {st.pending} pending, {st.failed} failed, "
            f"{st.offline} offline; {st.vectors} vectors in the catalog, {st.index_size} in the index"
        )
    if st.vectors != st.index_size:
        return Finding(
            "index",
            WARN,
            detail,
            "The index is rebuilt from the catalog when the model next loads (lumen index).",
        )
    return Finding("index", OK, detail)
