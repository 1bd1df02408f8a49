"""Typed records kept in Redis: what a function version is, in Tarn's own words.

`services` renders these as AWS's FunctionConfiguration; workers read them to run code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec

from bus.arns import service_of

LATEST = "$LATEST"


class State(StrEnum):
    """A function version's State. https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html"""

    PENDING = "Pending"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FAILED = "Failed"


class LastUpdateStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


class MappingState(StrEnum):
    """An event source mapping's State: the API sets the transitional ones, the poller that
    holds the mapping's lease settles them."""

    CREATING = "Creating"
    ENABLING = "Enabling"
    ENABLED = "Enabled"
    DISABLING = "Disabling"
    DISABLED = "Disabled"
    UPDATING = "Updating"
    DELETING = "Deleting"


class LayerCode(msgspec.Struct, frozen=True, kw_only=True):
    """A layer version a function uses, resolved when the function was configured.

    The function keeps what it needs to run and render the layer, so a deleted layer
    version goes on working for the functions that use it, as on AWS.
    """

    arn: str  # the layer version ARN
    code_sha256_hex: str
    code_size: int
    unzipped_size: int = 0
    folder: str | None = None  # a hot-reload layer: the folder it runs from, in place


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
    # VpcConfig: None until a request sets one (AWS leaves it out until then).
    vpc_subnet_ids: list[str] | None = None
    vpc_security_group_ids: list[str] = msgspec.field(default_factory=list)
    vpc_ipv6_dual_stack: bool = False
    snap_start_apply_on: str = "None"
    kms_key_arn: str | None = None
    dead_letter_target_arn: str | None = None
    layers: list[str] = msgspec.field(default_factory=list)
    image_uri: str | None = None
    image_config: dict[str, object] | None = None
    code_sha256_hex: str = ""
    code_size: int = 0
    revision_id: str = ""
    last_modified: str = ""
    state: State = State.PENDING
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: LastUpdateStatus | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    layer_code: list[LayerCode] = msgspec.field(default_factory=list)  # `layers`, in order
    # Tarn's own, never in an AWS response: "docker" or "process", the executor that runs this
    # version, chosen when it is provisioned (`auto`: Docker unless its image cannot be had).
    executor: str | None = None
    # Tarn's own: the folder the code runs from in place and reloads from (hot reload), when
    # Code named TARN_HOT_RELOAD_BUCKET; code_sha256_hex is then the folder's digest.
    code_folder: str | None = None

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{self.version}"

    @property
    def hot_reload_folders(self) -> list[str]:
        """The folders the version runs from in place: its code's and its layers'."""
        folders = [self.code_folder] if self.code_folder else []
        return folders + [layer.folder for layer in self.layer_code if layer.folder]

    @property
    def updating(self) -> bool:
        return (
            self.state == State.PENDING or self.last_update_status == LastUpdateStatus.IN_PROGRESS
        )


