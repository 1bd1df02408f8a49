"""`tarn lambda create|update|get|list|delete` and the page's two commands, on a real stack."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.cli.conftest import Tarn, python_package
from tests.conftest import Stack
from tests.functions import unique_name

NODE_SECRET_READER = "export const handler = async () => process.env.DB_SECRET;\n"
# The process executor's Python writes __pycache__ next to the code: not part of the package.
LISTING = """import os

def handler(event, context):
    return sorted(n for n in os.listdir(".") if n != "__pycache__")
"""


def test_the_pages_create_and_invoke_commands_work_verbatim(tarn: Tarn, tmp_path: Path) -> None:
    name = unique_name("my-function")
    with zipfile.ZipFile(tmp_path / "function.zip", "w") as archive:
        archive.writestr("index.mjs", NODE_SECRET_READER)
    created = tarn(
        "create",
        "--name", name,
        "--runtime", "nodejs20.x",
        "--handler", "index.handler",
        "--zip", "function.zip",
        "--env", "DB_SECRET=my-secret",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert f"arn:aws:lambda:us-east-1:000000000000:function:{name}" in created.stdout
    assert "Active" in created.stdout
    invoked = tarn("invoke", "--name", name, "--payload", '{"hello":"world"}')
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout) == "my-secret"
    assert "REPORT RequestId:" in invoked.stderr


def test_create_zips_a_folder_without_what_tarnignore_lists(tarn: Tarn, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "tests").mkdir(parents=True)
    (source / "app.py").write_text(LISTING)
    (source / "notes.log").write_text("local only")
    (source / "tests" / "test_app.py").write_text("")
    (source / ".tarnignore").write_text("*.log\ntests/\n")
    name = unique_name("folder")
    created = tarn(
        "create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
        "--code", "src", "--output", "json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["State"] == "Active"
    invoked = tarn("invoke", "-n", name)
    assert json.loads(invoked.stdout) == ["app.py"]


def test_update_changes_code_and_configuration(tarn: Tarn, tmp_path: Path) -> None:
    name = unique_name("update")
    python_package(tmp_path, "def handler(e, c):\n    return 'one'\n")
    tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
         "--zip", "function.zip")  # fmt: skip
    python_package(tmp_path, "import os\ndef handler(e, c):\n    return os.environ['COLOUR']\n")
    updated = tarn(
        "update", "-n", name, "--zip", "function.zip", "--env", "COLOUR=teal",
        "--memory", "256", "--timeout", "9", "-o", "json",
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    config = json.loads(updated.stdout)
    assert (config["MemorySize"], config["Timeout"]) == (256, 9)
    assert config["LastUpdateStatus"] == "Successful"
    assert json.loads(tarn("invoke", "-n", name).stdout) == "teal"
    nothing = tarn("update", "-n", name)
    assert nothing.returncode == 1
    assert "nothing to update" in nothing.stderr


def test_get_list_and_delete_in_text_and_json(tarn: Tarn, tmp_path: Path) -> None:
    name = unique_name("listed")
    python_package(tmp_path, "def handler(e, c):\n    return 1\n")
    tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
         "--zip", "function.zip", "-e", "AB=1")  # fmt: skip
    shown = tarn("get", "-n", name)
    assert shown.returncode == 0, shown.stderr
    assert "AB=1" in shown.stdout and "python3.12" in shown.stdout
    as_json = json.loads(tarn("get", "-n", name, "-o", "json").stdout)
    assert as_json["Configuration"]["FunctionName"] == name
    table = tarn("list").stdout
    assert any(line.split()[:2] == [name, "python3.12"] for line in table.splitlines())
    assert name in [f["FunctionName"] for f in json.loads(tarn("list", "-o", "json").stdout)]
    deleted = tarn("delete", "-n", name)
    assert deleted.returncode == 0, deleted.stderr
    missing = tarn("get", "-n", name)
    assert missing.returncode == 1
    assert missing.stderr.startswith("tarn: ResourceNotFoundException: Function not found")


def test_create_without_code_is_a_usage_error(tarn: Tarn) -> None:
    result = tarn("create", "-n", unique_name(), "--runtime", "python3.12", "--handler", "a.b")
    assert result.returncode == 1
    assert result.stderr == "tarn: give the code: --zip FILE, --code DIR or --image URI\n"


def test_create_publishes_a_version_when_asked(tarn: Tarn, tmp_path: Path, stack: Stack) -> None:
    name = unique_name("published")
    python_package(tmp_path, "def handler(e, c):\n    return 1\n")
    result = tarn("create", "-n", name, "--runtime", "python3.12", "--handler", "app.handler",
                  "--zip", "function.zip", "--publish")  # fmt: skip
    assert result.returncode == 0, result.stderr
    versions = stack.client().list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
