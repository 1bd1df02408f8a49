"""`python -m services.companion [moto server flags]`: moto's own server, in this process, after
Tarn's hooks; the same flags as `python -m moto.server` (-H HOST -p PORT)."""

from __future__ import annotations

import logging
import sys

from moto import server

from services.companion import hooks


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    hooks.install(on_change=lambda: None)
    server.main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
