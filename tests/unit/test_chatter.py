"""Decoder chatter (warnings, Pillow's logger, C libraries on fd 2) goes to the debug log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from desktop_app.core.extractors.chatter import native_stderr_to_log, quiet_decoder_warnings


def test_c_library_output_on_fd_2_goes_to_the_debug_log(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="desktop_app.decoders")
    lumen = logging.getLogger("desktop_app.test")
    with native_stderr_to_log():
        os.write(2, b'TIFFFetchNormalTag: ASCII value for tag "Software" does not end in null\n')
        print("lumen: a line of Lumen's own", file=sys.stderr)
        lumen.warning("Skipped x.jpg: damaged image")
    captured = capfd.readouterr()
    assert "TIFFFetchNormalTag" not in captured.err
    assert "a line of Lumen's own" in captured.err
    assert any(
        "TIFFFetchNormalTag" in r.getMessage() and r.levelno == logging.DEBUG
        for r in caplog.records
    )
    os.write(2, b"after the run\n")  # fd 2 is the terminal again
    assert "after the run" in capfd.readouterr().err


def test_nested_captures_share_one(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stderr_to_log(), native_stderr_to_log():
        os.write(2, b"LibRaw: Unexpected end of file\n")
    assert "Unexpected end of file" not in capfd.readouterr().err


def test_pillow_log_records_are_debug(caplog: pytest.LogCaptureFixture) -> None:
    quiet_decoder_warnings()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("PIL.TiffImagePlugin").error("More samples per pixel than can be decoded")
    # (pytest also hangs its capture on the PIL logger, which passes nothing up: that the raw
    # record stays off the terminal is checked in a fresh process below)
    records = [r for r in caplog.records if r.name == "desktop_app.decoders"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG, "PIL.TiffImagePlugin: More samples per pixel than can be decoded")
    ]


def test_decoder_warnings_never_reach_the_terminal() -> None:
    """A fresh process (pytest records warnings itself): Pillow's warning is not shown, a
    warning of Lumen's own still is."""
    script = (
        "import warnings, PIL.Image\n"
        "from desktop_app.core.extractors.chatter import quiet_decoder_warnings\n"
        "quiet_decoder_warnings()\n"
        "warnings.warn_explicit('Tag data larger than file', UserWarning, PIL.Image.__file__, 1)\n"
        "warnings.warn_explicit('a Lumen warning', UserWarning, 'desktop_app/x.py', 1)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", script], capture_output=True, text=True, check=True
    )
    assert "Tag data larger than file" not in done.stderr
    assert "a Lumen warning" in done.stderr


def test_a_stream_taken_during_the_run_still_writes_after_it(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The CLI's progress bar picks up sys.stderr mid-run and closes after the run ends."""
    with native_stderr_to_log():
        bar_stream = sys.stderr
    bar_stream.write("indexing 100%\n")
    bar_stream.flush()
    assert "indexing 100%" in capfd.readouterr().err


def test_records_of_a_decoder_module_loaded_later_are_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_decoder_warnings()
    caplog.set_level(logging.DEBUG)
    # (`lumen` run in this process earlier, not verbose, left Pillow's logger at ERROR)
    caplog.set_level(logging.DEBUG, logger="PIL")
    plugin = logging.getLogger("PIL.APluginImportedAfterwards")  # made after the set-up
    plugin.warning("Corrupt EXIF data")
    records = [r for r in caplog.records if r.name == "desktop_app.decoders"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG, "PIL.APluginImportedAfterwards: Corrupt EXIF data")
    ]


def test_decoder_log_records_stay_off_the_terminal_when_not_verbose() -> None:
    script = (
        "import logging\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "from desktop_app.core.extractors.chatter import quiet_decoder_warnings\n"
        "quiet_decoder_warnings()\n"
        "logging.getLogger('PIL.TiffImagePlugin').error('More samples per pixel')\n"
        "logging.getLogger('desktop_app.x').warning('a Lumen warning')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "More samples per pixel" not in done.stderr
    assert "a Lumen warning" in done.stderr
