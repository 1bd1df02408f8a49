"""Function management through boto3 against a running stack, as AWS answers it."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Stack
from tests.functions import PYTHON_ECHO, ROLE, create_python_function, unique_name, zip_of

ARN_PREFIX = "arn:aws:lambda:us-east-1:000000000000:function:"


def test_create_answers_pending_with_aws_defaults(lambda_client) -> None:
    name = unique_name()
    package = zip_of({"app.py": PYTHON_ECHO})
    response = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": package},
        Tags={"team": "tarn"},
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert response["State"] == "Pending"
    assert response["StateReasonCode"] == "Creating"
    assert response["FunctionArn"] == ARN_PREFIX + name
    assert response["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert response["CodeSize"] == len(package)
    assert (response["MemorySize"], response["Timeout"]) == (128, 3)
    assert response["EphemeralStorage"] == {"Size": 512}
    assert response["Architectures"] == ["x86_64"]
    assert response["TracingConfig"] == {"Mode": "PassThrough"}
    assert response["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert response["Version"] == "$LATEST"
    assert response["PackageType"] == "Zip"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", response["LastModified"])
    assert re.fullmatch(r"[0-9a-f-]{36}", response["RevisionId"])


def test_function_becomes_active_and_get_function_downloads_the_code(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, Tags={"team": "tarn"})
    function = lambda_client.get_function(FunctionName=name)
    assert function["Configuration"]["State"] == "Active"
    assert function["Configuration"]["LastUpdateStatus"] == "Successful"
    assert function["Tags"] == {"team": "tarn"}
    assert function["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(function["Code"]["Location"], timeout=10) as download:
        package = download.read()
    assert hashlib.sha256(package).digest() == base64.b64decode(
        function["Configuration"]["CodeSha256"]
    )


def test_function_is_found_by_name_partial_arn_and_arn(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    for reference in (name, f"000000000000:function:{name}", ARN_PREFIX + name):
        config = lambda_client.get_function_configuration(FunctionName=reference)
        assert config["FunctionName"] == name


def test_list_functions_pages_with_marker(lambda_client) -> None:
    names = {unique_name("list") for _ in range(3)}
    for name in names:
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": PYTHON_ECHO})},
        )
    seen: list[str] = []
    kwargs: dict[str, object] = {"MaxItems": 2}
    while True:
        page = lambda_client.list_functions(**kwargs)
        assert len(page["Functions"]) <= 2
        assert all("State" not in f for f in page["Functions"])
        seen += [f["FunctionName"] for f in page["Functions"]]
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


def test_paginator_walks_all_functions(lambda_client) -> None:
    name = unique_name("paged")
    create_python_function(lambda_client, name)
    pages = lambda_client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
    assert name in {f["FunctionName"] for page in pages for f in page["Functions"]}


def test_update_code_goes_in_progress_then_successful(lambda_client) -> None:
    name = unique_name()
    created = create_python_function(lambda_client, name)
    package = zip_of({"app.py": "def handler(event, context):\n    return 2\n"})
    updated = lambda_client.update_function_code(FunctionName=name, ZipFile=package)
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"]
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["LastUpdateStatus"] == "Successful"
    assert config["CodeSha256"] == updated["CodeSha256"]


def test_update_configuration_changes_settings_and_revision(lambda_client) -> None:
    name = unique_name()
    created = create_python_function(lambda_client, name)
    updated = lambda_client.update_function_configuration(
        FunctionName=name,
        Timeout=30,
        MemorySize=512,
        Description="d",
        Environment={"Variables": {"GREETING": "hi"}},
        EphemeralStorage={"Size": 1024},
    )
    assert (updated["Timeout"], updated["MemorySize"], updated["Description"]) == (30, 512, "d")
    assert updated["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert updated["EphemeralStorage"] == {"Size": 1024}
    assert updated["RevisionId"] != created["RevisionId"]
    lambda_client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
    )


def test_update_with_stale_revision_id_is_refused(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    with pytest.raises(ClientError) as error:
        lambda_client.update_function_configuration(
            FunctionName=name, Timeout=5, RevisionId="00000000-0000-0000-0000-000000000000"
        )
    assert_error(
        error,
        "PreconditionFailedException",
        412,
        "The Revision Id provided does not "
        "match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the "
        "latest Revision Id",
    )


def test_delete_function_then_it_is_not_found(lambda_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name)
    response = lambda_client.delete_function(FunctionName=name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as error:
        lambda_client.get_function(FunctionName=name)
    assert_error(error, "ResourceNotFoundException", 404, f"Function not found: {ARN_PREFIX}{name}")
    assert name not in {f["FunctionName"] for f in lambda_client.list_functions()["Functions"]}


def test_identical_packages_are_stored_once(stack: Stack, lambda_client) -> None:
    package = zip_of({"app.py": "# shared\n" + PYTHON_ECHO})
    first, second = unique_name(), unique_name()
    for name in (first, second):
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": package},
        )
    one = lambda_client.get_function(FunctionName=first)["Code"]["Location"]
    two = lambda_client.get_function(FunctionName=second)["Code"]["Location"]
    assert one == two  # both point at the one blob named by the package's SHA-256


def assert_error(
    error: pytest.ExceptionInfo[ClientError], code: str, status: int, message: str
) -> None:
    response = error.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["Error"]["Message"] == message


def test_publish_on_create_and_on_code_update_makes_numbered_versions(lambda_client) -> None:
    name = unique_name()
    created = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": PYTHON_ECHO})},
        Publish=True,
    )
    assert created["Version"] == "1"
    assert created["FunctionArn"] == f"{ARN_PREFIX}{name}"  # AWS: unqualified, Version 1
    waiter = lambda_client.get_waiter("function_active_v2")
    waiter.wait(FunctionName=name, Qualifier="1", WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    updated = lambda_client.update_function_code(
        FunctionName=name,
        ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 2\n"}),
        Publish=True,
    )
    assert updated["Version"] == "2"
    first = lambda_client.get_function_configuration(FunctionName=name, Qualifier="1")
    assert first["CodeSha256"] == created["CodeSha256"] != updated["CodeSha256"]
