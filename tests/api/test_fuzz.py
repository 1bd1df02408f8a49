"""A seeded, bounded fuzz of Tarn's Lambda API from botocore's model: every operation with wrong
types, huge and unicode values, missing and unknown members, malformed JSON and zips. No answer
may be a 5xx, and the stack is healthy afterwards."""

from __future__ import annotations

import io
import random
import re
import zipfile
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.model import OperationModel, Shape

from tests.api.test_bad_input import raw
from tests.conftest import Stack

SEED = 15
MODEL_REQUESTS = 300
STRINGS = ["", "fuzz-λ🙂", "x" * 3000, "\u0000\ud7ff", "../../etc", "arn:aws:lambda:::", "-1", " "]
NUMBERS: list[Any] = [-1, 0, 1, 2**63, 10**30, "x", 1.5, None]
BODIES = [b"{", b"[]", b'"text"', b"null", b'{"Unknown": 1}', b"\xff\xfe", b"[" * 3000]


def zip_bytes(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return rng.randbytes(rng.randint(0, 64))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in rng.sample(["a", "a/b", "x" * 300, "../up", "app.py", "λ.py"], 2):
            archive.writestr(name, "x")
    return buffer.getvalue()


def value(shape: Shape, rng: random.Random, depth: int = 0) -> Any:
    """A value for `shape`: often the right type, sometimes not, often at the edges."""
    if rng.random() < 0.1:
        return rng.choice([*STRINGS, *NUMBERS, [], {}])  # any type at all
    kind = shape.type_name
    if kind == "structure":
        return structure(shape, rng, depth + 1)
    if kind == "list":
        return [value(shape.member, rng, depth + 1) for _ in range(rng.randint(0, 3))]  # type: ignore[attr-defined]
    if kind == "map":
        return {rng.choice(STRINGS): value(shape.value, rng, depth + 1)}  # type: ignore[attr-defined]
    if kind in ("integer", "long", "float", "double"):
        return rng.choice(NUMBERS)
    if kind == "boolean":
        return rng.choice([True, False, "yes"])
    if kind == "blob":
        return zip_bytes(rng)
    if kind == "timestamp":
        return rng.choice(["2020-01-01T00:00:00Z", "yesterday", 10**12])
    if shape.enum and rng.random() < 0.5:  # type: ignore[attr-defined]
        return rng.choice(shape.enum)  # type: ignore[attr-defined]
    return rng.choice([*STRINGS, f"fuzz-{rng.randint(0, 99)}"])


def structure(shape: Shape, rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """Some of the members (required ones mostly), and now and then one the model lacks."""
    if depth > 3:
        return {}
    required = set(shape.required_members)  # type: ignore[attr-defined]
    members = shape.members  # type: ignore[attr-defined]
    params = {
        name: value(member, rng, depth)
        for name, member in members.items()
        if rng.random() < (0.9 if name in required else 0.3)
    }
    if rng.random() < 0.1:
        params["UnknownMember"] = "x"
    return params


def test_fuzzed_requests_never_answer_5xx_and_leave_the_stack_healthy(stack: Stack) -> None:
    rng = random.Random(SEED)
    client = stack.client(validate=False)
    model = botocore.session.get_session().get_service_model("lambda")
    operations = [model.operation_model(name) for name in model.operation_names]
    failures: list[str] = []
    for _ in range(MODEL_REQUESTS):
        operation = rng.choice(operations)
        params = structure(operation.input_shape, rng) if operation.input_shape else {}
        status = call(client, operation, params)
        if status is not None and status >= 500:
            failures.append(f"{operation.name} {params!r:.300} -> {status}")
    for operation in operations:
        if operation.http["method"] in ("POST", "PUT"):
            path = re.sub(r"\{[^}]+\}", "fuzz-x", operation.http["requestUri"])
            for body in rng.sample(BODIES, 3):
                status, answer = raw(stack, operation.http["method"], path, body)
                if status >= 500:
                    failures.append(f"{operation.name} {body!r:.40} -> {status} {answer!r:.200}")
    assert not failures, "\n".join(failures)
    assert (stack.health() or {}).get("status") == "ready"


def call(client: Any, operation: OperationModel, params: dict[str, Any]) -> int | None:
    """The HTTP status of one call, or None when botocore cannot even send it."""
    try:
        response = getattr(client, xform_name(operation.name))(**params)
    except ClientError as error:
        return int(error.response["ResponseMetadata"]["HTTPStatusCode"])
    except Exception:  # botocore refused to serialize what the model does not allow
        return None
    if "Payload" in response and hasattr(response["Payload"], "close"):
        response["Payload"].close()
    return int(response["ResponseMetadata"]["HTTPStatusCode"])
