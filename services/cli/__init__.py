"""The `tarn` command (`python -m services.cli up`) and what only it uses: the supervisor of the
stack's processes and the API process's server."""
