"""Invocation records: every invocation (sync, Event attempts and their end, throttled) leaves
one in the capped stream, readable through `GET /_tarn/invocations`."""

from __future__ import annotations

import http.client
import json
import urllib.error

import pytest

from tests.api.test_async_invoke import make_queue
from tests.api.test_concurrency_limits import reserve
from tests.conftest import Stack
from tests.console.records import FAILING, records_of, tarn_json, wait_for_records
from tests.functions import create_python_function, unique_name

PRINTER = """
def handler(event, context):
    print("handling", event["n"])
    return {"n": event["n"]}
"""


def test_each_sync_invoke_leaves_a_record_with_its_report_and_log(stack: Stack) -> None:
    client, name = stack.client(), unique_name()
    create_python_function(client, name, PRINTER, MemorySize=256)
    ids = []
    for n in range(3):
        answer = client.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
        ids.append(answer["ResponseMetadata"]["RequestId"])
    records = wait_for_records(stack, name, 3)
    assert [r["request_id"] for r in records] == ids[::-1]  # newest first
    newest, oldest = records[0], records[-1]
    assert newest["kind"] == "InvocationRecord"
    assert (newest["outcome"], newest["trigger"]) == ("success", "api")
    assert newest["version"] == "$LATEST"
    assert newest["memory_mb"] == 256 and 0 < newest["max_memory_mb"] <= 256
    assert newest["duration_ms"] > 0 and newest["billed_ms"] >= 1
    assert newest["payload_bytes"] == len(b'{"n": 2}') and newest["response_bytes"] == 8
    assert "handling 2" in newest["log"] and f"REPORT RequestId: {ids[2]}" in newest["log"]
    assert oldest["init_ms"] is not None and newest["init_ms"] is None  # only the cold start
    assert newest["start_ms"] <= newest["end_ms"]


def test_failing_event_records_each_attempt_and_its_dead_letter_end(stack: Stack) -> None:
    client, name = stack.client(), unique_name()
    _, dlq_arn = make_queue(stack)
    create_python_function(client, name, FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    answer = client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": 7}')
    request_id = answer["ResponseMetadata"]["RequestId"]
    wait_for_records(stack, name, 3, trigger="async")
    timeline = tarn_json(stack, f"invocations/{request_id}")["invocations"]  # oldest first
    assert [r.get("trigger") for r in timeline] == ["async:1", "async:2", None]
    assert [r.get("error_type") for r in timeline[:2]] == ["RuntimeError"] * 2
    assert timeline[0]["queued_ms"] <= timeline[0]["start_ms"] < timeline[1]["start_ms"]
    end = timeline[2]
    assert end["kind"] == "AsyncEventSettled"
    assert (end["condition"], end["attempts"]) == ("RetriesExhausted", 2)
    assert end["destinations"] == [["DLQ", dlq_arn]]


def test_throttled_invoke_is_recorded_and_filters_select_records(stack: Stack) -> None:
    client, name = stack.client(), unique_name()
    create_python_function(client, name, PRINTER)
    client.invoke(FunctionName=name, Payload=b'{"n": 1}')
    reserve(client, name, 0)
    with pytest.raises(client.exceptions.TooManyRequestsException):
        client.invoke(FunctionName=name, Payload=b'{"n": 2}')
    wait_for_records(stack, name, 2)
    throttled = records_of(stack, name, outcome="throttle")
    assert throttled, "no throttle recorded"  # botocore may try once more after a 429
    reasons = {record["error_type"] for record in throttled}
    assert reasons == {"ReservedFunctionConcurrentInvocationLimitExceeded"}
    assert [r["outcome"] for r in records_of(stack, name, outcome="success")] == ["success"]
    assert records_of(stack, name, trigger="url") == []
    newest = records_of(stack, name, limit=1)
    assert len(newest) == 1
    assert records_of(stack, name, before=newest[0]["id"]) == records_of(stack, name)[1:]
    assert records_of(stack, name, since=newest[0]["end_ms"] + 60_000) == []


def test_a_bad_query_is_answered_400(stack: Stack) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        tarn_json(stack, "invocations", since="yesterday")
    assert raised.value.code == 400
    assert "since" in json.load(raised.value)["message"]


def test_the_live_feed_sends_new_records_and_resumes_after_last_event_id(stack: Stack) -> None:
    client, name = stack.client(), unique_name()
    create_python_function(client, name, PRINTER)
    for n in range(2):
        client.invoke(FunctionName=name, Payload=json.dumps({"n": n}).encode())
    first, second = wait_for_records(stack, name, 2)[::-1]
    host, port = stack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"Last-Event-ID": first["id"]}  # as a browser reconnecting sends it
        connection.request("GET", f"/_tarn/invocations/live?function={name}", headers=headers)
        response = connection.getresponse()
        assert response.getheader("Content-Type", "").startswith("text/event-stream")
        data = next(line for line in response if line.startswith(b"data: "))
    finally:
        connection.close()
    assert json.loads(data[6:])["request_id"] == second["request_id"]
