"""Building function packages and names for the tests."""

from __future__ import annotations

import io
import uuid
import zipfile

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

PYTHON_ECHO = "def handler(event, context):\n    return event\n"


def zip_of(files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def unique_name(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_python_function(client, name: str, code: str = PYTHON_ECHO, **config):  # type: ignore[no-untyped-def]
    """Create a Python function and wait until it is Active; returns the create response."""
    response = client.create_function(
        FunctionName=name,
        Runtime=config.pop("Runtime", "python3.12"),
        Role=ROLE,
        Handler=config.pop("Handler", "app.handler"),
        Code={"ZipFile": zip_of({"app.py": code})},
        **config,
    )
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    return response


def function_names(client) -> set[str]:  # type: ignore[no-untyped-def]
    """Every function's name, through every page of ListFunctions."""
    pages = client.get_paginator("list_functions").paginate()
    return {f["FunctionName"] for page in pages for f in page["Functions"]}
