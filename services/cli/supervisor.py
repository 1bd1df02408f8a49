"""`tarn up`'s process supervisor: a private Redis, the companion AWS endpoint (moto server), the
API and the workers as child processes: one process running every worker role as tasks
(TARN_WORKER_LAYOUT=shared), or one per role (split); `--scale pool=3,async=2` runs that many
processes of a role (each its own consumer, see workers/consumers.py).

Children that die are restarted, each on its own; SIGINT/SIGTERM stop the API and workers
first (they finish or hand back their work), then the companion, then Redis, which writes its
append-only file on the way out.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from bus.processes import die_with_parent
from bus.settings import Settings
from services.cli import leftovers

STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 60.0
RESTART_DELAY_S = 1.0
REDIS_START_S = 10.0
EXTENSION_HOST = "127.0.0.1"  # where the pool's Parameters and Secrets extension listens
# The workers' Docker check: it prints the engine and removes the stack's leftover containers.
DOCKER_CHECK = [sys.executable, "-m", "workers.docker.engine"]
DOCKER_CHECK_TIMEOUT_S = 60.0
NO_DOCKER_ENGINE = 3  # its exit status when no engine answers
# moto logs every request it serves; that goes to this file under the data dir, not to ours.
COMPANION_LOG = "companion.log"
HEALTH_PATH = "/_tarn/health"


class StartupError(RuntimeError):
    """Tarn cannot start; the message says what to do."""


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = field(default=0)
    log_path: Path | None = None  # its output goes here, else to ours
    env: dict[str, str] = field(default_factory=dict)  # on top of the stack's


def check_port_free(host: str, port: int) -> None:
    if not port_free(host, port):
        raise StartupError(f"port {port} on {host} is in use; stop what uses it or pass --port")


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the server binds: a port whose last connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def extension_port(settings: Settings) -> Settings:
    """The process executor's functions share this machine's localhost: when AWS's extension
    port is another program's (another stack's), this stack's extension takes a free one, which
    functions read from PARAMETERS_SECRETS_EXTENSION_HTTP_PORT; said once, here."""
    wanted = settings.extension_port
    if settings.executor != "process" or port_free(EXTENSION_HOST, wanted):
        return settings
    with socket.socket() as probe:
        probe.bind((EXTENSION_HOST, 0))
        port = int(probe.getsockname()[1])
    print(
        f"tarn: {EXTENSION_HOST}:{wanted} is taken (another Tarn?): this stack's Parameters and "
        f"Secrets extension listens on port {port}, which functions find in "
        f"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (code that hardcodes {wanted} reaches the other)",
        flush=True,
    )
    return msgspec.structs.replace(settings, extension_port=port)


def refuse_a_running_redis(data_dir: Path) -> None:
    """Refuse `data_dir` when a Redis answers on its socket: another Tarn's."""
    sock = data_dir / "redis.sock"
    if sock.exists() and _redis_answers(sock):
        raise StartupError(
            f"another Tarn is already running on {data_dir} (its Redis answers on {sock}); "
            "stop it first or pass another --data-dir"
        )


def start_redis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server with AOF on, on a Unix socket in `data_dir` (which
    refuse_a_running_redis has found free); returns its URL."""
    return launch_redis(data_dir), f"unix://{data_dir / 'redis.sock'}"


def launch_redis(data_dir: Path) -> subprocess.Popen[bytes]:
    """Start redis-server on `data_dir` (it reloads its append-only file) and wait until it
    answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise StartupError(
            "redis-server is not installed. Install it (Debian/Ubuntu: apt-get install "
            "redis-server; macOS: brew install redis) or pass --redis-url redis://HOST:6379/0"
        )
    sock = data_dir / "redis.sock"
    argv = [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
    argv += ["--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "everysec"]
    argv += ["--save", "", "--loglevel", "warning", "--daemonize", "no"]
    process = subprocess.Popen(
        argv, start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM)
    )
    deadline = time.monotonic() + REDIS_START_S
    while not (sock.exists() and _redis_answers(sock)):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise StartupError(f"redis-server did not start (exit code {process.poll()})")
        time.sleep(0.02)
    return process


def companion_child(data_dir: Path, account_id: str) -> tuple[Child, str]:
    """Tarn's companion (moto's server with Tarn's hooks, services/companion/) on a free
    loopback port, logging under `data_dir`; and its URL."""
    if importlib.util.find_spec("moto") is None:
        raise StartupError(
            "moto is not installed, and Tarn starts a moto server as its companion AWS "
            "endpoint: pip install 'moto[server]', or pass --aws-endpoint URL"
        )
    with socket.socket() as probe:  # free now; moto binds it a moment later
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "services.companion", "-H", "127.0.0.1", "-p", str(port)]
    # ARNs and queue URLs in Tarn's account, so that a role moto created is one Lambda knows.
    env = {"MOTO_ACCOUNT_ID": account_id}
    child = Child("companion", argv, log_path=data_dir / COMPANION_LOG, env=env)
    return child, f"http://127.0.0.1:{port}"


