"""Benchmarks (not part of the application; run with ``.venv/bin/python -m bench.<name>``)."""
