"""Change sets looked up as CloudFormation does: a name is one stack's (every `cdk deploy` names
its change set `cdk-deploy-change-set`, so moto's lookup across all stacks by name alone finds
another stack's), a missing one is ChangeSetNotFoundException, and deleting one that is not
there succeeds while its stack exists (the CDK CLI deletes before it creates).
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html
"""

from __future__ import annotations

from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (CloudFormationResponse, "describe_change_set", ("self",)),
    (CloudFormationResponse, "delete_change_set", ("self",)),
    (CloudFormationResponse, "_get_param", ("self", "param_name")),
]


class ChangeSetNotFoundException(CloudFormationError):
    code = "ChangeSetNotFoundException"


def install() -> None:
    CloudFormationResponse.describe_change_set = describe_change_set  # type: ignore[method-assign]
    CloudFormationResponse.delete_change_set = delete_change_set  # type: ignore[method-assign]


def find(backend: CloudFormationBackend, name_or_arn: str, stack: str | None) -> ChangeSet:
    """The change set an ARN names, or the newest of that name on the stack (by name or ID)."""
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    for change_set in reversed(list(backend.change_sets.values())):
        on_stack = stack is None or stack in (change_set.stack_name, change_set.stack_id)
        if change_set.change_set_name == name_or_arn and on_stack:
            return change_set
    raise ChangeSetNotFoundException(f"ChangeSet [{name_or_arn}] does not exist")


def describe_change_set(self: CloudFormationResponse) -> ActionResult:
    stack = self._get_param("StackName")
    return ActionResult(find(self.cloudformation_backend, self._get_param("ChangeSetName"), stack))


def delete_change_set(self: CloudFormationResponse) -> ActionResult:
    backend, stack = self.cloudformation_backend, self._get_param("StackName")
    try:
        change_set = find(backend, self._get_param("ChangeSetName"), stack)
    except ChangeSetNotFoundException:
        if stack is None or stack_exists(backend, stack):
            return EmptyResult()
        raise ValidationError(stack) from None
    del backend.change_sets[change_set.change_set_id]
    return EmptyResult()


def stack_exists(backend: CloudFormationBackend, stack: str) -> bool:
    return any(stack in (s.name, s.stack_id) for s in backend.stacks.values())
