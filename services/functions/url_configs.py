"""Function URL configs: Create, Get, Update, Delete and ListFunctionUrlConfigs, one per
function ($LATEST) or alias. https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html

The URLs are `http://<url-id>.lambda-url.<region>.localhost:<port>/`; serving them is not here.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
from quart import Blueprint, Response

from bus.records import LATEST, FunctionUrlConfig
from services.context import ApiContext, api
from services.errors import ResourceConflictException, ResourceNotFoundException
from services.functions.refs import FunctionRef, function_ref, qualified_arn
from services.requests import Problems, RequestShape, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("url_configs", __name__)

URL = "/2021-10-31/functions/<function_name>/url"
# botocore's FunctionUrlQualifier pattern, which no version number and no $LATEST matches.
QUALIFIER_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"
AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
MAX_AGE_S = 86_400
URL_ID_ALPHABET = string.ascii_lowercase + string.digits
URL_ID_LENGTH = 32
NOT_FOUND = "The resource you requested does not exist."
NO_FUNCTION = "Function does not exist"


class CorsInput(RequestShape):
    allow_credentials: bool | None = None
    allow_headers: list[str] | None = None
    allow_methods: list[str] | None = None
    allow_origins: list[str] | None = None
    expose_headers: list[str] | None = None
    max_age: int | None = None


class UrlConfigInput(RequestShape):
    auth_type: str | None = None
    cors: CorsInput | None = None
    invoke_mode: str | None = None


@blueprint.post(URL)
async def create_url_config(function_name: str) -> Response:
    context = api()
    ref = _url_ref(function_name)
    body = decode_body(await read_body(), UrlConfigInput)
    _check(body, creating=True)
    await _existing_target(context, ref)
    now = _now()

    def create(current: FunctionUrlConfig | None) -> FunctionUrlConfig:
        if current is not None:
            raise ResourceConflictException(
                f"Failed to create function url config for [functionArn = "
                f"{qualified_arn(context, ref)}]. Error message:  FunctionUrlConfig exists for "
                "this Lambda function"
            )
        assert body.auth_type is not None
        return FunctionUrlConfig(
            function_name=ref.name,
            qualifier=ref.qualifier or LATEST,
            url_id="".join(secrets.choice(URL_ID_ALPHABET) for _ in range(URL_ID_LENGTH)),
            auth_type=body.auth_type,
            invoke_mode=body.invoke_mode or "BUFFERED",
            cors=_cors(body.cors),
            creation_time=now,
            last_modified_time=now,
        )

    config = await context.stores.url_configs.write(ref.name, ref.qualifier or LATEST, create)
    rendered = render(context, config)
    del rendered["LastModifiedTime"]
    return json_response(rendered, 201)


@blueprint.get(URL)
async def get_url_config(function_name: str) -> Response:
    context = api()
    ref = _url_ref(function_name)
    config = await context.stores.url_configs.get(ref.name, ref.qualifier or LATEST)
    if config is None:
        raise ResourceNotFoundException(NOT_FOUND)
    return json_response(render(context, config))


@blueprint.put(URL)
async def update_url_config(function_name: str) -> Response:
    context = api()
    ref = _url_ref(function_name)
    body = decode_body(await read_body(), UrlConfigInput)
    _check(body, creating=False)
    await _existing_target(context, ref)

    def update(current: FunctionUrlConfig | None) -> FunctionUrlConfig:
        if current is None:
            raise ResourceNotFoundException(NOT_FOUND)
        changes: dict[str, Any] = {"last_modified_time": _now()}
        if body.auth_type is not None:
            changes["auth_type"] = body.auth_type
        if body.invoke_mode is not None:
            changes["invoke_mode"] = body.invoke_mode
        if body.cors is not None:
            changes["cors"] = _cors(body.cors)
        return msgspec.structs.replace(current, **changes)

    config = await context.stores.url_configs.write(ref.name, ref.qualifier or LATEST, update)
    return json_response(render(context, config))


@blueprint.delete(URL)
async def delete_url_config(function_name: str) -> Response:
    context = api()
    ref = _url_ref(function_name)
    if not await context.stores.url_configs.delete(ref.name, ref.qualifier or LATEST):
        raise ResourceNotFoundException(NOT_FOUND)
    return Response(b"", status=204)


@blueprint.get(URL + "s")
async def list_url_configs(function_name: str) -> Response:
    context = api()
    name = function_ref(function_name).name
    page = list_page(high=50)
    if await context.stores.functions.get(name) is None:
        raise ResourceNotFoundException(NO_FUNCTION)
    configs = [
        c
        for c in await context.stores.url_configs.all(name)
        if not page.marker or c.qualifier > page.marker
    ]
    return page.respond(
        "FunctionUrlConfigs", configs, lambda c: render(context, c), lambda c: c.qualifier
    )


def render(context: ApiContext, config: FunctionUrlConfig) -> dict[str, Any]:
    """A FunctionUrlConfig as AWS renders it."""
    qualifier = None if config.qualifier == LATEST else config.qualifier
    body: dict[str, Any] = {
        "FunctionUrl": function_url(context, config.url_id),
        "FunctionArn": qualified_arn(context, FunctionRef(config.function_name, qualifier)),
        "AuthType": config.auth_type,
        "CreationTime": config.creation_time,
        "LastModifiedTime": config.last_modified_time,
        "InvokeMode": config.invoke_mode,
    }
    if config.cors is not None:
        body["Cors"] = config.cors
    return body


def function_url(context: ApiContext, url_id: str) -> str:
    """Where the URL answers: the stack's own port, under the region's lambda-url domain."""
    settings = context.settings
    port = urlsplit(settings.base_url).port or settings.port
    return f"http://{url_id}.lambda-url.{settings.region}.localhost:{port}/"


def _url_ref(function_name: str) -> FunctionRef:
    """The function and alias of a URL request; a version or $LATEST is AWS's model error."""
    ref = function_ref(function_name)
    if ref.qualifier is not None:
        problems = Problems()
        problems.pattern(ref.qualifier, "qualifier", QUALIFIER_PATTERN)
        problems.raise_any()
    return ref


