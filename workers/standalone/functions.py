"""The one function a stackless run serves: its configuration from options and from
docker-lambda's variables, and the runtime guessed from the handler's file when none is named.

docker-lambda's defaults are kept where they differ from a deployed function's (its runs are for
development): a 300 s timeout and 1536 MB, function `test`, version `$LATEST`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bus.records import LATEST, FunctionVersion

DEFAULT_NAME = "test"
DEFAULT_VERSION = LATEST
DEFAULT_TIMEOUT_S = 300
DEFAULT_MEMORY_MB = 1536
# The handler docker-lambda runs when none is given, per language.
DEFAULT_HANDLERS = {
    "python": "lambda_function.lambda_handler",
    "nodejs": "index.handler",
    "ruby": "lambda_function.lambda_handler",
    "provided": "handler",
}
# A handler file's extension -> the runtime family it needs.
EXTENSIONS = {".py": "python", ".mjs": "nodejs", ".js": "nodejs", ".cjs": "nodejs", ".rb": "ruby"}
# Lambda's Node.js runtimes; the local `node` picks one when its major version is among them.
NODE_MAJORS = ("18", "20", "22", "24")
FALLBACK_NODE = "nodejs22.x"
# Lambda's Python runtimes; the host's version runs without preparing anything.
PYTHON_MINORS = ("3.10", "3.11", "3.12", "3.13", "3.14")
FALLBACK_PYTHON = "python3.12"


class ConfigurationError(ValueError):
    """The options do not describe a function that can run (no handler file, bad KEY=VALUE)."""


@dataclass(frozen=True, slots=True)
class LocalFunction:
    """A function whose code is a folder on this machine, with layers as folders too."""

    code: Path
    handler: str
    runtime: str
    layers: tuple[Path, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: int = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    name: str = DEFAULT_NAME
    version: str = DEFAULT_VERSION
    executor: str = "process"

    def version_record(self, region: str, account_id: str) -> FunctionVersion:
        """The record the pool's environments run, as if the function were deployed."""
        arn = f"arn:aws:lambda:{region}:{account_id}:function:{self.name}"
        return FunctionVersion(
            name=self.name,
            arn=arn,
            version=self.version,
            runtime=self.runtime,
            handler=self.handler,
            timeout_s=self.timeout_s,
            memory_mb=self.memory_mb,
            environment=dict(self.environment),
            executor=self.executor,
            revision_id="local",
        )

    @property
    def watched(self) -> tuple[Path, ...]:
        """The folders whose changes make a warm environment stale."""
        return (self.code, *self.layers)


def parse_variables(pairs: list[str]) -> dict[str, str]:
    """`--env K=V` options as a dict; ConfigurationError on one without `=`."""
    variables = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--env {pair!r}: expected KEY=VALUE")
        variables[key] = value
    return variables


def docker_lambda_value(environ: Mapping[str, str], name: str) -> str | None:
    """`AWS_LAMBDA_FUNCTION_<NAME>` as docker-lambda reads it (empty counts as unset)."""
    return environ.get(f"AWS_LAMBDA_FUNCTION_{name}") or None


def default_handler(code: Path, runtime: str | None) -> str:
    """docker-lambda's default handler for the runtime, or for the code's files."""
    family = runtime_family(runtime) if runtime else None
    if family is None:
        family = "provided" if (code / "bootstrap").is_file() else None
    if family is None:
        found = [f for f in ("lambda_function.py", "index.mjs", "index.js") if (code / f).exists()]
        family = EXTENSIONS[Path(found[0]).suffix] if found else "python"
    return DEFAULT_HANDLERS.get(family, DEFAULT_HANDLERS["python"])


def runtime_family(runtime: str) -> str | None:
    found = re.match(r"[a-z]+", runtime)
    return found.group() if found else None


def guess_runtime(code: Path, handler: str) -> str:
    """The runtime the handler's file needs: `app.handler` with app.py is Python (the host's
    version if Lambda has it), with app.mjs Node.js; an executable `bootstrap`: provided."""
    module = handler.rpartition(".")[0] or handler
    for extension, family in EXTENSIONS.items():
        if (code / f"{module}{extension}").is_file():
            return python_runtime() if family == "python" else _runtime_of(family)
    if (code / "bootstrap").is_file():
        return "provided.al2023"
    raise ConfigurationError(
        f"cannot tell the runtime of handler {handler!r}: no {module}.py, {module}.mjs, "
        f"{module}.js or {module}.rb and no bootstrap in {code}; name one with --runtime"
    )


def python_runtime() -> str:
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"python{host}" if host in PYTHON_MINORS else FALLBACK_PYTHON


def _runtime_of(family: str) -> str:
    if family == "ruby":
        return "ruby3.3"
    node = shutil.which("node")
    if node is None:
        return FALLBACK_NODE
    shown = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    major = shown.lstrip("v").split(".")[0]
    return f"nodejs{major}.x" if major in NODE_MAJORS else FALLBACK_NODE


def guess_build_runtime(code: Path) -> str:
    """The runtime a folder's dependency list is for: requirements.txt Python, package.json
    Node.js."""
    if (code / "requirements.txt").is_file():
        return python_runtime()
    if (code / "package.json").is_file():
        return _runtime_of("nodejs")
    raise ConfigurationError(
        f"{code} has no requirements.txt or package.json; name the runtime with --runtime"
    )
