"""Settings: one frozen struct, read once from `TARN_*` variables and passed down explicitly.

A `TARN_` variable that names no setting is a startup error, so a typo never goes unnoticed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

ENV_PREFIX = "TARN_"
# Read by `tarn lambda` (a client of a stack), not settings of a stack: never refused as misspelt.
CLIENT_VARIABLES = frozenset({"TARN_ENDPOINT"})


class SettingsError(ValueError):
    """A `TARN_*` variable is unknown or has a value of the wrong kind."""


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "tarn")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a Tarn process needs to know; every field is `TARN_<FIELD>` in upper case."""

    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = msgspec.field(default_factory=_default_data_dir)
    redis_url: str = ""  # empty: `tarn up` starts a private redis-server under data_dir
    key_prefix: str = "tarn"
    region: str = "us-east-1"
    account_id: str = "000000000000"
    executor: Literal["auto", "process", "docker"] = "auto"
    # Components `GET /_tarn/health` waits for, besides Redis and the API itself.
    workers: tuple[str, ...] = ("functions", "pool", "async", "event_sources")
    # `tarn up`: processes per worker role, as "pool=3,async=2" (others: one each).
    scale: str = ""
    # `tarn up`: "shared" runs the worker roles not scaled out as tasks of one process (less
    # memory, a faster start); "split" gives each role a process of its own, as compose does.
    worker_layout: Literal["shared", "split"] = "shared"
    # Base URL clients reach the API on; empty means http://host:port.
    public_url: str = ""
    # Stream delivery: an entry unacknowledged this long is taken over by another consumer.
    visibility_timeout_ms: int = 30_000
    max_deliveries: int = 5
    heartbeat_interval_s: float = 1.0
    # This process's consumer name in the stream groups; empty: host, role and pid. Give each
    # process its own (two processes of one role must never share one).
    consumer: str = ""
    # Warm pool: environments alive at once (AWS's default account concurrency) and how
    # long an idle one is kept.
    pool_max_environments: int = 1000
    pool_keep_alive_s: float = 300.0
    # The account's concurrency limit (AWS's default quota): reserved concurrency is carved
    # out of it, leaving at least 100 unreserved; GetAccountSettings reports it.
    account_concurrency: int = 1000
    # Asynchronous invocation: the largest Event payload, and the first retry delay after a
    # function error (AWS: 1 min, then 2 min); tests make it small.
    async_max_payload_bytes: int = 1_048_576
    async_retry_base_s: float = 60.0
    log_level: str = "INFO"
    # Docker executor. Containers are labelled with the stack id (empty: derived from the
    # host and data dir), so a stack removes its own leftovers and nothing else.
    stack_id: str = ""
    docker_network: str = "auto"  # auto | host | bridge | container:<name or id>
    # Runtime images other than public.ecr.aws/lambda/<lang>:<tag>, as
    # "python3.12=registry/python:3.12,nodejs20.x=registry/node:20".
    image_overrides: str = ""
    # missing: pull an absent image once | always: on every provision
    image_pull: Literal["missing", "always"] = "missing"
    # The process executor's prepared runtimes (a Python environment per version with
    # awslambdaric, the compiled Java client); empty: <data_dir>/runtimes.
    runtimes_dir: str = ""
    # The Parameters and Secrets extension each pool worker serves on 127.0.0.1 (AWS's port;
    # 0: any free port). Functions find it in PARAMETERS_SECRETS_EXTENSION_HTTP_PORT.
    extension_port: int = 2773
    # Function logs to the companion's CloudWatch Logs (batched, about once a second per log
    # stream); false: they stay in `tarn up`'s output and Invoke's LogType=Tail only.
    cloudwatch_logs: bool = True
    # Log events the companion keeps per log group (the newest), besides the group's retention.
    log_events_kept: int = 10_000
    # The companion AWS endpoint (SQS, DynamoDB, S3, IAM, ...) that port 4566 forwards
    # non-Lambda requests to; empty: `tarn up` starts a moto server on a private port.
    aws_endpoint: str = ""
    # Code whose S3Bucket is this runs from the folder its S3Key names, in place, and reloads
    # when a file in it changes (LocalStack's convention for hot reloading).
    hot_reload_bucket: str = "hot-reload"
    # Invocation records (the console, `tarn lambda history`, CloudWatch metrics): how many
    # the capped stream keeps; 0 writes none (and so puts no metrics).
    invocation_records: int = 10_000
    # How often the AWS/Lambda metrics gathered from the records are put to CloudWatch.
    metrics_interval_s: float = 10.0
    # The companion's clock for EventBridge schedules runs this many times faster than the
    # wall clock (tests: 60 fires a rate(1 minute) rule every second).
    schedule_speedup: float = 1.0

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def code_dir(self) -> Path:
        return Path(self.data_dir) / "code"

    @property
    def local_runtimes_dir(self) -> Path:
        return Path(self.runtimes_dir or Path(self.data_dir) / "runtimes")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read `TARN_*` from `environ` (default: the process environment), then apply overrides."""
        environ = os.environ if environ is None else environ
        fields = {f.name for f in msgspec.structs.fields(cls)}
        raw: dict[str, object] = {}
        for key, value in environ.items():
            if not key.startswith(ENV_PREFIX) or key in CLIENT_VARIABLES:
                continue
            name = key[len(ENV_PREFIX) :].lower()
            if name not in fields:
                raise SettingsError(f"{key} is not a Tarn setting; known: {_known(fields)}")
            raw[name] = _parse_sequence(value) if name == "workers" else value
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise SettingsError(f"invalid Tarn setting: {exc}") from None

    def to_env(self) -> dict[str, str]:
        """The `TARN_*` variables that make a child process read these same settings."""
        env = {}
        for name, value in msgspec.structs.asdict(self).items():
            text = ",".join(value) if isinstance(value, tuple) else str(value)
            env[f"{ENV_PREFIX}{name.upper()}"] = text
        return env


def _parse_sequence(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _known(fields: set[str]) -> str:
    return ", ".join(sorted(ENV_PREFIX + f.upper() for f in fields))