class Alias(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A function alias: a name for one version, optionally sharing traffic with a second."""

    name: str
    function_name: str
    function_version: str
    description: str = ""
    # RoutingConfig.AdditionalVersionWeights: version -> share of invocations (0..1).
    additional_weights: dict[str, float] = msgspec.field(default_factory=dict)
    revision_id: str = ""

    def versions(self) -> set[str]:
        """Every version the alias routes to."""
        return {self.function_version, *self.additional_weights}


class LayerVersion(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One published version of a layer: its archive (a content-addressed blob) and metadata."""

    layer_name: str
    layer_arn: str
    version: int
    created_date: str
    code_sha256_hex: str
    code_size: int
    unzipped_size: int
    description: str = ""
    compatible_runtimes: list[str] | None = None
    compatible_architectures: list[str] | None = None
    license_info: str | None = None
    code_folder: str | None = None  # hot reload: the folder the layer's content is, in place

    @property
    def arn(self) -> str:
        return f"{self.layer_arn}:{self.version}"

    def code(self) -> LayerCode:
        return LayerCode(
            arn=self.arn,
            code_sha256_hex=self.code_sha256_hex,
            code_size=self.code_size,
            unzipped_size=self.unzipped_size,
            folder=self.code_folder,
        )


class EventInvokeConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How Event invocations of one function version or alias are retried and where their
    records go. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
    """

    function_name: str
    qualifier: str
    last_modified: float  # epoch seconds, as AWS renders LastModified
    maximum_retry_attempts: int | None = None
    maximum_event_age_s: int | None = None
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None


class EventSourceMapping(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An event source mapping: which queue or stream feeds which function, and how.

    https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html
    `state` is AWS's State. The API sets the transitional states (Creating, Enabling,
    Disabling, Updating, Deleting); the poller that holds the mapping's lease settles them
    (Enabled, Disabled, or the record removed) and reads `enabled` for which one.
    """

    uuid: str
    event_source_arn: str
    function_name: str  # the bare name, for lookups
    function_arn: str  # as AWS renders FunctionArn: qualified when the request qualified it
    qualifier: str | None = None  # version or alias; None means $LATEST
    enabled: bool = True
    state: MappingState = MappingState.CREATING
    state_transition_reason: str = "USER_INITIATED"
    last_modified: float = 0.0  # epoch seconds
    last_processing_result: str = "No records processed"
    batch_size: int = 10
    maximum_batching_window_s: int = 0
    starting_position: str | None = None  # TRIM_HORIZON / LATEST (streams)
    starting_position_timestamp: float | None = None
    parallelization_factor: int | None = None  # streams
    maximum_record_age_s: int | None = None  # streams; -1 = infinite
    bisect_batch_on_function_error: bool | None = None  # streams
    maximum_retry_attempts: int | None = None  # streams; -1 = infinite
    tumbling_window_s: int | None = None  # streams
    function_response_types: list[str] = msgspec.field(default_factory=list)
    filter_patterns: list[str] = msgspec.field(default_factory=list)  # FilterCriteria patterns
    on_failure: str | None = None  # DestinationConfig.OnFailure destination ARN (streams)
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency (SQS)
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    kms_key_arn: str | None = None  # KMSKeyArn: the key AWS would encrypt filter criteria with

    @property
    def source_service(self) -> str:
        """ "sqs", "dynamodb", "kinesis", ...: the service in the source ARN."""
        return service_of(self.event_source_arn)

    @property
    def reports_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


class ResourcePolicy(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A resource-based policy: the statements of a function version's or alias's policy, or of
    a layer version's, each as AWS renders it in the policy document.
    https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
    """

    statements: list[dict[str, Any]] = msgspec.field(default_factory=list)
    # Layer version policies have their own RevisionId; a function's policy answers with the
    # RevisionId of its version or alias instead.
    revision_id: str = ""

    def statement(self, sid: str) -> dict[str, Any] | None:
        return next((s for s in self.statements if s.get("Sid") == sid), None)


class FunctionUrlConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A function URL of $LATEST or of an alias.
    https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
    """

    function_name: str
    qualifier: str  # $LATEST or an alias name
    url_id: str  # 32 lower-case alphanumerics: the URL's first label
    auth_type: str  # NONE or AWS_IAM
    creation_time: str
    last_modified_time: str
    invoke_mode: str = "BUFFERED"
    cors: dict[str, Any] | None = None  # AWS's Cors shape, as given


class CodeSigningConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A code signing configuration: which signing profiles may sign a function's code, and
    what to do with unsigned code. Tarn stores it; it does not check signatures.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html
    """

    csc_id: str  # csc- and 17 hex digits
    arn: str
    signing_profile_version_arns: list[str]
    untrusted_artifact_on_deployment: str = "Warn"  # Warn | Enforce
    description: str = ""
    last_modified: str = ""  # as FunctionConfiguration's LastModified


class FunctionSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A function's settings that apply to all its versions: reserved concurrency (None: the
    function shares the unreserved pool), recursive loop detection, the attached code
    signing configuration."""

    function_name: str
    reserved_concurrency: int | None = None
    recursive_loop: str = "Terminate"  # Allow | Terminate
    code_signing_config_arn: str | None = None


class ProvisionedConcurrencyStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    READY = "READY"
    FAILED = "FAILED"


class ProvisionedConcurrencyConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Provisioned concurrency of one published version or alias: `requested` environments
    asked for; the pool reports how many are `allocated` and `available` and settles the
    status (IN_PROGRESS -> READY or FAILED).
    https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html
    """

    function_name: str
    qualifier: str  # a version number or an alias name, never $LATEST
    requested: int
    allocated: int = 0
    available: int = 0
    status: ProvisionedConcurrencyStatus = ProvisionedConcurrencyStatus.IN_PROGRESS
    status_reason: str | None = None
    last_modified: str = ""


class VersionSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Settings of one version or alias of a function: runtime management and (for
    functions on capacity providers) scaling."""

    function_name: str
    qualifier: str
    update_runtime_on: str = "Auto"  # Auto | FunctionUpdate | Manual
    runtime_version_arn: str | None = None
    min_execution_environments: int | None = None
    max_execution_environments: int | None = None
