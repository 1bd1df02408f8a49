"""The process executor: each runtime environment is a local subprocess in its own session.

For machines without Docker and for fast tests. There is no isolation: functions run as the
worker's user, on its file system, with its Python (awslambdaric) and its `node`. Limits hold
where the pool worker may make cgroups (cgroups.py): MemorySize and Lambda's 1,024 processes;
elsewhere resident memory is watched.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import anyio

from bus.processes import become_subreaper, children_of, descendants, die_with_parent, kill_all
from bus.records import FunctionVersion
from workers.pool.executors.base import LaunchError, LaunchSpec, OutputSink, UnsupportedFunction
from workers.pool.executors.cgroups import CgroupRoot, EnvironmentCgroup, sweep_stale
from workers.pool.interpreters import NODE_BOOTSTRAP, LocalRuntimes, language
from workers.pool.variables import environment_variables, layer_paths, reserved_variables

__all__ = ["NODE_BOOTSTRAP", "ProcessExecutor"]
log = logging.getLogger("tarn.pool")
# The runtime families this executor can run, with the program each needs (None: always).
RUNTIME_PROGRAMS = {
    "python": None,
    "provided": None,
    "nodejs": "node",
    "ruby": "ruby",
    "java": "java",
}
READ_SIZE = 65_536

# `python -m awslambdaric <handler>`, except that /next is always polled on the main thread.
# awslambdaric polls from a new thread pool per event when AWS_EXECUTION_ENV names
# python3.12+ (so that signal handlers run while idle); that costs ~0.2 ms per invocation
# and nearly halves throughput, and a sandbox here is only ever ended with SIGKILL.
# awslambdaric 2.x (the last for Python 3.8 and older) makes its client itself.
PYTHON_LAUNCHER = """\
import os, sys
from awslambdaric import bootstrap
from awslambdaric.lambda_runtime_client import LambdaRuntimeClient
address = os.environ["AWS_LAMBDA_RUNTIME_API"]
if bootstrap.run.__code__.co_argcount == 3:
    bootstrap.run(os.environ["LAMBDA_TASK_ROOT"], sys.argv[1], address)
else:
    bootstrap.run(sys.argv[1], LambdaRuntimeClient(address))
