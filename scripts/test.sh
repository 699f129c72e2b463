#!/usr/bin/env bash
# Run every check and test: lint, format, types, migrations, pytest (unit, HTTP, interop, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
export DJANGO_SETTINGS_MODULE=config.settings.test
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy .
echo "== import contracts"
.venv/bin/lint-imports --no-logo
echo "== migrations are up to date"
.venv/bin/python manage.py makemigrations --check --dry-run -v 1
echo "== pytest"
.venv/bin/pytest "$@"
