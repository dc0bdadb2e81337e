"""Messages about the model's weights, worded for the window (its "Choose weights file…" button)."""

from __future__ import annotations

CHOOSE_WEIGHTS = "Choose weights file…"
TRY_AGAIN = "Try again"

# The core's messages name the command line's option; the window names its own controls.
_WINDOW_WORDING = (
    (
        "Check the path given with --weights, or leave it out",
        "Choose another file, or clear it in Settings",
    ),
    (
        "pass its weights file with --weights FILE",
        f"choose its weights file with “{CHOOSE_WEIGHTS}”",
    ),
    ("pass it with --weights FILE", f"choose it with “{CHOOSE_WEIGHTS}”"),
    ("pass --weights FILE", f"choose it with “{CHOOSE_WEIGHTS}”"),
    ("--weights FILE", f"“{CHOOSE_WEIGHTS}”"),
    ("connect to the internet and run again", f"connect to the internet and press “{TRY_AGAIN}”"),
    ("Try again to download it", f"Press “{TRY_AGAIN}” to download it"),
)


def window_wording(message: str) -> str:
    """A core message about the weights file, with the window's button instead of --weights."""
    for cli, window in _WINDOW_WORDING:
        message = message.replace(cli, window)
    return message
