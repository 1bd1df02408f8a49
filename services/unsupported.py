"""Operations in AWS's Lambda API that Tarn does not serve: each answers 400
InvalidParameterValueException (an error every one of them models) naming the operation, so
a client sees "Tarn does not support ..." rather than an unknown operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quart import Blueprint, Response

from services.errors import InvalidParameterValueException

blueprint = Blueprint("unsupported", __name__)

CAPACITY_PROVIDERS = "/2025-11-30/capacity-providers"
DURABLE_EXECUTIONS = "/2025-12-01/durable-executions/<path:arn>"
CALLBACKS = "/2025-12-01/durable-execution-callbacks/<path:callback_id>"
RESOURCE_POLICY = "/2026-07-09/resource-policy/<path:arn>"  # botocore 1.44's model

# family -> (operation, HTTP method, path), the paths as botocore's model has them.
UNSUPPORTED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "CapacityProvider": (
        ("CreateCapacityProvider", "POST", CAPACITY_PROVIDERS),
        ("ListCapacityProviders", "GET", CAPACITY_PROVIDERS),
        ("GetCapacityProvider", "GET", CAPACITY_PROVIDERS + "/<name>"),
        ("UpdateCapacityProvider", "PUT", CAPACITY_PROVIDERS + "/<name>"),
        ("DeleteCapacityProvider", "DELETE", CAPACITY_PROVIDERS + "/<name>"),
        (
            "ListFunctionVersionsByCapacityProvider",
            "GET",
            CAPACITY_PROVIDERS + "/<name>/function-versions",
        ),
    ),
    "DurableExecution": (
        ("GetDurableExecution", "GET", DURABLE_EXECUTIONS),
        ("GetDurableExecutionHistory", "GET", DURABLE_EXECUTIONS + "/history"),
        ("GetDurableExecutionState", "GET", DURABLE_EXECUTIONS + "/state"),
        ("CheckpointDurableExecution", "POST", DURABLE_EXECUTIONS + "/checkpoint"),
        ("StopDurableExecution", "POST", DURABLE_EXECUTIONS + "/stop"),
        ("PauseDurableExecution", "POST", DURABLE_EXECUTIONS + "/pause"),
        ("ResumeDurableExecution", "POST", DURABLE_EXECUTIONS + "/resume"),
        ("DeleteDurableExecution", "DELETE", DURABLE_EXECUTIONS),
        (
            "ListDurableExecutionsByFunction",
            "GET",
            "/2025-12-01/functions/<function_name>/durable-executions",
        ),
        ("SendDurableExecutionCallbackSuccess", "POST", CALLBACKS + "/succeed"),
        ("SendDurableExecutionCallbackFailure", "POST", CALLBACKS + "/fail"),
        ("SendDurableExecutionCallbackHeartbeat", "POST", CALLBACKS + "/heartbeat"),
    ),
    "ResourcePolicy": (
        ("GetResourcePolicy", "GET", RESOURCE_POLICY),
        ("PutResourcePolicy", "PUT", RESOURCE_POLICY),
        ("DeleteResourcePolicy", "DELETE", RESOURCE_POLICY),
    ),
}


def _refuse(family: str, operation: str) -> Callable[..., Awaitable[Response]]:
    async def refuse(**_: str) -> Response:
        noun = f"the {family} operations" if family[0].isupper() else family
        raise InvalidParameterValueException(f"Tarn does not support {noun} ({operation}).")

    return refuse


for _family, _operations in UNSUPPORTED.items():
    for _operation, _method, _path in _operations:
        blueprint.add_url_rule(_path, _operation, _refuse(_family, _operation), methods=[_method])
