"""Rendering a stored function version as AWS's FunctionConfiguration JSON object.

https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

from bus.records import FunctionVersion
from services.functions.options import render_snap_start, render_vpc

# ListFunctions leaves these out: https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html
STATE_FIELDS = (
    "State",
    "StateReason",
    "StateReasonCode",
    "LastUpdateStatus",
    "LastUpdateStatusReason",
    "LastUpdateStatusReasonCode",
)


def last_modified_now() -> str:
    """AWS's LastModified format: 2024-05-01T12:00:00.000+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def code_sha256_b64(sha256_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode() if sha256_hex else ""


def runtime_version_arn(region: str, runtime: str) -> str:
    digest = hashlib.sha256(runtime.encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def render_configuration(
    record: FunctionVersion, region: str, function_arn: str | None = None
) -> dict[str, object]:
    """`function_arn` as the request named the function (an alias ARN, say), if not the
    version's own ARN (unqualified for $LATEST)."""
    own_arn = record.arn if record.version == "$LATEST" else record.qualified_arn
    config: dict[str, object] = {
        "FunctionName": record.name,
        "FunctionArn": function_arn or own_arn,
    }
    if record.package_type == "Zip":
        config["Runtime"] = record.runtime
        config["Handler"] = record.handler
    config |= {
        "Role": record.role,
        "CodeSize": record.code_size,
        "Description": record.description,
        "Timeout": record.timeout_s,
        "MemorySize": record.memory_mb,
        "LastModified": record.last_modified,
        "CodeSha256": code_sha256_b64(record.code_sha256_hex),
        "Version": record.version,
    }
    vpc = render_vpc(record)
    if vpc is not None:
        config["VpcConfig"] = vpc
    if record.environment is not None:
        config["Environment"] = {"Variables": record.environment}
    if record.kms_key_arn:
        config["KMSKeyArn"] = record.kms_key_arn
    if record.dead_letter_target_arn:
        config["DeadLetterConfig"] = {"TargetArn": record.dead_letter_target_arn}
    config["TracingConfig"] = {"Mode": record.tracing_mode}
    config["RevisionId"] = record.revision_id
    if record.layers:
        config["Layers"] = _layers(record)
    config |= _states(record)
    config["PackageType"] = record.package_type
    if record.image_config:
        config["ImageConfigResponse"] = {"ImageConfig": record.image_config}
    config |= {
        "Architectures": record.architectures,
        "EphemeralStorage": {"Size": record.ephemeral_storage_mb},
        "SnapStart": render_snap_start(record),
    }
    if record.runtime:
        config["RuntimeVersionConfig"] = {
            "RuntimeVersionArn": runtime_version_arn(region, record.runtime)
        }
    config["LoggingConfig"] = _logging(record)
    return config


def _states(record: FunctionVersion) -> dict[str, object]:
    values = {
        "State": record.state,
        "StateReason": record.state_reason,
        "StateReasonCode": record.state_reason_code,
        "LastUpdateStatus": record.last_update_status,
        "LastUpdateStatusReason": record.last_update_status_reason,
        "LastUpdateStatusReasonCode": record.last_update_status_reason_code,
    }
    return {k: v for k, v in values.items() if v is not None}


def _layers(record: FunctionVersion) -> list[dict[str, object]]:
    sizes = {layer.arn: layer.code_size for layer in record.layer_code}
    return [{"Arn": arn, "CodeSize": sizes.get(arn, 0)} for arn in record.layers]


def _logging(record: FunctionVersion) -> dict[str, object]:
    logging: dict[str, object] = {"LogFormat": record.log_format}
    if record.application_log_level:
        logging["ApplicationLogLevel"] = record.application_log_level
    if record.system_log_level:
        logging["SystemLogLevel"] = record.system_log_level
    logging["LogGroup"] = record.log_group
    return logging


def render_listed(
    record: FunctionVersion, region: str, function_arn: str | None = None
) -> dict[str, object]:
    config = render_configuration(record, region, function_arn)
    for field in STATE_FIELDS:
        config.pop(field, None)
    return config
