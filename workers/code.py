"""Function code on local disk: each archive unpacked once, under its SHA-256, read-only after.

Unpacking goes to a temporary folder renamed into place, so a worker that dies mid-way
leaves no half-unpacked code behind and concurrent workers never see one.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio

from bus.archives import CodeError, check_archive
from bus.stores import BlobStore


@contextmanager
def staged_folder(target: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder beside `target`, renamed to `target` once the block succeeds.

    Nobody ever sees a half-built `target`; if another worker built it first, theirs stays
    (same inputs, same content) and ours is dropped; a failed block leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)
        try:
            staging.rename(target)
        except OSError:
            if not target.exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def unpack(data: bytes, target: Path) -> None:
    """Unpack `data` into `target` (which must not exist yet), keeping Unix modes."""
    check_archive(data)
    try:
        with staged_folder(target, ".unpack-") as staging:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    _extract(archive, info, staging)
    except zipfile.BadZipFile as exc:
        raise CodeError(f"Could not unzip uploaded file: {exc}") from None
    except OSError as exc:  # what the checks did not foresee: Failed, not Pending forever
        raise CodeError(f"Could not unzip uploaded file: {exc.strerror or exc}") from None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path) -> None:
    path = Path(archive.extract(info, staging))
    mode = (info.external_attr >> 16) & 0o777
    if not info.is_dir():
        # AWS keeps the archive's modes; files without any are world-readable.
        os.chmod(path, mode or 0o644)
        if mode & stat.S_IXUSR:
            os.chmod(path, mode | 0o555)


async def ensure_unpacked(blobs: BlobStore, code_dir: Path, sha256_hex: str) -> Path:
    """The folder holding the unpacked code for `sha256_hex`, unpacking it if needed."""
    target = code_dir / sha256_hex
    if target.is_dir():
        return target
    data = await blobs.get(sha256_hex)
    if data is None:
        raise CodeError(f"code archive {sha256_hex} is missing from the store")
    await anyio.to_thread.run_sync(unpack, data, target)
    return target
