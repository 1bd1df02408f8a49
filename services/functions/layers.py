"""The layers a function's configuration names: resolved to their archives and checked as
AWS checks them. https://docs.aws.amazon.com/lambda/latest/dg/adding-layers.html
"""

from __future__ import annotations

import re

import anyio

from bus.archives import check_archive
from bus.arns import layer_arn_of
from bus.quotas import UNZIPPED_CODE_BYTES
from bus.records import LayerCode
from bus.stores import LayerStore
from services.context import ApiContext
from services.errors import InvalidParameterValueException
from services.functions import packages

MAX_LAYERS = 5
_LAYER_VERSION_ARN = re.compile(
    r"arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)"
)


async def resolve_layers(context: ApiContext, arns: list[str] | None) -> list[LayerCode] | None:
    """The archives of the layer versions `arns` names, in order; None if not given."""
    if arns is None:
        return None
    if len(arns) > MAX_LAYERS:
        raise InvalidParameterValueException(f"Cannot reference more than {MAX_LAYERS} layers.")
    store = context.stores.layers
    seen: dict[str, str] = {}
    layers = []
    for arn in arns:
        layers.append(await _layer(context, store, arn))
        layer = layer_arn_of(arn)
        if layer in seen:
            raise InvalidParameterValueException(
                "Two different versions of the same layer are not allowed to be referenced in "
                f"the same function. {seen[layer]} and {arn} are versions of the same layer."
            )
        seen[layer] = arn
    return layers


async def _layer(context: ApiContext, store: LayerStore, arn: str) -> LayerCode:
    match = _LAYER_VERSION_ARN.fullmatch(arn)
    region = context.settings.region
    if match is not None and match["region"] != region:
        raise InvalidParameterValueException(
            "Layers are not in the same region as the function. Layers are expected to be in "
            f"region {region}."
        )
    record = None
    if match is not None and match["account"] == context.settings.account_id:
        record = await store.get(match["name"], int(match["version"]))
    if record is None:
        raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
    return record.code()


async def check_combined_size(
    context: ApiContext, code_sha256_hex: str, layers: list[LayerCode]
) -> None:
    """Refuse code and layers that would unzip to more than Lambda's 250 MB."""
    if not layers:
        return
    code_size = await unzipped_size(await context.stores.blobs.get(code_sha256_hex) or b"")
    total = code_size + sum(layer.unzipped_size for layer in layers)
    if total > UNZIPPED_CODE_BYTES:
        raise InvalidParameterValueException(
            "Function code combined with layers exceeds the maximum allowed size of "
            f"{UNZIPPED_CODE_BYTES} bytes. The actual size is {total} bytes."
        )


async def unzipped_size(data: bytes) -> int:
    """The unzipped size of an archive checked already (this reads only its directory)."""
    if not data:
        return 0
    if len(data) > packages.THREAD_ABOVE_BYTES:
        return await anyio.to_thread.run_sync(check_archive, data)
    return check_archive(data)
