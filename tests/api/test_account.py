"""GetAccountSettings and listing every version: ListFunctions FunctionVersion=ALL and
ListVersionsByFunction's page size."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.api.test_functions import ARN_PREFIX, assert_error
from tests.functions import create_python_function, unique_name


def test_account_settings_count_functions_and_code(lambda_client) -> None:
    before = lambda_client.get_account_settings()
    name = unique_name()
    create_python_function(lambda_client, name, Publish=True)
    size = lambda_client.get_function(FunctionName=name)["Configuration"]["CodeSize"]
    after = lambda_client.get_account_settings()
    assert after["AccountLimit"] == before["AccountLimit"] | {
        "TotalCodeSize": 80530636800,
        "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800,
        "ConcurrentExecutions": 1000,
    }
    usage, previous = after["AccountUsage"], before["AccountUsage"]
    assert usage["FunctionCount"] >= previous["FunctionCount"] + 1
    assert usage["TotalCodeSize"] >= previous["TotalCodeSize"] + 2 * size  # $LATEST and 1


def test_list_functions_all_versions_pages_every_version(lambda_client) -> None:
    name = unique_name("aaa")
    create_python_function(lambda_client, name, Publish=True)
    arns = []
    marker = None
    for _ in range(1000):
        kwargs = {"Marker": marker} if marker else {}
        page = lambda_client.list_functions(FunctionVersion="ALL", MaxItems=1, **kwargs)
        assert len(page["Functions"]) <= 1
        arns += [f["FunctionArn"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert f"{ARN_PREFIX}{name}:$LATEST" in arns
    assert arns.index(f"{ARN_PREFIX}{name}:1") == arns.index(f"{ARN_PREFIX}{name}:$LATEST") + 1
    assert len(arns) == len(set(arns))


def test_list_functions_bad_function_version_is_a_validation_error(unchecked_client) -> None:
    with pytest.raises(ClientError) as error:
        unchecked_client.list_functions(FunctionVersion="SOME")
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value 'SOME' at 'functionVersion' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL]",
    )


def test_list_versions_takes_max_items_up_to_10000(lambda_client, unchecked_client) -> None:
    name = unique_name()
    create_python_function(lambda_client, name, Publish=True)
    versions = lambda_client.list_versions_by_function(FunctionName=name, MaxItems=10000)
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST", "1"]
    with pytest.raises(ClientError) as error:
        unchecked_client.list_versions_by_function(FunctionName=name, MaxItems=10001)
    assert_error(
        error,
        "ValidationException",
        400,
        "1 validation error detected: Value '10001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
    )
