"""`tarn lambda publish-layer`: a layer version from a zip file or a folder
(PublishLayerVersion)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.lambda_cli.endpoint import DEFAULT_ENDPOINT, Endpoint
from services.cli.lambda_cli.failures import CommandFailed
from services.cli.lambda_cli.functions import CodeDir, Watch, ZipFile
from services.cli.lambda_cli.options import EndpointUrl, OutputOption, split_list
from services.cli.lambda_cli.output import Output, print_fields, print_json, without_metadata
from services.cli.lambda_cli.packages import code_of

commands = typer.Typer()


@commands.command(
    name="publish-layer",
    epilog="Example: tarn lambda publish-layer --name my-layer --code ./layer "
    "--runtimes nodejs20.x,python3.12",
)
def publish_layer(
    name: Annotated[str, typer.Option("--name", "-n", help="the layer's name")],
    zip_file: ZipFile = None,
    code: CodeDir = None,
    watch: Watch = False,
    runtimes: Annotated[
        list[str] | None,
        typer.Option(help="compatible runtimes, repeatable or comma-separated"),
    ] = None,
    description: Annotated[str | None, typer.Option(help="a description")] = None,
    endpoint: EndpointUrl = DEFAULT_ENDPOINT,
    output: OutputOption = Output.text,
) -> None:
    """Publish a layer version; prints its ARN for `create --layer`."""
    content = code_of(zip_file, code, watch)
    if content is None:
        raise CommandFailed("give the layer's content: --zip FILE or --code DIR")
    request: dict[str, object] = {"LayerName": name, "Content": content}
    if runtimes:
        request["CompatibleRuntimes"] = split_list(runtimes)
    if description:
        request["Description"] = description
    response = Endpoint(endpoint).client("lambda").publish_layer_version(**request)
    if output is Output.json:
        print_json(without_metadata(response))
    else:
        print_fields([("arn", response["LayerVersionArn"]), ("version", response["Version"])])
