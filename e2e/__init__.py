"""End-to-end tests: the real demo server (gunicorn) driven by headless Chromium (Playwright)."""
