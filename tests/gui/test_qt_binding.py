"""The Qt binding keeps Python's reference counts right (PySide6 6.12.0 on 3.11 did not)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


class _Emitter(QObject):
    changed = Signal(object)


class _Payload:
    """An ordinary (mortal) object: its reference count means something on every Python."""


@pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None and True are immortal from 3.12: counts are fixed"
)
def test_calls_and_signals_do_not_leak_references_to_none_or_true(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    emitter.changed.connect(lambda _value: None)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        label.setText("x")  # returns None to Python
        emitter.changed.emit(True)
    # A binding that forgets an incref loses one reference per call; Python aborts at zero.
    assert sys.getrefcount(None) >= none_before - 50
    assert sys.getrefcount(True) >= true_before - 50


def test_objects_through_signals_and_properties_keep_their_reference_count(qtbot: QtBot) -> None:
    holder = QObject()
    payload = _Payload()
    holder.setProperty("payload", payload)
    emitter = _Emitter()
    received: list[bool] = []
    emitter.changed.connect(lambda value: received.append(value is payload))
    before = sys.getrefcount(payload)
    for _ in range(500):
        emitter.changed.emit(payload)  # Python → C++ → Python
        assert holder.property("payload") is payload  # C++ returns a Python object
    assert all(received) and len(received) == 500
    # One reference lost (or kept) per call would show as hundreds here.
    assert before - 50 <= sys.getrefcount(payload) <= before + 50
