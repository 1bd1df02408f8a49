"""Layers through boto3 against the running stack: publishing and listing them, and functions
that use them at invoke (Python and Node.js search paths, order, limits)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import assert_error
from tests.functions import ROLE, create_python_function, unique_name, zip_of

LAYER_PREFIX = "arn:aws:lambda:us-east-1:000000000000:layer:"
WAIT = {"Delay": 0.2, "MaxAttempts": 100}

IMPORTER = """
import conflict, greeting, sitepkg

def handler(event, context):
    return {"greeting": greeting.TEXT, "sitepkg": sitepkg.TEXT, "conflict": conflict.WHO}
"""
NODE_SHOUTER = "const shout = require('shout');\nexports.handler = async () => shout('hello');\n"
CONFLICT = "import conflict\n\ndef handler(event, context):\n    return conflict.WHO\n"


def publish(client, name: str, files: dict[str, str | bytes], **options):  # type: ignore[no-untyped-def]
    return client.publish_layer_version(
        LayerName=name, Content={"ZipFile": zip_of(files)}, **options
    )


def conflict_layer(client, who: str) -> str:  # type: ignore[no-untyped-def]
    layer = publish(client, unique_name("who"), {"python/conflict.py": f"WHO = {who!r}\n"})
    return str(layer["LayerVersionArn"])


def invoke(client, name: str) -> object:  # type: ignore[no-untyped-def]
    response = client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def refused(call, *args, **kwargs) -> pytest.ExceptionInfo[ClientError]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as error:
        call(*args, **kwargs)
    return error


def test_publish_layer_version_answers_as_aws(lambda_client) -> None:
    name = unique_name("layer")
    package = zip_of({"python/greeting.py": "TEXT = 'hi'\n"})
    published = lambda_client.publish_layer_version(
        LayerName=name,
        Content={"ZipFile": package},
        Description="greetings",
        CompatibleRuntimes=["python3.12", "python3.11"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert published["LayerArn"] == LAYER_PREFIX + name
    assert published["LayerVersionArn"] == f"{LAYER_PREFIX}{name}:1"
    assert published["Version"] == 1
    assert (published["Description"], published["LicenseInfo"]) == ("greetings", "MIT")
    assert published["CompatibleRuntimes"] == ["python3.12", "python3.11"]
    assert published["CompatibleArchitectures"] == ["x86_64"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", published["CreatedDate"])
    content = published["Content"]
    assert content["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert content["CodeSize"] == len(package)
    with urllib.request.urlopen(content["Location"], timeout=10) as download:
        assert download.read() == package
    second = publish(lambda_client, name, {"python/greeting.py": "TEXT = 'hello'\n"})
    assert second["Version"] == 2


def test_get_layer_version_by_name_and_by_arn(lambda_client) -> None:
    name = unique_name("layer")
    published = publish(lambda_client, name, {"bin/tool": "#!/bin/sh\n"}, Description="d")
    by_name = lambda_client.get_layer_version(LayerName=name, VersionNumber=1)
    by_layer_arn = lambda_client.get_layer_version(LayerName=LAYER_PREFIX + name, VersionNumber=1)
    by_arn = lambda_client.get_layer_version_by_arn(Arn=published["LayerVersionArn"])
    for found in (by_name, by_layer_arn, by_arn):
        found.pop("ResponseMetadata")
        assert found == {k: v for k, v in published.items() if k != "ResponseMetadata"}


def test_list_layer_versions_newest_first_with_filters_and_pages(lambda_client) -> None:
    name = unique_name("layer")
    files = {"python/x.py": "X = 1\n"}
    publish(lambda_client, name, files, CompatibleRuntimes=["python3.12"])
    publish(lambda_client, name, files, CompatibleRuntimes=["nodejs20.x"])
    publish(
        lambda_client,
        name,
        files,
        CompatibleRuntimes=["python3.12"],
        CompatibleArchitectures=["arm64"],
    )
    every = lambda_client.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in every] == [3, 2, 1]
    assert "Content" not in every[0]
    python = lambda_client.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")
    assert [v["Version"] for v in python["LayerVersions"]] == [3, 1]
    arm = lambda_client.list_layer_versions(LayerName=name, CompatibleArchitecture="arm64")
    assert [v["Version"] for v in arm["LayerVersions"]] == [3]
    first = lambda_client.list_layer_versions(LayerName=name, MaxItems=2)
    assert [v["Version"] for v in first["LayerVersions"]] == [3, 2]
    rest = lambda_client.list_layer_versions(LayerName=name, MaxItems=2, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1]
    assert "NextMarker" not in rest


def test_list_layers_shows_the_latest_matching_version(lambda_client) -> None:
    name = unique_name("layer")
    files = {"python/x.py": "X = 1\n"}
    publish(lambda_client, name, files, CompatibleRuntimes=["python3.12"])
    publish(lambda_client, name, files, CompatibleRuntimes=["nodejs20.x"])
    pages = lambda_client.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 1})
    layers = {layer["LayerName"]: layer for page in pages for layer in page["Layers"]}
    assert layers[name]["LayerArn"] == LAYER_PREFIX + name
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    python = lambda_client.list_layers(CompatibleRuntime="python3.12")["Layers"]
    matching = [layer for layer in python if layer["LayerName"] == name]
    assert matching[0]["LatestMatchingVersion"]["Version"] == 1
    ruby = lambda_client.list_layers(CompatibleRuntime="ruby3.3")["Layers"]
    assert name not in {layer["LayerName"] for layer in ruby}


def test_deleted_layer_version_is_gone_and_its_number_not_reused(lambda_client) -> None:
    name = unique_name("layer")
    publish(lambda_client, name, {"python/x.py": "X = 1\n"})
    deleted = lambda_client.delete_layer_version(LayerName=name, VersionNumber=1)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    error = refused(lambda_client.get_layer_version, LayerName=name, VersionNumber=1)
    assert_error(
        error, "ResourceNotFoundException", 404, "The resource you requested does not exist."
    )
    assert name not in {layer["LayerName"] for layer in lambda_client.list_layers()["Layers"]}
    assert publish(lambda_client, name, {"python/x.py": "X = 2\n"})["Version"] == 2


def test_python_function_imports_modules_only_layers_provide(lambda_client) -> None:
    layer = publish(
        lambda_client,
        unique_name("pylib"),
        {
            "python/greeting.py": "TEXT = 'from a layer'\n",
            "python/lib/python3.12/site-packages/sitepkg.py": "TEXT = 'from site-packages'\n",
            "python/conflict.py": "WHO = 'layer'\n",
        },
    )
    name = unique_name("uses-layer")
    created = create_python_function(
        lambda_client, name, code=IMPORTER, Layers=[layer["LayerVersionArn"]]
    )
    assert created["Layers"] == [
        {"Arn": layer["LayerVersionArn"], "CodeSize": layer["Content"]["CodeSize"]}
    ]
    assert invoke(lambda_client, name) == {
        "greeting": "from a layer",
        "sitepkg": "from site-packages",
        "conflict": "layer",
    }


def test_function_code_wins_over_its_layers(lambda_client) -> None:
    name = unique_name("own-code")
    create_python_function(
        lambda_client,
        name,
        code=CONFLICT,
        Layers=[conflict_layer(lambda_client, "layer")],
    )
    lambda_client.update_function_code(
        FunctionName=name,
        ZipFile=zip_of({"app.py": CONFLICT, "conflict.py": "WHO = 'code'\n"}),
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    assert invoke(lambda_client, name) == "code"


def test_node_function_requires_a_package_from_a_layer(lambda_client) -> None:
    layer = publish(
        lambda_client,
        unique_name("nodelib"),
        {
            "nodejs/node_modules/shout/package.json": '{"name": "shout", "main": "main.js"}',
            "nodejs/node_modules/shout/main.js": "module.exports = (s) => s.toUpperCase() + '!';",
        },
    )
    name = unique_name("node-layer")
    lambda_client.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": zip_of({"index.js": NODE_SHOUTER})},
        Layers=[layer["LayerVersionArn"]],
    )
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    assert invoke(lambda_client, name) == "HELLO!"


def test_later_layers_overwrite_earlier_ones(lambda_client) -> None:
    first, second = conflict_layer(lambda_client, "first"), conflict_layer(lambda_client, "second")
    name = unique_name("order")
    create_python_function(lambda_client, name, code=CONFLICT, Layers=[first, second])
    assert invoke(lambda_client, name) == "second"
    lambda_client.update_function_configuration(FunctionName=name, Layers=[second, first])
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=WAIT)
    assert invoke(lambda_client, name) == "first"
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in config["Layers"]] == [second, first]


def test_function_keeps_a_layer_version_deleted_after_it_was_configured(lambda_client) -> None:
    arn = conflict_layer(lambda_client, "kept")
    name = unique_name("kept")
    create_python_function(lambda_client, name, code=CONFLICT, Layers=[arn])
    layer, version = arn.rsplit(":", 1)
    lambda_client.delete_layer_version(LayerName=layer, VersionNumber=int(version))
    assert invoke(lambda_client, name) == "kept"
    assert lambda_client.get_function(FunctionName=name)["Configuration"]["Layers"][0]["Arn"] == arn


def test_missing_layer_version(lambda_client) -> None:
    arn = f"{LAYER_PREFIX}{unique_name('nope')}:1"
    error = refused(create_python_function, lambda_client, unique_name(), Layers=[arn])
    assert_error(
        error, "InvalidParameterValueException", 400, f"Layer version {arn} does not exist."
    )


def test_more_than_five_layers(lambda_client) -> None:
    arns = [conflict_layer(lambda_client, str(n)) for n in range(6)]
    error = refused(create_python_function, lambda_client, unique_name(), Layers=arns)
    assert_error(
        error, "InvalidParameterValueException", 400, "Cannot reference more than 5 layers."
    )


def test_two_versions_of_one_layer(lambda_client) -> None:
    name = unique_name("twice")
    one = publish(lambda_client, name, {"python/x.py": "X = 1\n"})["LayerVersionArn"]
    two = publish(lambda_client, name, {"python/x.py": "X = 2\n"})["LayerVersionArn"]
    function = unique_name()
    create_python_function(lambda_client, function)
    error = refused(
        lambda_client.update_function_configuration, FunctionName=function, Layers=[one, two]
    )
    assert_error(
        error,
        "InvalidParameterValueException",
        400,
        "Two different versions of the same layer are not allowed to be referenced in the same "
        f"function. {one} and {two} are versions of the same layer.",
    )


def test_layer_arn_that_is_not_a_version_arn(lambda_client) -> None:
    arn = f"{LAYER_PREFIX}unversioned"
    error = refused(create_python_function, lambda_client, unique_name(), Layers=[arn])
    assert_error(
        error,
        "ValidationException",
        400,
        f"1 validation error detected: Value '[{arn}]' at 'layers' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must have length less than or equal to 140, "
        "Member must have length greater than or equal to 1, Member must satisfy regular "
        r"expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:"
        r"[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member "
        "must not be null]",
    )


def test_code_and_layers_over_250_mb_unzipped(lambda_client) -> None:
    layer = publish(lambda_client, unique_name("big"), {"zeros.bin": bytes(262_144_000)})
    code = "def handler(event, context):\n    return 1\n"
    expected = (
        "Function code combined with layers exceeds the maximum allowed size of 262144000 "
        f"bytes. The actual size is {262_144_000 + len(code)} bytes."
    )
    arns = [layer["LayerVersionArn"]]
    error = refused(create_python_function, lambda_client, unique_name(), code=code, Layers=arns)
    assert_error(error, "InvalidParameterValueException", 400, expected)
    name = unique_name()
    create_python_function(lambda_client, name, code=code)
    error = refused(lambda_client.update_function_configuration, FunctionName=name, Layers=arns)
    assert_error(error, "InvalidParameterValueException", 400, expected)


def test_publish_layer_version_validation(lambda_client) -> None:
    error = refused(publish, lambda_client, "bad name", {"x": "y"})
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'bad name' at 'layerName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:"
        r"[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
    )
    error = refused(
        publish, lambda_client, unique_name(), {"x": "y"}, CompatibleArchitectures=["sparc"]
    )
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value '[sparc]' at 'compatibleArchitectures' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value "
        "set: [x86_64, arm64], Member must not be null]",
    )
