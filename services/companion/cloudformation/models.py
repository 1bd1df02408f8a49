"""CloudFormation resources served by Tarn: moto's template engine looks up a resource type's
model here first (a hook on its parsing module), and these models create, update and delete
through Tarn's Lambda API. Properties become API parameters by the API's own input shapes, so
CloudFormation's strings ("128", "true") reach Tarn as the numbers and booleans AWS takes.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/AWS_Lambda.html
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlparse

from botocore import xform_name
from botocore.exceptions import ClientError
from moto.cloudformation import models as cloudformation_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cloudformation_responses
from moto.cloudformation import utils as cloudformation_utils
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import ChangeSet, Stack

from services.companion.tarn import lambda_client

# CloudFormation polls until a function is ready, as these waiters do; a slow image pull or a
# large package may take minutes.
WAITER = {"Delay": 0.2, "MaxAttempts": 1500}
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::"
CUSTOM_PREFIX, CUSTOM_RESOURCE = "Custom::", "AWS::CloudFormation::CustomResource"

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (parsing, "resource_class_from_type", ("resource_type",)),
    (parsing, "resource_name_property_from_type", ("resource_type",)),
    (ChangeSet, "apply", ("self",)),
    (Stack, "_parse_template", ("self",)),
    (Stack, "_create_output_map", ("self",)),
    (Stack.stack_parameters, "fget", ("self",)),  # a property
    (parsing.ResourceMap, "build_resource_diff", ("self", "other_template", "parameters")),
    (parsing.ResourceMap, "delete", ("self",)),
    (parsing.ResourceMap, "_delete_resource", ("self", "parsed_resource", "resource_json")),
    (cloudformation_utils, "get_stack_from_s3_url", ("template_url", "account_id", "partition")),
    (cloudformation_responses, "get_stack_from_s3_url", ("template_url",)),
    (cloudformation_models, "get_stack_from_s3_url", ("template_url",)),
]
MODELS: dict[str, type[TarnResource]] = {}


def install() -> None:
    from services.companion.cloudformation import (  # noqa: F401 (the models)
        custom_resources,
        lambda_resources,
    )

    class_from_type: Callable[[str], Any] = parsing.resource_class_from_type
    name_property: Callable[[str], str | None] = parsing.resource_name_property_from_type

    def resource_class_from_type(resource_type: str) -> Any:
        return model_of(resource_type) or class_from_type(resource_type)

    def resource_name_property_from_type(resource_type: str) -> str | None:
        model = model_of(resource_type)
        return model.name_property if model else name_property(resource_type)

    parsing.resource_class_from_type = resource_class_from_type
    parsing.resource_name_property_from_type = resource_name_property_from_type
    ChangeSet.apply = _apply_with_outputs(ChangeSet.apply)  # type: ignore[method-assign,assignment]
    parsing.ResourceMap.build_resource_diff = _unmodified_without_properties(  # type: ignore[method-assign]
        parsing.ResourceMap.build_resource_diff
    )
    parsing.ResourceMap.delete = delete_in_reverse  # type: ignore[method-assign]
    Stack.stack_parameters = property(previous_values)  # type: ignore[method-assign,assignment]
    from_s3 = _template_from_s3(cloudformation_utils.get_stack_from_s3_url)
    cloudformation_responses.get_stack_from_s3_url = from_s3  # type: ignore[attr-defined,assignment]
    cloudformation_models.get_stack_from_s3_url = from_s3  # type: ignore[attr-defined,assignment]


def _unmodified_without_properties(diff: Callable[..., Any]) -> Callable[..., Any]:
    """moto gives each resource it makes an empty Properties, so one the template left without
    (an SQS queue, an SNS topic) was Modify in every later change set; the new template's get
    the same before the two are compared."""

    def build_resource_diff(
        self: parsing.ResourceMap, other_template: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        for resource in other_template.get("Resources", {}).values():
            if isinstance(resource, dict):
                resource.setdefault("Properties", {})
        return diff(self, other_template, *args, **kwargs)

    return build_resource_diff


def delete_in_reverse(self: parsing.ResourceMap) -> None:
    """A stack's resources deleted in the reverse order of their making, as CloudFormation
    does (moto's order is a set's: a custom resource's function could go before it, and its
    Delete request find no function). A failure is tried again after the rest, then raised."""
    made = self._parsed_resources  # dependencies are made, and kept, before what refers to them
    pending = [
        name
        for name in reversed(made)
        if name in self._resource_json_map
        and self._resource_json_map[name].get("DeletionPolicy") != "Retain"
    ]
    failure: Exception | None = None
    while pending:
        failed = []
        for name in pending:
            try:
                self._delete_resource(made[name], self._resource_json_map[name])
            except Exception as exc:
                failed.append(name)
                failure = exc
            else:
                made.pop(name)
        if len(failed) == len(pending):
            raise failure or RuntimeError("unreachable")
        pending = failed


def previous_values(self: Stack) -> dict[str, Any]:
    """The values UsePreviousValue takes (moto reads them from here): an SSM-typed parameter's
    is its parameter's name, as given, not the value it resolved to, which moto would look up
    as a name (`cdk deploy` passes the bootstrap version so on every update)."""
    values = dict(self.resource_map.resolved_parameters)
    for key, slot in self.template_dict.get("Parameters", {}).items():
        if str(slot.get("Type", "")).startswith(SSM_PARAMETER_TYPE):
            values[key] = self.resource_map.input_parameters.get(key, slot.get("Default"))
    return values


def _template_from_s3(original: Callable[[str, str, str], str]) -> Callable[[str, str, str], str]:
    """A TemplateURL on the endpoint itself (`http://127.0.0.1:4566/bucket/key`, as `sam deploy`
    and `cdk deploy` build it from their endpoint) is path-style; moto reads only localhost's
    so, and takes any other host's first label for a bucket."""

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        url = urlparse(template_url)
        if _bare_host(url.hostname or ""):
            template_url = url._replace(netloc="localhost").geturl()
        return original(template_url, account_id, partition)

    return get_stack_from_s3_url


