"""Which stack `tarn lambda` talks to, and botocore clients on it: the endpoint from --endpoint,
TARN_ENDPOINT, AWS_ENDPOINT_URL or the default, with placeholder credentials when none are set."""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError

if TYPE_CHECKING:
    import botocore.session
    from botocore.credentials import Credentials

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
DEFAULT_REGION = "us-east-1"
# The stack accepts any credentials; these stand in when the machine has none.
PLACEHOLDER_KEY = "test"
# An invoke may run for Lambda's longest timeout (900 s) before it answers.
READ_TIMEOUT_S = 910


@dataclass
class Endpoint:
    """One running stack: botocore clients on `url`, made once per service."""

    url: str
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            # Here, not at the top: `tarn up` imports this module, and botocore's sessions
            # cost it a tenth of its start.
            import botocore.session
            from botocore.config import Config

            session = botocore.session.get_session()
            self._clients[service] = session.create_client(
                service,
                endpoint_url=self.url,
                region_name=region(session),
                config=Config(
                    # A local stack: report what it answers at once instead of retrying it.
                    retries={"mode": "standard", "total_max_attempts": 1},
                    connect_timeout=5,
                    read_timeout=READ_TIMEOUT_S,
                ),
                **credentials(session),
            )
        return self._clients[service]

    def tarn(self, path: str, **params: str) -> dict[str, Any] | None:
        """Tarn's own JSON at `/_tarn/<path>` (what AWS's API has no field for); None when the
        endpoint has none to give (another endpoint than Tarn, say)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"{self.url.rstrip('/')}/_tarn/{urllib.parse.quote(path)}{query}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                found = json.load(response)
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None


def region(session: botocore.session.Session) -> str:
    return (
        os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or session.get_config_variable("region")
        or DEFAULT_REGION
    )


def credentials(session: botocore.session.Session) -> dict[str, str]:
    """The configured credentials if there are any, else placeholders. The instance metadata
    service is not asked: off EC2 it only costs seconds of timeouts before the placeholders."""
    session.get_component("credential_provider").remove("iam-role")
    try:
        found: Credentials | None = session.get_credentials()
    except BotoCoreError:
        found = None
    if found is None:
        return {"aws_access_key_id": PLACEHOLDER_KEY, "aws_secret_access_key": PLACEHOLDER_KEY}
    return {}
