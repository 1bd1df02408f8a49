"""Event-invoke configs: retries, maximum event age and destinations of Event invocations,
one record per function version or alias.

https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from quart import Blueprint, Response

from bus.arns import Arn, service_of
from bus.quotas import ASYNC_EVENT_AGE_S, ASYNC_RETRY_ATTEMPTS
from bus.records import LATEST, EventInvokeConfig
from services.context import ApiContext, api
from services.errors import InvalidParameterValueException, ResourceNotFoundException
from services.functions.refs import FunctionRef, function_arn, function_ref, qualified_arn, resolve
from services.requests import (
    DESTINATION_ARN_MAX,
    DESTINATION_ARN_PATTERN,
    DestinationConfigInput,
    Problems,
    RequestShape,
    decode_body,
    list_page,
    read_body,
)
from services.responses import json_response

blueprint = Blueprint("event_invoke_configs", __name__)

CONFIG = "/2019-09-25/functions/<function_name>/event-invoke-config"
# Where records can go: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
# (an S3 bucket on failure only; Tarn accepts it, and its worker logs that it cannot deliver).
DESTINATION_SERVICES = {
    "on_success": ("sqs", "sns", "lambda", "events"),
    "on_failure": ("sqs", "sns", "lambda", "events", "s3"),
}
DESTINATION_MEMBERS = {"on_success": "onSuccess", "on_failure": "onFailure"}
# ListFunctionEventInvokeConfigs' MaxItems: 1 to 50.
LIST_PAGE_MAX = 50


class EventInvokeConfigInput(RequestShape):
    maximum_retry_attempts: int | None = None
    maximum_event_age_in_seconds: int | None = None
    destination_config: DestinationConfigInput | None = None

    def destination(self, which: str) -> str | None:
        config = self.destination_config
        target = None if config is None else getattr(config, which)
        return None if target is None else target.destination or None


@blueprint.put(CONFIG)
async def put_config(function_name: str) -> Response:
    return await _write(function_name, merge=False)


@blueprint.post(CONFIG)
async def update_config(function_name: str) -> Response:
    return await _write(function_name, merge=True)


@blueprint.get(CONFIG)
async def get_config(function_name: str) -> Response:
    context = api()
    ref = await _existing(context, function_name)
    config = await _get(context, ref)
    if config is None:
        raise _no_config(context, ref)
    return json_response(render(context, config))


@blueprint.delete(CONFIG)
async def delete_config(function_name: str) -> Response:
    context = api()
    ref = await _existing(context, function_name)
    if not await context.stores.event_invoke_configs.delete(ref.name, ref.qualifier or LATEST):
        raise _no_config(context, ref)
    return Response(b"", status=204)


@blueprint.get(CONFIG + "/list")
async def list_configs(function_name: str) -> Response:
    context = api()
    name = (await _existing(context, function_name)).name
    configs = await context.stores.event_invoke_configs.all(name)
    page = list_page(high=LIST_PAGE_MAX, most=LIST_PAGE_MAX)
    matching = [c for c in configs if not page.marker or c.qualifier > page.marker]
    return page.respond(
        "FunctionEventInvokeConfigs", matching, lambda c: render(context, c), lambda c: c.qualifier
    )


async def _write(function_name: str, *, merge: bool) -> Response:
    context = api()
    body = decode_body(await read_body(), EventInvokeConfigInput)
    _check(body)
    ref = await _existing(context, function_name)
    await _check_destinations(context, body, ref.name)
    qualifier = ref.qualifier or LATEST

    def change(current: EventInvokeConfig | None) -> EventInvokeConfig:
        if merge and current is None:
            raise _no_config(context, ref)
        return _changed(current if merge else None, body, ref.name, qualifier)

    config = await context.stores.event_invoke_configs.write(ref.name, qualifier, change)
    return json_response(render(context, config))


def _changed(
    current: EventInvokeConfig | None, body: EventInvokeConfigInput, name: str, qualifier: str
) -> EventInvokeConfig:
    base = current or EventInvokeConfig(function_name=name, qualifier=qualifier, last_modified=0)
    changes: dict[str, Any] = {"last_modified": time.time()}
    if body.maximum_retry_attempts is not None:
        changes["maximum_retry_attempts"] = body.maximum_retry_attempts
    if body.maximum_event_age_in_seconds is not None:
        changes["maximum_event_age_s"] = body.maximum_event_age_in_seconds
    if body.destination_config is not None:
        changes["on_success"] = body.destination("on_success")
        changes["on_failure"] = body.destination("on_failure")
    return msgspec.structs.replace(base, **changes)


def _check(body: EventInvokeConfigInput) -> None:
    """The model's constraints, then AWS's rule that a request must set something."""
    problems = Problems()
    problems.bounds(body.maximum_retry_attempts, "maximumRetryAttempts", 0, ASYNC_RETRY_ATTEMPTS)
    problems.bounds(
        body.maximum_event_age_in_seconds, "maximumEventAgeInSeconds", *ASYNC_EVENT_AGE_S
    )
    for which, member in DESTINATION_MEMBERS.items():
        arn = body.destination(which)
        path = f"destinationConfig.{member}.destination"
        problems.max_length(arn, path, DESTINATION_ARN_MAX)
        problems.pattern(arn, path, DESTINATION_ARN_PATTERN)
    problems.raise_any()
    if (
        body.maximum_retry_attempts is None
        and body.maximum_event_age_in_seconds is None
        and not any(body.destination(which) for which in DESTINATION_MEMBERS)
    ):
        raise InvalidParameterValueException(
            "You must specify at least one of error handling or destination setting."
        )


async def _existing(context: ApiContext, function_name: str) -> FunctionRef:
    """The function (and version or alias) the request names; it must exist."""
    ref = function_ref(function_name)
    await resolve(context, ref)
    return ref


async def _check_destinations(context: ApiContext, body: EventInvokeConfigInput, name: str) -> None:
    """AWS's rules for destinations: a service that takes records, an existing function
    that is not this one; the error messages are AWS's."""
    for which in DESTINATION_MEMBERS:
        arn = body.destination(which)
        if not arn:
            continue
        service = service_of(arn)  # none for kafka://, which is for event sources
        if service not in DESTINATION_SERVICES[which]:
            raise InvalidParameterValueException(
                f"The provided destination config {_config_text(body)} is invalid."
            )
        if service == "lambda":
            await _check_function_destination(context, arn, name)