def _bare_host(host: str) -> bool:
    """An IP address or a one-label name: never a bucket's virtual host."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return True


def model_of(resource_type: str) -> type[TarnResource] | None:
    """Tarn's model of a resource type; every `Custom::*` type is a custom resource."""
    if resource_type.startswith(CUSTOM_PREFIX):
        resource_type = CUSTOM_RESOURCE
    return MODELS.get(resource_type)


def _apply_with_outputs(apply: Callable[[ChangeSet], None]) -> Callable[[ChangeSet], None]:
    """moto's executed change set leaves the stack's Outputs as they were (none, after a
    CREATE); `aws cloudformation deploy` and `sam deploy` read them."""

    def apply_change_set(self: ChangeSet) -> None:
        apply(self)
        self.stack.template = self.template
        self.stack._parse_template()
        self.stack.output_map = self.stack._create_output_map()

    return apply_change_set


def call(region: str, operation: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Tarn's `operation` with the properties its input takes, coerced to its shapes."""
    client = lambda_client(region)
    shape = client.meta.service_model.operation_model(operation).input_shape
    params = coerce(shape, properties)
    method = getattr(client, _snake(operation))
    try:
        return dict(method(**params))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise  # `ignoring_missing` decides
        error = exc.response["Error"]
        reason = f'Resource handler returned message: "{error.get("Message")}" ({operation}: '
        raise ValidationError(message=f"{reason}{error['Code']})") from None


def coerce(shape: Any, value: Any) -> Any:
    """`value` as botocore's `shape` takes it; members the shape has not are dropped."""
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        return {k: coerce(members[k], v) for k, v in value.items() if k in members}
    if kind == "list":
        return [coerce(shape.member, item) for item in value]
    if kind == "map":
        if isinstance(value, list):  # CloudFormation's [{Key, Value}] tags
            value = {item["Key"]: item["Value"] for item in value}
        return {k: coerce(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind == "blob":
        return value.encode() if isinstance(value, str) else value
    return value


def wait(region: str, waiter: str, function: str) -> None:
    lambda_client(region).get_waiter(waiter).wait(FunctionName=function, WaiterConfig=WAITER)


def ignoring_missing(action: Callable[[], object]) -> None:
    """A delete of what is already gone succeeds, as on CloudFormation."""
    try:
        action()
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise


class TarnResource:
    """One resource of a stack, held by moto's stack; plain data, so snapshots pickle it."""

    cfn_type: ClassVar[str]
    name_property: ClassVar[str | None] = None
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        MODELS[cls.cfn_type] = cls

    def __init__(self, region: str, name: str, properties: dict[str, Any]) -> None:
        self.region = region
        self.name = name
        self.properties = properties
        self.physical_resource_id = name
        self.attributes: dict[str, Any] = {}

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.cfn_type

    @classmethod
    def cloudformation_name_type(cls) -> str | None:
        return cls.name_property

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> TarnResource:
        resource = cls(region_name, resource_name, dict(cloudformation_json["Properties"]))
        resource.place(account_id, kwargs)
        resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: TarnResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> TarnResource:
        properties = dict(cloudformation_json["Properties"])
        if original_resource.updates_in_place(properties):
            original_resource.update(properties)
            original_resource.properties = properties
            return original_resource
        replacement = cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )
        original_resource.delete(account_id, region_name)  # after, as CloudFormation does
        return replacement

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Only for a resource moto no longer holds; `delete` is what stacks call."""

    def is_created(self) -> bool:
        return True  # each model returns once Tarn has it ready

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name in self.attributes:
            return self.attributes[attribute_name]
        raise UnformattedGetAttTemplateException()

    def updates_in_place(self, properties: dict[str, Any]) -> bool:
        """False: a change replaces the resource (the default for what AWS cannot update)."""
        return False

    def place(self, account_id: str, stack: dict[str, Any]) -> None:
        """What moto tells of where the resource sits (StackId, LogicalId, ResourceType), before
        it is made; Lambda's resources need none of it, a custom resource sends it on."""

    def create(self) -> None:
        raise NotImplementedError

    def update(self, properties: dict[str, Any]) -> None:
        raise NotImplementedError

    def delete(self, account_id: str, region_name: str) -> None:
        raise NotImplementedError


def _snake(operation: str) -> str:
    return str(xform_name(operation))
