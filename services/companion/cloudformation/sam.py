"""SAM templates (`Transform: AWS::Serverless-2016-10-31`): expanded by AWS's own SAM translator
(aws-sam-translator) when moto reads a template, as CloudFormation's transform does, so their
AWS::Serverless::* resources become the AWS::Lambda::* (and IAM, SQS, ...) resources Tarn serves.
GetTemplate still answers the template as sent.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-serverless.html
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import ChangeSet, Stack

from services.companion.tarn import settings

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (Stack, "parse_template", ("template",)),
    (ChangeSet, "_parse_template", ("self",)),
]


def install() -> None:
    parse: Callable[[str], dict[str, Any]] = Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        return expand(parse(template))

    def parse_change_set_template(self: ChangeSet) -> None:
        self.template_dict = parse_template(self.template)

    Stack.parse_template = staticmethod(parse_template)  # type: ignore[method-assign]
    ChangeSet._parse_template = parse_change_set_template  # type: ignore[method-assign]


def expand(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its SAM resources translated; any other template as it is."""
    if not isinstance(template, dict) or SAM_TRANSFORM not in transforms(template):
        return template
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=_session())
    try:
        expanded = translator.translate(template, parameter_values={})
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause.message) for cause in exc.causes)
        raise ValidationError(message=f"Transform {SAM_TRANSFORM} failed with: {causes}") from None
    expanded.pop("Transform", None)
    return dict(expanded)


def transforms(template: dict[str, Any]) -> list[str]:
    declared = template.get("Transform") or []
    return [declared] if isinstance(declared, str) else list(declared)


@cache
def _session() -> Any:
    """A boto3 session (the translator's own dependency) in the region the translator writes into
    the ARNs it builds: the stack's default region."""
    import boto3

    return boto3.session.Session(region_name=settings().region)
