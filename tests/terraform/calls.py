"""The AWS calls Terraform's provider made, read back from its TF_LOG=DEBUG log: which
operation, on which path, answered what. `python -m tests.terraform.calls terraform.log`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ENTRY = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z \[\w+\] ", re.MULTILINE)
FIELD = re.compile(r'([\w.@]+)=("(?:[^"\\]|\\.)*"|\[[^\]]*\]|\S*)')


@dataclass
class Call:
    """One HTTP exchange of the provider: request fields, then the response's."""

    resource: str
    rpc: str
    service: str
    operation: str
    method: str
    url: str
    status: int = 0
    error: str = ""
    response: str = ""

    def __str__(self) -> str:
        path = re.sub(r"^https?://[^/]+", "", self.url)
        answer = f"{self.status} {self.error}".strip()
        where = f"{self.resource:<36} {self.rpc:<20}"
        return f"{where} {self.service}.{self.operation} {self.method} {path} -> {answer}"


def fields(entry: str) -> dict[str, str]:
    found = {key: value.strip('"') for key, value in FIELD.findall(entry)}
    body = re.search(r"http\.response\.body=\n\s*\| (.*)\n", entry)
    if body:
        found["http.response.body"] = body.group(1)
    return found


def calls(log: Path) -> list[Call]:
    """Every provider HTTP call in the log, in the order sent, with its answer."""
    text = log.read_text(errors="replace")
    waiting: dict[tuple[str, str], list[Call]] = {}
    made: list[Call] = []
    for entry in ENTRY.split(text):
        if "HTTP Request Sent" not in entry and "HTTP Response Received" not in entry:
            continue
        found = fields(entry)
        key = (found.get("tf_req_id", ""), found.get("rpc.method", ""))
        if "HTTP Request Sent" in entry:
            call = Call(
                found.get("tf_resource_type", "-"),
                found.get("tf_rpc", "-"),
                found.get("rpc.service", "?"),
                key[1],
                found.get("http.method", "?"),
                found.get("http.url", "?"),
            )
            waiting.setdefault(key, []).append(call)
            made.append(call)
        elif waiting.get(key):
            call = waiting[key].pop(0)
            call.status = int(found.get("http.status_code", "0") or 0)
            call.error = found.get("http.response.header.x_amzn_errortype", "")
            call.response = found.get("http.response.body", "")
    return made


def failed(log: Path) -> str:
    """The calls answered 4xx/5xx, one a line."""
    return "\n".join(str(call) for call in calls(log) if call.status >= 400)


if __name__ == "__main__":
    for call in calls(Path(sys.argv[1])):
        print(call)
