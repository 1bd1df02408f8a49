"""The environment variables a runtime environment starts with, as AWS Lambda sets them.

Mirrors https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import TYPE_CHECKING

import msgspec

from bus.aws import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from bus.records import FunctionVersion

if TYPE_CHECKING:
    from workers.pool.credentials import RoleCredentials

# Reserved: Lambda sets these and a function's configuration cannot override them.
RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)

EXTENSION_PORT_VARIABLE = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"


def log_stream_name(version: str) -> str:
    """A new environment's log stream, in AWS's form: `2024/05/01/[$LATEST]<32 hex>`."""
    return f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{version}]{uuid.uuid4().hex}"


def new_session_token() -> str:
    """An environment's own AWS_SESSION_TOKEN: the Parameters and Secrets extension admits
    requests by it, so one function cannot pass for another."""
    return secrets.token_hex(32)


def with_extension_port(function: FunctionVersion, port: int) -> FunctionVersion:
    """`function` with the extension's port among its variables, unless it names its own."""
    own = function.environment or {}
    if EXTENSION_PORT_VARIABLE in own:
        return function
    return msgspec.structs.replace(
        function, environment={**own, EXTENSION_PORT_VARIABLE: str(port)}
    )


def log_group_name(function: FunctionVersion) -> str:
    return function.log_group or f"/aws/lambda/{function.name}"


def reserved_variables(
    function: FunctionVersion,
    *,
    region: str,
    task_root: str,
    runtime_dir: str,
    runtime_api: str,
    log_stream: str,
    session_token: str,
    role: RoleCredentials | None = None,
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    """The variables Lambda itself sets; `task_root` etc. are as the sandbox sees them. The
    credentials are the `role`'s, or placeholders with the environment's own session token."""
    key_id = role.access_key_id if role else DUMMY_ACCESS_KEY_ID
    credentials = {
        "AWS_ACCESS_KEY": key_id,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key if role else DUMMY_SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": role.session_token if role else session_token,
    }
    variables = {
        "_HANDLER": function.handler or "",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name(function),
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        **credentials,
    }
    # OS-only runtimes (provided.*) have no execution environment name on AWS.
    if function.runtime and not function.runtime.startswith("provided"):
        variables["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{function.runtime}"
    return variables


def log_config_variables(function: FunctionVersion) -> dict[str, str]:
    """Set when the function's LoggingConfig asks for JSON logs; runtime clients read them."""
    if function.log_format != "JSON":
        return {}
    variables = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
    if function.application_log_level:
        variables["AWS_LAMBDA_LOG_LEVEL"] = function.application_log_level
    return variables


def environment_variables(
    defaults: dict[str, str],
    reserved: dict[str, str],
    function: FunctionVersion,
    endpoint_url: str,
) -> dict[str, str]:
    """Unreserved defaults (LANG, PATH, TZ, ...), then the function's own, then reserved ones.

    AWS_ENDPOINT_URL lets an unmodified AWS SDK in the function call Tarn's one endpoint
    (Lambda and the companion's services); it is not reserved on AWS, so a function's own wins.
    """
    own = {k: v for k, v in (function.environment or {}).items() if k not in RESERVED}
    endpoint = {"AWS_ENDPOINT_URL": endpoint_url}
    return {**defaults, **endpoint, **log_config_variables(function), **own, **reserved}


def layer_paths(runtime: str, opt: str) -> dict[str, list[str]]:
    """Where a runtime finds what layers provide in /opt (at `opt`), per search-path variable,
    in AWS's order: https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths
    """
    paths = {"PATH": [f"{opt}/bin"], "LD_LIBRARY_PATH": [f"{opt}/lib"]}
    if runtime.startswith("python"):
        paths["PYTHONPATH"] = [f"{opt}/python/lib/{runtime}/site-packages", f"{opt}/python"]
    elif runtime.startswith("nodejs"):
        major = runtime.removeprefix("nodejs").split(".")[0]
        paths["NODE_PATH"] = [
            f"{opt}/nodejs/node{major}/node_modules",
            f"{opt}/nodejs/node_modules",
        ]
    elif runtime.startswith("ruby"):
        paths["RUBYLIB"] = [f"{opt}/ruby/lib"]
        paths["GEM_PATH"] = [f"{opt}/ruby/gems/{runtime.removeprefix('ruby')}.0"]
    elif runtime.startswith("java"):
        paths["CLASSPATH"] = [f"{opt}/java/lib"]  # Tarn's Java client adds its jars
    return paths
