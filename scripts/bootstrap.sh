#!/usr/bin/env bash
# Create .venv and install what Manabi Hub needs. Usage: scripts/bootstrap.sh [runtime|dev]
# "dev" also installs the test tools and Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"

need_apt=()
command -v msgfmt >/dev/null 2>&1 || need_apt+=(gettext)
if [ "$profile" = dev ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  # Fonts for the browser tests' screenshots: Japanese text and the tiles' emoji icons.
  [ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
  [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need_apt+=(fonts-noto-color-emoji)
  # Node for the test peers (tests/peers/*/package.json: the SAML IdP).
  command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PY"
  "$PY" -m venv .venv
fi
req=requirements.txt
[ "$profile" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)-$profile"
if [ ! -f "$stamp" ]; then
  echo "== installing Python packages ($req)"
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
if [ "${MANABI_SKIP_RALPH:-0}" != 1 ]; then
  # Ralph, the open LRS: the demo board's external LRS (scripts/demo_lrs.sh) and the xAPI
  # forwarder's test peer (tests/peers/ralph.py), in a venv of its own: it pins its own
  # fastapi, uvicorn and pydantic. Its API imports requests (OIDC) without its "lrs" extra
  # declaring it.
  ralph_pkgs=("ralph-malph[lrs,cli]==5.1.0" "requests==2.34.2")
  ralph_stamp=".peers/ralph-venv/.installed-$(echo "${ralph_pkgs[*]}" | sha256sum | cut -c1-16)"
  if [ ! -f "$ralph_stamp" ]; then
    echo "== installing the Ralph LRS test peer into .peers/ralph-venv"
    [ -x .peers/ralph-venv/bin/python ] || "$PY" -m venv .peers/ralph-venv
    .peers/ralph-venv/bin/pip install -q --disable-pip-version-check "${ralph_pkgs[@]}"
    touch "$ralph_stamp"
  fi
fi
if [ "$profile" = dev ]; then
  # Node test peers: each tests/peers/<name>/ with a pinned package-lock.json is installed with
  # `npm ci` into .peers/<name>/node_modules (the peer's own script stays in tests/peers/).
  for lock in tests/peers/*/package-lock.json; do
    [ -f "$lock" ] || continue
    name="$(basename "$(dirname "$lock")")"
    peer_stamp=".peers/$name/.installed-$(sha256sum "$lock" | cut -c1-16)"
    if [ ! -f "$peer_stamp" ]; then
      echo "== installing the $name test peer into .peers/$name (npm ci)"
      mkdir -p ".peers/$name"
      cp "$(dirname "$lock")/package.json" "$lock" ".peers/$name/"
      (cd ".peers/$name" && npm ci --no-audit --no-fund --loglevel=error)
      touch "$peer_stamp"
    fi
  done
fi
.venv/bin/python manage.py compilemessages -v 0 --ignore=.venv
