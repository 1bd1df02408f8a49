# A typical Lambda stack, applied together with docs_example.tf (the product page's example)
# on its provider: the services that provider names no endpoint for (DynamoDB, CloudWatch
# Logs, STS) reach Tarn through the AWS_ENDPOINT_URL_* variables the test sets.


resource "aws_iam_role" "orders" {
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
  role                           = aws_iam_role.orders.arn
  handler                        = "index.handler"
  runtime                        = "nodejs20.x"
  filename                       = "orders.zip"
  source_code_hash               = filebase64sha256("orders.zip")
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