"""


class ProcessExecutor:
    """Starts awslambdaric, Tarn's Node.js, Ruby or Java bootstrap, or the code's `bootstrap`,
    on this machine's interpreter for the runtime (see interpreters.py)."""

    bind_host = "127.0.0.1"

    def __init__(self, runtimes_dir: Path, *, reap_orphans: bool = False) -> None:
        self.runtimes = LocalRuntimes(runtimes_dir)
        self._warned: set[str] = set()
        # A subreaper adopts what a function's processes leave (`setsid` daemons, children of
        # a killed bootstrap); with no other children of its own, it ends all it adopts.
        self._reaper = reap_orphans and become_subreaper()
        self._sandboxes: set[int] = set()
        # The pool worker's own executor puts each environment in a cgroup of its own.
        if reap_orphans and (stale := sweep_stale()):
            log.info("removed %d cgroups of pool workers that are gone", stale)
        self._cgroups = CgroupRoot.detect() if reap_orphans else None

    def runtime_api_address(self, port: int) -> str:
        return f"127.0.0.1:{port}"

    async def start(self, spec: LaunchSpec, output: OutputSink) -> ProcessSandbox:
        argv, runtime_dir = await self.command(spec, output)
        variables = self.variables(spec, runtime_dir)
        group = self._cgroup(spec.function.memory_mb)
        read_fd, write_fd = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=spec.code_dir,
                env=variables,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,  # one pipe keeps stdout and stderr in the order written
                start_new_session=True,  # its own process group, so a kill ends its children
                preexec_fn=_preexec(group),  # it dies with the worker, inside its cgroup
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(read_fd)
            if group is not None:
                group.remove()
            raise LaunchError("Runtime.InvalidEntrypoint", f"fork/exec {argv[0]}: {exc}") from None
        finally:
            os.close(write_fd)
        self._sandboxes.add(process.pid)
        sandbox = ProcessSandbox(process, read_fd, output, self._ended, group)
        if group is None:  # the kernel does not hold it to MemorySize: watch it
            sandbox.limit_memory(spec.function.memory_mb)
        return sandbox

    def _cgroup(self, memory_mb: int) -> EnvironmentCgroup | None:
        if self._cgroups is None:
            return None
        try:
            return self._cgroups.environment(uuid.uuid4().hex, memory_mb)
        except OSError as exc:
            log.warning("no cgroup for a new environment (%s); its memory is watched", exc)
            return None

    def _ended(self, pid: int) -> None:
        """After a sandbox's kill: end every orphan this process adopted meanwhile."""
        self._sandboxes.discard(pid)
        if self._reaper:
            orphans = [p for p in children_of(os.getpid()) if p not in self._sandboxes]
            kill_all(orphans)

    async def command(self, spec: LaunchSpec, output: OutputSink) -> tuple[list[str], Path]:
        """The bootstrap to run and the runtime's own folder (LAMBDA_RUNTIME_DIR)."""
        runtime = spec.function.runtime or ""
        if spec.function.package_type != "Zip" or not runtime:
            raise UnsupportedFunction(
                "the process executor runs .zip functions only; set TARN_EXECUTOR=docker"
            )
        if runtime.startswith("provided"):
            return [str(_code_bootstrap(spec.code_dir, spec.opt_dir))], spec.code_dir
        # Preparing one (a Python environment, the Java client) is done once, in a thread.
        interpreter = await anyio.to_thread.run_sync(self.runtimes.interpreter, runtime)
        if interpreter.warning:
            output(f"WARNING: {interpreter.warning}\n".encode())
            if runtime not in self._warned:
                self._warned.add(runtime)
                log.warning("%s", interpreter.warning)
        argv = list(interpreter.command)
        if language(runtime) == "python":
            argv += ["-c", PYTHON_LAUNCHER, spec.function.handler or ""]
        return argv, interpreter.runtime_dir

    def variables(self, spec: LaunchSpec, runtime_dir: Path) -> dict[str, str]:
        task_root = str(spec.code_dir)
        reserved = reserved_variables(
            spec.function,
            region=spec.region,
            task_root=task_root,
            runtime_dir=str(runtime_dir),
            runtime_api=spec.runtime_api,
            log_stream=spec.log_stream,
            session_token=spec.session_token,
            role=spec.role,
            initialization_type=spec.initialization_type,
        )
        # Only PATH comes from the worker: its TARN_* and other settings stay out.
        opt = spec.opt_dir
        layers = layer_paths(spec.function.runtime or "", str(opt)) if opt else {}
        path = [os.environ.get("PATH", os.defpath), *layers.get("PATH", ())]
        library_path = [os.environ.get("LD_LIBRARY_PATH", ""), task_root, f"{task_root}/lib"]
        library_path += layers.get("LD_LIBRARY_PATH", ())
        defaults = {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": ":".join(path),
            "LD_LIBRARY_PATH": ":".join(p for p in library_path if p),
            "PYTHONPATH": ":".join([task_root, *layers.get("PYTHONPATH", ())]),
            "NODE_PATH": ":".join([*layers.get("NODE_PATH", ()), task_root]),
        }
        for name, paths in layers.items():  # RUBYLIB, GEM_PATH, CLASSPATH: the layers only
            defaults.setdefault(name, ":".join(paths))
        if spec.function.hot_reload_folders:
            # Hot reload: never write into the user's folders; a .pyc written there would also
            # outlive an edit made within the same second at the same size.
            defaults["PYTHONDONTWRITEBYTECODE"] = "1"
        return environment_variables(defaults, reserved, spec.function, spec.endpoint_url)

    async def aclose(self) -> None:
        """Each sandbox's processes are killed by its environment; the cgroups go with them."""
        if self._cgroups is not None:
            self._cgroups.remove()


def _preexec(group: EnvironmentCgroup | None) -> Callable[[], None] | None:
    """What a bootstrap runs between fork and exec: die with the worker (SIGKILL), join its
    cgroup."""
    dying = die_with_parent(signal.SIGKILL)
    if group is None:
        return dying

    def preexec() -> None:
        if dying is not None:
            dying()
        group.join()

    return preexec


def can_run(function: FunctionVersion) -> bool:
    """Whether this executor has a runtime for `function` on this machine (`auto`'s fallback)."""
    runtime = function.runtime or ""
    family = next((f for f in RUNTIME_PROGRAMS if runtime.startswith(f)), None)
    if function.package_type != "Zip" or family is None:
        return False
    program = RUNTIME_PROGRAMS[family]
    return program is None or shutil.which(program) is not None


def _open_status(pid: int) -> int:
    try:
        return os.open(f"/proc/{pid}/status", os.O_RDONLY)
    except OSError:
        return -1  # not Linux: REPORT shows 0 MB


def resident_mb(status_fd: int) -> int:
    """VmRSS from an open /proc/<pid>/status, in MB; 0 once the process has gone."""
    try:
        status = os.pread(status_fd, 4096, 0)
        start = status.index(b"VmRSS:") + 6
        return int(status[start : status.index(b"kB", start)]) // 1024
    except (OSError, ValueError):
        return 0


