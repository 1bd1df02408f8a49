"""Options most `tarn lambda` commands share, and parsing of their small formats."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from services.cli.lambda_cli.output import Output

EndpointUrl = Annotated[
    str,
    typer.Option(
        "--endpoint",
        envvar=["TARN_ENDPOINT", "AWS_ENDPOINT_URL"],
        help="the stack's URL (else TARN_ENDPOINT, AWS_ENDPOINT_URL)",
    ),
]
OutputOption = Annotated[
    Output, typer.Option("--output", "-o", help="text for people, json for scripts")
]
FunctionName = Annotated[str, typer.Option("--name", "-n", help="the function's name or ARN")]
Qualifier = Annotated[
    str | None, typer.Option("--qualifier", "-q", help="a version number or alias name")
]

SINCE_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`K=V` options into a dict."""
    result = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{value!r} is not KEY=VALUE", param_hint=option)
        result[key] = rest
    return result


def weights(values: list[str] | None) -> dict[str, float]:
    """`--weight 2=0.1` options into an alias's AdditionalVersionWeights."""
    try:
        return {k: float(v) for k, v in pairs(values, "--weight").items()}
    except ValueError:
        raise typer.BadParameter("a weight is VERSION=FRACTION, e.g. 2=0.1") from None


def duration_s(text: str) -> int:
    """`10m`, `30s`, `2h`, `1d` into seconds."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration like 30s, 10m, 2h or 1d")
    return int(match[1]) * SINCE_UNITS_S[match[2]]


def split_list(values: list[str] | None) -> list[str]:
    """Repeated options that may also hold comma-separated values."""
    return [part for value in values or [] for part in value.split(",") if part]
