"""Code from a folder (hot reload): which of its files count, and its digest.

A function's or a layer's code may be a folder on the stack's machine, named the way
LocalStack users already name it: `Code: {S3Bucket: "hot-reload", S3Key: "/abs/path"}`
(the bucket is TARN_HOT_RELOAD_BUCKET). It runs in place; its CodeSha256 is a digest of
its files, as a zip's would be of the zip.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Written by runtimes and tools, never part of the code: no reload, no new digest.
IGNORED_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache", ".hypothesis", ".tox"}
)
IGNORED_SUFFIXES = (".pyc", ".pyo", ".pyd")
READ_BYTES = 1 << 20


class FolderError(ValueError):
    """The folder named as code cannot be used; the message says why, for the caller."""


def check_folder(path: str) -> Path:
    """`path` as a usable code folder: absolute and an existing directory on this machine."""
    folder = Path(path)
    if not folder.is_absolute():
        raise FolderError(
            f"Hot-reload code must be an absolute path on the machine Tarn runs on; "
            f"got S3Key {path!r}."
        )
    if not folder.is_dir():
        raise FolderError(f"Hot-reload code folder {path} does not exist or is not a directory.")
    return folder


def code_files(folder: Path) -> list[Path]:
    """The folder's files that count as its code, in a stable order (symlinks followed)."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        found += [Path(root) / n for n in sorted(names) if not n.endswith(IGNORED_SUFFIXES)]
    return found


def folder_digest(folder: Path) -> tuple[str, int]:
    """The SHA-256 (hex) over the folder's files (their paths and contents) and their size.

    Any change of a file's content, name or presence changes it, as it would a zip's.
    """
    digest = hashlib.sha256()
    size = 0
    for path in code_files(folder):
        try:
            content = _file_digest(path)
            size += path.stat().st_size
        except OSError:  # removed while walking, or unreadable: as if absent
            continue
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(content + b"\n")
    return digest.hexdigest(), size


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(READ_BYTES):
            digest.update(chunk)
    return digest.digest()


def folder_stamp(folder: Path) -> str:
    """A cheap fingerprint of the folder's state (paths, sizes, modification times), which
    names a merge of it with other layers."""
    stamp = hashlib.sha256()
    for path in code_files(folder):
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return stamp.hexdigest()
