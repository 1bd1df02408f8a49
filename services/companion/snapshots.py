"""The companion's state on the data dir: moto's backends pickled into one file, written
atomically at most once a second after a change and at shutdown, and restored at start.

One pickle of every backend in use keeps the references between them (a CloudFormation stack's
queue is the SQS backend's queue). 1,000 queued messages take about 0.3 MB and 20 ms.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import moto
from moto.core.base_backend import BackendDict

from services.companion.pickling import dumps

log = logging.getLogger("tarn.companion")
INTERVAL_S = 1.0  # a crash loses at most this much
LAZY_INTERVAL_S = 30.0  # ... of the frequent changes (log lines, message receipts)
FILE_NAME = "companion-state.pickle"
# Tarn serves Lambda; moto's own Lambda backend stays empty and is never restored.
NOT_KEPT = (
    "moto.awslambda.",
    "moto.awslambda_simple.",
    "moto.moto_api.",
    "moto.instance_metadata.",
)
DUMP_ATTEMPTS = 5  # a request that changes a dict mid-pickle fails that attempt only

State = dict[str, dict[str, dict[str, Any]]]  # service -> account -> region -> backend


class Snapshots:
    """Marks changes (`changed`), writes them from a thread of its own (`start`), and restores
    the last snapshot into moto's live backends (`restore`)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME
        self._dirty = threading.Event()
        self._lazy_since: float | None = None  # monotonic time of the first unsaved frequent change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._write_lock = threading.Lock()
        self.unpicklable: set[str] = set()

    def changed(self, frequent: bool = False) -> None:
        """A change to save within INTERVAL_S; a `frequent` one within LAZY_INTERVAL_S."""
        if not frequent:
            self._dirty.set()
        elif self._lazy_since is None:
            self._lazy_since = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what changed since its last snapshot."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self._dirty.is_set() or self._lazy_since is not None:
            self.write()

    def _due(self) -> bool:
        lazy_since = self._lazy_since
        overdue = lazy_since is not None and time.monotonic() - lazy_since >= LAZY_INTERVAL_S
        return self._dirty.is_set() or overdue

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            if self._due():
                try:
                    self.write()
                except Exception:
                    log.exception("companion snapshot failed; retrying in %s s", INTERVAL_S)
                    self._dirty.set()

    def write(self) -> None:
        with self._write_lock:
            self._dirty.clear()
            self._lazy_since = None
            data = self._dump()
            temporary = self.path.with_suffix(".tmp")
            with temporary.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)

    def _dump(self) -> bytes:
        for attempt in range(DUMP_ATTEMPTS):
            state = live_state(self.unpicklable)
            try:
                return dumps({"moto": moto.__version__, "state": state})
            except RuntimeError:  # "dictionary changed size during iteration"
                if attempt == DUMP_ATTEMPTS - 1:
                    raise
            except (pickle.PicklingError, TypeError, AttributeError):
                self.unpicklable |= _unpicklable_services(state)
        raise RuntimeError("unreachable")

    def restore(self) -> list[str]:
        """Put the last snapshot's backends in place; the services restored."""
        if not self.path.exists():
            return []
        with self.path.open("rb") as file:
            snapshot = pickle.load(file)
        if snapshot.get("moto") != moto.__version__:
            aside = self.path.with_suffix(f".moto-{snapshot.get('moto')}")
            os.replace(self.path, aside)
            log.warning("state from moto %s kept aside as %s", snapshot.get("moto"), aside)
            return []
        state: State = snapshot["state"]
        for service, accounts in state.items():
            live = _backend_dict(service)
            for account_id, regions in accounts.items():
                for region, backend in regions.items():
                    dict.__setitem__(live[account_id], region, backend)
        return sorted(state)


def live_state(excluded: set[str]) -> State:
    return {
        name: {account: dict(dict.items(regions)) for account, regions in dict.items(backends)}
        for name, backends in _backend_dicts().items()
        if not name.startswith(NOT_KEPT) and name not in excluded and len(backends)
    }


def _backend_dicts() -> dict[str, BackendDict[Any]]:
    """Every service whose backend this process has used, by its backend class
    (`moto.sqs.models:SQSBackend`), which names the module that holds the live one."""
    return {
        f"{backends.backend.__module__}:{backends.backend.__qualname__}": backends
        for backends in list(BackendDict._instances)  # type: ignore[misc]
    }


def _backend_dict(key: str) -> BackendDict[Any]:
    module_name, _, class_name = key.partition(":")
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.backend.__qualname__ == class_name:
            return value
    raise LookupError(f"moto {moto.__version__} has no backends of {key}")


def _unpicklable_services(state: State) -> set[str]:
    failing = set()
    for name, accounts in state.items():
        try:
            dumps(accounts)
        except Exception as exc:
            log.warning("the companion's %s state is not kept across restarts: %s", name, exc)
            failing.add(name)
    if not failing:
        raise RuntimeError("the snapshot fails to pickle, yet each service pickles alone")
    return failing