def parse_scale(text: str, roles: tuple[str, ...]) -> Counter[str]:
    """Processes per role: one per name in `roles` (TARN_WORKERS), then `text` ("pool=3,async=2",
    TARN_SCALE or --scale) overriding."""
    counts = Counter(roles)
    for part in filter(None, (p.strip() for p in text.split(","))):
        role, _, number = (p.strip() for p in part.partition("="))
        if role not in counts or not number.isdigit() or int(number) < 1:
            raise StartupError(
                f"--scale {part!r} is not ROLE=N with N at least 1 and ROLE one of "
                f"{', '.join(counts)}"
            )
        counts[role] = int(number)
    return counts


def worker_children(counts: Counter[str], layout: str) -> list[Child]:
    """One child per worker process. "split": `pool`, or `pool-1`, `pool-2`, ... when scaled;
    "shared": the same for roles scaled out, and one `workers` child running the others."""
    worker = [sys.executable, "-m", "workers"]
    alone = [role for role, count in counts.items() if count == 1]
    # The pool first: tools that name a process by its first role (compare.py) see the pool.
    alone.sort(key=lambda role: role != "pool")
    shared = alone if layout == "shared" and len(alone) > 1 else []
    children = [Child("workers", worker + shared)] if shared else []
    for role, count in counts.items():
        if role in shared:
            continue
        names = [role] if count == 1 else [f"{role}-{n}" for n in range(1, count + 1)]
        children += [Child(name, [*worker, role]) for name in names]
    return children


