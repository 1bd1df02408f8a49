"""Functions and everything hung on them: CRUD, code and layers, versions, aliases, Invoke and
event-invoke configs, with the request shapes, refs/ARNs and rendering they share."""
