"""The SigV4 signature a function URL request should carry (AuthType AWS_IAM), by botocore's
signer over exactly the headers the client signed, with the placeholder secret; imported
only when such a request comes, so the API does not load botocore for it otherwise."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from bus.aws import DUMMY_SECRET_ACCESS_KEY
from services.urls.events import UrlRequest


class _Verifier(SigV4Auth):  # type: ignore[misc]
    """botocore's signer, signing exactly the headers the client signed."""

    def __init__(self, access_key: str, region: str, service: str, signed: list[str]) -> None:
        super().__init__(Credentials(access_key, DUMMY_SECRET_ACCESS_KEY), service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name in self._signed:
            headers[name] = request.headers.get(name, "")
        return headers


def signature(
    request: UrlRequest, access_key: str, region: str, signed: list[str], amz_date: str
) -> str:
    """The hex signature of `request` as signed at `amz_date` for Lambda in `region`."""
    verifier = _Verifier(access_key, region, "lambda", signed)
    headers = {name: value for name, value in request.headers if name in signed}
    aws_request = AWSRequest(
        method=request.method, url=request.sent_url, headers=headers, data=request.body
    )
    aws_request.context["timestamp"] = amz_date
    canonical = verifier.canonical_request(aws_request)
    return str(verifier.signature(verifier.string_to_sign(aws_request, canonical), aws_request))
