"""A compose stack for the tests: `docker compose` (v2) or `docker-compose` (v1) on the
repository's compose.yaml, under a project name and host port of its own, with test settings
layered on by an override file; always torn down, volumes and function containers included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT_S = 300
# The services that run Tarn's image, which the override gives the test's settings.
TARN_SERVICES = ("companion", "api", "functions", "pool", "async", "event_sources")


def compose_command() -> list[str] | None:
    """`docker compose` when the v2 plugin answers, else `docker-compose`; None if neither."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@dataclass
class ComposeStack:
    command: list[str]
    project: str
    port: int
    folder: Path
    env: dict[str, str]
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_override(self) -> Path:
        """Test settings for every Tarn service (JSON is YAML)."""
        environment = {"environment": self.settings}
        override = {"services": dict.fromkeys(TARN_SERVICES, environment)}
        path = self.folder / "compose.test.yaml"
        path.write_text(json.dumps(override, indent=1))
        return path

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = ["-f", str(ROOT / "compose.yaml"), "-f", str(self.write_override())]
        argv = [*self.command, "-p", self.project, *files, *args]
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def containers(self, service: str | None = None, *, every: bool = False) -> list[str]:
        """Ids of the project's containers (of one service), running or, with every, all."""
        labels = [f"label=com.docker.compose.project={self.project}"]
        if service:
            labels.append(f"label=com.docker.compose.service={service}")
        argv = ["docker", "ps", "-q", *(["-a"] if every else [])]
        for label in labels:
            argv += ["--filter", label]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.split()

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.url}/_tarn/health", timeout=3) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:
            return dict(json.load(error))
        except (OSError, ValueError):
            return None

    def wait_ready(self, timeout_s: float, instances: dict[str, int] | None = None) -> float:
        """Seconds until health is ready with at least `instances` per role."""
        instances = instances or {}
        started = time.monotonic()
        while True:
            body = self.health() or {}
            live = body.get("instances", {})
            if body.get("status") == "ready" and all(
                live.get(role, 0) >= n for role, n in instances.items()
            ):
                return time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                logs = self.compose("logs", "--tail", "30", check=False).stdout[-6000:]
                raise AssertionError(f"not ready after {timeout_s} s: {body}\n{logs}")
            time.sleep(0.25)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 2}, read_timeout=60),
        )

    def remove_function_containers(self) -> None:
        """Function containers a SIGKILLed pool left (their label carries TARN_STACK_ID)."""
        found = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=tarn.stack={self.project}"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        if found:
            subprocess.run(["docker", "rm", "-f", *found], capture_output=True, timeout=120)

    def destroy(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "10", check=False)
        self.remove_function_containers()


def compose_env(project: str, port: int, image: str, redis_image: str) -> dict[str, str]:
    """The test's environment for compose: its images, port and project; no TARN_* of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TARN_", "AWS_"))}
    return env | {
        "COMPOSE_PROJECT_NAME": project,
        "STACK_IMAGE": image,
        "REDIS_IMAGE": redis_image,
        "API_PORT": str(port),
    }