def _redis_answers(sock: Path) -> bool:
    """Whether a Redis answers PING on `sock` (not while it loads its data: -LOADING). A bare
    inline PING: redis-py would cost the supervisor 50 ms of start, with two cores shared."""
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        python = sys.executable
        self.children = [Child("api", [python, "-m", "services.cli.server"])]
        self.scale: Counter[str] = Counter()  # processes per role, once `run` has read --scale
        self.redis: subprocess.Popen[bytes] | None = None
        self.companion: Child | None = None
        self.stopping = False
        self.recorded = False  # this run wrote the data dir's pid file
        self.docker_checked = False  # this run owns the stack's containers: clean at stop

    def run(self) -> int:
        """Start everything, wait until healthy, supervise until a signal; the exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        started = time.monotonic()
        try:
            self.scale = parse_scale(self.settings.scale, self.settings.workers)
            self.children += worker_children(self.scale, self.settings.worker_layout)
            self._start_all()
            self._wait_ready(started)
            self._supervise()
            return 0
        except StartupError as exc:
            print(f"tarn: {exc}", file=sys.stderr)
            return 1
        finally:
            self._stop_all()

    def _start_all(self) -> None:
        data_dir = Path(self.settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        _clean_leftovers(data_dir)
        check_port_free(self.settings.host, self.settings.port)
        settings = self.settings
        if not settings.redis_url:
            refuse_a_running_redis(data_dir)  # before anything of ours touches the data dir
        # The companion first, before Redis and the Docker check: it takes longest to start,
        # the others call it, and it needs neither.
        if not settings.aws_endpoint:
            self.companion, url = companion_child(data_dir, settings.account_id)
            settings = msgspec.structs.replace(settings, aws_endpoint=url)
            self.env = _child_env(settings)
            self._spawn(self.companion)
        if not settings.redis_url:
            self.redis, url = start_redis(data_dir)
            settings = msgspec.structs.replace(settings, redis_url=url)
        settings = extension_port(self._choose_executor(settings))
        self.settings = msgspec.structs.replace(
            self.settings, executor=settings.executor, aws_endpoint=settings.aws_endpoint
        )
        self.env = _child_env(settings)
        for child in self.children:
            self._spawn(child)

    def _supervised(self) -> list[Child]:
        return ([self.companion] if self.companion else []) + self.children

    def _choose_executor(self, settings: Settings) -> Settings:
        """`auto`: Docker when an engine answers (the workers run a function whose image cannot
        be had as a process), else process; `docker`: fail without one."""
        if settings.executor not in ("auto", "docker"):
            return settings
        check = _docker_check(settings)
        if check.returncode == 0:
            self.docker_checked = True
            fallback = ", or process for a runtime whose image Docker cannot have"
            fallback = fallback if settings.executor == "auto" else ""
            print(f"tarn: executor docker ({check.stdout.strip()}){fallback}", flush=True)
            return settings
        reason = check.stderr.strip() or f"the Docker check exited with code {check.returncode}"
        if check.returncode == NO_DOCKER_ENGINE and settings.executor == "auto":
            print(f"{reason}\ntarn: executor process (functions run as local processes)")
            return msgspec.structs.replace(settings, executor="process")
        raise StartupError(reason.removeprefix("tarn: "))

    def _spawn(self, child: Child) -> None:
        """Start `child` in its own session, to die with this process however it ends."""
        env = self.env | child.env
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(child.log_path.open("ab")) if child.log_path else None
            child.process = subprocess.Popen(
                child.argv,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),  # they stop as on Ctrl-C
            )
        self._record()

    def _record(self) -> None:
        running = {c.name: c.process.pid for c in self._supervised() if c.process is not None}
        if self.redis is not None:
            running["redis-server"] = self.redis.pid
        leftovers.record(Path(self.settings.data_dir), running)
        self.recorded = True

    def _wait_ready(self, started: float) -> None:
        url = f"http://{self.settings.host}:{self.settings.port}{HEALTH_PATH}"
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self.stopping:
                return
            for child in self._supervised():
                assert child.process is not None
                if child.process.poll() is not None:
                    raise StartupError(
                        f"{child.name} exited with code {child.process.returncode} while "
                        f"starting; its log is {child.log_path or 'above'}"
                    )
            if _healthy(self.settings.host, self.settings.port, self.scale):
                took = time.monotonic() - started
                print(
                    f"tarn: ready on {self.settings.base_url} in {took:.2f} s "
                    f"(executor: {self.settings.executor}, data: {self.settings.data_dir}, "
                    f"companion: {self.settings.aws_endpoint})",
                    flush=True,
                )
                return
            time.sleep(0.05)
        raise StartupError(f"not healthy after {READY_TIMEOUT_S:.0f} s; see {url}")

    def _supervise(self) -> None:
        while not self.stopping:
            time.sleep(0.2)
            if self.redis is not None and self.redis.poll() is not None:
                self._restart_redis()
            for child in self._supervised():
                assert child.process is not None
                code = child.process.poll()
                if code is not None and not self.stopping:
                    child.restarts += 1
                    print(f"tarn: {child.name} exited with code {code}; restarting", flush=True)
                    time.sleep(RESTART_DELAY_S)
                    self._spawn(child)

    def _restart_redis(self) -> None:
        """Start redis-server again on its data: its clients reconnect by themselves."""
        assert self.redis is not None
        print(
            f"tarn: redis-server exited with code {self.redis.returncode}; restarting", flush=True
        )
        self.redis = launch_redis(Path(self.settings.data_dir))
        self._record()

    def _request_stop(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def _stop_all(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        _terminate(running)
        if self.docker_checked:  # what a worker killed mid-cleanup left behind
            _docker_check(self.settings)
        if self.companion is not None and self.companion.process is not None:
            _terminate([self.companion.process])  # after the workers, which may still call it
        if self.redis is not None:
            _terminate([self.redis])
        if self.recorded:  # not another Tarn's file, when this one was refused
            leftovers.forget(Path(self.settings.data_dir))
        print("tarn: stopped", flush=True)


def _clean_leftovers(data_dir: Path) -> None:
    """Refuse to start beside a running Tarn on `data_dir`; end what a crashed one left."""
    pid = leftovers.running_supervisor(data_dir)
    if pid is not None:
        raise StartupError(
            f"another Tarn is already running on {data_dir} (tarn up, pid {pid}); "
            "stop it first or pass another --data-dir"
        )
    note = leftovers.clean(data_dir)
    if note is not None:
        print(f"tarn: {note}", flush=True)


def _child_env(settings: Settings) -> dict[str, str]:
    """The children's environment: this one's, with the settings, less a fixed consumer name,
    which copies of one role would share (each child names itself after its pid instead)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARN_")}
    return env | msgspec.structs.replace(settings, consumer="").to_env()


def _docker_check(settings: Settings) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            DOCKER_CHECK,
            env=_child_env(settings),
            capture_output=True,
            text=True,
            timeout=DOCKER_CHECK_TIMEOUT_S,
            start_new_session=True,  # Ctrl-C must not cut the cleanup at stop short
        )
    except subprocess.TimeoutExpired:
        message = f"tarn: the Docker engine did not answer within {DOCKER_CHECK_TIMEOUT_S:.0f} s"
        return subprocess.CompletedProcess(DOCKER_CHECK, NO_DOCKER_ENGINE, "", message)


def _terminate(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL what is still there after the grace period."""
    for process in processes:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def _healthy(host: str, port: int, scale: Counter[str]) -> bool:
    """Ready, with as many live processes of each role as `scale` asks for."""
    connection = http.client.HTTPConnection(host, port, timeout=1)
    try:
        connection.request("GET", HEALTH_PATH)
        instances = json.load(connection.getresponse()).get("instances", {})
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return all(instances.get(role, 0) >= count for role, count in scale.items())
