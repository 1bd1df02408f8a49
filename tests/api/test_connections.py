"""Keep-alive connections survive every answer: clients (botocore, urllib3) reuse them."""

from __future__ import annotations

import http.client

from tests.conftest import Stack

# Operations that read no body, sent one anyway as some SDKs do: the answer must not drop the
# connection. Before the API took in every body, about one in ten such answers did.
PATHS = [
    ("GET", "/2018-10-31/layers"),
    ("GET", "/2016-08-19/account-settings/"),
    ("DELETE", "/2015-03-31/event-source-mappings/0f0e1d2c-0000-4000-8000-000000000000"),
    ("GET", "/2015-03-31/functions/tarn-missing-fn/configuration"),
]


def test_a_connection_is_reused_after_answers_that_read_no_body(stack: Stack) -> None:
    port = int(stack.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(25):
            for method, path in PATHS:
                connection.request(method, path, body=b"{}")
                response = connection.getresponse()
                response.read()
                assert response.status < 500, (method, path, response.status)
                assert response.getheader("Connection") != "close"
    finally:
        connection.close()
