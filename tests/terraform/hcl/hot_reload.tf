# Hot reload as LocalStack users configure it: the code is a folder on the stack's machine,
# named by the "hot-reload" bucket and its absolute path as the key; applied with the others.

resource "aws_lambda_function" "hot_reload" {
  function_name = "hot-reload"
  role          = aws_iam_role.orders.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  s3_bucket     = "hot-reload"
  s3_key        = abspath("${path.module}/hot_reload")
}
