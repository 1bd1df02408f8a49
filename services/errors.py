"""AWS Lambda's errors: class name = AWS error code, HTTP status on the class, one renderer,
and the app's error handlers that send every failure through it.

Blueprints only raise these. Each code's body has the message member botocore's model gives
its error shape: `{"Type": "User", "Message": ...}` for most, `{"Type": "User", "message": ...}`
for InvalidParameterValueException, ResourceConflictException and the others whose shape says
`message`, and `{"message": ...}` for model validation; `X-Amzn-ErrorType` carries the code.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException

from bus.quotas import REQUEST_BYTES
from services.operations import operation_named
from services.responses import json_response

log = logging.getLogger("tarn.api")
# The path segments whose next segment names something, and the member AWS reports it as.
EMPTY_NAME_MEMBERS = {"functions": "functionName", "layers": "layerName"}


class LambdaError(Exception):
    status: ClassVar[int] = 400
    error_type: ClassVar[str | None] = "User"  # the body's "Type"; None: no Type member
    message_member: ClassVar[str] = "Message"  # "message" where the model's shape says so

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__

    def body(self) -> dict[str, str]:
        if self.error_type is None:
            return {self.message_member: self.message}
        return {"Type": self.error_type, self.message_member: self.message}


class AccessDeniedException(LambdaError):
    """Not in botocore's Lambda model: IAM's refusal, e.g. of another account's function."""

    status = 403
    error_type = None


class ValidationException(LambdaError):
    error_type = None
    message_member = "message"


class InvalidParameterValueException(LambdaError):
    message_member = "message"


class InvalidRequestContentException(LambdaError):
    message_member = "message"


class RequestTooLargeException(LambdaError):
    status = 413
    message_member = "message"


class RequestEntityTooLargeException(LambdaError):
    status = 413
    message_member = "message"


class ResourceNotFoundException(LambdaError):
    status = 404


class ResourceConflictException(LambdaError):
    status = 409
    message_member = "message"


class CodeSigningConfigNotFoundException(LambdaError):
    status = 404


class ProvisionedConcurrencyConfigNotFoundException(LambdaError):
    status = 404
    message_member = "message"


class PreconditionFailedException(LambdaError):
    status = 412
    message_member = "message"


class ResourceInUseException(LambdaError):
    """The resource is in a state that does not allow the operation (an event source mapping
    the poller has not settled yet)."""


class ResourceNotReadyException(LambdaError):
    status = 502
    error_type = "Service"
    message_member = "message"


class TooManyRequestsException(LambdaError):
    """A throttle; AWS's body: `{"Reason": ..., "Type": "User", "message": "Rate Exceeded."}`."""

    status = 429
    message_member = "message"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, str]:
        reason = {"Reason": self.reason} if self.reason else {}
        return reason | {"Type": "User", "message": self.message}


class UnsupportedMediaTypeException(LambdaError):
    status = 415
    message_member = "message"


class ServiceException(LambdaError):
    status = 500
    error_type = "Service"


class UnknownOperationException(LambdaError):
    status = 404
    error_type = None
    message_member = "message"


def render(error: LambdaError) -> Response:
    response = json_response(error.body(), error.status)
    response.headers["X-Amzn-ErrorType"] = error.code
    return response


def constraint(value: object, member: str, rule: str) -> ValidationException:
    """AWS's model-validation error for one member, e.g. Timeout over 900."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {rule}"
    )


def error_for(code: str, message: str, reason: str | None = None) -> LambdaError:
    """The error class named `code` (as a worker reported it), else a ServiceException;
    `reason` is a throttle's Reason."""
    if code == TooManyRequestsException.__name__:
        return TooManyRequestsException(message, reason)
    for cls in _all_errors(LambdaError):
        if cls.__name__ == code:
            return cls(message)
    return ServiceException(message)


def _all_errors(base: type[LambdaError]) -> list[type[LambdaError]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *_all_errors(sub)]
    return found


def register_error_handlers(app: Quart) -> None:
    """Every error a request meets answers as AWS would: Lambda's own, Quart's HTTP errors
    (too large, unknown route, malformed), and anything unexpected as a ServiceException."""
    app.register_error_handler(LambdaError, _render_lambda_error)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_unexpected)


async def _render_lambda_error(error: LambdaError) -> Response:
    return render(error)


async def _render_http_error(error: HTTPException) -> Response:
    if error.code == 413:
        return render(
            RequestEntityTooLargeException(
                f"Request must be smaller than {REQUEST_BYTES} bytes for the operation"
            )
        )
    if error.code in (404, 405):
        empty = _empty_name(request.path)
        if empty is not None:
            return render(empty)
        operation = operation_named(request.method, request.path)
        if operation is not None:  # in botocore's model, but no blueprint serves it
            return render(InvalidParameterValueException(f"Tarn does not support {operation}."))
        return render(UnknownOperationException("Unknown operation"))
    if error.code is not None and error.code < 500:
        return render(InvalidRequestContentException(error.description or "Bad request"))
    return render(ServiceException(error.description or "Internal error"))


def _empty_name(path: str) -> ValidationException | None:
    """AWS's answer to a path whose function or layer name is empty (`/functions//code`)."""
    segments = path.split("/")
    for index, segment in enumerate(segments[1:-1], start=1):
        member = EMPTY_NAME_MEMBERS.get(segments[index - 1])
        if member is not None and not segment:
            return constraint("", member, "Member must have length greater than or equal to 1")
    return None


async def _render_unexpected(error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return render(ServiceException("An internal error occurred. See Tarn's log for details."))
