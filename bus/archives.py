"""Zip archives as Lambda accepts them: checked the same way by the API and by workers."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from bus.quotas import UNZIPPED_CODE_BYTES


class CodeError(Exception):
    """The archive cannot become function code; the message says why, as AWS words it."""


def check_archive(data: bytes) -> int:
    """Checks a zip the way CreateFunction does; returns its unzipped size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise CodeError(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    total = 0
    with archive:
        for info in archive.infolist():
            if _escapes_root(info.filename):
                raise CodeError(
                    "Could not unzip uploaded file. Please check your file, then try to "
                    "upload again."
                )
            total += info.file_size
    if total > UNZIPPED_CODE_BYTES:
        raise CodeError(f"Unzipped size must be smaller than {UNZIPPED_CODE_BYTES} bytes")
    return total


def _escapes_root(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts
