"""Tarn's workers, one process per role (`python -m workers <role>`, see runner.py): functions.py,
pool/, async_invoke/, event_sources/; docker/ is shared Docker knowledge."""
