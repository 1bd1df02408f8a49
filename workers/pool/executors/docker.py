"""The Docker executor: each runtime environment is a container of the runtime's AWS base image.

The container runs the image's own entrypoint against our Runtime API, with the code read-only
at /var/task, /tmp a tmpfs of EphemeralStorage, and MemorySize as its memory limit:
https://docs.aws.amazon.com/lambda/latest/dg/images-create.html
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
import anyio

from bus.quotas import PROCESSES_PER_ENVIRONMENT
from bus.settings import Settings
from workers.docker.containers import create_container, image_cmd, image_command, image_entrypoint
from workers.docker.engine import (
    FUNCTION_LABEL,
    STACK_LABEL,
    VERSION_LABEL,
    WORKER_LABEL,
    EngineUnavailable,
    describe,
    error_message,
    open_engine,
    remove_containers,
    stack_filter,
    stack_id,
)
from workers.docker.extension_proxy import ExtensionProxy, wrap
from workers.docker.images import (
    ImagePulls,
    ImageUnavailable,
    function_image,
    parse_overrides,
    platform,
)
from workers.docker.output import MOUNT, OutputPipe, shares_kernel, wrapped
from workers.docker.placement import Placement, PlacementError, initial, resolve
from workers.docker.sandboxes import DockerSandbox
from workers.pool.executors.base import LaunchError, LaunchSpec, OutputSink, UnsupportedFunction
from workers.pool.variables import environment_variables, reserved_variables

log = logging.getLogger("tarn.pool")

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
MIB = 1024 * 1024


class DockerExecutor:
    """Starts one container per runtime environment, through one engine client per worker."""

    def __init__(self, settings: Settings, *, worker: str | None = None) -> None:
        self.settings = settings
        self.stack = stack_id(settings)
        # Per process, not per host: a worker removes only what it started itself.
        self.worker = worker or f"{socket.gethostname()}-{os.getpid()}"
        self.overrides = parse_overrides(settings.image_overrides)
        self.placement: Placement = initial(settings.docker_network)
        self.bind_host = self.placement.bind_host
        self._docker: aiodocker.Docker | None = None
        self._opening = anyio.Lock()
        self._pulls = ImagePulls()
        self._proxy = ExtensionProxy(settings.local_runtimes_dir / "extension-proxy")
        self.output_dir = Path(settings.data_dir) / "output" / self.worker  # containers' pipes
        self._entrypoints: dict[str, list[str]] = {}  # image -> its ENTRYPOINT
        self._pipes = False  # containers' output through pipes (the engine shares our kernel)
        # The pool looks code up by digest even for an Image function, whose digest is empty:
        # that lookup lands on the code folder itself, which must then exist.
        settings.code_dir.mkdir(parents=True, exist_ok=True)

    def runtime_api_address(self, port: int) -> str:
        return f"{self.placement.api_host}:{port}"

    async def start(self, spec: LaunchSpec, output: OutputSink) -> DockerSandbox:
        docker = await self._engine()
        try:
            image = function_image(spec.function, self.overrides)
        except ValueError as exc:
            raise UnsupportedFunction(str(exc)) from None
        config = self.container_config(spec, image)
        if "Entrypoint" in config and config.get("Cmd") is None:
            config["Cmd"] = await image_cmd(docker, image)
        if self.placement.network_mode == "bridge":  # a loopback of its own: 2773 on it
            await self._proxy_extension(docker, config, spec.extension_port)
        pipe = await self._pipe_output(docker, config, spec)
        try:
            container_id = await self._create(docker, config, spec)
        except BaseException:
            if pipe is not None:
                pipe.close()
            raise
        sandbox = DockerSandbox(docker, container_id, output, pipe)
        try:
            await sandbox.begin()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await sandbox.kill()
            raise
        return sandbox

    async def _pipe_output(
        self, docker: aiodocker.Docker, config: dict[str, Any], spec: LaunchSpec
    ) -> OutputPipe | None:
        """A pipe for the container's output, mounted, with the command wrapped to write
        there; None (the attach stream, then) for an Image function, whose image may have no
        shell, on an engine in another kernel (a VM), or when the image's entrypoint is
        unknown (the image is absent)."""
        if spec.function.package_type != "Zip" or not self._pipes:
            return None
        entrypoint = await self._entrypoint(docker, config)
        if not entrypoint:
            return None
        pipe = OutputPipe(self.output_dir)
        config["Entrypoint"], config["Cmd"] = wrapped([*entrypoint, *(config.get("Cmd") or [])])
        binds = config["HostConfig"].setdefault("Binds", [])
        binds.append(f"{self._host_path(pipe.folder)}:{MOUNT}:ro")
        return pipe

    def container_config(self, spec: LaunchSpec, image: str) -> dict[str, Any]:
        """The engine's create-container body for `spec` (raises LaunchError, Unsupported)."""
        function = spec.function
        host: dict[str, Any] = {
            "NetworkMode": self.placement.network_mode,
            "ExtraHosts": list(self.placement.extra_hosts),
            "Memory": function.memory_mb * MIB,
            "MemorySwap": function.memory_mb * MIB,  # no swap: over the limit is out of memory
            "PidsLimit": PROCESSES_PER_ENVIRONMENT,
            "Tmpfs": {"/tmp": f"rw,nosuid,nodev,size={function.ephemeral_storage_mb}m,mode=1777"},
            "ReadonlyRootfs": True,  # as on Lambda: only /tmp is writable
            "Init": True,  # the runtime is not PID 1, so it can be signalled and reaps children
        }
        config: dict[str, Any] = {
            "Image": image,
            "Env": [f"{k}={v}" for k, v in self.variables(spec).items()],
            "Labels": self.labels(spec),
            "AttachStdout": True,
            "AttachStderr": True,
            "HostConfig": host,
        }
        if function.package_type == "Image":
            config.update(image_command(function.image_config or {}))
            return config
        code = self._host_path(spec.code_dir)
        host["Binds"] = [f"{code}:{TASK_ROOT}:ro"]
        if spec.opt_dir is not None:  # the layers, merged: they replace the image's /opt
            host["Binds"].append(f"{self._host_path(spec.opt_dir)}:/opt:ro")
        if (function.runtime or "").startswith("provided"):
            _check_bootstrap(spec.code_dir)
            config |= {"Entrypoint": [f"{TASK_ROOT}/bootstrap"], "Cmd": []}
        else:  # the base image's /lambda-entrypoint.sh takes the handler
            config["Cmd"] = [function.handler or ""]
        return config

    async def _entrypoint(self, docker: aiodocker.Docker, config: dict[str, Any]) -> list[str]:
        """The entrypoint `config` runs: its own, or its image's (empty: the image is absent)."""
        entrypoint = config.get("Entrypoint")
        if entrypoint is not None:
            return list(entrypoint)
        image = config["Image"]  # the image's own, with the handler as its command
        if image not in self._entrypoints:
            self._entrypoints[image] = await image_entrypoint(docker, image)
        return self._entrypoints[image]

    async def _proxy_extension(
        self, docker: aiodocker.Docker, config: dict[str, Any], pool_port: int
    ) -> None:
        binary = await self._proxy.binary()
        entrypoint = await self._entrypoint(docker, config)
        if binary is None or not entrypoint:
            return
        if config.get("Cmd") is None:  # a new entrypoint would drop the image's CMD
            config["Cmd"] = await image_cmd(docker, config["Image"])
        wrap(config, entrypoint, self._host_path(binary), self.placement.api_host, pool_port)

    def _host_path(self, path: Path) -> str:
        try:
            return self.placement.host_path(path)
        except PlacementError as exc:
            raise UnsupportedFunction(str(exc)) from None

    def variables(self, spec: LaunchSpec) -> dict[str, str]:
        reserved = reserved_variables(
            spec.function,
            region=spec.region,
            task_root=TASK_ROOT,
            runtime_dir=RUNTIME_DIR,
            runtime_api=spec.runtime_api,
            log_stream=spec.log_stream,
            session_token=spec.session_token,
            role=spec.role,
            initialization_type=spec.initialization_type,
        )
        # PATH, LANG and LD_LIBRARY_PATH come from the image; Lambda's clock is UTC.
        return environment_variables({"TZ": ":UTC"}, reserved, spec.function, spec.endpoint_url)

    def labels(self, spec: LaunchSpec) -> dict[str, str]:
        return {
            STACK_LABEL: self.stack,
            WORKER_LABEL: self.worker,
            FUNCTION_LABEL: spec.function.name,
            VERSION_LABEL: spec.function.version,
        }

    async def aclose(self) -> None:
        """Remove what this worker started and an environment did not (a start cut short)."""
        if self._docker is None:
            return
        try:
            await remove_containers(self._docker, stack_filter(self.stack, self.worker))
        except (aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
            log.warning("could not remove this worker's containers: %s", exc)
        finally:
            await self._docker.close()
            self._docker = None
            shutil.rmtree(self.output_dir, ignore_errors=True)

    async def _engine(self) -> aiodocker.Docker:
        """The engine client, opened on first use with the placement checked against it."""
        async with self._opening:
            if self._docker is not None:
                return self._docker
            try:
                docker = open_engine()
            except EngineUnavailable as exc:
                raise UnsupportedFunction(str(exc)) from None
            try:
                log.info("Docker executor: %s", await describe(docker))
                self.placement = await resolve(docker, self.settings.docker_network)
                self.bind_host = self.placement.bind_host
            except (EngineUnavailable, PlacementError) as exc:
                await docker.close()
                raise UnsupportedFunction(str(exc)) from None
            log.info("function containers use network mode %s", self.placement.network_mode)
            self._pipes = await shares_kernel(docker)
            self._docker = docker
            return docker

    async def _create(
        self, docker: aiodocker.Docker, config: dict[str, Any], spec: LaunchSpec
    ) -> str:
        """Create the container; an image gone since provisioning is pulled again, once."""
        wanted = platform(spec.function)
        try:
            return await create_container(docker, config, wanted)
        except aiodocker.DockerError as exc:
            if exc.status != 404:
                raise LaunchError("Runtime.InvalidEntrypoint", error_message(exc)) from None
        try:
            await self._pulls.ensure(docker, config["Image"], wanted)
        except ImageUnavailable as exc:
            raise UnsupportedFunction(str(exc)) from None
        try:
            return await create_container(docker, config, wanted)
        except aiodocker.DockerError as exc:
            raise LaunchError("Runtime.InvalidEntrypoint", error_message(exc)) from None


def _check_bootstrap(code_dir: Path) -> None:
    """An OS-only runtime needs an executable bootstrap in the code, as AWS checks it."""
    bootstrap = code_dir / "bootstrap"
    if not bootstrap.is_file():
        message = f"Couldn't find valid bootstrap(s): [{TASK_ROOT}/bootstrap]"
        raise LaunchError("Runtime.InvalidEntrypoint", message)
    if not os.access(bootstrap, os.X_OK):
        raise LaunchError(
            "Runtime.InvalidEntrypoint", f"fork/exec {TASK_ROOT}/bootstrap: permission denied"
        )
