"""Cross-cutting web pieces: error handlers, base templates, the placeholder home page."""
