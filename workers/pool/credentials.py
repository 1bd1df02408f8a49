"""A function's credentials, as Lambda gives them: temporary ones of its execution role, from
an STS AssumeRole on the companion for each new environment (RoleSessionName: the function's
name), so `sts get-caller-identity` in the function names its role and itself.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bus.aws import Companion, CompanionError, find_text
from bus.records import FunctionVersion

log = logging.getLogger("tarn.pool")

STS_VERSION = "2011-06-15"


@dataclass(frozen=True, slots=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


class RoleSessions:
    """Assumes functions' roles on the companion; without one, or when STS refuses, functions
    keep placeholder credentials (said once in the log)."""

    def __init__(self, companion: Companion | None) -> None:
        self.companion = companion
        self._warned = False

    async def assume(self, function: FunctionVersion) -> RoleCredentials | None:
        if self.companion is None:
            self._warn("no companion endpoint is configured")
            return None
        parameters = {"RoleArn": function.role, "RoleSessionName": function.name}
        try:
            answer = await self.companion.query("sts", "AssumeRole", STS_VERSION, parameters)
        except CompanionError as exc:
            self._warn(f"STS AssumeRole of {function.role} failed ({exc})")
            return None
        found = [find_text(answer, n) for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
        if not all(found):
            self._warn(f"STS AssumeRole of {function.role} answered no credentials")
            return None
        key_id, secret, token = (str(text) for text in found)
        return RoleCredentials(key_id, secret, token)

    def _warn(self, why: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("functions run with placeholder credentials: %s", why)
