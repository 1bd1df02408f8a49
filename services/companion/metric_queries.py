"""GetMetricStatistics matches dimensions exactly, as CloudWatch does; moto matches every
metric that has the dimensions asked for, so `FunctionName=f` alone would also sum the
`FunctionName=f, Resource=f:alias` data Tarn puts (AWS/Lambda's metrics, workers/metrics.py).

https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
("If the metric contains multiple dimensions, you must include a value for each dimension").
ListMetrics keeps moto's matching: there a filter names some of a metric's dimensions.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import wraps
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase

HOOKED: list[tuple[object, str, tuple[str, ...]]] = [
    (
        CloudWatchBackend,
        "get_metric_statistics",
        ("self", "namespace", "metric_name", "start_time", "end_time", "period", "stats"),
    ),
    (MetricDatumBase, "filter", ("self", "namespace", "name", "dimensions")),
]

# Set while a GetMetricStatistics runs (per thread: moto's server may serve several at once).
_EXACT: ContextVar[bool] = ContextVar("tarn_exact_dimensions", default=False)


def install() -> None:
    statistics = CloudWatchBackend.get_metric_statistics
    matches = MetricDatumBase.filter

    @wraps(statistics)
    def get_metric_statistics(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Any:
        token = _EXACT.set(True)
        try:
            return statistics(self, *args, **kwargs)
        finally:
            _EXACT.reset(token)

    @wraps(matches)
    def filter(
        self: MetricDatumBase, namespace: Any, name: Any, dimensions: Any, *args: Any
    ) -> bool:
        if not matches(self, namespace, name, dimensions, *args):
            return False
        # Every asked dimension is among the metric's (names are unique): equal counts, same set.
        return not (_EXACT.get() and dimensions and len(self.dimensions) != len(dimensions))

    CloudWatchBackend.get_metric_statistics = get_metric_statistics  # type: ignore[method-assign]
    MetricDatumBase.filter = filter  # type: ignore[method-assign,assignment]
