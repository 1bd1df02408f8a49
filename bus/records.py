"""Typed records kept in Redis: what a function version is, in Tarn's own words.

`services` renders these as AWS's FunctionConfiguration; workers read them to run code.
"""

from __future__ import annotations

import msgspec

LATEST = "$LATEST"


class FunctionVersion(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One version of a function ($LATEST or a published number) with its configuration."""

    name: str
    arn: str  # unqualified function ARN
    version: str = LATEST
    package_type: str = "Zip"
    runtime: str | None = None
    handler: str | None = None
    role: str = ""
    description: str = ""
    timeout_s: int = 3
    memory_mb: int = 128
    ephemeral_storage_mb: int = 512
    architectures: list[str] = msgspec.field(default_factory=lambda: ["x86_64"])
    environment: dict[str, str] | None = None
    tracing_mode: str = "PassThrough"
    log_format: str = "Text"
    log_group: str = ""
    application_log_level: str | None = None
    system_log_level: str | None = None
    kms_key_arn: str | None = None
    dead_letter_target_arn: str | None = None
    layers: list[str] = msgspec.field(default_factory=list)
    image_uri: str | None = None
    image_config: dict[str, object] | None = None
    code_sha256_hex: str = ""
    code_size: int = 0
    revision_id: str = ""
    last_modified: str = ""
    state: str = "Pending"
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"

    @property
    def updating(self) -> bool:
        return self.state == "Pending" or self.last_update_status == "InProgress"


RECORD_ENCODER = msgspec.msgpack.Encoder()
FUNCTION_DECODER = msgspec.msgpack.Decoder(FunctionVersion)
