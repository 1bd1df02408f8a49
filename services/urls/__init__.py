"""Function URLs served over plain HTTP: the event in, the HTTP response out, auth and CORS."""
