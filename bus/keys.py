"""Every Redis key name Tarn uses, in one place, under one prefix (tests use a random one)."""

from __future__ import annotations


class Keys:
    """Key names under `prefix`; methods take the variable part of the name."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # Streams
    @property
    def function_commands(self) -> str:
        return f"{self.prefix}:stream:functions"

    @property
    def invocations(self) -> str:
        return f"{self.prefix}:stream:invocations"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}:stream:dead-letters"

    @property
    def async_invocations(self) -> str:
        """Stream of Event invocations waiting for their (next) attempt."""
        return f"{self.prefix}:stream:async-invocations"

    @property
    def async_delays(self) -> str:
        """Sorted set: encoded Event invocations scored by the epoch ms of their next attempt."""
        return f"{self.prefix}:delays:async-invocations"

    def delivery_failures(self, stream: str, group: str) -> str:
        """Hash: entry id -> how often handling it failed, in `group` of `stream`."""
        return f"{stream}:failures:{group}"

    def async_outcome(self, request_id: str, attempt: int) -> str:
        """String: msgpack reply of one attempt of an Event invocation, kept by the pool until
        the async worker has acted on it (so a restarted one never runs the attempt twice)."""
        return f"{self.prefix}:async-outcome:{request_id}:{attempt}"

    def replies(self, inbox: str) -> str:
        return f"{self.prefix}:replies:{inbox}"

    @property
    def record_changes(self) -> str:
        """Pub/sub channel: the name of a function whose versions or aliases just changed
        (published in the transaction that changes them), for the API's record cache."""
        return f"{self.prefix}:channel:record-changes"

    # State
    def function(self, name: str) -> str:
        """Hash: qualifier ($LATEST, 1, 2, ...) -> msgpack FunctionVersion record."""
        return f"{self.prefix}:function:{name}"

    def function_last_version(self, name: str) -> str:
        """Counter of published versions: the next PublishVersion gets one more."""
        return f"{self.prefix}:function:{name}:last-version"

    def function_tags(self, name: str) -> str:
        return f"{self.prefix}:function:{name}:tags"

    @property
    def function_names(self) -> str:
        """Sorted set of function names, all scores 0, so ZRANGEBYLEX pages in name order."""
        return f"{self.prefix}:functions"

    def function_aliases(self, name: str) -> str:
        """Hash: alias name -> msgpack Alias record."""
        return f"{self.prefix}:function:{name}:aliases"

    def event_invoke_configs(self, name: str) -> str:
        """Hash: qualifier ($LATEST, version, alias) -> msgpack EventInvokeConfig record."""
        return f"{self.prefix}:function:{name}:event-invoke-configs"

    def layer(self, name: str) -> str:
        """Hash: version number -> msgpack LayerVersion record."""
        return f"{self.prefix}:layer:{name}"

    def layer_last_version(self, name: str) -> str:
        """Counter of a layer's published versions; never reset, so numbers are not reused."""
        return f"{self.prefix}:layer:{name}:last-version"

    @property
    def layer_names(self) -> str:
        """Sorted set of the names of layers with at least one version, all scores 0."""
        return f"{self.prefix}:layers"

    @property
    def event_source_mappings(self) -> str:
        """Hash: mapping UUID -> msgpack EventSourceMapping record."""
        return f"{self.prefix}:event-source-mappings"

    def event_source_lease(self, uuid: str) -> str:
        """String with a TTL: the poller process that owns the mapping `uuid` while it lives."""
        return f"{self.prefix}:event-source-mapping:{uuid}:lease"

    # DynamoDB Streams checkpoints
    def stream_checkpoints(self, uuid: str) -> str:
        """Hash: shard id -> msgpack ShardCheckpoint, where the mapping `uuid` has got to."""
        return f"{self.prefix}:event-source-mapping:{uuid}:shards"

    def stream_started(self, uuid: str) -> str:
        """String, set once the mapping `uuid` has chosen its starting positions (LATEST)."""
        return f"{self.prefix}:event-source-mapping:{uuid}:started"

    @property
    def event_source_pollers(self) -> str:
        """Sorted set: event-source poller processes scored by the epoch ms they last looked in,
        so each can take its fair share of the mappings."""
        return f"{self.prefix}:event-source-pollers"

    def blob(self, sha256_hex: str) -> str:
        return f"{self.prefix}:blob:{sha256_hex}"

    # Liveness
    @property
    def heartbeats(self) -> str:
        """Sorted set: "<role>:<consumer>" scored by the epoch ms of its last heartbeat."""
        return f"{self.prefix}:heartbeats"

    # Resource policies, function URLs, tags
    def function_policies(self, name: str) -> str:
        """Hash: qualifier ($LATEST, version, alias) -> msgpack ResourcePolicy record."""
        return f"{self.prefix}:function:{name}:policies"

    def function_url_configs(self, name: str) -> str:
        """Hash: qualifier ($LATEST or alias) -> msgpack FunctionUrlConfig record."""
        return f"{self.prefix}:function:{name}:url-configs"

    @property
    def function_url_ids(self) -> str:
        """Hash: url id -> "<function name>\n<qualifier>" of the FunctionUrlConfig with it."""
        return f"{self.prefix}:function-url-ids"

    def response_stream(self, request_id: str) -> str:
        """Stream: one streamed invocation's chunks, then its reply (capped, expiring)."""
        return f"{self.prefix}:response-stream:{request_id}"

    def layer_policies(self, name: str) -> str:
        """Hash: layer version number -> msgpack ResourcePolicy record."""
        return f"{self.prefix}:layer:{name}:policies"

    def code_signing_config_tags(self, csc_id: str) -> str:
        """Hash: tag key -> value, of the code signing config `csc_id` (csc-...)."""
        return f"{self.prefix}:code-signing-config:{csc_id}:tags"

    # Code signing, concurrency and other function settings
    @property
    def code_signing_configs(self) -> str:
        """Hash: code signing config id (csc-...) -> msgpack CodeSigningConfig record."""
        return f"{self.prefix}:code-signing-configs"

    @property
    def function_settings(self) -> str:
        """Hash: function name -> msgpack FunctionSettings record (reserved concurrency,
        recursion, code signing), one hash so the account's reserved sum is one read."""
        return f"{self.prefix}:function-settings"

    def provisioned_concurrency(self, name: str) -> str:
        """Hash: qualifier (version or alias) -> msgpack ProvisionedConcurrencyConfig record."""
        return f"{self.prefix}:function:{name}:provisioned-concurrency"

    @property
    def provisioned_functions(self) -> str:
        """Set of the names of functions that may have provisioned concurrency configs (the
        pool prunes names whose configs are all gone)."""
        return f"{self.prefix}:provisioned-concurrency:functions"

    def provisioned_lease(self, config: str) -> str:
        """String with a TTL: the pool process that keeps the environments of the provisioned
        concurrency config `config` ("<function>:<qualifier>") while it lives."""
        return f"{self.prefix}:provisioned-concurrency:{config}:lease"

    # Concurrency in use, counted across pool processes
    def reserved_in_flight(self, name: str) -> str:
        """Sorted set: request ids of the running invocations of the function `name`, which
        has reserved concurrency, scored by the epoch ms after which they no longer count."""
        return f"{self.prefix}:concurrency:function:{name}"

    @property
    def unreserved_in_flight(self) -> str:
        """Sorted set: the same for every function without reserved concurrency together."""
        return f"{self.prefix}:concurrency:unreserved"

    def version_settings(self, name: str) -> str:
        """Hash: qualifier ($LATEST, version, alias) -> msgpack VersionSettings record."""
        return f"{self.prefix}:function:{name}:version-settings"

    # The console's view of what ran
    @property
    def invocation_records(self) -> str:
        """Stream (capped): one msgpack InvocationRecord per invocation, and one
        AsyncEventSettled per Event invocation that reached its end."""
        return f"{self.prefix}:stream:invocation-records"
