"""The Terraform example of Tarn's Lambda page, exactly as printed there (only the endpoint is
the test stack's): init, apply, invoke, an SQS mapping draining its queue, a clean plan, destroy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.terraform.conftest import Terraform
from tests.terraform.recorder import recorded, write_function_zip
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

# From the "Using Terraform" section of the product page, character for character.
DOCS_HCL = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    lambda = "http://127.0.0.1:4566"
    sqs    = "http://127.0.0.1:4566"
    iam    = "http://127.0.0.1:4566"
  }
}

resource "aws_lambda_function" "example" {
  function_name = "my-function"
  role         = aws_iam_role.lambda.arn
  handler      = "index.handler"
  runtime      = "nodejs20.x"
  filename     = "function.zip"
}

resource "aws_iam_role" "lambda" {
  name = "lambda-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action = "sts:AssumeRole"
      Effect = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_sqs_queue" "events" {
  name = "lambda-events"
}

resource "aws_lambda_event_source_mapping" "sqs" {
  event_source_arn  = aws_sqs_queue.events.arn
  function_name     = aws_lambda_function.example.arn
  batch_size        = 10
}
"""


def test_the_documented_example_applies_runs_plans_clean_and_destroys(
    terraform: Terraform, tmp_path: Path
) -> None:
    stack = terraform.stack
    (terraform.workdir / "main.tf").write_text(DOCS_HCL.replace("http://127.0.0.1:4566", stack.url))
    calls = tmp_path / "calls"
    write_function_zip(terraform.workdir / "function.zip", calls)
    terraform.init()
    terraform.apply()

    client = stack.client()
    response = client.invoke(FunctionName="my-function", Payload=b'{"from": "boto3"}')
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read()) == {"greeting": "hello", "records": 0}

    sqs = stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName="lambda-events")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="through the mapping")

    def drained() -> bool:
        bodies = [r["body"] for call in recorded(calls) for r in call["event"].get("Records", [])]
        return "through the mapping" in bodies

    wait_for(drained, 60, "the SQS mapping to hand the message to the function")
    depth = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")

    def empty() -> bool:
        found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(depth))
        return all(found["Attributes"][name] == "0" for name in depth)

    wait_for(empty, 30, "the mapping to delete the message from the queue")

    assert terraform.plan_changes() == ""

    terraform.destroy()
    assert client.list_functions()["Functions"] == []
    assert client.list_event_source_mappings()["EventSourceMappings"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName="my-function")
    assert stack.client("iam").list_roles()["Roles"] == []
    assert sqs.list_queues().get("QueueUrls", []) == []
