"""Zip archives as Lambda accepts them: checked the same way by the API and by workers."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from bus.quotas import UNZIPPED_CODE_BYTES

# What AWS says of a zip it cannot unpack.
CANNOT_UNZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
# The longest file name (one path component, in bytes) a Linux file system takes.
NAME_MAX = 255


class CodeError(Exception):
    """The archive cannot become function code; the message says why, as AWS words it."""


def check_archive(data: bytes) -> int:
    """Checks a zip the way CreateFunction does; returns its unzipped size."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise CodeError(CANNOT_UNZIP) from None
    with archive:
        infos = archive.infolist()
        if not _unpackable([info.filename for info in infos]):
            raise CodeError(CANNOT_UNZIP)
        total = sum(info.file_size for info in infos)
    if total > UNZIPPED_CODE_BYTES:
        raise CodeError(f"Unzipped size must be smaller than {UNZIPPED_CODE_BYTES} bytes")
    return total


def _unpackable(names: list[str]) -> bool:
    """No name leaves the folder or is too long, and no file is also another entry's folder
    (entries `a` and `a/b`)."""
    files: set[str] = set()
    folders: set[str] = set()
    for name in names:
        if _escapes_root(name) or any(len(p.encode()) > NAME_MAX for p in name.split("/")):
            return False
        parts = PurePosixPath(name.replace("\\", "/")).parts
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
        if not name.endswith(("/", "\\")):
            files.add("/".join(parts))
    return not files & folders


def _escapes_root(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts
