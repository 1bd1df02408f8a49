"""The HTTP face: the Lambda REST API as a Quart app, and the proxy to the companion endpoint."""
