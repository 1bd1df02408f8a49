"""`tarn lambda secrets put`: a secret in the companion's Secrets Manager, for functions that
read it through the Parameters and Secrets extension (CreateSecret, else PutSecretValue)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.options import EndpointUrl, OutputOption
from services.cli.lambda_cli.output import Output, print_fields, print_json, without_metadata

secrets = typer.Typer(help="Secrets for functions, in the stack's Secrets Manager.")


@secrets.command("put", epilog="Example: tarn lambda secrets put my-secret 's3cr3t'")
def put(
    name: Annotated[str, typer.Argument(help="the secret's name")],
    value: Annotated[str, typer.Argument(help="its value (SecretString)")],
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Create a secret, or give an existing one a new value."""
    client = Endpoint(endpoint).client("secretsmanager")
    try:
        response = client.create_secret(Name=name, SecretString=value)
    except client.exceptions.ResourceExistsException:
        response = client.put_secret_value(SecretId=name, SecretString=value)
    if output is Output.json:
        print_json(without_metadata(response))
    else:
        print_fields([("arn", response["ARN"]), ("version", response["VersionId"])])
