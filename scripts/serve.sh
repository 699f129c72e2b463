#!/usr/bin/env bash
# Serve Manabi Hub in embedded mode: one ASGI process (uvicorn) carries HTTP and the live
# gradebook's websockets, with the in-memory channel layer. MANABI_BIND=host:port.
# uvicorn's h11 protocol with a request deadline (config/request_timeout.py): a request that
# has not arrived whole within MANABI_REQUEST_TIMEOUT seconds (30) gets 408 and is closed —
# uvicorn itself never times out slow headers or bodies. Headers are at most 16 KB (h11).
set -euo pipefail
cd "$(dirname "$0")/.."
bind="${MANABI_BIND:-127.0.0.1:8000}"
exec .venv/bin/uvicorn config.asgi:application \
  --host "${bind%:*}" --port "${bind##*:}" --ws websockets-sansio --no-server-header \
  --http config.request_timeout:RequestTimeoutH11Protocol --h11-max-incomplete-event-size 16384 \
  --timeout-keep-alive 5 --log-level "${MANABI_SERVER_LOG_LEVEL:-warning}"
