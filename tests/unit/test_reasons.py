"""A decoder's failure in plain words: truncated, a variant, or damaged; never a repr."""

from __future__ import annotations

import pytest

from desktop_app.core.extractors.files import os_reason, short_reason
from desktop_app.core.extractors.reasons import decoder_failure, kind_of_failure


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError("image file is truncated (3 bytes not processed)"), "truncated"),
        (EOFError(), "truncated"),
        (OSError("decoder webp not available"), "variant"),
        (OSError("Unsupported BMP compression (4)"), "variant"),
        (NotImplementedError(), "variant"),
        (SyntaxError("broken PNG file"), "damaged"),
    ],
)
def test_failures_are_told_apart(exc: BaseException, kind: str) -> None:
    assert kind_of_failure(exc) == kind


def test_reasons_carry_no_byte_strings_errno_or_path() -> None:
    assert short_reason(OSError(b"Input/output error")) == "Input/output error"
    reason = str(decoder_failure(OSError(1094995529, "Invalid data found", "/x/y.wmv"), "video"))
    assert "Errno" not in reason and "/x/y.wmv" not in reason and "Invalid data" in reason
    assert str(decoder_failure(OSError("decoder webp not available"), "image", "TIFF")) == (
        "a variant of TIFF image Lumen cannot read (decoder webp not available)"
    )


def test_os_errors_read_as_plain_words() -> None:
    assert os_reason(PermissionError(13, "Permission denied")) == "permission denied"
    assert (
        os_reason(OSError(5, "Input/output error"))
        == "cannot read file: the disk reported a read error"
    )
