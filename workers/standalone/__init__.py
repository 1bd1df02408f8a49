"""Stackless runs of one function (`tarn run`): the pool's executors and Runtime API in-process,
with no Redis, no companion and no Tarn API; one-shot or stay-open (an Invoke API of its own)."""
