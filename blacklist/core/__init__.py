"""Pure helpers: no Flask, no SQLAlchemy models. Nothing here imports the rest of the app."""