async def _check_function_destination(context: ApiContext, arn: str, name: str) -> None:
    own = function_arn(context.settings, name)
    resource = Arn.parse(arn).resource_parts  # ["function", NAME, QUALIFIER?]
    target = resource[1] if resource[0] == "function" and len(resource) > 1 else ""
    known = target and arn.startswith(function_arn(context.settings, target))
    if not known or not await context.redis.exists(context.keys.function(target)):
        raise InvalidParameterValueException(f"The destination ARN {arn} is invalid.")
    if arn == own or arn.startswith(own + ":"):
        raise InvalidParameterValueException(
            "You can't specify the function as a destination for itself."
        )


def _config_text(body: EventInvokeConfigInput) -> str:
    """The destination config as AWS's (Java) error message prints it."""
    success, failure = body.destination("on_success"), body.destination("on_failure")
    on_success = f"OnSuccess(destination={success})" if success else "null"
    on_failure = f"OnFailure(destination={failure})" if failure else "null"
    return f"DestinationConfig(onSuccess={on_success}, onFailure={on_failure})"


async def _get(context: ApiContext, ref: FunctionRef) -> EventInvokeConfig | None:
    return await context.stores.event_invoke_configs.get(ref.name, ref.qualifier or LATEST)


def _no_config(context: ApiContext, ref: FunctionRef) -> ResourceNotFoundException:
    arn = qualified_arn(context, FunctionRef(ref.name, ref.qualifier or LATEST))
    return ResourceNotFoundException(f"The function {arn} doesn't have an EventInvokeConfig")


def render(context: ApiContext, config: EventInvokeConfig) -> dict[str, Any]:
    """A FunctionEventInvokeConfig."""
    body: dict[str, Any] = {
        "LastModified": config.last_modified,
        "FunctionArn": qualified_arn(context, FunctionRef(config.function_name, config.qualifier)),
        "DestinationConfig": {
            "OnSuccess": {"Destination": config.on_success} if config.on_success else {},
            "OnFailure": {"Destination": config.on_failure} if config.on_failure else {},
        },
    }
    if config.maximum_retry_attempts is not None:
        body["MaximumRetryAttempts"] = config.maximum_retry_attempts
    if config.maximum_event_age_s is not None:
        body["MaximumEventAgeInSeconds"] = config.maximum_event_age_s
    return body
