"""Whether a function's resource policy lets an AWS service invoke it, as AWS checks before S3,
SNS or EventBridge deliver: an Allow statement (and no Deny) for the service principal and
lambda:InvokeFunction whose conditions on AWS:SourceArn and AWS:SourceAccount hold.
https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from botocore.exceptions import ClientError

from services.companion.tarn import lambda_client, region_of

INVOKE_ACTIONS = ("lambda:invokefunction", "lambda:*", "*")
# Condition operators on the two keys a service invocation carries; any other condition is
# one this check cannot show to hold, so its statement does not allow.
EXACT = ("StringEquals", "ArnEquals")
PATTERN = ("StringLike", "ArnLike")


def allows(function: str, service: str, source_arn: str, account: str, region: str) -> bool:
    """Whether `service` (s3.amazonaws.com, ...) may invoke `function` (a name or ARN,
    qualified or not) for the resource `source_arn` of `account`."""
    parts = function.split(":")
    qualifier = {"Qualifier": parts[7]} if len(parts) == 8 else {}
    name = ":".join(parts[:7]) if qualifier else function
    try:
        policy = lambda_client(region_of(function, region)).get_policy(
            FunctionName=name, **qualifier
        )
    except ClientError:
        return False  # no policy (or no function): nothing allows it
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": account}
    matching = [
        s
        for s in json.loads(policy["Policy"]).get("Statement", [])
        if _applies(s, service, context)
    ]
    return any(s.get("Effect") == "Allow" for s in matching) and not any(
        s.get("Effect") == "Deny" for s in matching
    )


def _applies(statement: dict[str, Any], service: str, context: dict[str, str]) -> bool:
    actions = [a.lower() for a in _listed(statement.get("Action"))]
    if not any(action in INVOKE_ACTIONS for action in actions):
        return False
    return _principal(statement.get("Principal"), service) and _conditions(
        statement.get("Condition", {}), context
    )


def _principal(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return service in _listed(principal.get("Service")) or "*" in _listed(principal.get("AWS"))
    return False


def _conditions(conditions: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            value = context.get(key.lower())
            if value is None or operator not in EXACT + PATTERN:
                return False
            wanted = _listed(expected)
            if operator in EXACT and value not in wanted:
                return False
            if operator in PATTERN and not any(fnmatch.fnmatchcase(value, w) for w in wanted):
                return False
    return True


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
