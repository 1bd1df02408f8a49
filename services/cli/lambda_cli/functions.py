"""`tarn lambda create|update|get|list|delete`: functions, their code and their configuration
(CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration, GetFunction, ListFunctions,
DeleteFunction)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.failures import CommandFailed
from services.cli.lambda_cli.options import (
    EndpointUrl,
    FunctionName,
    OutputOption,
    Qualifier,
    pairs,
)
from services.cli.lambda_cli.output import (
    Output,
    note,
    print_fields,
    print_json,
    print_table,
    without_metadata,
)
from services.cli.lambda_cli.packages import code_of
from services.cli.lambda_cli.states import failure, settled

commands = typer.Typer()

PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/lambda-role"

Runtime = Annotated[str | None, typer.Option(help="e.g. python3.12, nodejs20.x")]
Handler = Annotated[str | None, typer.Option(help="e.g. app.handler, index.handler")]
ZipFile = Annotated[Path | None, typer.Option("--zip", help="a zip file to deploy")]
CodeDir = Annotated[
    Path | None, typer.Option("--code", help="a folder, zipped without what .tarnignore lists")
]
Watch = Annotated[
    bool,
    typer.Option("--watch", help="with --code: run the folder in place and reload on every change"),
]
Image = Annotated[str | None, typer.Option(help="a container image URI instead of a zip")]
Env = Annotated[
    list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE, repeatable; replaces all")
]
Memory = Annotated[int | None, typer.Option("--memory", help="memory in MB")]
Timeout = Annotated[int | None, typer.Option("--timeout", help="timeout in seconds")]
Layers = Annotated[
    list[str] | None, typer.Option("--layer", help="a layer version ARN, repeatable")
]
Role = Annotated[str | None, typer.Option(help="execution role ARN (default: a placeholder)")]
Publish = Annotated[bool, typer.Option("--publish", help="publish a version as well")]


@commands.command(
    epilog="Example: tarn lambda create --name my-function --runtime nodejs20.x "
    "--handler index.handler --zip function.zip --env DB_SECRET=my-secret"
)
def create(
    name: FunctionName,
    runtime: Runtime = None,
    handler: Handler = None,
    zip_file: ZipFile = None,
    code: CodeDir = None,
    watch: Watch = False,
    image: Image = None,
    env: Env = None,
    memory: Memory = None,
    timeout: Timeout = None,
    layer: Layers = None,
    role: Role = None,
    publish: Publish = False,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Create a function and wait until it is Active; prints its ARN and state."""
    source = code_of(zip_file, code, watch)
    if (source is None) == (image is None):
        raise CommandFailed("give the code: --zip FILE, --code DIR or --image URI")
    if image is None and (runtime is None or handler is None):
        raise CommandFailed("a zip function needs --runtime and --handler")
    request = settings(runtime, handler, env, memory, timeout, layer, role or PLACEHOLDER_ROLE)
    if image is not None:
        request |= {"PackageType": "Image", "Code": {"ImageUri": image}}
    else:
        request["Code"] = source
    client = Endpoint(endpoint).client("lambda")
    started = time.monotonic()
    client.create_function(FunctionName=name, Publish=publish, **request)
    report(client, name, output, started, "created")


