"""A resource that fails fails its stack as on CloudFormation, instead of moto's error answer and
a stack left half made: the resource's event says why (CREATE_FAILED / UPDATE_FAILED), the
stack's StackStatusReason names it, and what the operation made is rolled back, to
ROLLBACK_COMPLETE after a create and UPDATE_ROLLBACK_COMPLETE after an update, where waiters
and `aws cloudformation deploy` see the failure. The operations themselves: operations.py.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-rollback-triggers.html
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import Event, Stack, cloudformation_backends

log = logging.getLogger("tarn.companion")
RESOURCE_PARAMETERS = ("logical_id", "resource_json", "resources_map", "account_id", "region_name")

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (parsing, "parse_and_create_resource", RESOURCE_PARAMETERS),
    (parsing, "parse_and_update_resource", RESOURCE_PARAMETERS),
    (parsing.ResourceMap, "__init__", ("self", "stack_id", "stack_name", "parameters", "tags")),
    (parsing.OutputMap, "__init__", ("self", "resources", "template", "stack_id")),
]


class ResourceFailed(Exception):
    """A stack's resource that could not be made: which, doing what, and why."""

    def __init__(self, logical_id: str, resource_type: str, action: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.action = action  # CREATE | UPDATE
        self.reason = reason


def install() -> None:
    parsing.parse_and_create_resource = _failing("CREATE", parsing.parse_and_create_resource)
    parsing.parse_and_update_resource = _failing("UPDATE", parsing.parse_and_update_resource)


def _failing(action: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def make(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(logical_id, resource_json, *args, **kwargs)
        except ResourceFailed:
            raise  # a resource this one refers to, created on the way
        except Exception as exc:
            kind = str(resource_json.get("Type", ""))
            raise ResourceFailed(logical_id, kind, action, reason_of(exc)) from exc

    return make


def as_failure(exc: Exception, action: str) -> ResourceFailed:
    """A resource's failure as it is; any other (parameters, moto's own errors) the stack's."""
    if isinstance(exc, ResourceFailed):
        return exc
    log.warning("a stack operation failed", exc_info=exc)
    return ResourceFailed("", "AWS::CloudFormation::Stack", action, reason_of(exc))


def reason_of(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc or type(exc).__name__)


def roll_back_create(stack: Stack, failed: ResourceFailed) -> None:
    """Delete what the create made, then ROLLBACK_COMPLETE (or ROLLBACK_FAILED)."""
    _failed(stack, failed, "ROLLBACK", "Rollback requested by user.")
    backend = cloudformation_backends[stack.account_id][stack.region_name]
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            del backend.exports[name]
    _finish(stack, "ROLLBACK", lambda: _delete_all(stack))


def _delete_all(stack: Stack) -> None:
    """Delete what the stack made; then it holds nothing: moto makes a resource on first
    reference, so a resource map left in place would make them again for DescribeStacks'
    Outputs or DescribeStackResources."""
    stack.resource_map.delete()
    empty = parsing.ResourceMap(
        stack.stack_id,
        stack.name,
        stack.parameters,
        stack.tags,
        region_name=stack.region_name,
        account_id=stack.account_id,
        template={},
        cross_stack_resources=stack.cross_stack_resources,
    )
    stack.resource_map = empty
    stack.output_map = parsing.OutputMap(empty, {}, stack.stack_id)


def roll_back_update(
    stack: Stack, failed: ResourceFailed, template: Any, parameters: dict[str, Any]
) -> None:
    """Bring the resources back to the template before the update: what it added is deleted,
    what it changed is changed back; UPDATE_ROLLBACK_COMPLETE (or UPDATE_ROLLBACK_FAILED)."""
    _failed(stack, failed, "UPDATE_ROLLBACK")

    def restore() -> None:
        stack.template = template
        stack._parse_template()
        stack.resource_map.update(stack.template_dict, parameters)
        stack.output_map = stack._create_output_map()

    _finish(stack, "UPDATE_ROLLBACK", restore)


def set_status(stack: Stack, status: str, reason: str | None = None) -> None:
    """moto's Stack has no reason; its serializer answers `status_reason` as StackStatusReason."""
    stack.status = status
    vars(stack)["status_reason"] = reason


def _failed(stack: Stack, failed: ResourceFailed, rollback: str, more: str = "") -> None:
    """The failed resource's event (if a resource failed), then the stack's rollback begins."""
    log.info("stack %s: %s failed: %s", stack.name, failed.logical_id or "it", failed.reason)
    reason = failed.reason
    if failed.logical_id:
        event = Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=failed.logical_id,
            physical_resource_id="",
            resource_type=failed.resource_type,
            resource_status=f"{failed.action}_FAILED",
            resource_status_reason=failed.reason,
            resource_properties=None,
        )
        stack.events.append(event)
        action = failed.action.lower()
        reason = f"The following resource(s) failed to {action}: [{failed.logical_id}]. {more}"
    set_status(stack, f"{rollback}_IN_PROGRESS", reason.strip())
    stack._add_stack_event(f"{rollback}_IN_PROGRESS", resource_status_reason=reason.strip())


def _finish(stack: Stack, rollback: str, undo: Callable[[], None]) -> None:
    try:
        undo()
    except Exception as exc:
        reason = f"The rollback failed: {reason_of(exc)}"
        log.warning("stack %s: %s", stack.name, reason)
        set_status(stack, f"{rollback}_FAILED", reason)
        stack._add_stack_event(f"{rollback}_FAILED", resource_status_reason=reason)
        return
    stack.status = f"{rollback}_COMPLETE"
    stack._add_stack_event(f"{rollback}_COMPLETE")
