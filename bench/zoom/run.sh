#!/usr/bin/env bash
# Create-with-Zoom throughput and latency: `calendox serve` against the sandbox with 50 ms of
# latency on every provider call, N concurrent clients POSTing events with a Zoom meeting (each
# create is two upstream round trips: Zoom's POST /users/me/meetings, then Google's events.insert).
#   bench/zoom/run.sh [seconds=10] [clients=200] [users=2] [latency_ms=50]
# CALENDOX_BIN chooses the binary (default build/calendox). Loopback only; every process it starts
# is stopped on exit. A benchmark, not a test: it prints figures and never fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
clients=${2:-200}
users=${3:-2}
latency=${4:-50}
bin=${CALENDOX_BIN:-build/calendox}
here=bench/zoom
[ -x "$bin" ] || { echo "build first: make build (or set CALENDOX_BIN)" >&2; exit 1; }
for tool in python3 curl; do
	command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/calendox-bench-zoom.XXXXXX)
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
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench/zoom/run.sh: failed at line $LINENO" >&2' ERR
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
ctl() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$sandbox$1" >/dev/null; }
# The benchmark measures Calendox, not Zoom's or Google's quotas: lift them.
ctl /_sandbox/zoom/settings '{"qps_light":1000000,"qps_medium":1000000,"daily_limit":1000000}'
ctl /_sandbox/google/rate_limit '{"limit":0}'

cx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/web/assets"
echo '<!doctype html><title>Calendox</title>' >"$work/web/index.html"
CALENDOX_DATABASE="sqlite:$work/calendox.db" \
	CALENDOX_SECRET_KEY=$(head -c 32 /dev/urandom | base64) \
	CALENDOX_WEB_ROOT="$work/web" \
	CALENDOX_LISTEN="127.0.0.1:$cx_port" \
	CALENDOX_PUBLIC_URL="http://127.0.0.1:$cx_port" \
	CALENDOX_SANDBOX="$sandbox" \
	CALENDOX_HTTP_THREADS=${CALENDOX_HTTP_THREADS:-2} \
	CALENDOX_JOB_WORKERS=${CALENDOX_JOB_WORKERS:-2} \
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
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
# CPU seconds (user + system, every thread) a process used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
cx_cpu=$(cpu_s "$cx_pid")
sb_cpu=$(cpu_s "$sb_pid")
start=$(date +%s.%N)
python3 "$here/client.py" "$base" "$sandbox" --clients "$clients" --seconds "$seconds" \
	--users "$users" --latency-ms "$latency"
wall=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
echo "CPU seconds during the run ($wall s of wall time, 2 cores = $(python3 -c "print(2 * $wall)") CPU s):" \
	"calendox serve $(python3 -c "print(round($(cpu_s "$cx_pid") - $cx_cpu, 1))")," \
	"sandbox $(python3 -c "print(round($(cpu_s "$sb_pid") - $sb_cpu, 1))")"
created=$(curl -sf "$sandbox/_sandbox/state" | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["zoom"]["counters"]["meetings_created"])')
echo "meetings the sandbox created: $created"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
