"""Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayerVersions, ListLayers and
DeleteLayerVersion. https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html

Archives are content-addressed blobs like function code; `Content.Location` downloads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from quart import Blueprint, Response, request

from bus.arns import layer_of
from bus.records import LayerVersion
from bus.settings import Settings
from services.context import ApiContext, api
from services.errors import (
    InvalidParameterValueException,
    ResourceNotFoundException,
    constraint,
)
from services.functions import packages
from services.functions.configurations import code_sha256_b64, last_modified_now
from services.functions.layers import unzipped_size
from services.functions.requests import ARCHITECTURES, CodeInput
from services.functions.runtimes import KNOWN
from services.requests import Problems, RequestShape, decode_body, list_page, read_body
from services.responses import json_response

blueprint = Blueprint("layers", __name__)

LAYERS = "/2018-10-31/layers"
VERSIONS = LAYERS + "/<layer_name>/versions"
# botocore's patterns for LayerName and LayerVersionArn.
LAYER_ARN_PATTERN = r"arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+"
LAYER_NAME_PATTERN = f"({LAYER_ARN_PATTERN})|[a-zA-Z0-9-_]+"
LAYER_VERSION_ARN_PATTERN = LAYER_ARN_PATTERN + ":[0-9]+"
MAX_NAME_LENGTH = 140
MAX_LIST_ITEMS = 50
NOT_FOUND = "The resource you requested does not exist."
RUNTIME_ENUM = f"Member must satisfy enum value set: [{', '.join(KNOWN)}]"
ARCHITECTURE_ENUM = f"Member must satisfy enum value set: [{', '.join(ARCHITECTURES)}]"


class PublishLayerVersionInput(RequestShape):
    content: CodeInput | None = None  # botocore's LayerVersionContentInput: no ImageUri
    description: str | None = None
    compatible_runtimes: list[str] | None = None
    compatible_architectures: list[str] | None = None
    license_info: str | None = None


@blueprint.post(VERSIONS)
async def publish_layer_version(layer_name: str) -> Response:
    context = api()
    packages.check_request_size("PublishLayerVersion")
    body = decode_body(await read_body(), PublishLayerVersionInput)
    name = _layer_name(layer_name)
    _check_publish(body)
    assert body.content is not None
    data = body.content.zip_file
    # A layer's content has no ImageUri: whatever the body says, only the archive counts.
    source = CodeInput(zip_file=data, s3_bucket=body.content.s3_bucket, s3_key=body.content.s3_key)
    code = await packages.load(context, source)
    size = code.size if code.folder else await unzipped_size(data or b"")
    arn = layer_arn(context.settings, name)

    def version_of(number: int) -> LayerVersion:
        return LayerVersion(
            layer_name=name,
            layer_arn=arn,
            version=number,
            created_date=last_modified_now(),
            code_sha256_hex=code.sha256_hex,
            code_size=code.size,
            unzipped_size=size,
            description=body.description or "",
            compatible_runtimes=body.compatible_runtimes,
            compatible_architectures=body.compatible_architectures,
            license_info=body.license_info,
            code_folder=code.folder,
        )

    record = await context.stores.layers.publish(name, version_of)
    return json_response(render_layer_version(context, record), 201)


@blueprint.get(VERSIONS + "/<int(signed=True):version>")
async def get_layer_version(layer_name: str, version: int) -> Response:
    context = api()
    _check_version(version)
    record = await context.stores.layers.get(_layer_name(layer_name), version)
    if record is None:
        raise ResourceNotFoundException(NOT_FOUND)
    now = await packages.folder_now(record.code_folder)
    return json_response(render_layer_version(context, record, now))


@blueprint.delete(VERSIONS + "/<int(signed=True):version>")
async def delete_layer_version(layer_name: str, version: int) -> Response:
    context = api()
    _check_version(version)
    await context.stores.layers.delete(_layer_name(layer_name), version)
    return Response(b"", status=204)


@blueprint.get(VERSIONS)
async def list_layer_versions(layer_name: str) -> Response:
    context = api()
    name = _layer_name(layer_name)
    runtime, architecture = _filters()
    page = list_page(high=MAX_LIST_ITEMS)
    records = await context.stores.layers.versions(name)
    if page.marker and page.marker.isdigit():
        records = [r for r in records if r.version < int(page.marker)]
    matching = [r for r in records if _matches(r, runtime, architecture)]
    return page.respond("LayerVersions", matching, render_listed_version, lambda r: str(r.version))


@blueprint.get(LAYERS)
async def list_layers() -> Response:
    if request.args.get("find") == "LayerVersion":
        return await _get_layer_version_by_arn()
    context = api()
    runtime, architecture = _filters()
    page = list_page(high=MAX_LIST_ITEMS)
    store = context.stores.layers
    newest: list[LayerVersion] = []  # each layer's newest matching version
    marker = page.marker
    while len(newest) <= page.size:
        names = await store.names_after(marker, page.size + 1)
        if not names:
            break
        for name in names:
            matching = [r for r in await store.versions(name) if _matches(r, runtime, architecture)]
            newest += matching[:1]
        marker = names[-1]
    return page.respond("Layers", newest, _listed_layer, lambda r: r.layer_name)


async def _get_layer_version_by_arn() -> Response:
    context = api()
    arn = request.args.get("Arn", "")
    if len(arn) > MAX_NAME_LENGTH or re.fullmatch(LAYER_VERSION_ARN_PATTERN, arn) is None:
        rule = f"Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"
        raise constraint(arn, "arn", rule)
    name, version = layer_of(arn)
    assert version is not None  # the pattern has it
    _check_version(version)
    record = await context.stores.layers.get(name, version)
    if record is None or record.arn != arn:
        raise ResourceNotFoundException(NOT_FOUND)
    now = await packages.folder_now(record.code_folder)
    return json_response(render_layer_version(context, record, now))


def _check_version(version: int) -> None:
    if version < 1:
        raise InvalidParameterValueException("Layer Version Cannot be less than 1")


def layer_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:lambda:{settings.region}:{settings.account_id}:layer:{name}"


def render_layer_version(
    context: ApiContext, record: LayerVersion, now: tuple[str, int] | None = None
) -> dict[str, object]:
    """GetLayerVersion's (and PublishLayerVersion's) answer; `now`: a hot-reload layer's
    digest and size as they are now."""
    sha256_hex, size = now or (record.code_sha256_hex, record.code_size)
    content = {
        "Location": packages.location(context, sha256_hex),
        "CodeSha256": code_sha256_b64(sha256_hex),
        "CodeSize": size,
    }
    return {
        "Content": content,
        "LayerArn": record.layer_arn,
        **render_listed_version(record),
    }


def render_listed_version(record: LayerVersion) -> dict[str, object]:
    """A LayerVersionsListItem."""
    item: dict[str, object] = {
        "LayerVersionArn": record.arn,
        "Version": record.version,
        "Description": record.description,
        "CreatedDate": record.created_date,
    }
    if record.compatible_runtimes is not None:
        item["CompatibleRuntimes"] = record.compatible_runtimes
    if record.license_info is not None:
        item["LicenseInfo"] = record.license_info
    if record.compatible_architectures is not None:
        item["CompatibleArchitectures"] = record.compatible_architectures
    return item


def _listed_layer(record: LayerVersion) -> dict[str, object]:
    return {
        "LayerName": record.layer_name,
        "LayerArn": record.layer_arn,
        "LatestMatchingVersion": render_listed_version(record),
    }


def _layer_name(value: str) -> str:
    """The name in a LayerName parameter, which may be the layer's ARN."""
    problems = Problems()
    problems.max_length(value, "layerName", MAX_NAME_LENGTH)
    problems.pattern(value, "layerName", LAYER_NAME_PATTERN)
    problems.raise_any()
    return layer_of(value)[0] if value.startswith("arn:") else value


