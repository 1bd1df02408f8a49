"""`awslocal`: the AWS CLI pointed at a running stack, as Tarn's Lambda page and LocalStack's
users write it (`awslocal lambda list-functions`): the endpoint from TARN_ENDPOINT,
AWS_ENDPOINT_URL or http://127.0.0.1:4566, placeholder credentials and region when the machine
has none, then `aws` itself with every argument as given."""

from __future__ import annotations

import os
import shutil
import sys

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, DEFAULT_REGION, PLACEHOLDER_KEY

CONFIGURED = ("AWS_PROFILE", "AWS_ACCESS_KEY_ID")


def command(argv: list[str], environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The `aws` command line and environment that `awslocal argv...` runs."""
    endpoint = environ.get("TARN_ENDPOINT") or environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    environment = dict(environ)
    if not any(environ.get(name) for name in CONFIGURED):
        environment["AWS_ACCESS_KEY_ID"] = PLACEHOLDER_KEY
        environment["AWS_SECRET_ACCESS_KEY"] = PLACEHOLDER_KEY
    if not (environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")):
        environment["AWS_DEFAULT_REGION"] = DEFAULT_REGION
    return ["aws", "--endpoint-url", endpoint, *argv], environment


def main() -> None:
    aws = shutil.which("aws")
    if aws is None:
        raise SystemExit(
            "awslocal: the AWS CLI (`aws`) is not on PATH; install it (pip install awscli, "
            "or your system's awscli package) and run this again"
        )
    argv, environment = command(sys.argv[1:], dict(os.environ))
    os.execve(aws, argv, environment)


if __name__ == "__main__":
    main()
