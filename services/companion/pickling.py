"""Pickling moto's backends as they are: locks and conditions are rebuilt empty, and the
`defaultdict(lambda: ...)` factories moto uses become picklable equivalents."""

from __future__ import annotations

import functools
import io
import pickle
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

LOCKS: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
    threading.Condition: threading.Condition,
    threading.Event: threading.Event,
}
EMPTY_TYPES = (dict, list, set, int, str)


def dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    BackendPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


class BackendPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in LOCKS:
            return LOCKS[kind], ()
        if isinstance(obj, defaultdict):  # subclasses too: their __init__ takes other arguments
            state = getattr(obj, "__dict__", None)
            factory = picklable_factory(obj.default_factory)
            return _defaultdict, (kind, factory, state), None, None, iter(obj.items())
        return NotImplemented


def picklable_factory(factory: Callable[[], Any] | None) -> Callable[[], Any] | None:
    """A module-level equivalent of a `lambda` factory, found from what it makes."""
    if factory is None or getattr(factory, "__name__", "") != "<lambda>":
        return factory
    sample = factory()
    if isinstance(sample, defaultdict):
        return functools.partial(defaultdict, picklable_factory(sample.default_factory))
    if type(sample) in EMPTY_TYPES and not sample:
        return type(sample)
    raise pickle.PicklingError(f"no picklable equivalent of {factory.__qualname__}")


def _defaultdict(
    kind: type, factory: Callable[[], Any] | None, state: dict[str, Any] | None
) -> Any:
    obj: Any = defaultdict.__new__(kind)
    defaultdict.__init__(obj, factory)
    if state:
        obj.__dict__.update(state)
    return obj
