"""Every runtime on the page, created through the API on the process executor's stack: it runs,
or it ends Failed at create with a StateReason naming the fix, never Active and then a 500."""

from __future__ import annotations

import json

from tests.functions import ROLE, unique_name, zip_of
from tests.waiting import wait_for


def create(lambda_client, runtime: str, files: dict[str, str | bytes], handler: str) -> str:  # type: ignore[no-untyped-def]
    name = unique_name(runtime.replace(".", ""))
    lambda_client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": zip_of(files)},
    )
    return name


def settled(lambda_client, name: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    seen: list[dict] = []  # type: ignore[type-arg]

    def left_pending() -> bool:
        seen.append(lambda_client.get_function_configuration(FunctionName=name))
        return bool(seen[-1]["State"] != "Pending")

    wait_for(left_pending, timeout_s=120, what=f"{name} to leave Pending")
    return seen[-1]


def test_dotnet_ends_failed_at_create_naming_the_docker_executor(lambda_client) -> None:
    name = create(lambda_client, "dotnet8", {"app.dll": "not really"}, "App::App.Function::Handler")
    config = settled(lambda_client, name)
    assert config["State"] == "Failed"
    assert config["StateReasonCode"] == "InvalidRuntime"
    assert "--executor docker" in config["StateReason"]


def test_python312_function_goes_active_and_runs_on_python312(lambda_client) -> None:
    code = "import sys\ntype Pair = tuple[int, int]\n"
    code += "def handler(event, context):\n    return sys.version_info[:2]\n"
    name = create(lambda_client, "python3.12", {"app.py": code}, "app.handler")
    assert settled(lambda_client, name)["State"] == "Active"
    answer = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == [3, 12]
