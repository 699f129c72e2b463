#!/usr/bin/env bash
# The demo board's external LRS: Ralph (file-system backend, Basic auth) on 127.0.0.1:8100, or
# MANABI_DEMO_LRS_PORT, storing into $MANABI_DATA_DIR/ralph (var/ralph). Installed by
# scripts/bootstrap.sh into .peers/ralph-venv; started by scripts/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
port="${MANABI_DEMO_LRS_PORT:-8100}"
dir="$(realpath -m "${MANABI_DATA_DIR:-var}")/ralph"
mkdir -p "$dir/statements" "$dir/app"
export RALPH_APP_DIR="$dir/app" RALPH_AUTH_FILE="$dir/auth.json" \
  RALPH_HISTORY_FILE="$dir/history.json" RALPH_RUNSERVER_BACKEND=fs \
  RALPH_RUNSERVER_AUTH_BACKENDS=basic \
  RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH="$dir/statements"
if [ ! -f "$RALPH_AUTH_FILE" ]; then
  (cd "$dir" && "$root/.peers/ralph-venv/bin/ralph" auth --username manabi-demo \
    --password "${MANABI_DEMO_LRS_PASSWORD:-manabi-demo-lrs}" \
    --scope statements/write --scope statements/read \
    --agent-ifi-account manabi-demo "http://127.0.0.1:${port}" --write-to-disk >/dev/null)
fi
cd "$dir"
exec "$root/.peers/ralph-venv/bin/python" "$root/scripts/ralph_lrs.py" "$port"
