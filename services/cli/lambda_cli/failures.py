"""How `tarn` ends when something goes wrong: one line on stderr and a non-zero exit code,
never a traceback for a stack that is down, an AWS error or Ctrl-C."""

from __future__ import annotations

import sys
from collections.abc import Callable
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError, HTTPClientError

# 128 + SIGINT, as shells report a command stopped by Ctrl-C.
INTERRUPTED = 130


class CommandFailed(Exception):
    """A failure already explained to the user: `message` goes to stderr, then exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def run_reporting_failures(command: Callable[[], object]) -> None:
    try:
        command()
    except EndpointConnectionError as error:
        stop(
            f"no stack answers at {base_url(error.kwargs['endpoint_url'])}: "
            "start one with `tarn up`"
        )
    except HTTPClientError as error:
        stop(f"the stack stopped answering: {error}")
    except ClientError as error:
        details = error.response.get("Error", {})
        stop(f"{details.get('Code', 'Error')}: {details.get('Message', error)}")
    except CommandFailed as failure:
        stop(failure.message)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)


def base_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stop(message: str) -> None:
    print(f"tarn: {message}", file=sys.stderr)
    sys.exit(1)
