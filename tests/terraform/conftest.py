"""Real Terraform against a real `tarn up`: finds `terraform` and a local hashicorp/aws provider
(the layout `terraform providers mirror` writes), or skips saying which one is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Stack, start_stack, stop_stack
from tests.terraform.calls import failed

# Where a provider mirror usually lives; each root is searched two levels deep, never walked.
PLUGIN_ROOTS = (
    Path("/opt"),
    Path("/usr/local/share"),
    Path("/usr/local/lib"),
    Path("/usr/share"),
    Path.home() / ".terraform.d",
)
PROVIDER = "registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*"
PLUGIN_DIR_VARIABLE = "TARN_TEST_TF_PLUGIN_DIR"


def plugin_dir() -> Path | None:
    """The folder holding `registry.terraform.io` with a hashicorp/aws provider, if any."""
    override = os.environ.get(PLUGIN_DIR_VARIABLE)
    candidates = [Path(override)] if override else PLUGIN_ROOTS
    for root in candidates:
        for pattern in (PROVIDER, f"*/{PROVIDER}", f"*/*/{PROVIDER}"):
            for binary in sorted(root.glob(pattern)):
                return binary.parents[5]
    return None


def missing_terraform() -> str | None:
    """Why these tests cannot run here, or None."""
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    if plugin_dir() is None:
        where = os.environ.get(PLUGIN_DIR_VARIABLE) or ", ".join(map(str, PLUGIN_ROOTS))
        return (
            f"no hashicorp/aws provider (terraform-provider-aws*) in a plugin dir under {where}; "
            f"set {PLUGIN_DIR_VARIABLE} to the folder holding registry.terraform.io"
        )
    return None


@dataclass
class Terraform:
    """One working directory of HCL and the `terraform` runs on it, timed."""

    workdir: Path
    stack: Stack
    env: dict[str, str]
    times: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout_s: float = 300, ok: tuple[int, ...] = (0,)) -> str:
        """`terraform <args>`; fails the test with its output and the stack's errors unless
        its exit code is in `ok`."""
        started = time.monotonic()
        try:
            done = subprocess.run(
                ["terraform", *args],
                cwd=self.workdir,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired as expired:
            pytest.fail(f"terraform {' '.join(args)} ran over {timeout_s} s:\n{expired.stdout}")
        self.times[args[0]] = time.monotonic() - started
        if done.returncode not in ok:
            pytest.fail(
                f"terraform {' '.join(args)} exited {done.returncode}\n"
                f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}\n"
                f"--- calls answered 4xx/5xx (all calls: python -m tests.terraform.calls "
                f"{self.log_path})\n{failed(self.log_path)[-6000:]}"
            )
        self.last_exit = done.returncode
        return done.stdout

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color", f"-plugin-dir={plugin_dir()}")
        print(f"terraform init: {self.times['init']:.1f} s")

    def apply(self) -> None:
        self.run("apply", "-input=false", "-no-color", "-auto-approve")
        print(f"terraform apply: {self.times['apply']:.1f} s")

    def plan_changes(self) -> str:
        """The plan's output if it has changes; '' when it has none (exit code 0)."""
        output = self.run("plan", "-input=false", "-no-color", "-detailed-exitcode", ok=(0, 2))
        print(f"terraform plan: {self.times['plan']:.1f} s")
        return output if self.last_exit == 2 else ""

    def destroy(self) -> None:
        self.run("destroy", "-input=false", "-no-color", "-auto-approve")
        print(f"terraform destroy: {self.times['destroy']:.1f} s")

    @property
    def log_path(self) -> Path:
        return Path(self.env["TF_LOG_PATH"])


HCL = Path(__file__).parent / "hcl"
PAGE_ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    """A stack of Terraform's own (its fixed names never meet another test's) and ONE working
    directory holding every .tf file of hcl/, pointed at that stack and initialised once: each
    `terraform` command starts the 700 MB provider, so the session pays for one init."""
    reason = missing_terraform()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("terraform")
    stack = start_stack(folder / "data", folder / "tarn.log")
    workdir = folder / "tf"
    workdir.mkdir()
    for hcl in sorted(HCL.glob("*.tf")):
        (workdir / hcl.name).write_text(hcl.read_text().replace(PAGE_ENDPOINT, stack.url))
    cli_config = folder / "terraformrc"
    cli_config.write_text("")  # no credentials, no mirrors: init reads only -plugin-dir
    env = {
        **os.environ,
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",  # no version check over the network
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_LOG": os.environ.get("TF_LOG", "DEBUG"),  # the provider's HTTP calls, for failures
        "TF_LOG_PATH": str(folder / "terraform.log"),
        "AWS_EC2_METADATA_DISABLED": "true",
        # The typical stack's services that the page's provider block names no endpoint for.
        **{
            f"AWS_ENDPOINT_URL_{service}": stack.url
            for service in ("DYNAMODB", "CLOUDWATCH_LOGS", "STS")
        },
    }
    env.pop("TF_PLUGIN_CACHE_DIR", None)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    terraform = Terraform(workdir, stack, env)
    try:
        terraform.init()
        yield terraform
    finally:
        stop_stack(stack)
