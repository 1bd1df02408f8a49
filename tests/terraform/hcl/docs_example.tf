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
