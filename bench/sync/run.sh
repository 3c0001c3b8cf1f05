#!/usr/bin/env bash
# Incremental-sync throughput: `calendox serve` against the sandbox with N connected Google
# accounts and one change each (one event created outside Calendox in alice@example.com's primary
# calendar, which every account connects), with injected provider latency. Reports accounts synced
# per second next to the bound that the latency and the egress concurrency allow.
#   bench/sync/run.sh [accounts=1000] [latency_ms=20] [concurrency=64]
# CALENDOX_BIN chooses the binary (default build/calendox); CALENDOX_JOB_WORKERS and
# CALENDOX_HTTP_THREADS pass through (default 4 each). Loopback only; SQLite in a temporary
# directory; every process it starts is stopped on exit. A benchmark, not a test: it prints
# figures and fails only when the set-up breaks or an account never gets the change.
set -euo pipefail
cd "$(dirname "$0")/../.."
accounts=${1:-1000}
latency=${2:-20}
concurrency=${3:-64}
bin=${CALENDOX_BIN:-build/calendox}
here=bench/sync
[ -x "$bin" ] || { echo "build first: make build (or set CALENDOX_BIN)" >&2; exit 1; }
for tool in python3 curl; do
	command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/calendox-bench-sync.XXXXXX)
sb_pid=
cx_pid=
stop() { # pid name log: SIGTERM, wait, show the log's end on an unclean exit
	local rc=0
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$2 exited with status $rc; the end of its log:" >&2
		tail -n 30 "$3" >&2
	fi
}
cleanup() {
	stop "$cx_pid" "calendox serve" "$work/serve.log"
	stop "$sb_pid" "the sandbox" "$work/sandbox.log"
	if [ -s "$work/serve.log" ]; then
		echo "calendox serve logged $(wc -l <"$work/serve.log") lines (warn and above);" \
			"the last ones:" >&2
		tail -n 5 "$work/serve.log" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench/sync/run.sh: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT TERM

"$bin" sandbox --port 0 >"$work/sandbox.out" 2>"$work/sandbox.log" &
sb_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n '1s/^{"port":\([0-9]*\)}$/\1/p' "$work/sandbox.out" 2>/dev/null) || true
	[ -n "$port" ] && break
	kill -0 "$sb_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.log" >&2; exit 1; }
sandbox=http://127.0.0.1:$port

cx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/web/assets"
echo '<!doctype html><title>Calendox</title>' >"$work/web/index.html"
workers=${CALENDOX_JOB_WORKERS:-4}
# The poll is pushed a day away so that only the push notifications start rounds.
CALENDOX_DATABASE="sqlite:$work/calendox.db" \
	CALENDOX_SECRET_KEY=$(head -c 32 /dev/urandom | base64) \
	CALENDOX_WEB_ROOT="$work/web" \
	CALENDOX_LISTEN="127.0.0.1:$cx_port" \
	CALENDOX_PUBLIC_URL="http://127.0.0.1:$cx_port" \
	CALENDOX_SANDBOX="$sandbox" \
	CALENDOX_HTTP_THREADS=${CALENDOX_HTTP_THREADS:-4} \
	CALENDOX_JOB_WORKERS=$workers \
	CALENDOX_EGRESS_CONCURRENCY=$concurrency \
	CALENDOX_SYNC_POLL_S=86400 \
	CALENDOX_MAX_CONNECTIONS=1024 \
	CALENDOX_PWHASH_FAST=1 \
	CALENDOX_LOG_LEVEL=warn \
	"$bin" serve >"$work/serve.log" 2>&1 &
cx_pid=$!
base=http://127.0.0.1:$cx_port
for _ in $(seq 200); do
	curl -sf "$base/healthz" >/dev/null 2>&1 && break
	kill -0 "$cx_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
	sleep 0.05
done

echo "calendox sync benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?') plus the working tree"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $bin; $accounts accounts, latency $latency ms, CALENDOX_EGRESS_CONCURRENCY=$concurrency, CALENDOX_JOB_WORKERS=$workers, CALENDOX_HTTP_THREADS=${CALENDOX_HTTP_THREADS:-4}, CALENDOX_SYNC_POLL_S=86400"
python3 "$here/client.py" "$base" "$sandbox" "$work/calendox.db" --accounts "$accounts" \
	--latency-ms "$latency" --concurrency "$concurrency" --job-workers "$workers" \
	--cx-pid "$cx_pid" --sb-pid "$sb_pid"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
