"""Which operation of botocore's Lambda model a request names, by method and path: so a
request that no blueprint serves, sent by an SDK newer than Tarn, gets "Tarn does not support
X" instead of UnknownOperationException. The model is the installed botocore's."""

from __future__ import annotations

import functools
import re

# A path parameter, `{Name}` or `{Name+}`: SDKs send ARNs with slashes in either.
_PARAMETER = re.compile(r"\\\{\w+(\\\+)?\\\}")


@functools.cache
def _operations() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """(method, path pattern, operation), the most literal paths first, so a path that two
    templates match names the more specific operation."""
    import botocore.session  # only for a request no blueprint serves: not at every start

    model = botocore.session.get_session().get_service_model("lambda")
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path = http["requestUri"].partition("?")[0].rstrip("/") or "/"
        literal = len(_PARAMETER.sub("", re.escape(path)))
        pattern = _PARAMETER.sub(".+", re.escape(path))
        found.append((literal, http["method"], re.compile(pattern + "/?"), name))
    found.sort(key=lambda entry: -entry[0])
    return tuple((method, pattern, name) for _, method, pattern, name in found)


def operation_named(method: str, path: str) -> str | None:
    """The model's operation for `method` and `path` (one of them, where only the query tells
    two apart), or None."""
    for operation_method, pattern, name in _operations():
        if operation_method == method and pattern.fullmatch(path):
            return name
    return None