@commands.command(epilog="Example: tarn lambda update --name my-function --code ./src --memory 256")
def update(
    name: FunctionName,
    runtime: Runtime = None,
    handler: Handler = None,
    zip_file: ZipFile = None,
    code: CodeDir = None,
    watch: Watch = False,
    image: Image = None,
    env: Env = None,
    memory: Memory = None,
    timeout: Timeout = None,
    layer: Layers = None,
    role: Role = None,
    publish: Publish = False,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Update a function's code (--zip, --code, --image) and/or its configuration."""
    source = code_of(zip_file, code, watch)
    changes = settings(runtime, handler, env, memory, timeout, layer, role)
    if source is None and image is None and not changes:
        raise CommandFailed("nothing to update: give new code or a setting")
    client = Endpoint(endpoint).client("lambda")
    started = time.monotonic()
    if changes:
        client.update_function_configuration(FunctionName=name, **changes)
        settled(client, name, status_line=output is Output.text)
    if source is not None or image is not None:
        new_code = source if source is not None else {"ImageUri": image}
        client.update_function_code(FunctionName=name, Publish=publish, **new_code)
    elif publish:
        settled(client, name, status_line=False)
        client.publish_version(FunctionName=name)
    report(client, name, output, started, "updated")


def settings(
    runtime: str | None,
    handler: str | None,
    env: list[str] | None,
    memory: int | None,
    timeout: int | None,
    layers: list[str] | None,
    role: str | None,
) -> dict[str, Any]:
    """The configuration fields given on the command line, in the API's names."""
    given: dict[str, Any] = {
        "Runtime": runtime,
        "Handler": handler,
        "MemorySize": memory,
        "Timeout": timeout,
        "Layers": layers,
        "Role": role,
    }
    if env is not None:
        given["Environment"] = {"Variables": pairs(env, "--env")}
    return {k: v for k, v in given.items() if v is not None}


def report(client: Any, name: str, output: Output, started: float, done: str) -> None:
    """Wait for the function to settle, then print it; a Failed state is a failed command."""
    config = settled(client, name, status_line=output is Output.text)
    problem = failure(config)
    if output is Output.json:
        print_json(without_metadata(config))
    else:
        elapsed = f"{done} in {time.monotonic() - started:.2f} s"
        print_fields([("arn", config["FunctionArn"]), ("state", config["State"])])
        if problem is None:
            note(f"[green]✓[/] {name} {elapsed}")
    if problem is not None:
        raise CommandFailed(problem)


@commands.command(epilog="Example: tarn lambda get --name my-function --output json")
def get(
    name: FunctionName,
    qualifier: Qualifier = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Show a function's configuration and state."""
    stack = Endpoint(endpoint)
    extra = {"Qualifier": qualifier} if qualifier else {}
    response = without_metadata(stack.client("lambda").get_function(FunctionName=name, **extra))
    config = response["Configuration"]
    facts = stack.tarn(f"functions/{config['FunctionName']}", Qualifier=config["Version"])
    if facts is not None:  # not part of AWS's answer: under a key of its own
        response["Tarn"] = {"Executor": facts.get("Executor")}
    if output is Output.json:
        print_json(response)
        return
    variables = config.get("Environment", {}).get("Variables", {})
    print_fields(
        [
            ("name", config["FunctionName"]),
            ("arn", config["FunctionArn"]),
            ("runtime", config.get("Runtime") or config.get("PackageType")),
            ("handler", config.get("Handler")),
            ("state", config.get("State")),
            ("reason", config.get("StateReason")),
            ("executor", response.get("Tarn", {}).get("Executor")),
            ("last update", config.get("LastUpdateStatus")),
            ("version", config.get("Version")),
            ("memory", f"{config.get('MemorySize')} MB"),
            ("timeout", f"{config.get('Timeout')} s"),
            ("code size", f"{config.get('CodeSize', 0)} bytes"),
            ("environment", " ".join(f"{k}={v}" for k, v in variables.items())),
            ("layers", " ".join(layer["Arn"] for layer in config.get("Layers", []))),
            ("role", config.get("Role")),
            ("modified", config.get("LastModified")),
        ]
    )


@commands.command(name="list", epilog="Example: tarn lambda list --output json")
def list_functions(
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """List the functions."""
    client = Endpoint(endpoint).client("lambda")
    functions = [
        config
        for page in client.get_paginator("list_functions").paginate()
        for config in page["Functions"]
    ]
    if output is Output.json:
        print_json(functions)
        return
    print_table(
        ["NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT", "MODIFIED"],
        [
            (
                f["FunctionName"],
                f.get("Runtime") or f.get("PackageType"),
                f.get("Handler"),
                f"{f.get('MemorySize')} MB",
                f"{f.get('Timeout')} s",
                f.get("LastModified"),
            )
            for f in functions
        ],
    )


@commands.command(epilog="Example: tarn lambda delete --name my-function")
def delete(
    name: FunctionName,
    qualifier: Qualifier = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Delete a function (or one version of it, with --qualifier)."""
    client = Endpoint(endpoint).client("lambda")
    extra = {"Qualifier": qualifier} if qualifier else {}
    client.delete_function(FunctionName=name, **extra)
    if output is Output.json:
        print_json({"FunctionName": name, "Deleted": True})
    else:
        note(f"deleted {name}" + (f":{qualifier}" if qualifier else ""))
