"""GetAccountSettings: the account's limits and what its functions and layers use.

https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
"""

from __future__ import annotations

from quart import Blueprint, Response

from bus.quotas import UNZIPPED_CODE_BYTES, ZIPPED_CODE_BYTES
from services.context import ApiContext, api
from services.responses import json_response

blueprint = Blueprint("account", __name__)

# Code storage for functions and layers: 75 GB. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
TOTAL_CODE_BYTES = 80_530_636_800
NAMES_PER_READ = 1000


@blueprint.get("/2016-08-19/account-settings")
@blueprint.get("/2016-08-19/account-settings/")
async def get_account_settings() -> Response:
    context = api()
    limit = context.settings.account_concurrency
    reserved = await context.stores.function_settings.reserved_total()
    function_count, function_bytes = await _function_usage(context)
    return json_response(
        {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_BYTES,
                "CodeSizeUnzipped": UNZIPPED_CODE_BYTES,
                "CodeSizeZipped": ZIPPED_CODE_BYTES,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit - reserved,
            },
            "AccountUsage": {
                "TotalCodeSize": function_bytes + await _layer_bytes(context),
                "FunctionCount": function_count,
            },
        }
    )


async def _function_usage(context: ApiContext) -> tuple[int, int]:
    """How many functions there are, and the code size of all their versions."""
    count = total = 0
    marker = None
    while names := await context.stores.functions.names_after(marker, NAMES_PER_READ):
        count += len(names)
        for name in names:
            total += sum(v.code_size for v in await context.stores.functions.versions(name))
        marker = names[-1]
    return count, total


async def _layer_bytes(context: ApiContext) -> int:
    total = 0
    marker = None
    while names := await context.stores.layers.names_after(marker, NAMES_PER_READ):
        for name in names:
            total += sum(v.code_size for v in await context.stores.layers.versions(name))
        marker = names[-1]
    return total
