"""Layers on the worker's disk: a function's layers merged, in order, into one folder, its /opt.

The Docker executor mounts that folder at /opt; the process executor puts its folders on the
runtimes' search paths. https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html
Each layer is unpacked once by SHA-256 (like code); each ordered list of layers is merged once,
into a temporary folder renamed into place, later layers overwriting earlier ones' files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import anyio

from bus.folders import folder_stamp
from bus.records import LayerCode
from bus.stores import BlobStore
from workers.code import ensure_unpacked, staged_folder


def opt_key(layers: list[LayerCode]) -> str:
    """Names the merge of these layers in this order (a hot-reload layer: its folder)."""
    joined = "\n".join(layer.folder or layer.code_sha256_hex for layer in layers)
    return hashlib.sha256(joined.encode()).hexdigest()


async def ensure_opt(
    blobs: BlobStore, code_dir: Path, opt_root: Path, layers: list[LayerCode]
) -> Path | None:
    """The folder holding `layers` merged (None without layers), merging them if needed.

    A hot-reload layer is its own folder, used in place; merged with others, the merge is
    named by the folders' state too, so that after an edit the next environment gets a new one.
    """
    if not layers:
        return None
    unpacked = [await _layer_folder(blobs, code_dir, layer) for layer in layers]
    if len(unpacked) == 1:
        return unpacked[0]  # one layer is its own merge
    key = opt_key(layers)
    if any(layer.folder for layer in layers):
        folders = [Path(layer.folder) for layer in layers if layer.folder]
        stamps = [await anyio.to_thread.run_sync(folder_stamp, f) for f in folders]
        key = hashlib.sha256("\n".join([key, *stamps]).encode()).hexdigest()
    target = opt_root / key
    if not target.is_dir():
        await anyio.to_thread.run_sync(merge, unpacked, target)
    return target


async def _layer_folder(blobs: BlobStore, code_dir: Path, layer: LayerCode) -> Path:
    if layer.folder is not None:
        return Path(layer.folder)
    return await ensure_unpacked(blobs, code_dir, layer.code_sha256_hex)


def merge(sources: list[Path], target: Path) -> None:
    """Overlay `sources` in order into `target` (which must not exist yet); later ones win."""
    with staged_folder(target, ".merge-") as staging:
        for source in sources:
            _overlay(source, staging)


def _overlay(source: Path, target: Path) -> None:
    for folder, _, files in os.walk(source):
        into = target / Path(folder).relative_to(source)
        if into.is_symlink() or into.is_file():
            into.unlink()  # a file of an earlier layer where this layer has a folder
        into.mkdir(mode=0o755, exist_ok=True)
        for name in files:
            destination = into / name
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            elif destination.exists() or destination.is_symlink():
                destination.unlink()
            _link_or_copy(Path(folder) / name, destination)


def _link_or_copy(source: Path, destination: Path) -> None:
    """Unpacked layers are never written to: a hard link shares their file, without a copy.
    (A hot-reload layer's files are edited in place, or replaced: a new merge follows.)"""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
