"""Hot reload through the API, as users reach it: the hot-reload bucket convention with boto3
(functions and layers), its checks, CodeSha256 following the folder, and `tarn lambda create
--code DIR --watch`."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bus.folders import folder_digest
from tests.cli.conftest import cli_env, run_tarn
from tests.conftest import Stack

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
APP = "VALUE = {value!r}\n\ndef handler(event, context):\n    return {{'value': VALUE}}\n"
USES_LAYER = "import shared\n\ndef handler(event, context):\n    return {'value': shared.VALUE}\n"
RELOAD_WAIT_S = 15.0


def write(folder: Path, name: str, text: str) -> Path:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def hot_reload(folder: Path | str) -> dict[str, str]:
    return {"S3Bucket": "hot-reload", "S3Key": str(folder)}


def create(client: Any, code: dict[str, Any], **extra: Any) -> str:
    name = f"hot-{uuid.uuid4().hex[:8]}"
    client.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE, Code=code,
        **extra,
    )  # fmt: skip
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def value(client: Any, name: str) -> Any:
    response = client.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())["value"]


def until_value(client: Any, name: str, expected: str) -> None:
    """Invoke until the function answers `expected` (the reload takes a few milliseconds)."""
    deadline = time.monotonic() + RELOAD_WAIT_S
    while (seen := value(client, name)) != expected:
        assert time.monotonic() < deadline, f"still {seen!r}, not {expected!r}"
        time.sleep(0.05)


def sha256_b64(folder: Path) -> str:
    return base64.b64encode(bytes.fromhex(folder_digest(folder)[0])).decode()


def test_a_function_from_the_hot_reload_bucket_reloads(stack: Stack, tmp_path: Path) -> None:
    client = stack.client()
    code = write(tmp_path / "src", "app.py", APP.format(value="one"))
    name = create(client, hot_reload(code))
    assert value(client, name) == "one"
    before = client.get_function(FunctionName=name)["Configuration"]
    assert before["CodeSha256"] == sha256_b64(code)
    write(code, "app.py", APP.format(value="two, longer"))
    until_value(client, name, "two, longer")
    after = client.get_function(FunctionName=name)["Configuration"]
    assert after["CodeSha256"] == sha256_b64(code) != before["CodeSha256"]
    assert after["CodeSize"] == before["CodeSize"] + len(", longer")


def test_update_function_code_moves_a_function_to_a_folder_and_back(
    stack: Stack, tmp_path: Path
) -> None:
    client = stack.client()
    zipped = write(tmp_path / "zipped", "app.py", APP.format(value="zipped"))
    name = create(client, {"ZipFile": _zip(zipped)})
    code = write(tmp_path / "src", "app.py", APP.format(value="folder"))
    client.update_function_code(FunctionName=name, **hot_reload(code))
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert value(client, name) == "folder"
    client.update_function_code(FunctionName=name, ZipFile=_zip(zipped))
    client.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert value(client, name) == "zipped"
    config = client.get_function_configuration(FunctionName=name)
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(_zip(zipped)).digest()).decode()


@pytest.mark.parametrize(
    ("key", "words"),
    [("relative/path", "must be an absolute path"), ("/no/such/folder", "does not exist")],
)
def test_a_hot_reload_key_must_be_an_existing_absolute_folder(
    stack: Stack, key: str, words: str
) -> None:
    with pytest.raises(ClientError) as raised:
        create(stack.client(), hot_reload(key))
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert words in error["Message"]


def test_a_layer_from_the_hot_reload_bucket_reloads_its_functions(
    stack: Stack, tmp_path: Path
) -> None:
    client = stack.client()
    layer = write(tmp_path / "layer", "python/shared.py", "VALUE = 'layer one'\n")
    published = client.publish_layer_version(LayerName="hot-layer", Content=hot_reload(layer))
    assert published["Content"]["CodeSha256"] == sha256_b64(layer)
    code = write(tmp_path / "src", "app.py", USES_LAYER)
    name = create(client, {"ZipFile": _zip(code)}, Layers=[published["LayerVersionArn"]])
    assert value(client, name) == "layer one"
    write(layer, "python/shared.py", "VALUE = 'layer two'\n")
    until_value(client, name, "layer two")
    now = client.get_layer_version_by_arn(Arn=published["LayerVersionArn"])["Content"]
    assert now["CodeSha256"] == sha256_b64(layer) != published["Content"]["CodeSha256"]


def test_tarn_lambda_create_watch_runs_the_folder_in_place(stack: Stack, tmp_path: Path) -> None:
    code = write(tmp_path / "src", "app.py", APP.format(value="cli one"))
    name = f"hot-cli-{uuid.uuid4().hex[:8]}"
    args = ["lambda", "create", "--name", name, "--runtime", "python3.12"]
    args += ["--handler", "app.handler", "--code", "src", "--watch"]
    created = run_tarn(args, cwd=tmp_path, env=cli_env(stack.url))
    assert created.returncode == 0, created.stderr
    client = stack.client()
    assert client.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha256_b64(code)
    assert value(client, name) == "cli one"
    write(code, "app.py", APP.format(value="cli two"))
    until_value(client, name, "cli two")


def _zip(folder: Path) -> bytes:
    from services.cli.lambda_cli.packages import zip_folder

    return zip_folder(folder)
