"""SAM templates (`Transform: AWS::Serverless-2016-10-31`) deployed with `aws cloudformation
deploy` and with `sam deploy` (the SAM CLI, offline, when it is on PATH): AWS's SAM translator
expands them in the companion, and the function and its SQS mapping are Tarn's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.companion.test_cloudformation_wiring import aws
from tests.companion.test_triggers import events_in, first_event
from tests.conftest import Stack
from tests.functions import function_names, unique_name
from tests.waiting import wait_for

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 10
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      MemorySize: 256
      Environment:
        Variables:
          EVENTS_FILE: %s
      InlineCode: |
        import json, os

        def handler(event, context):
            with open(os.environ["EVENTS_FILE"], "a") as file:
                file.write(json.dumps(event) + "\\n")
      Events:
        FromJobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
Outputs:
  Worker:
    Value: !Ref Worker
  Queue:
    Value: !Ref Jobs
"""


def test_a_sam_function_with_an_sqs_event_deploys_into_tarn(stack: Stack, tmp_path: Path) -> None:
    events, name = tmp_path / "events.jsonl", unique_name("sam")
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE % events)
    deployed = aws(
        stack,
        "cloudformation",
        "deploy",
        "--template-file",
        str(path),
        "--stack-name",
        name,
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
    )
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    cloudformation, lambda_client = stack.client("cloudformation"), stack.client()
    (described,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    out = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    function = out["Worker"]

    configuration = lambda_client.get_function(FunctionName=function)
    assert configuration["Configuration"]["MemorySize"] == 256
    assert configuration["Configuration"]["Timeout"] == 10  # from Globals
    assert configuration["Tags"]["lambda:createdBy"] == "SAM"
    (mapping,) = lambda_client.list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    assert mapping["BatchSize"] == 5 and mapping["EventSourceArn"].endswith(
        ":" + out["Queue"].rsplit("/", 1)[1]
    )
    stack.client("sqs").send_message(QueueUrl=out["Queue"], MessageBody="job 1")
    (record,) = first_event(events)["Records"]
    assert (record["eventSource"], record["body"]) == ("aws:sqs", "job 1")
    template = cloudformation.get_template(StackName=name)["TemplateBody"]
    assert "AWS::Serverless::Function" in template  # as sent; the expansion is the stack's own

    # Unchanged: an empty change set, as on AWS; CLI v1 exits 255 on one unless told (v2: 0).
    flag = "--no-fail-on-empty-changeset"
    again = aws(
        stack, "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name, flag
    )
    assert again.returncode == 0, again.stderr
    assert "No changes to deploy" in again.stdout

    deleted = aws(stack, "cloudformation", "delete-stack", "--stack-name", name)
    assert deleted.returncode == 0, deleted.stderr
    assert function not in function_names(lambda_client)

    def mappings_gone() -> bool:
        found = lambda_client.list_event_source_mappings(FunctionName=function)
        return found["EventSourceMappings"] == []

    wait_for(mappings_gone, 30, "the stack's mapping to be deleted")


TICKER = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Ticker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Environment:
        Variables:
          EVENTS_FILE: %s
      InlineCode: |
        import json, os

        def handler(event, context):
            with open(os.environ["EVENTS_FILE"], "a") as file:
                file.write(json.dumps(event) + "\\n")
      Events:
        Tick:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
"""


def test_a_sam_schedule_event_runs_the_function_until_the_stack_is_deleted(
    stack: Stack, tmp_path: Path
) -> None:
    """SAM makes an AWS::Events::Rule and a permission; the companion's schedule fires it (the
    test stack's clock: a minute a second)."""
    events, name = tmp_path / "ticks.jsonl", unique_name("sam")
    path = tmp_path / "template.yaml"
    path.write_text(TICKER % events)
    deployed = aws(
        stack, "cloudformation", "deploy", "--template-file", str(path), "--stack-name", name
    )
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    tick = first_event(events)
    assert (tick["source"], tick["detail-type"]) == ("aws.events", "Scheduled Event")
    assert tick["resources"][0].startswith("arn:aws:events:us-east-1:000000000000:rule/")

    deleted = aws(stack, "cloudformation", "delete-stack", "--stack-name", name)
    assert deleted.returncode == 0, deleted.stderr
    time.sleep(1)  # a tick already under way lands
    ticks = len(events_in(events))
    time.sleep(2)
    assert len(events_in(events)) == ticks  # the rule went with its stack


APP = "def handler(event, context):\n    return {'from': '%s'}\n"
SAM_APP = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Events:
        FromJobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
Outputs:
  Hello:
    Value: !Ref Hello
"""


def sam(stack: Stack, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The SAM CLI in `folder`, at the stack (AWS_ENDPOINT_URL), offline."""
    env = os.environ | {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": stack.url,
        "SAM_CLI_TELEMETRY": "0",
    }
    argv = [str(shutil.which("sam")), *args, "--region", "us-east-1"]
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("sam") is None, reason="the SAM CLI (pip install aws-sam-cli) is not on PATH"
)
def test_sam_deploy_creates_updates_and_deletes_a_function_in_tarn(
    stack: Stack, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP % "one")
    (tmp_path / "template.yaml").write_text(SAM_APP)
    name = unique_name("sam")
    deploy = ("deploy", "--stack-name", name, "--resolve-s3", "--no-confirm-changeset")
    deploy += ("--capabilities", "CAPABILITY_IAM")

    deployed = sam(stack, tmp_path, *deploy)
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    (described,) = stack.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    function = described["Outputs"][0]["OutputValue"]
    lambda_client = stack.client()

    def invoke() -> object:
        return json.loads(lambda_client.invoke(FunctionName=function)["Payload"].read())

    assert invoke() == {"from": "one"}
    (mapping,) = lambda_client.list_event_source_mappings(FunctionName=function)[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"].split(":")[2] == "sqs"

    (tmp_path / "src" / "app.py").write_text(APP % "two")
    updated = sam(stack, tmp_path, *deploy)
    assert updated.returncode == 0, updated.stderr + updated.stdout
    assert invoke() == {"from": "two"}
    unchanged = sam(stack, tmp_path, *deploy, "--no-fail-on-empty-changeset")
    assert unchanged.returncode == 0, unchanged.stderr + unchanged.stdout

    deleted = sam(stack, tmp_path, "delete", "--stack-name", name, "--no-prompts")
    assert deleted.returncode == 0, deleted.stderr + deleted.stdout
    assert function not in function_names(lambda_client)
