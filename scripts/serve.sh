#!/usr/bin/env bash
# Serve Manabi Hub in embedded mode: one ASGI process (uvicorn) carries HTTP and the live
# gradebook's websockets, with the in-memory channel layer. MANABI_BIND=host:port.
set -euo pipefail
cd "$(dirname "$0")/.."
bind="${MANABI_BIND:-127.0.0.1:8000}"
exec .venv/bin/uvicorn config.asgi:application \
  --host "${bind%:*}" --port "${bind##*:}" --ws websockets-sansio --no-server-header \
  --log-level "${MANABI_SERVER_LOG_LEVEL:-warning}"
