"""Deployment packages: size limits, zip checks, content-addressed storage, and downloads.

https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
GetFunction's Code.Location points at `/_tarn/code/<sha256>`, served here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import anyio
from quart import Blueprint, Response, request

from bus.archives import CodeError, check_archive
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    RequestEntityTooLargeException,
    ResourceNotFoundException,
)

blueprint = Blueprint("function_code", __name__)

MAX_ZIPPED_BYTES = 52_428_800
MAX_REQUEST_BYTES = 70_167_211
# Hashing and checking a large archive would stall the event loop; small ones are quicker inline.
THREAD_ABOVE_BYTES = 1_000_000


class CodeSource(Protocol):
    zip_file: bytes | None
    s3_bucket: str | None
    s3_key: str | None
    image_uri: str | None


@dataclass(frozen=True, slots=True)
class StoredCode:
    sha256_hex: str
    size: int


def check_request_size(operation: str) -> None:
    length = request.content_length
    if length is not None and length > MAX_REQUEST_BYTES:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"
        )


async def load(context: ApiContext, source: CodeSource) -> StoredCode:
    """Check the package the request carries and store it; returns its digest and size."""
    if source.s3_bucket is not None or source.s3_key is not None:
        raise InvalidParameterValueException(
            "S3Bucket/S3Key code needs the companion AWS endpoint, which this Tarn does not "
            "have yet; send the package as ZipFile."
        )
    if source.image_uri is not None:
        raise InvalidParameterValueException(
            "ImageUri needs the Docker executor, which this Tarn does not have yet."
        )
    data = source.zip_file
    if not data:
        raise InvalidParameterValueException("Please provide a source for function code.")
    if len(data) > MAX_ZIPPED_BYTES:
        raise RequestEntityTooLargeException(
            f"Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"
        )
    if len(data) > THREAD_ABOVE_BYTES:
        sha256_hex = await anyio.to_thread.run_sync(_check_and_hash, data)
    else:
        sha256_hex = _check_and_hash(data)
    await context.blobs.put(data, sha256_hex)
    return StoredCode(sha256_hex, len(data))


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
    data = await api().blobs.get(sha256_hex) if len(sha256_hex) == 64 else None
    if data is None:
        raise ResourceNotFoundException("Code not found")
    return Response(data, content_type="application/zip")
