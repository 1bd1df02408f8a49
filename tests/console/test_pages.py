"""The console in a real headless Chromium: functions created through boto3 appear, Invoke
from the page shows result and log, a failing Event's retries and dead-letter end show as a
timeline, an SQS mapping's batches, graphs, the live list; function output stays text."""

from __future__ import annotations

import json
import time

from tests.api.test_async_invoke import make_queue
from tests.api.test_event_source_mappings import make_stream
from tests.conftest import Stack
from tests.console.browser import Console
from tests.console.records import FAILING, wait_for_records
from tests.functions import create_python_function, unique_name

HELLO = """
def handler(event, context):
    print("hello from", event.get("who"))
    return {"greeting": "hi " + str(event.get("who"))}
"""
HOSTILE = """
def handler(event, context):
    print("<script>alert(1)</script>")
    return "<img src=x onerror=alert(2)>"
"""


def test_a_function_created_through_boto3_appears_in_the_list(
    console: Console, console_stack: Stack
) -> None:
    name = unique_name("listed")
    create_python_function(console_stack.client(), name, HELLO, MemorySize=256)
    page = console.open("/")
    row = page.locator(f"[data-testid=function-row][data-function='{name}']")
    row.wait_for()
    for shown in ("Active", "python3.12", "process", "256 MB / 3 s"):
        assert shown in row.inner_text()
    console.screenshot("functions")


def test_invoke_from_the_function_page_shows_result_log_and_graphs(
    console: Console, console_stack: Stack
) -> None:
    name = unique_name("invoked")
    create_python_function(console_stack.client(), name, HELLO)
    page = console.open(f"/function/{name}")
    assert page.locator("[data-testid=chart]").count() == 4
    page.fill("[data-testid=event-editor]", json.dumps({"who": "the console"}))
    page.click("[data-testid=invoke]")
    result = page.locator("[data-testid=invoke-payload]")
    result.wait_for()
    assert json.loads(result.inner_text()) == {"greeting": "hi the console"}
    log = page.inner_text("[data-testid=invoke-log]")
    assert "hello from the console" in log and "REPORT RequestId:" in log
    assert "HTTP 200" in page.inner_text("[data-testid=invoke-status]")
    page.fill("[data-testid=event-name]", "greeting")
    page.click("[data-testid=save-event]")
    page = console.open(f"/function/{name}")  # drawn again: the graph has the invocation
    invocations = page.locator("[data-testid=chart] path[data-series=invocations]")
    assert invocations.count() == 1
    assert ",8.0" in (invocations.get_attribute("d") or "")  # a point at the top: one, the max
    assert "greeting" in page.inner_text("[data-testid=saved-events]")
    page.locator("[data-testid=record-row]").first.wait_for()
    console.screenshot("function")


def test_function_output_is_shown_as_text_never_run(console: Console, console_stack: Stack) -> None:
    name = unique_name("hostile")
    create_python_function(console_stack.client(), name, HOSTILE)
    page = console.open(f"/function/{name}")
    page.click("[data-testid=invoke]")
    page.locator("[data-testid=invoke-log]").wait_for()
    assert "<script>alert(1)</script>" in page.inner_text("[data-testid=invoke-log]")
    assert "<img src=x onerror=alert(2)>" in page.inner_text("[data-testid=invoke-payload]")
    request_id = wait_for_records(console_stack, name, 1)[0]["request_id"]
    page = console.open(f"/invocation/{request_id}")
    assert "<script>alert(1)</script>" in page.inner_text("[data-testid=record-log]")
    time.sleep(0.5)  # an injected handler would have fired by now
    assert page.locator("#view script, #view img").count() == 0
    console.screenshot("hostile-output")


def test_a_failing_event_shows_its_retries_and_dead_letter_end(
    console: Console, console_stack: Stack
) -> None:
    client, name = console_stack.client(), unique_name("failing")
    _, dlq_arn = make_queue(console_stack)
    create_python_function(client, name, FAILING, DeadLetterConfig={"TargetArn": dlq_arn})
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=2)
    answer = client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"id": 1}')
    request_id = answer["ResponseMetadata"]["RequestId"]
    wait_for_records(console_stack, name, 4, trigger="async")
    page = console.open(f"/invocation/{request_id}")
    attempts = page.locator("[data-testid=timeline-attempt]")
    assert attempts.count() == 3
    assert {attempts.nth(i).get_attribute("data-outcome") for i in range(3)} == {"error"}
    end = page.locator("[data-testid=timeline-end]")
    assert end.get_attribute("data-condition") == "RetriesExhausted"
    assert f"DLQ: {dlq_arn}" in end.inner_text()
    console.screenshot("async-timeline")
    page = console.open("/async")
    assert name in page.inner_text("[data-testid=async]")
    console.screenshot("async")


def test_an_sqs_mappings_batches_and_depth_are_shown(
    console: Console, console_stack: Stack
) -> None:
    client, name = console_stack.client(), unique_name("mapped")
    create_python_function(client, name, HELLO)
    queue_url, queue_arn = make_queue(console_stack)
    uuid = client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=queue_arn, BatchSize=5
    )["UUID"]
    sqs = console_stack.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))
    wait_for_records(console_stack, name, 1, trigger=f"esm:{uuid}")
    page = console.open("/mappings")
    mapping = page.locator(f"[data-testid=mapping][data-uuid='{uuid}']")
    assert mapping.locator("[data-testid=record-row]").count() >= 1
    assert "Batch size" in mapping.inner_text() and "5" in mapping.inner_text()
    assert "visible" in mapping.locator("[data-testid=depth]").inner_text()
    console.screenshot("mappings")
    client.delete_event_source_mapping(UUID=uuid)


def test_the_invocations_list_is_live_and_filtered(console: Console, console_stack: Stack) -> None:
    client, name = console_stack.client(), unique_name("live")
    create_python_function(client, name, HELLO)
    page = console.open(f"/invocations?function={name}")
    assert page.locator("[data-testid=record-row]").count() == 0
    client.invoke(FunctionName=name, Payload=b'{"who": "live"}')
    row = page.locator("[data-testid=record-row]")
    row.first.wait_for()  # arrived by server-sent event: the page was not loaded again
    assert name in row.first.inner_text() and "success" in row.first.inner_text()
    console.screenshot("invocations")
    page = console.open("/stack")
    assert "pool" in page.inner_text("[data-testid=stack]")
    console.screenshot("stack")


def test_a_stream_mappings_iterator_age_is_shown(console: Console, console_stack: Stack) -> None:
    client, name = console_stack.client(), unique_name("streamed")
    create_python_function(client, name, HELLO)
    stream_arn = make_stream(console_stack)
    table = stream_arn.split(":table/", 1)[1].split("/", 1)[0]
    uuid = client.create_event_source_mapping(
        FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    console_stack.client("dynamodb").put_item(TableName=table, Item={"id": {"S": "k"}})
    wait_for_records(console_stack, name, 1, trigger=f"esm:{uuid}")
    page = console.open("/mappings")
    mapping = page.locator(f"[data-testid=mapping][data-uuid='{uuid}']")
    assert "iterator age" in mapping.locator("[data-testid=depth]").inner_text()
    client.delete_event_source_mapping(UUID=uuid)
