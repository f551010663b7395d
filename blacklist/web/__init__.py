"""Cross-cutting web pieces: error handlers, base templates, the API shell, rate limits, health."""
