#!/usr/bin/env bash
# Start the full demo on http://127.0.0.1:8000, or MANABI_BIND (embedded mode: SQLite in var/),
# with its workers: the xAPI forwarder, and Ralph as the demo board's external LRS on
# 127.0.0.1:8100 (MANABI_DEMO_LRS_PORT). Ctrl+C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
export DJANGO_SETTINGS_MODULE=config.settings.base
lrs_port="${MANABI_DEMO_LRS_PORT:-8100}"
.venv/bin/python manage.py migrate -v 0
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py seed_demo --lrs-url "http://127.0.0.1:${lrs_port}/xAPI/"
.venv/bin/python manage.py check

workers=()
stop_workers() {
  for pid in "${workers[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_workers EXIT INT TERM
mkdir -p "${MANABI_DATA_DIR:-var}"
log_dir="$(realpath -m "${MANABI_DATA_DIR:-var}")"
scripts/demo_lrs.sh >>"$log_dir/demo-lrs.log" 2>&1 &
workers+=($!)
.venv/bin/python manage.py run_xapi_forwarder >>"$log_dir/xapi-forwarder.log" 2>&1 &
workers+=($!)

echo
echo "まなびハブ: http://${MANABI_BIND:-127.0.0.1:8000}/  (Ctrl+C で終了)"
echo "学習記録の送信先（Ralph LRS）: http://127.0.0.1:${lrs_port}/xAPI/  ログ: $log_dir/"
# Embedded mode: one ASGI process for HTTP and websockets (docs/architecture.md).
scripts/serve.sh
