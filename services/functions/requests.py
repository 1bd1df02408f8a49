"""Request bodies of the function-management operations, and their validation as AWS does it:
the model's constraints first (one ValidationException), then Lambda's own checks.
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
"""

from __future__ import annotations

import json
import re

import msgspec

from bus.quotas import EPHEMERAL_STORAGE_MB, MEMORY_MB, TIMEOUT_S
from services.errors import InvalidParameterValueException
from services.functions.options import (
    LoggingConfigInput,
    SnapStartInput,
    VpcConfigInput,
    check_log_levels,
    check_options,
)
from services.functions.runtimes import check_runtime
from services.requests import Problems, RequestShape


class CodeInput(RequestShape):
    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None
    image_uri: str | None = None


class EnvironmentInput(RequestShape):
    variables: dict[str, str] | None = None


class EphemeralStorageInput(RequestShape):
    size: int | None = None


class TracingConfigInput(RequestShape):
    mode: str | None = None


class DeadLetterConfigInput(RequestShape):
    target_arn: str | None = None


class ConfigurationInput(RequestShape):
    """Members shared by CreateFunction and UpdateFunctionConfiguration."""

    role: str | None = None
    handler: str | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    runtime: str | None = None
    environment: EnvironmentInput | None = None
    ephemeral_storage: EphemeralStorageInput | None = None
    tracing_config: TracingConfigInput | None = None
    logging_config: LoggingConfigInput | None = None
    dead_letter_config: DeadLetterConfigInput | None = None
    kms_key_arn: str | None = msgspec.field(default=None, name="KMSKeyArn")
    layers: list[str] | None = None
    image_config: dict[str, object] | None = None
    vpc_config: VpcConfigInput | None = None
    snap_start: SnapStartInput | None = None
    revision_id: str | None = None


class CreateFunctionInput(ConfigurationInput):
    function_name: str | None = None
    code: CodeInput | None = None
    publish: bool = False
    package_type: str | None = None
    tags: dict[str, str] | None = None
    architectures: list[str] | None = None
    code_signing_config_arn: str | None = None


class UpdateCodeInput(RequestShape):
    zip_file: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None
    s3_object_version: str | None = None
    image_uri: str | None = None
    publish: bool = False
    dry_run: bool = False
    revision_id: str | None = None
    architectures: list[str] | None = None


ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
HANDLER_PATTERN = r"[^\s]+"
ENV_NAME_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
# As AWS reports it for Layers (wider than botocore's LayerVersionArn pattern).
LAYER_VERSION_ARN_PATTERN = (
    r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|"
    r"(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
MAX_LAYER_ARN_LENGTH = 140
ARCHITECTURES = ("x86_64", "arm64")
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
RESERVED_ENV = frozenset(
    "_HANDLER _X_AMZN_TRACE_ID AWS_DEFAULT_REGION AWS_REGION AWS_EXECUTION_ENV "
    "AWS_LAMBDA_FUNCTION_NAME AWS_LAMBDA_FUNCTION_MEMORY_SIZE AWS_LAMBDA_FUNCTION_VERSION "
    "AWS_LAMBDA_INITIALIZATION_TYPE AWS_LAMBDA_LOG_GROUP_NAME AWS_LAMBDA_LOG_STREAM_NAME "
    "AWS_ACCESS_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN "
    "AWS_LAMBDA_RUNTIME_API LAMBDA_TASK_ROOT LAMBDA_RUNTIME_DIR".split()
)
MAX_ENVIRONMENT_BYTES = 4096


def check_configuration(request: ConfigurationInput, problems: Problems) -> None:
    """Model constraints on the members CreateFunction and UpdateFunctionConfiguration share."""
    problems.pattern(request.role, "role", ROLE_PATTERN)
    problems.max_length(request.handler, "handler", 128)
    problems.pattern(request.handler, "handler", HANDLER_PATTERN)
    problems.max_length(request.description, "description", 256)
    problems.bounds(request.timeout, "timeout", *TIMEOUT_S)
    problems.bounds(request.memory_size, "memorySize", *MEMORY_MB)
    if request.ephemeral_storage is not None:
        problems.required(request.ephemeral_storage.size, "ephemeralStorage.size")
        problems.bounds(
            request.ephemeral_storage.size, "ephemeralStorage.size", *EPHEMERAL_STORAGE_MB
        )
    if request.tracing_config is not None and request.tracing_config.mode is not None:
        mode = request.tracing_config.mode
        if mode not in ("Active", "PassThrough"):
            problems.add(
                mode,
                "tracingConfig.mode",
                "Member must satisfy enum value set: [Active, PassThrough]",
            )
    logging_config = request.logging_config
    if logging_config is not None:
        if logging_config.log_format not in (None, "JSON", "Text"):
            problems.add(
                logging_config.log_format,
                "loggingConfig.logFormat",
                "Member must satisfy enum value set: [JSON, Text]",
            )
        check_log_levels(logging_config, problems)
        problems.max_length(logging_config.log_group, "loggingConfig.logGroup", 512)
        problems.pattern(logging_config.log_group, "loggingConfig.logGroup", LOG_GROUP_PATTERN)
    check_options(request.vpc_config, request.snap_start, problems)
    check_layer_arns(request.layers, problems)
    variables = request.environment.variables if request.environment else None
    if variables and any(re.fullmatch(ENV_NAME_PATTERN, k) is None for k in variables):
        problems.add_raw(
            "Value at 'environment.variables' failed to satisfy constraint: Map keys must "
            f"satisfy constraint: [Member must satisfy regular expression pattern: "
            f"{ENV_NAME_PATTERN}]"
        )


def check_layer_arns(arns: list[str] | None, problems: Problems) -> None:
    valid = (
        len(arn) <= MAX_LAYER_ARN_LENGTH and re.fullmatch(LAYER_VERSION_ARN_PATTERN, arn)
        for arn in arns or ()
    )
    if arns and not all(valid):
        problems.add(
            f"[{', '.join(arns)}]",
            "layers",
            "Member must satisfy constraint: [Member must have length less than or equal to "
            f"{MAX_LAYER_ARN_LENGTH}, Member must have length greater than or equal to 1, Member "
            f"must satisfy regular expression pattern: {LAYER_VERSION_ARN_PATTERN}, Member must "
            "not be null]",
        )


def check_architectures(architectures: list[str] | None, problems: Problems) -> None:
    if architectures is None:
        return
    if len(architectures) != 1:
        problems.add(
            f"[{', '.join(architectures)}]",
            "architectures",
            "Member must have length less than or equal to 1"
            if architectures
            else "Member must have length greater than or equal to 1",
        )
    elif architectures[0] not in ARCHITECTURES:
        problems.add(
            f"[{architectures[0]}]",
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
        )


def check_runtime_and_environment(request: ConfigurationInput) -> None:
    """Lambda's own checks, after the model's: runtime support and the environment."""
    if request.runtime is not None:
        check_runtime(request.runtime)
    variables = request.environment.variables if request.environment else None
    if not variables:
        return
    reserved = sorted(k for k in variables if k in RESERVED_ENV)
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment "
            f"variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )
