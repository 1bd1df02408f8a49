"""`tarn lambda publish-version` and `tarn lambda alias create|update|list|delete`, with
weighted routing between two versions (`--weight 2=0.1`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.options import EndpointUrl, FunctionName, OutputOption, weights
from services.cli.lambda_cli.output import (
    Output,
    note,
    print_fields,
    print_json,
    print_table,
    without_metadata,
)

commands = typer.Typer()
aliases = typer.Typer(help="Aliases: names for versions, optionally splitting traffic.")

Description = Annotated[str | None, typer.Option(help="a description")]
AliasName = Annotated[str, typer.Option("--alias", "-a", help="the alias's name")]
Version = Annotated[str | None, typer.Option("--version", "-v", help="the version it points to")]
Weight = Annotated[
    list[str] | None,
    typer.Option("--weight", help="VERSION=FRACTION: send that share of calls to VERSION"),
]


@commands.command(
    name="publish-version",
    epilog="Example: tarn lambda publish-version --name my-function --description v1",
)
def publish_version(
    name: FunctionName,
    description: Description = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Publish the function's current code and configuration as a new version."""
    extra = {"Description": description} if description else {}
    response = Endpoint(endpoint).client("lambda").publish_version(FunctionName=name, **extra)
    if output is Output.json:
        print_json(without_metadata(response))
    else:
        print_fields([("version", response["Version"]), ("arn", response["FunctionArn"])])


@aliases.command(
    "create",
    epilog="Example: tarn lambda alias create --name my-function --alias live --version 1 "
    "--weight 2=0.1",
)
def create_alias(
    name: FunctionName,
    alias: AliasName,
    version: Version = None,
    weight: Weight = None,
    description: Description = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Create an alias for a version (default $LATEST)."""
    request = alias_request(version or "$LATEST", weight, description)
    client = Endpoint(endpoint).client("lambda")
    response = client.create_alias(FunctionName=name, Name=alias, **request)
    show_alias(response, output)


@aliases.command(
    "update",
    epilog="Example: tarn lambda alias update --name my-function --alias live --version 2",
)
def update_alias(
    name: FunctionName,
    alias: AliasName,
    version: Version = None,
    weight: Weight = None,
    description: Description = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Point an alias at another version, or change its weights."""
    request = alias_request(version, weight, description)
    client = Endpoint(endpoint).client("lambda")
    response = client.update_alias(FunctionName=name, Name=alias, **request)
    show_alias(response, output)


@aliases.command("list", epilog="Example: tarn lambda alias list --name my-function")
def list_aliases(
    name: FunctionName,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """List a function's aliases."""
    client = Endpoint(endpoint).client("lambda")
    found = [
        alias
        for page in client.get_paginator("list_aliases").paginate(FunctionName=name)
        for alias in page["Aliases"]
    ]
    if output is Output.json:
        print_json(found)
        return
    print_table(
        ["ALIAS", "VERSION", "WEIGHTS", "DESCRIPTION"],
        [(a["Name"], a["FunctionVersion"], weights_text(a), a.get("Description")) for a in found],
    )


@aliases.command(
    "delete", epilog="Example: tarn lambda alias delete --name my-function --alias live"
)
def delete_alias(
    name: FunctionName,
    alias: AliasName,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Delete an alias."""
    Endpoint(endpoint).client("lambda").delete_alias(FunctionName=name, Name=alias)
    if output is Output.json:
        print_json({"FunctionName": name, "Name": alias, "Deleted": True})
    else:
        note(f"deleted alias {alias} of {name}")


def alias_request(
    version: str | None, weight: list[str] | None, description: str | None
) -> dict[str, Any]:
    request: dict[str, Any] = {}
    if version is not None:
        request["FunctionVersion"] = version
    if weight is not None:
        request["RoutingConfig"] = {"AdditionalVersionWeights": weights(weight)}
    if description is not None:
        request["Description"] = description
    return request


def weights_text(alias: dict[str, Any]) -> str:
    routing = alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
    return " ".join(f"{version}={share}" for version, share in routing.items())


def show_alias(response: dict[str, Any], output: Output) -> None:
    if output is Output.json:
        print_json(without_metadata(response))
        return
    print_fields(
        [
            ("alias", response["Name"]),
            ("arn", response["AliasArn"]),
            ("version", response["FunctionVersion"]),
            ("weights", weights_text(response)),
        ]
    )
