"""ARNs: the one place that takes them apart (arn:partition:service:region:account:resource).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the account, colons included ("function:f:1")

    @classmethod
    def parse(cls, text: str) -> Arn:
        """Raises ValueError when `text` has fewer than six colon-separated parts."""
        parts = text.split(":", 5)
        if len(parts) < 6 or parts[0] != "arn":
            raise ValueError(f"not an ARN: {text!r}")
        return cls(*parts[1:])

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_parts(self) -> list[str]:
        return self.resource.split(":")


def service_of(arn: str) -> str:
    """ "sqs", "dynamodb", "lambda", ...; empty for a string that is no ARN."""
    try:
        return Arn.parse(arn).service
    except ValueError:
        return ""


def function_of(arn: str) -> tuple[str, str | None]:
    """(name, qualifier or None) of a Lambda function ARN."""
    parts = Arn.parse(arn).resource_parts  # ["function", name, qualifier?]
    return parts[1], parts[2] if len(parts) > 2 else None


def layer_of(arn: str) -> tuple[str, int | None]:
    """(layer name, version or None) of a layer or layer version ARN."""
    parts = Arn.parse(arn).resource_parts  # ["layer", name, version?]
    return parts[1], int(parts[2]) if len(parts) > 2 else None


def layer_arn_of(arn: str) -> str:
    """The layer's own ARN, of a layer version ARN (or of the layer's ARN itself)."""
    parsed = Arn.parse(arn)
    return str(replace(parsed, resource=f"layer:{layer_of(arn)[0]}"))
