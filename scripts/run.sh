#!/usr/bin/env bash
# `make run`: Calendox on http://localhost:8080 with SQLite and the provider sandbox on
# 127.0.0.1:9100. State lives in .run/ (delete it to start over). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/calendox}
mkdir -p .run

export CALENDOX_LISTEN=${CALENDOX_LISTEN:-127.0.0.1:8080}
export CALENDOX_PUBLIC_URL=${CALENDOX_PUBLIC_URL:-http://localhost:8080}
export CALENDOX_DATABASE=${CALENDOX_DATABASE:-sqlite:.run/calendox.db}
export CALENDOX_SECRET_KEY_FILE=${CALENDOX_SECRET_KEY_FILE:-.run/calendox.key}
export CALENDOX_SANDBOX=${CALENDOX_SANDBOX:-http://127.0.0.1:9100}
export CALENDOX_WEB_ROOT=${CALENDOX_WEB_ROOT:-web/dist}

sandbox_port=${CALENDOX_SANDBOX##*:}
"$bin" sandbox --port "$sandbox_port" --zoom-webhook-url "$CALENDOX_PUBLIC_URL/webhooks/zoom" \
	> .run/sandbox.log 2>&1 &
sandbox_pid=$!
trap 'kill $sandbox_pid 2>/dev/null; wait $sandbox_pid 2>/dev/null || true' EXIT

"$bin" migrate
echo "Calendox: $CALENDOX_PUBLIC_URL (providers emulated at $CALENDOX_SANDBOX; log in .run/sandbox.log)"
"$bin" serve
