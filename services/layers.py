"""Layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayerVersions, ListLayers and
DeleteLayerVersion. https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html

Archives are content-addressed blobs like function code; `Content.Location` downloads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from quart import Blueprint, Response, request

from bus.records import LayerVersion
from bus.settings import Settings
from services import function_code
from services.configurations import code_sha256_b64, last_modified_now
from services.context import ApiContext, api
from services.errors import ResourceNotFoundException, constraint
from services.function_layers import unzipped_size
from services.function_requests import (
    ARCHITECTURES,
    CodeInput,
    Problems,
    RequestShape,
    decode_body,
    page_size,
    read_body,
)
from services.responses import json_response
from services.runtimes import KNOWN

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


class LayerContentInput(RequestShape):
    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None


class PublishLayerVersionInput(RequestShape):
    content: LayerContentInput | None = None
    description: str | None = None
    compatible_runtimes: list[str] | None = None
    compatible_architectures: list[str] | None = None
    license_info: str | None = None


@blueprint.post(VERSIONS)
async def publish_layer_version(layer_name: str) -> Response:
    context = api()
    function_code.check_request_size("PublishLayerVersion")
    body = decode_body(await read_body(), PublishLayerVersionInput)
    name = _layer_name(layer_name)
    _check_publish(body)
    assert body.content is not None
    data = body.content.zip_file
    source = CodeInput(zip_file=data, s3_bucket=body.content.s3_bucket, s3_key=body.content.s3_key)
    code = await function_code.load(context, source)
    size = await unzipped_size(data or b"")
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
        )

    record = await context.stores.layers.publish(name, version_of)
    return json_response(render_layer_version(context, record), 201)


@blueprint.get(VERSIONS + "/<int:version>")
async def get_layer_version(layer_name: str, version: int) -> Response:
    context = api()
    record = await context.stores.layers.get(_layer_name(layer_name), version)
    if record is None:
        raise ResourceNotFoundException(NOT_FOUND)
    return json_response(render_layer_version(context, record))


@blueprint.delete(VERSIONS + "/<int:version>")
async def delete_layer_version(layer_name: str, version: int) -> Response:
    context = api()
    await context.stores.layers.delete(_layer_name(layer_name), version)
    return Response(b"", status=204)


@blueprint.get(VERSIONS)
async def list_layer_versions(layer_name: str) -> Response:
    context = api()
    name = _layer_name(layer_name)
    runtime, architecture = _filters()
    max_items = page_size(request.args.get("MaxItems"), MAX_LIST_ITEMS)
    records = await context.stores.layers.versions(name)
    marker = request.args.get("Marker")
    if marker and marker.isdigit():
        records = [r for r in records if r.version < int(marker)]
    matching = [r for r in records if _matches(r, runtime, architecture)]
    page = matching[:max_items]
    body: dict[str, object] = {"LayerVersions": [render_listed_version(r) for r in page]}
    if len(matching) > max_items:
        body["NextMarker"] = str(page[-1].version)
    return json_response(body)


@blueprint.get(LAYERS)
async def list_layers() -> Response:
    if request.args.get("find") == "LayerVersion":
        return await _get_layer_version_by_arn()
    context = api()
    runtime, architecture = _filters()
    max_items = page_size(request.args.get("MaxItems"), MAX_LIST_ITEMS)
    store = context.stores.layers
    items: list[dict[str, object]] = []
    marker = request.args.get("Marker") or None
    while len(items) <= max_items:
        names = await store.names_after(marker, max_items + 1)
        if not names:
            break
        for name in names:
            newest = [r for r in await store.versions(name) if _matches(r, runtime, architecture)]
            if newest:
                items.append(_listed_layer(newest[0]))
        marker = names[-1]
    body: dict[str, object] = {"Layers": items[:max_items]}
    if len(items) > max_items:
        body["NextMarker"] = items[max_items - 1]["LayerName"]
    return json_response(body)


async def _get_layer_version_by_arn() -> Response:
    context = api()
    arn = request.args.get("Arn", "")
    if len(arn) > MAX_NAME_LENGTH or re.fullmatch(LAYER_VERSION_ARN_PATTERN, arn) is None:
        rule = f"Member must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}"
        raise constraint(arn, "arn", rule)
    layer, _, version = arn.rpartition(":")
    record = await context.stores.layers.get(layer.rpartition(":")[2], int(version))
    if record is None or record.arn != arn:
        raise ResourceNotFoundException(NOT_FOUND)
    return json_response(render_layer_version(context, record))


def layer_arn(settings: Settings, name: str) -> str:
    return f"arn:aws:lambda:{settings.region}:{settings.account_id}:layer:{name}"


def render_layer_version(context: ApiContext, record: LayerVersion) -> dict[str, object]:
    """GetLayerVersion's (and PublishLayerVersion's) answer."""
    content = {
        "Location": function_code.location(context, record.code_sha256_hex),
        "CodeSha256": code_sha256_b64(record.code_sha256_hex),
        "CodeSize": record.code_size,
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
    return value.rpartition(":")[2]


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
