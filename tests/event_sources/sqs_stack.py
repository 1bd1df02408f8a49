"""A test's SQS queue, recording function and event source mappings on a running stack.

The function (a real Python runtime, process executor) writes each event it gets to a file of
its own under the test's folder, with the times its handler started and ended.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from redis import Redis

from bus.keys import Keys
from tests.conftest import Stack
from tests.functions import create_python_function, unique_name
from tests.waiting import wait_for

ACCOUNT = "000000000000"
WAIT_S = 30

# Records each invocation in $RECORD_TO/<request id>.json (written whole, then renamed in).
# $SLEEP_S: how long it works; $FAIL_PREFIX: bodies starting with it are reported as batch
# item failures; $RAISE_PREFIX: a body starting with it fails the whole invocation.
RECORDER = """
import json
import os
import time

def handler(event, context):
    started = time.time()
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    records = event.get("Records", [])
    entry = {"start": started, "end": time.time(), "records": records}
    path = os.path.join(os.environ["RECORD_TO"], context.aws_request_id + ".json")
    with open(path + ".part", "w") as out:
        json.dump(entry, out)
    os.rename(path + ".part", path)
    bodies = [record["body"] for record in records]
    if any(body.startswith(os.environ.get("RAISE_PREFIX", "\\0")) for body in bodies):
        raise ValueError("asked to fail")
    prefix = os.environ.get("FAIL_PREFIX")
    failed = [r["messageId"] for r in records if prefix and r["body"].startswith(prefix)]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
"""


class Setup:
    """One test's queue and recording function."""

    def __init__(
        self,
        stack: Stack,
        folder: Path,
        *,
        fifo: bool = False,
        queue_attributes: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.sqs = stack.client("sqs")
        self.queue_url, self.queue_arn = make_queue(stack, fifo=fifo, attributes=queue_attributes)
        self.folder = folder / unique_name("calls")
        self.folder.mkdir()
        self.function = unique_name()
        variables = {"RECORD_TO": str(self.folder), **(env or {})}
        create_python_function(
            stack.client(), self.function, RECORDER, Environment={"Variables": variables}
        )
        self.function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{self.function}"

    def send(self, *bodies: str, group: str | None = None, **extra: Any) -> list[str]:
        """Send `bodies` in batches of ten, in order; their message ids."""
        ids = []
        for start in range(0, len(bodies), 10):
            entries = []
            for number, body in enumerate(bodies[start : start + 10], start=start):
                entry: dict[str, Any] = {"Id": str(number), "MessageBody": body, **extra}
                if group is not None:
                    entry |= {"MessageGroupId": group, "MessageDeduplicationId": f"{group}{number}"}
                entries.append(entry)
            sent = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            assert not sent.get("Failed"), sent["Failed"]
            ids += [item["MessageId"] for item in sent["Successful"]]
        return ids

    def invocations(self) -> list[dict[str, Any]]:
        """Every recorded invocation, in the order their handlers started."""
        entries = [json.loads(path.read_text()) for path in self.folder.glob("*.json")]
        return sorted(entries, key=lambda entry: entry["start"])

    def bodies(self) -> list[str]:
        return [r["body"] for entry in self.invocations() for r in entry["records"]]

    def wait_for_bodies(self, count: int, timeout_s: float = WAIT_S) -> list[str]:
        wait_for(lambda: len(self.bodies()) >= count, timeout_s, f"{count} records delivered")
        return self.bodies()

    def depth(self, url: str | None = None) -> int:
        """Messages in the queue, visible or not."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url, AttributeNames=names
        )["Attributes"]
        return sum(int(attributes[name]) for name in names)


def make_queue(
    stack: Stack, *, fifo: bool = False, attributes: dict[str, str] | None = None
) -> tuple[str, str]:
    """A new queue on the companion: its URL and ARN."""
    sqs = stack.client("sqs")
    name = unique_name("q") + (".fifo" if fifo else "")
    attributes = dict(attributes or {})
    if fifo:
        attributes |= {"FifoQueue": "true"}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Mappings:
    """The stack's event source mappings, through its Lambda API; and their leases, read in
    its Redis."""

    def __init__(self, stack: Stack) -> None:
        self.client = stack.client()
        self.redis = Redis(unix_socket_path=str(stack.data_dir / "redis.sock"))
        self.keys = Keys("tarn")
        self.created: list[str] = []

    def create(self, setup: Setup, **request: Any) -> str:
        """CreateEventSourceMapping from the setup's queue to its function; the UUID."""
        created = self.client.create_event_source_mapping(
            EventSourceArn=setup.queue_arn, FunctionName=setup.function, **request
        )
        assert created["State"] == "Creating"
        self.created.append(created["UUID"])
        return str(created["UUID"])

    def get(self, mapping_uuid: str) -> dict[str, Any] | None:
        try:
            return dict(self.client.get_event_source_mapping(UUID=mapping_uuid))
        except self.client.exceptions.ResourceNotFoundException:
            return None

    def update(self, mapping_uuid: str, **request: Any) -> str:
        """UpdateEventSourceMapping; the State it answers with."""
        return str(self.client.update_event_source_mapping(UUID=mapping_uuid, **request)["State"])

    def delete(self, mapping_uuid: str) -> str:
        return str(self.client.delete_event_source_mapping(UUID=mapping_uuid)["State"])

    def state(self, mapping_uuid: str) -> str | None:
        mapping = self.get(mapping_uuid)
        return None if mapping is None else str(mapping["State"])

    def wait_for_state(self, mapping_uuid: str, state: str | None, timeout_s: float = 10) -> None:
        wait_for(lambda: self.state(mapping_uuid) == state, timeout_s, f"State {state}")

    def owner(self, mapping_uuid: str) -> str | None:
        """The poller process holding the mapping's lease ("<consumer>:<pid>:<nonce>")."""
        raw = self.redis.get(self.keys.event_source_lease(mapping_uuid))
        return None if raw is None else raw.decode()

    def close(self) -> None:
        """Delete the mappings this test created, so the stack stops polling for them."""
        for mapping_uuid in self.created:
            try:
                self.delete(mapping_uuid)
            except ClientError:
                pass  # gone already, or settling (then the stack removes it when stopped)
        self.redis.close()


class ExtraPoller:
    """A second `python -m workers event_sources` beside the stack's own, with its settings
    (read from the environment of the stack's poller)."""

    def __init__(self, stack_poller_pid: int, log_path: Path) -> None:
        raw = Path(f"/proc/{stack_poller_pid}/environ").read_bytes()
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "workers", "event_sources"],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