def _check_publish(body: PublishLayerVersionInput) -> None:
    problems = Problems()
    problems.required(body.content, "content")
    problems.max_length(body.description, "description", 256)
    problems.max_length(body.license_info, "licenseInfo", 512)
    _check_list(problems, body.compatible_runtimes, "compatibleRuntimes", KNOWN, 15)
    architectures = body.compatible_architectures
    _check_list(problems, architectures, "compatibleArchitectures", ARCHITECTURES, 2)
    problems.raise_any()


def _check_list(
    problems: Problems, values: list[str] | None, member: str, allowed: Sequence[str], most: int
) -> None:
    if values is None:
        return
    shown = f"[{', '.join(values)}]"
    if len(values) > most:
        problems.add(shown, member, f"Member must have length less than or equal to {most}")
    if any(v not in allowed for v in values):
        enum = ", ".join(allowed)
        problems.add(
            shown,
            member,
            f"Member must satisfy constraint: [Member must satisfy enum value set: [{enum}], "
            "Member must not be null]",
        )


def _filters() -> tuple[str | None, str | None]:
    """ListLayers' and ListLayerVersions' CompatibleRuntime and CompatibleArchitecture."""
    runtime = request.args.get("CompatibleRuntime")
    architecture = request.args.get("CompatibleArchitecture")
    if runtime is not None and runtime not in KNOWN:
        raise constraint(runtime, "compatibleRuntime", RUNTIME_ENUM)
    if architecture is not None and architecture not in ARCHITECTURES:
        raise constraint(architecture, "compatibleArchitecture", ARCHITECTURE_ENUM)
    return runtime, architecture


def _matches(record: LayerVersion, runtime: str | None, architecture: str | None) -> bool:
    return (runtime is None or runtime in (record.compatible_runtimes or ())) and (
        architecture is None or architecture in (record.compatible_architectures or ())
    )
