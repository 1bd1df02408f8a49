"""Functions and everything hung on them: CRUD, code and layers, versions, aliases,
event-invoke configs, URL configs, concurrency and settings, with the request shapes,
refs/ARNs and rendering they share (Invoke itself: services/invocations)."""
