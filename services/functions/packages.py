"""Deployment packages: size limits, zip checks, content-addressed storage, and downloads.

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
GetFunction's Code.Location points at `/_tarn/code/<sha256>`, served here. S3Bucket/S3Key
packages are read from the companion AWS endpoint's S3, except in the hot-reload bucket
(TARN_HOT_RELOAD_BUCKET), where the key names a folder on this machine that the code runs
from in place (bus/folders.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import msgspec
from quart import Blueprint, Response, request

from bus.archives import CodeError, check_archive
from bus.aws import CompanionError
from bus.folders import FolderError, check_folder, folder_digest
from bus.quotas import REQUEST_BYTES, UNZIPPED_CODE_BYTES, ZIPPED_CODE_BYTES
from bus.records import FunctionVersion
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    RequestEntityTooLargeException,
    ResourceNotFoundException,
)

blueprint = Blueprint("packages", __name__)

# Hashing and checking a large archive would stall the event loop; small ones are quicker inline.
THREAD_ABOVE_BYTES = 1_000_000


class CodeSource(Protocol):
    zip_file: bytes | None
    s3_bucket: str | None
    s3_key: str | None
    s3_object_version: str | None
    image_uri: str | None


@dataclass(frozen=True, slots=True)
class StoredCode:
    sha256_hex: str
    size: int
    image_uri: str | None = None  # a PackageType Image function's code is its image
    folder: str | None = None  # hot reload: the folder the code runs from, in place


def check_package(
    context: ApiContext,
    package_type: str,
    source: CodeSource,
    runtime: str | None,
    handler: str | None,
    layers: list[str] | None,
) -> None:
    """CreateFunction's checks of PackageType against the code and configuration it comes with."""
    if package_type == "Zip":
        if source.image_uri is not None:
            raise InvalidParameterValueException(
                "Please don't provide ImageUri when the intended function PackageType is Zip."
            )
        if runtime is None or handler is None:
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with "
                "deployment packages."
            )
        return
    if context.settings.executor == "process":  # `auto` is `process` without a Docker engine
        raise InvalidParameterValueException(
            "PackageType Image needs the Docker executor; this Tarn runs the process executor. "
            "Start it with `tarn up --executor docker`."
        )
    if runtime is not None or handler is not None or layers:
        raise InvalidParameterValueException(
            "Please don't provide Handler or Runtime or Layer when the intended function "
            "PackageType is Image."
        )
    if not source.image_uri or source.zip_file is not None or source.s3_bucket is not None:
        raise InvalidParameterValueException(
            "Please provide ImageUri when the intended function PackageType is Image."
        )


def check_update(package_type: str, code: StoredCode) -> None:
    """UpdateFunctionCode keeps the package type: an image for an image, a .zip for a .zip."""
    if package_type == "Image" and code.image_uri is None:
        raise InvalidParameterValueException(
            "Please provide ImageUri when updating a function with packageType Image."
        )
    if package_type == "Zip" and code.image_uri is not None:
        raise InvalidParameterValueException(
            "Please don't provide ImageUri when updating a function with packageType Zip."
        )


def code_description(context: ApiContext, record: FunctionVersion) -> dict[str, str]:
    """GetFunction's Code: where the package downloads from, or the function's image."""
    if record.package_type == "Image" and record.image_uri:
        uri = record.image_uri
        return {"RepositoryType": "ECR", "ImageUri": uri, "ResolvedImageUri": uri}
    return {"RepositoryType": "S3", "Location": location(context, record.code_sha256_hex)}


def check_request_size(operation: str) -> None:
    length = request.content_length
    if length is not None and length > REQUEST_BYTES:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {REQUEST_BYTES} bytes for the {operation} operation"
        )


async def load(context: ApiContext, source: CodeSource) -> StoredCode:
    """Check the package the request carries and store it; returns its digest and size."""
    if source.image_uri is not None:  # the image is pulled when the version is provisioned
        return StoredCode("", 0, source.image_uri)
    if source.s3_bucket is not None and source.s3_bucket == context.settings.hot_reload_bucket:
        return await _folder(source.s3_key or "")
    if source.s3_bucket is not None or source.s3_key is not None:
        data = await _s3_package(context, source)
    else:
        data = source.zip_file or b""
        if len(data) > ZIPPED_CODE_BYTES:
            raise RequestEntityTooLargeException(
                f"Zipped size must be smaller than {ZIPPED_CODE_BYTES} bytes"
            )
    if not data:
        raise InvalidParameterValueException("Please provide a source for function code.")
    if len(data) > THREAD_ABOVE_BYTES:
        sha256_hex = await anyio.to_thread.run_sync(_check_and_hash, data)
    else:
        sha256_hex = _check_and_hash(data)
    await context.stores.blobs.put(data, sha256_hex)
    return StoredCode(sha256_hex, len(data))


async def _folder(path: str) -> StoredCode:
    """Hot reload: the folder the key names, checked, with its digest; nothing is stored."""
    try:
        folder = check_folder(path)
    except FolderError as exc:
        raise InvalidParameterValueException(str(exc)) from None
    sha256_hex, size = await anyio.to_thread.run_sync(folder_digest, folder)
    return StoredCode(sha256_hex, size, folder=str(folder))


async def refreshed(record: FunctionVersion) -> FunctionVersion:
    """The record with its folder's digest and size as they are now (hot reload), so that
    GetFunction's CodeSha256 follows every edit; other records as they are."""
    digest = await folder_now(record.code_folder)
    if digest is None:
        return record
    return msgspec.structs.replace(record, code_sha256_hex=digest[0], code_size=digest[1])


async def folder_now(folder: str | None) -> tuple[str, int] | None:
    """A hot-reload folder's digest (hex) and size as they are now; None without a folder
    or once it is gone (the record's last ones stand)."""
    if folder is None:
        return None
    return await anyio.to_thread.run_sync(_current_digest, Path(folder))


def _current_digest(folder: Path) -> tuple[str, int] | None:
    return folder_digest(folder) if folder.is_dir() else None


async def _s3_package(context: ApiContext, source: CodeSource) -> bytes:
    """The package object, read through the companion, with Lambda's words for S3's errors."""
    aws = context.aws
    if aws is None:
        raise InvalidParameterValueException(
            "S3Bucket/S3Key code needs the companion AWS endpoint, which this API runs "
            "without (start it with `tarn up`); send the package as ZipFile."
        )
    if not source.s3_bucket or not source.s3_key:
        raise InvalidParameterValueException("Please provide a source for function code.")
    try:
        # Through S3 the package may be as large as it is unzipped.
        return await aws.get_object(
            source.s3_bucket, source.s3_key, source.s3_object_version, UNZIPPED_CODE_BYTES
        )
    except CompanionError as exc:
        raise InvalidParameterValueException(
            f"Error occurred while GetObject. S3 Error Code: {exc.code}. "
            f"S3 Error Message: {exc.message}"
        ) from None


def _check_and_hash(data: bytes) -> str:
    try:
        check_archive(data)
    except CodeError as exc:
        raise InvalidParameterValueException(str(exc)) from None
    return hashlib.sha256(data).hexdigest()


def location(context: ApiContext, sha256_hex: str) -> str:
    return f"{context.settings.base_url}/_tarn/code/{sha256_hex}"


@blueprint.get("/_tarn/code/<sha256_hex>")
async def download(sha256_hex: str) -> Response:
    data = await api().stores.blobs.get(sha256_hex) if len(sha256_hex) == 64 else None
    if data is None:
        raise ResourceNotFoundException("Code not found")
    return Response(data, content_type="application/zip")
