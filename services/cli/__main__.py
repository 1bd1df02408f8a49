"""`python -m services.cli up ...`: the `tarn` command."""

from services.cli.commands import main

main()
