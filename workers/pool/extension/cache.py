"""The Parameters and Secrets extension's cache of one environment, configured as AWS's is.

The extension reads its settings from the function's environment variables:
https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda_env-var.html
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

log = logging.getLogger("tarn.pool")

DEFAULT_TTL_S = 300
MAX_TTL_S = 300
DEFAULT_SIZE = 1000
MAX_SIZE = 1000
TTL_VARIABLES = {"secrets": "SECRETS_MANAGER_TTL", "parameters": "SSM_PARAMETER_STORE_TTL"}


class EnvironmentCache:
    """Answers already fetched, per kind (secrets, parameters), until their TTL runs out."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        enabled = variables.get("PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED", "true")
        on = enabled.strip().lower() != "false"
        self.ttl_s = {
            kind: _setting(variables, name, DEFAULT_TTL_S, MAX_TTL_S) if on else 0
            for kind, name in TTL_VARIABLES.items()
        }
        size = "PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE"
        self.size = _setting(variables, size, DEFAULT_SIZE, MAX_SIZE) if on else 0
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}

    def get(self, kind: str, key: str) -> bytes | None:
        entry = self._entries.get((kind, key))
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[(kind, key)]
            return None
        return entry[1]

    def put(self, kind: str, key: str, body: bytes) -> None:
        ttl_s = self.ttl_s[kind]
        if ttl_s <= 0 or self.size <= 0:
            return
        if len(self._entries) >= self.size:  # the oldest entry makes room
            del self._entries[next(iter(self._entries))]
        self._entries[(kind, key)] = (time.monotonic() + ttl_s, body)


def _setting(variables: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    """An integer setting in 0..maximum; anything else falls back to AWS's default."""
    raw = variables.get(name)
    if raw is None:
        return default
    if raw.strip().isdigit() and int(raw) <= maximum:
        return int(raw)
    log.warning("%s=%r is not a whole number from 0 to %d; using %d", name, raw, maximum, default)
    return default
