"""A function's VpcConfig, SnapStart and LoggingConfig: their request shapes, AWS's checks of
them, and how a request changes a stored version's settings. Tarn records VPC settings (its
functions reach the network as the host does) and SnapStart (it takes no snapshots).
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
"""

from __future__ import annotations

from typing import Any

from bus.records import FunctionVersion
from services.errors import InvalidParameterValueException
from services.requests import Problems, RequestShape

# botocore's SubnetIds and SecurityGroupIds lists.
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
APPLY_ON = ("PublishedVersions", "None")
APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
# https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html: the
# levels a JSON-logging function gets unless it names others.
DEFAULT_LOG_LEVEL = "INFO"
# https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html#snapstart-runtimes
SNAP_START_RUNTIMES = frozenset(
    "java11 java17 java21 java25 python3.12 python3.13 python3.14 dotnet8 dotnet10".split()
)
TEXT_WITH_LEVELS = (
    'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
    'request or change the LogFormat to "JSON" and try again.'
)


class VpcConfigInput(RequestShape):
    subnet_ids: list[str] | None = None
    security_group_ids: list[str] | None = None
    ipv6_allowed_for_dual_stack: bool | None = None


class SnapStartInput(RequestShape):
    apply_on: str | None = None


class LoggingConfigInput(RequestShape):
    log_format: str | None = None
    application_log_level: str | None = None
    system_log_level: str | None = None
    log_group: str | None = None


def check_options(
    vpc: VpcConfigInput | None, snap_start: SnapStartInput | None, problems: Problems
) -> None:
    """The model's constraints on VpcConfig and SnapStart."""
    if vpc is not None:
        for ids, member, most in (
            (vpc.subnet_ids, "vpcConfig.subnetIds", MAX_SUBNETS),
            (vpc.security_group_ids, "vpcConfig.securityGroupIds", MAX_SECURITY_GROUPS),
        ):
            if ids is not None and len(ids) > most:
                rule = f"Member must have length less than or equal to {most}"
                problems.add(f"[{', '.join(ids)}]", member, rule)
    if snap_start is not None and snap_start.apply_on not in APPLY_ON:
        problems.add(
            snap_start.apply_on,
            "snapStart.applyOn",
            f"Member must satisfy enum value set: [{', '.join(APPLY_ON)}]",
        )


def check_log_levels(logging_config: LoggingConfigInput, problems: Problems) -> None:
    for value, member, levels in (
        (logging_config.application_log_level, "applicationLogLevel", APPLICATION_LOG_LEVELS),
        (logging_config.system_log_level, "systemLogLevel", SYSTEM_LOG_LEVELS),
    ):
        if value is not None and value not in levels:
            rule = f"Member must satisfy enum value set: [{', '.join(levels)}]"
            problems.add(value, f"loggingConfig.{member}", rule)


def option_changes(
    record: FunctionVersion,
    vpc: VpcConfigInput | None,
    snap_start: SnapStartInput | None,
    logging_config: LoggingConfigInput | None,
) -> dict[str, Any]:
    """The FunctionVersion members a request's VpcConfig, SnapStart and LoggingConfig set."""
    changes: dict[str, Any] = {}
    if vpc is not None:
        changes["vpc_subnet_ids"] = vpc.subnet_ids or []
        changes["vpc_security_group_ids"] = vpc.security_group_ids or []
        changes["vpc_ipv6_dual_stack"] = bool(vpc.ipv6_allowed_for_dual_stack)
    if snap_start is not None and snap_start.apply_on is not None:
        changes["snap_start_apply_on"] = snap_start.apply_on
    if logging_config is not None:
        changes |= _logging_changes(record, logging_config)
    return changes


def _logging_changes(record: FunctionVersion, given: LoggingConfigInput) -> dict[str, Any]:
    log_format = given.log_format or record.log_format
    levels_given = given.application_log_level or given.system_log_level
    if log_format != "JSON" and levels_given:
        raise InvalidParameterValueException(TEXT_WITH_LEVELS)
    changes: dict[str, Any] = {"log_format": log_format}
    if given.log_group is not None:
        changes["log_group"] = given.log_group
    if log_format == "JSON":
        changes["application_log_level"] = (
            given.application_log_level or record.application_log_level or DEFAULT_LOG_LEVEL
        )
        changes["system_log_level"] = (
            given.system_log_level or record.system_log_level or DEFAULT_LOG_LEVEL
        )
    else:  # Text logs have no levels
        changes["application_log_level"] = changes["system_log_level"] = None
    return changes


def check_snap_start(record: FunctionVersion) -> None:
    """Lambda's check of the settings a create or update leaves: SnapStart's runtimes."""
    if record.snap_start_apply_on == "PublishedVersions" and (
        record.runtime not in SNAP_START_RUNTIMES
    ):
        raise InvalidParameterValueException(
            f"{record.runtime} is not supported for SnapStart enabled functions."
        )


def render_vpc(record: FunctionVersion) -> dict[str, object] | None:
    """VpcConfig as AWS renders it once set; None for a function that never had one."""
    if record.vpc_subnet_ids is None:
        return None
    return {
        "SubnetIds": record.vpc_subnet_ids,
        "SecurityGroupIds": record.vpc_security_group_ids,
        "VpcId": "",
        "Ipv6AllowedForDualStack": record.vpc_ipv6_dual_stack,
    }


def render_snap_start(record: FunctionVersion) -> dict[str, object]:
    """OptimizationStatus is On for the published versions of a SnapStart function."""
    on = record.snap_start_apply_on == "PublishedVersions" and record.version != "$LATEST"
    return {"ApplyOn": record.snap_start_apply_on, "OptimizationStatus": "On" if on else "Off"}
