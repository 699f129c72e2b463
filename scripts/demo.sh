#!/usr/bin/env bash
# Start the full demo on http://127.0.0.1:8000, or MANABI_BIND (embedded mode: SQLite in var/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
export DJANGO_SETTINGS_MODULE=config.settings.base
.venv/bin/python manage.py migrate -v 0
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py check
echo
echo "まなびハブ: http://${MANABI_BIND:-127.0.0.1:8000}/  (Ctrl+C で終了)"
# Embedded mode: one ASGI process for HTTP and websockets (docs/architecture.md).
exec scripts/serve.sh
