"""Event source mappings: the worker that holds a fair share of them through leases
(worker.py, leases.py), what every poller shares (base.py), and one subpackage per source
(sqs/, dynamodb/)."""
