"""The Lambda Runtime API each environment's runtime talks to: the server (one port per
environment), just enough HTTP/1.1 for it, and streamed responses on their way to Redis."""
