"""Kept only for `tarn up` (services/supervisor.py runs `python -m workers.pool.executors.engine`
for its Docker check): the engine lives in workers.docker.engine; point the supervisor there."""

from workers.docker.engine import main

if __name__ == "__main__":
    main()
