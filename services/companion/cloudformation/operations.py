"""Stack operations (CreateStack, UpdateStack, ExecuteChangeSet) run in the background, as on
CloudFormation: a thread makes the resources, and the request answers once it is done or after
REQUEST_WAIT_S with the stack IN_PROGRESS (a slow one, an image pull or a custom resource, never
outlasts a client's read timeout; a quick one is done by the waiter's first look, and the AWS
CLI's next look is 30 s later). Waiters see CREATE_COMPLETE, UPDATE_COMPLETE or the rollback's
outcome. While an operation runs, the stack's Outputs are not given and its resources are those
already made (moto makes a resource on first reference: a read must not race the operation to
make it), and another operation on it is refused. DeleteStack stays in the request: a deleted
stack is gone from DescribeStacks at once, so its waiter could not tell.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack, cloudformation_backends

from services.companion.cloudformation import change_sets
from services.companion.cloudformation.rollbacks import (
    as_failure,
    roll_back_create,
    roll_back_update,
    set_status,
)

log = logging.getLogger("tarn.companion")

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (Stack, "create_resources", ("self",)),
    (Stack, "update", ("self", "template", "role_arn", "parameters", "tags")),
    (Stack, "mark_creation_complete", ("self",)),
    (Stack.outputs, "fget", ("self",)),  # properties
    (Stack.stack_resources, "fget", ("self",)),
    (CloudFormationBackend, "execute_change_set", ("self", "change_set_name", "stack_name")),
    (CloudFormationBackend, "update_stack", ("self", "name", "template", "role_arn")),
    (CloudFormationBackend, "create_change_set", ("self", "stack_name", "change_set_name")),
]
_RUNNING: dict[str, threading.Thread] = {}  # by stack ID
REQUEST_WAIT_S = 5.0
# What a stack whose operation a stop cut short becomes at the next start: a state AWS leaves
# a stack in when it cannot go on, from which it can be deleted.
INTERRUPTED = {
    "CREATE_IN_PROGRESS": "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS": "ROLLBACK_FAILED",
    "UPDATE_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
}


def install(on_change: Callable[[bool], None]) -> None:
    """`on_change` when an operation ends (its request has long been answered)."""
    create, update = Stack.create_resources, Stack.update
    outputs = vars(Stack)["outputs"].fget

    def create_resources(self: Stack) -> None:
        set_status(self, "CREATE_IN_PROGRESS")
        _background(self, lambda: _create(self, create), on_change)

    def update_in_background(self: Stack, template: str, *args: Any, **kwargs: Any) -> None:
        before = self.template, dict(self.resource_map.input_parameters)
        set_status(self, "UPDATE_IN_PROGRESS")

        def work() -> None:
            _update(self, update, before, template, *args, **kwargs)

        _background(self, work, on_change)

    Stack.create_resources = create_resources  # type: ignore[method-assign]
    Stack.update = update_in_background  # type: ignore[method-assign]
    Stack.outputs = property(lambda self: None if busy(self) else outputs(self))  # type: ignore[method-assign,assignment]
    Stack.stack_resources = property(made_resources)  # type: ignore[method-assign,assignment]
    backend = CloudFormationBackend
    backend.update_stack = _refused_while_busy(backend.update_stack)  # type: ignore[method-assign]
    backend.create_change_set = _refused_while_busy(backend.create_change_set)  # type: ignore[method-assign]

    def execute(
        self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
    ) -> None:
        execute_change_set(self, change_set_name, stack_name, on_change)

    backend.execute_change_set = execute  # type: ignore[method-assign]


def busy(stack: Stack) -> bool:
    return str(stack.status).endswith("_IN_PROGRESS") and stack.stack_id in _RUNNING


def made_resources(self: Stack) -> Iterable[Any]:
    """The stack's resources that exist (moto's own list makes any not yet made)."""
    json_map = self.resource_map._resource_json_map
    made = self.resource_map._parsed_resources
    return [made[name] for name in json_map if name in made]


def _background(stack: Stack, work: Callable[[], None], on_change: Callable[[bool], None]) -> None:
    def run() -> None:
        try:
            work()
        except Exception:
            log.exception("stack %s: the operation failed past its rollback", stack.name)
        finally:
            _RUNNING.pop(stack.stack_id, None)
            on_change(False)

    thread = threading.Thread(target=run, name=f"stack {stack.name}", daemon=True)
    _RUNNING[stack.stack_id] = thread
    thread.start()
    thread.join(REQUEST_WAIT_S)


def _create(stack: Stack, create: Callable[[Stack], None]) -> None:
    try:
        create(stack)  # ends in moto's mark_creation_complete
    except Exception as exc:
        roll_back_create(stack, as_failure(exc, "CREATE"))


def _update(
    stack: Stack,
    update: Callable[..., None],
    before: tuple[Any, dict[str, Any]],
    *args: Any,
    **kwargs: Any,
) -> None:
    vars(stack)["status_reason"] = None
    try:
        update(stack, *args, **kwargs)  # ends UPDATE_COMPLETE
    except Exception as exc:
        roll_back_update(stack, as_failure(exc, "UPDATE"), *before)


def _refused_while_busy(operation: Callable[..., Any]) -> Callable[..., Any]:
    def refuse_while_busy(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("stack_name", kwargs.get("name", args[0] if args else None))
        for stack in list(self.stacks.values()):
            if name in (stack.name, stack.stack_id) and busy(stack):
                message = (
                    f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                )
                raise ValidationError(message=message)
        return operation(self, *args, **kwargs)

    return refuse_while_busy


def execute_change_set(
    self: CloudFormationBackend,
    change_set_name: str,
    stack_name: str | None,
    on_change: Callable[[bool], None],
) -> None:
    """moto's, on the stack's own change set, in the background, with a failure rolled back."""
    change_set = change_sets.find(self, change_set_name, stack_name)
    stack = self.stacks[change_set.stack_id]
    if busy(stack):
        message = f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        raise ValidationError(message=message)
    kind = change_set.change_set_type
    before = stack.template, dict(stack.resource_map.input_parameters)
    set_status(stack, f"{kind}_IN_PROGRESS")
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    stack._add_stack_event(f"{kind}_IN_PROGRESS", resource_status_reason="User Initiated")

    def apply() -> None:
        try:
            change_set.apply()
        except Exception as exc:
            change_set.execution_status = "EXECUTE_FAILED"
            failed = as_failure(exc, kind)
            if kind == "CREATE":
                roll_back_create(stack, failed)
            else:
                roll_back_update(stack, failed, *before)
            return
        stack._add_stack_event(f"{kind}_COMPLETE")
        change_set.execution_status = "EXECUTE_COMPLETE"
        stack.template = change_set.template
        stack.status = f"{kind}_COMPLETE"  # last: waiters read it

    _background(stack, apply, on_change)


def fail_interrupted() -> list[str]:
    """After a restore: the stacks whose operation the last stop cut short, failed (their
    thread is gone); their names."""
    failed = []
    for regions in list(dict.values(cloudformation_backends)):
        for backend in list(dict.values(regions)):
            for stack in list(backend.stacks.values()):
                status = INTERRUPTED.get(str(stack.status))
                if status is not None:
                    reason = f"Tarn's companion stopped during {stack.status}"
                    set_status(stack, status, reason)
                    stack._add_stack_event(status, resource_status_reason=reason)
                    failed.append(stack.name)
    return failed
