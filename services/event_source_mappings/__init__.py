"""Event source mappings: the API operations, their request shapes and checks, and the mapping
records they build and render."""
