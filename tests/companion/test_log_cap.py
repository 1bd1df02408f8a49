"""The companion's CloudWatch Logs stays bounded: a log group keeps its retention period and
at most its cap of events, the newest (services/companion/log_cap.py, on moto's own models)."""

from __future__ import annotations

import time

import pytest
from moto.logs.models import LogsBackend, LogStream

from services.companion import log_cap

REGION, ACCOUNT = "us-east-1", "000000000000"


def put(backend: LogsBackend, group: str, stream: str, stamps: list[int]) -> None:
    events = [{"timestamp": stamp, "message": f"line {stamp}"} for stamp in stamps]
    backend.put_log_events(group, stream, events)


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> LogsBackend:
    """moto's Logs backend with the cap hook installed (undone after the test)."""
    monkeypatch.setattr(LogStream, "put_log_events", LogStream.put_log_events)
    monkeypatch.setenv("TARN_LOG_EVENTS_KEPT", "100")
    log_cap.settings.cache_clear()
    log_cap.install()
    log_cap.settings.cache_clear()
    backend = LogsBackend(REGION, ACCOUNT)
    backend.create_log_group("/aws/lambda/f", tags={})
    for stream in ("a", "b"):
        backend.create_log_stream("/aws/lambda/f", stream)
    return backend


def messages(backend: LogsBackend, stream: str) -> list[str]:
    return [event.message for event in backend.groups["/aws/lambda/f"].streams[stream].events]


def test_a_group_keeps_its_newest_events_up_to_its_cap(backend: LogsBackend) -> None:
    now = int(time.time() * 1000)
    put(backend, "/aws/lambda/f", "a", [now - 1000 + i for i in range(60)])
    put(backend, "/aws/lambda/f", "b", [now + i for i in range(60)])
    kept_a, kept_b = messages(backend, "a"), messages(backend, "b")
    assert len(kept_a) + len(kept_b) == 90  # over 100: trimmed to 90% of it, the oldest gone
    assert kept_b == [f"line {now + i}" for i in range(60)]
    assert kept_a[-1] == f"line {now - 1000 + 59}"
    stream = backend.groups["/aws/lambda/f"].streams["a"]
    assert stream.stored_bytes == sum(len(m) for m in kept_a)


def test_a_group_keeps_the_events_of_its_retention(backend: LogsBackend) -> None:
    backend.put_retention_policy("/aws/lambda/f", 1)
    now = int(time.time() * 1000)
    put(backend, "/aws/lambda/f", "a", [now - 2 * log_cap.DAY_MS, now - 1000, now])
    assert messages(backend, "a") == [f"line {now - 1000}", f"line {now}"]


def test_under_its_cap_a_group_keeps_everything(backend: LogsBackend) -> None:
    now = int(time.time() * 1000)
    put(backend, "/aws/lambda/f", "a", [now + i for i in range(100)])
    assert len(messages(backend, "a")) == 100
