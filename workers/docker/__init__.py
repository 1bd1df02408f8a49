"""Tarn's one home for Docker knowledge: the engine client, labels and leftovers (engine.py),
runtime images and pulling (images.py), ensuring them while a version is provisioned
(provisioning.py), creating containers (containers.py), where containers sit on the network
(placement.py) and one running container (sandboxes.py). The pool's Docker executor
(workers/pool/executors/docker.py) drives these; `python -m workers.docker.engine` is the
stack's Docker check."""