def _code_bootstrap(code_dir: Path, opt_dir: Path | None) -> Path:
    """The `bootstrap` of the code, else of a layer, checked as AWS does before it starts an
    OS-only runtime."""
    candidates = [code_dir / "bootstrap"] + ([opt_dir / "bootstrap"] if opt_dir else [])
    bootstrap = next((c for c in candidates if c.is_file()), None)
    if bootstrap is None:
        raise LaunchError(
            "Runtime.InvalidEntrypoint",
            f"Couldn't find valid bootstrap(s): [{' '.join(map(str, candidates))}]",
        )
    if not os.access(bootstrap, os.X_OK):
        raise LaunchError("Runtime.InvalidEntrypoint", f"fork/exec {bootstrap}: permission denied")
    return bootstrap


# How long a kill waits for the killed process to be reaped.
KILL_WAIT_S = 5.0
# How often a sandbox's resident memory is checked against the function's MemorySize.
MEMORY_CHECK_S = 0.05


class ProcessSandbox:
    """A running bootstrap: its process group, and the pipe its output comes through."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        log_fd: int,
        output: OutputSink,
        on_ended: Callable[[int], None] = lambda pid: None,
        cgroup: EnvironmentCgroup | None = None,
    ):
        self.process = process
        self._cgroup = cgroup
        self._on_ended = on_ended
        self.pid = process.pid
        self._log_fd = log_fd
        self._output = output
        self._peak_mb = 0
        self._status_fd = _open_status(self.pid)
        os.set_blocking(log_fd, False)
        asyncio.get_running_loop().add_reader(log_fd, self._read)
        self._memory_check: asyncio.TimerHandle | None = None

    def limit_memory(self, limit_mb: int) -> None:
        """Kill the sandbox (SIGKILL, as Lambda's cgroup does: "signal: killed") once its
        bootstrap's resident memory exceeds `limit_mb`, checked every MEMORY_CHECK_S."""
        if self._status_fd < 0:
            return  # not Linux: no limit

        def check() -> None:
            if resident_mb(self._status_fd) > limit_mb:
                kill_all([self.pid, *descendants(self.pid)])
                return
            if self.process.returncode is None:
                self._memory_check = loop.call_later(MEMORY_CHECK_S, check)

        loop = asyncio.get_running_loop()
        self._memory_check = loop.call_later(MEMORY_CHECK_S, check)

    async def wait(self) -> int:
        return await self.process.wait()

    def running(self) -> bool:
        if self.process.returncode is not None:
            return False
        if not hasattr(os, "waitid"):  # macOS before Python 3.13
            return True
        try:
            # WNOWAIT: look without reaping; asyncio's child watcher reaps it.
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.pid, flags) is None
        except ChildProcessError:
            return False  # reaped already

    async def kill(self) -> None:
        """End the bootstrap and every process under it, in whatever session or group."""
        if self._memory_check is not None:
            self._memory_check.cancel()
        tree = descendants(self.pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the whole group is gone already
        kill_all(tree)
        # Reaped, its transport closes; a SIGKILLed process is gone within milliseconds.
        with anyio.move_on_after(KILL_WAIT_S):
            await self.process.wait()
        if self._cgroup is not None:  # whatever escaped the tree is still in the cgroup
            self._cgroup.remove()
            self._cgroup = None
        if self._status_fd >= 0:
            os.close(self._status_fd)
            self._status_fd = -1
        self._on_ended(self.pid)

    async def drain(self) -> None:
        # Output written before the runtime posted its result is in the pipe already: one
        # non-blocking read takes it, no waiting.
        self._read()

    def peak_memory_mb(self) -> int:
        # The bootstrap's peak resident set (VmHWM). Re-reading a status file kept open
        # costs a third of opening it anew, and this runs on every invocation.
        if self._status_fd < 0:
            return self._peak_mb
        try:
            status = os.pread(self._status_fd, 4096, 0)
            start = status.index(b"VmHWM:") + 6
            peak_kb = int(status[start : status.index(b"kB", start)])
        except (OSError, ValueError):
            return self._peak_mb  # exited: keep the last figure
        self._peak_mb = max(self._peak_mb, peak_kb // 1024)
        return self._peak_mb

    def _read(self) -> None:
        while self._log_fd >= 0:
            try:
                chunk = os.read(self._log_fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:  # every writer has gone: the process group has ended
                self._close_log()
                return
            self._output(chunk)
            if len(chunk) < READ_SIZE:  # a pipe read returns all it holds: it is empty now
                return

    def _close_log(self) -> None:
        if self._log_fd >= 0:
            asyncio.get_running_loop().remove_reader(self._log_fd)
            os.close(self._log_fd)
            self._log_fd = -1