async def _existing_target(context: ApiContext, ref: FunctionRef) -> None:
    """The function, and the alias if the request names one, must exist."""
    if await context.stores.functions.get(ref.name) is None:
        raise ResourceNotFoundException(NO_FUNCTION)
    if ref.qualifier and await context.stores.aliases.get(ref.name, ref.qualifier) is None:
        raise ResourceNotFoundException(NO_FUNCTION)


def _check(body: UrlConfigInput, *, creating: bool) -> None:
    """botocore's model constraints, reported together."""
    problems = Problems()
    if creating:
        problems.required(body.auth_type, "authType")
    if body.auth_type is not None and body.auth_type not in AUTH_TYPES:
        problems.add(
            body.auth_type, "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]"
        )
    if body.invoke_mode is not None and body.invoke_mode not in INVOKE_MODES:
        problems.add(
            body.invoke_mode,
            "invokeMode",
            "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]",
        )
    if body.cors is not None:
        problems.bounds(body.cors.max_age, "cors.maxAge", 0, MAX_AGE_S)
        _check_list(problems, body.cors.allow_methods, "cors.allowMethods", 6)
        for member in ("allow_headers", "allow_origins", "expose_headers"):
            path = "cors." + re.sub(r"_(\w)", lambda m: m[1].upper(), member)
            _check_list(problems, getattr(body.cors, member), path, 100)
    problems.raise_any()


def _check_list(problems: Problems, items: list[str] | None, member: str, most: int) -> None:
    if items is not None and len(items) > most:
        problems.add(
            f"[{', '.join(items)}]", member, f"Member must have length less than or equal to {most}"
        )


def _cors(cors: CorsInput | None) -> dict[str, Any] | None:
    """The Cors members given, in AWS's names."""
    return None if cors is None else msgspec.to_builtins(cors)


def _now() -> str:
    """AWS's format for CreationTime and LastModifiedTime: 2024-05-01T12:00:00.123456Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
