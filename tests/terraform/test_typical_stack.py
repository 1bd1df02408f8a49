"""A typical Lambda stack in Terraform: layer, published function with reserved concurrency and
tags, alias, permission, function URL, event-invoke config with an OnFailure queue, a DynamoDB
stream mapping and a log group; applied, invoked through the alias, planned clean, destroyed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.terraform.conftest import Terraform
from tests.terraform.recorder import recorded, write_function_zip, write_layer_zip
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

PROVIDER = """\
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
    lambda   = "ENDPOINT"
    sqs      = "ENDPOINT"
    iam      = "ENDPOINT"
    dynamodb = "ENDPOINT"
    logs     = "ENDPOINT"
    sts      = "ENDPOINT"
  }
}
"""

STACK = """\
resource "aws_iam_role" "lambda" {
  name = "orders-role"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Action    = "sts:AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "orders" {
  name              = "/aws/lambda/orders"
  retention_in_days = 7
}

resource "aws_lambda_layer_version" "greeting" {
  layer_name          = "greeting"
  filename            = "layer.zip"
  source_code_hash    = filebase64sha256("layer.zip")
  compatible_runtimes = ["nodejs20.x"]
}

resource "aws_lambda_function" "orders" {
  function_name                  = "orders"
  role                           = aws_iam_role.lambda.arn
  handler                        = "index.handler"
  runtime                        = "nodejs20.x"
  filename                       = "function.zip"
  source_code_hash               = filebase64sha256("function.zip")
  layers                         = [aws_lambda_layer_version.greeting.arn]
  publish                        = true
  memory_size                    = 256
  timeout                        = 10
  reserved_concurrent_executions = 5

  environment {
    variables = { STAGE = "test" }
  }

  tags = {
    team = "orders"
    env  = "test"
  }

  depends_on = [aws_cloudwatch_log_group.orders]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.orders.function_name
  function_version = aws_lambda_function.orders.version
}

resource "aws_lambda_permission" "sns" {
  statement_id  = "AllowSNS"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.orders.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "sns.amazonaws.com"
  source_arn    = "arn:aws:sns:us-east-1:000000000000:orders"
}

resource "aws_lambda_function_url" "live" {
  function_name      = aws_lambda_function.orders.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = "NONE"

  cors {
    allow_origins = ["*"]
    allow_methods = ["GET", "POST"]
    max_age       = 300
  }
}

resource "aws_sqs_queue" "failures" {
  name = "orders-failures"
}

resource "aws_lambda_function_event_invoke_config" "live" {
  function_name                = aws_lambda_function.orders.function_name
  qualifier                    = aws_lambda_alias.live.name
  maximum_retry_attempts       = 1
  maximum_event_age_in_seconds = 600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

resource "aws_dynamodb_table" "orders" {
  name             = "orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "id"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_lambda_event_source_mapping" "orders" {
  event_source_arn  = aws_dynamodb_table.orders.stream_arn
  function_name     = aws_lambda_alias.live.arn
  starting_position = "LATEST"
  batch_size        = 10

  tags = {
    team = "orders"
  }
}
"""


def test_a_typical_stack_applies_runs_through_its_alias_plans_clean_and_destroys(
    terraform: Terraform, tmp_path: Path
) -> None:
    stack = terraform.stack
    (terraform.workdir / "main.tf").write_text(PROVIDER.replace("ENDPOINT", stack.url) + STACK)
    calls = tmp_path / "calls"
    write_function_zip(terraform.workdir / "function.zip", calls)
    write_layer_zip(terraform.workdir / "layer.zip")
    terraform.init()
    terraform.apply()

    client = stack.client()
    response = client.invoke(FunctionName="orders", Qualifier="live", Payload=b"{}")
    assert "FunctionError" not in response, response["Payload"].read()
    assert json.loads(response["Payload"].read())["greeting"] == "hello from the layer"
    assert response["ExecutedVersion"] == "1"
    assert (
        client.get_function_concurrency(FunctionName="orders")["ReservedConcurrentExecutions"] == 5
    )

    mapping = client.list_event_source_mappings(FunctionName="orders:live")["EventSourceMappings"]
    assert [m["State"] for m in mapping] == ["Enabled"]
    stack.client("dynamodb").put_item(TableName="orders", Item={"id": {"S": "order-1"}})

    def streamed() -> bool:
        return any(
            r.get("eventSource") == "aws:dynamodb" and r["dynamodb"]["Keys"]["id"]["S"] == "order-1"
            for call in recorded(calls)
            for r in call["event"].get("Records", [])
        )

    wait_for(streamed, 60, "the DynamoDB stream mapping to hand the new item to the function")

    assert terraform.plan_changes() == ""

    terraform.destroy()
    assert client.list_functions(FunctionVersion="ALL")["Functions"] == []
    assert client.list_event_source_mappings()["EventSourceMappings"] == []
    assert client.list_layers()["Layers"] == []
    assert stack.client("dynamodb").list_tables()["TableNames"] == []
    assert (
        stack.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/orders")[
            "logGroups"
        ]
        == []
    )
