"""SAM templates (`Transform: AWS::Serverless-2016-10-31`) deployed with `aws cloudformation
deploy`: AWS's SAM translator expands them in the companion, and the function and its SQS
mapping are Tarn's."""

from __future__ import annotations

from pathlib import Path

from tests.companion.test_cloudformation_wiring import aws
from tests.companion.test_triggers import first_event
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
