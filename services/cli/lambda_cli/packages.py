"""Deployment packages from the command line: a zip file as it is, or a folder zipped on the
fly without what its `.tarnignore` excludes (gitignore patterns)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pathspec

from services.cli.lambda_cli.failures import CommandFailed

IGNORE_FILE = ".tarnignore"
# Never part of a function, whatever the folder's own list says.
ALWAYS_IGNORED = [".git/", IGNORE_FILE]


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
