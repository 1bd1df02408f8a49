"""Deployment packages from the command line: a zip file as it is, a folder zipped on the
fly without what its `.tarnignore` excludes (gitignore patterns), or, with `--watch`, the
folder itself, run in place and reloaded on every change (the hot-reload bucket convention)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pathspec

from services.cli.lambda_cli.failures import CommandFailed

IGNORE_FILE = ".tarnignore"
# The stack's TARN_HOT_RELOAD_BUCKET, when it is not the default.
HOT_RELOAD_BUCKET = "hot-reload"
# Never part of a function, whatever the folder's own list says.
ALWAYS_IGNORED = [".git/", IGNORE_FILE]


def code_of(zip_file: Path | None, folder: Path | None, watch: bool) -> dict[str, object] | None:
    """The request's Code (or a layer's Content) the options name, or None when none is given."""
    if not watch:
        zipped = package(zip_file, folder)
        return None if zipped is None else {"ZipFile": zipped}
    if folder is None or zip_file is not None:
        raise CommandFailed("--watch runs a folder in place: give --code DIR (not --zip)")
    if not folder.is_dir():
        raise CommandFailed(f"{folder}: no such folder")
    bucket = os.environ.get("TARN_HOT_RELOAD_BUCKET") or HOT_RELOAD_BUCKET
    return {"S3Bucket": bucket, "S3Key": str(folder.resolve())}


def package(zip_file: Path | None, folder: Path | None) -> bytes | None:
    """The zip bytes `--zip FILE` or `--code DIR` name, or None when neither is given."""
    if zip_file is not None and folder is not None:
        raise CommandFailed("give --zip or --code, not both")
    if zip_file is not None:
        if not zip_file.is_file():
            raise CommandFailed(f"{zip_file}: no such file")
        return zip_file.read_bytes()
    if folder is not None:
        if not folder.is_dir():
            raise CommandFailed(f"{folder}: no such folder")
        return zip_folder(folder)
    return None


def zip_folder(folder: Path) -> bytes:
    """The folder's files, their modes kept (an executable `bootstrap` stays executable)."""
    ignored = ignore_spec(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files_of(folder)):
            relative = path.relative_to(folder).as_posix()
            if not ignored.match_file(relative):
                archive.write(path, relative)
    return buffer.getvalue()


def files_of(folder: Path) -> list[Path]:
    found = []
    for root, _dirs, names in os.walk(folder, followlinks=True):
        found += [Path(root) / name for name in names]
    return found


def ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec:
    lines = list(ALWAYS_IGNORED)
    listing = folder / IGNORE_FILE
    if listing.is_file():
        lines += listing.read_text().splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)
