"""Who may call a function URL, and CORS: AuthType NONE needs a resource policy statement that
allows `lambda:InvokeFunctionUrl` to anyone; AWS_IAM needs a valid SigV4 signature.
https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from typing import Any

from bus.records import FunctionUrlConfig, ResourcePolicy
from services.urls.events import UrlRequest

INVOKE_URL_ACTIONS = {"lambda:InvokeFunctionUrl", "lambda:*", "*"}
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
MAX_SKEW_S = 15 * 60  # SigV4: a request signed more than 15 minutes away is refused


def allowed_anonymously(config: FunctionUrlConfig, policy: ResourcePolicy | None) -> bool:
    """Whether the URL's resource policy lets anyone invoke it, as AWS checks for NONE."""
    return policy is not None and any(
        _allows_url(statement, config.auth_type) for statement in policy.statements
    )


def _allows_url(statement: dict[str, Any], auth_type: str) -> bool:
    actions = statement.get("Action")
    actions = {actions} if isinstance(actions, str) else set(actions or ())
    principal = statement.get("Principal")
    anyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
    condition = statement.get("Condition") or {}
    wanted = condition.get("StringEquals", {}).get("lambda:FunctionUrlAuthType", auth_type)
    return (
        statement.get("Effect") == "Allow"
        and bool(actions & INVOKE_URL_ACTIONS)
        and anyone
        and wanted == auth_type
    )


def iam_caller(request: UrlRequest, region: str, account_id: str) -> dict[str, Any] | None:
    """The event's `authorizer` of a request SigV4-signed for Lambda in `region` with the
    placeholder secret (any access key id); None when unsigned, mis-signed or stale."""
    match = AUTHORIZATION.fullmatch((request.header("authorization") or "").strip())
    amz_date = request.header("x-amz-date") or ""
    if match is None or match["region"] != region or match["service"] != "lambda":
        return None
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if abs((datetime.now(UTC) - signed_at).total_seconds()) > MAX_SKEW_S:
        return None
    from services.urls.sigv4 import signature  # botocore, only where IAM auth is used

    expected = signature(request, match["key"], region, match["signed"].split(";"), amz_date)
    if not hmac.compare_digest(expected, match["signature"]):
        return None
    user_arn = f"arn:aws:iam::{account_id}:root"
    return {
        "iam": {
            "accessKey": match["key"],
            "accountId": account_id,
            "callerId": account_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": account_id,
        }
    }


def is_preflight(request: UrlRequest) -> bool:
    return (
        request.method == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )


def preflight_headers(cors: dict[str, Any], request: UrlRequest) -> list[tuple[str, str]]:
    """What AWS answers a preflight with: the allowed origin, methods, headers, max age."""
    origin = _allowed_origin(cors, request)
    if origin is None:
        return []
    headers = [("access-control-allow-origin", origin)]
    for member, name in (
        ("AllowMethods", "access-control-allow-methods"),
        ("AllowHeaders", "access-control-allow-headers"),
    ):
        if cors.get(member):
            headers.append((name, ",".join(cors[member])))
    if cors.get("MaxAge") is not None:
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    headers += _credentials(cors)
    return headers


def response_headers(cors: dict[str, Any], request: UrlRequest) -> list[tuple[str, str]]:
    """CORS headers on an actual response; they replace any the function set."""
    origin = _allowed_origin(cors, request)
    if origin is None:
        return []
    headers = [("access-control-allow-origin", origin)]
    if cors.get("ExposeHeaders"):
        headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    return headers + _credentials(cors) + [("vary", "Origin")]


def _allowed_origin(cors: dict[str, Any], request: UrlRequest) -> str | None:
    origin = request.header("origin")
    allowed = cors.get("AllowOrigins") or []
    if origin is None:
        return None
    if "*" in allowed:
        return "*" if not cors.get("AllowCredentials") else origin
    return origin if origin in allowed else None


def _credentials(cors: dict[str, Any]) -> list[tuple[str, str]]:
    return [("access-control-allow-credentials", "true")] if cors.get("AllowCredentials") else []
