"""One module per benchmarked path: ``run(fixtures, *, runs, quick) -> list[Result]``."""
