#!/usr/bin/env bash
# Create-with-Zoom throughput and latency: `calendox serve` against the sandbox with 50 ms of
# latency on every provider call, N concurrent clients POSTing events with a Zoom meeting (each
# create is two upstream round trips: Zoom's POST /users/me/meetings, then Google's events.insert).
#   bench/zoom/run.sh [seconds=10] [clients=200] [users=2] [latency_ms=50]
# CALENDOX_BIN chooses the binary (default build/calendox). BENCH_STORE=postgresql runs on a
# throw-away PostgreSQL (scripts/pg.sh) instead of SQLite, and BENCH_INSTANCES=N (PostgreSQL only)
# starts N instances behind Debian's nginx. Loopback only; every process it starts is stopped on
# exit. A benchmark, not a test: it prints figures and never fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
clients=${2:-200}
users=${3:-2}
latency=${4:-50}
bin=${CALENDOX_BIN:-build/calendox}
store=${BENCH_STORE:-sqlite}
instances=${BENCH_INSTANCES:-1}
if [ "$instances" -gt 1 ] && [ "$store" != postgresql ]; then
	echo "several instances share a PostgreSQL store: set BENCH_STORE=postgresql" >&2
	exit 1
fi
here=bench/zoom
[ -x "$bin" ] || { echo "build first: make build (or set CALENDOX_BIN)" >&2; exit 1; }
for tool in python3 curl; do
	command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/setup.sh)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/calendox-bench-zoom.XXXXXX)
sb_pid=
cx_pids=()
ng_pid=
pg_dir=
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
	for i in "${!cx_pids[@]}"; do
		stop "${cx_pids[$i]}" "calendox serve $i" "$work/serve-$i.log"
	done
	stop "$ng_pid" "nginx" "$work/nginx-error.log"
	stop "$sb_pid" "the sandbox" "$work/sandbox.log"
	[ -n "$pg_dir" ] && scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$work/web/assets"
echo '<!doctype html><title>Calendox</title>' >"$work/web/index.html"
if [ "$store" = postgresql ]; then
	pg_dir=$(mktemp -d /tmp/calendox-bench-pg.XXXXXX) # the postgres user must reach it
	pg_server=$(scripts/pg.sh start "$pg_dir")
	psql -X -q -d "$pg_server" -c "CREATE DATABASE bench" >/dev/null
	database=${pg_server%/*}/bench
else
	database="sqlite:$work/calendox.db"
fi
front_port=$(free_port)
front=http://127.0.0.1:$front_port
export CALENDOX_DATABASE="$database"
export CALENDOX_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
export CALENDOX_WEB_ROOT="$work/web" CALENDOX_SANDBOX="$sandbox" CALENDOX_PWHASH_FAST=1
export CALENDOX_HTTP_THREADS=${CALENDOX_HTTP_THREADS:-2} CALENDOX_JOB_WORKERS=${CALENDOX_JOB_WORKERS:-2}
export CALENDOX_MAX_CONNECTIONS=1024 CALENDOX_LOG_LEVEL=warn
"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
ports=()
for i in $(seq 0 $((instances - 1))); do
	if [ "$instances" -eq 1 ]; then p=$front_port; else p=$(free_port); fi
	ports+=("$p")
	CALENDOX_LISTEN="127.0.0.1:$p" CALENDOX_PUBLIC_URL="$front" \
		"$bin" serve >"$work/serve-$i.log" 2>&1 &
	cx_pids+=($!)
	for _ in $(seq 200); do
		curl -sf "http://127.0.0.1:$p/healthz" >/dev/null 2>&1 && break
		kill -0 "${cx_pids[$i]}" 2>/dev/null || { cat "$work/serve-$i.log" >&2; exit 1; }
		sleep 0.05
	done
done
if [ "$instances" -gt 1 ]; then
	command -v nginx >/dev/null || { echo "nginx is missing (scripts/setup.sh)" >&2; exit 1; }
	mkdir -p "$work/ngtmp"
	{
		echo "worker_processes 1; daemon off; pid $work/nginx.pid; error_log $work/nginx-error.log warn;"
		echo "events { worker_connections 4096; }"
		echo "http { access_log off; client_body_temp_path $work/ngtmp; proxy_temp_path $work/ngtmp;"
		echo "fastcgi_temp_path $work/ngtmp; uwsgi_temp_path $work/ngtmp; scgi_temp_path $work/ngtmp;"
		echo "upstream calendox {"
		for p in "${ports[@]}"; do echo "server 127.0.0.1:$p;"; done
		echo "keepalive 64; }"
		echo "server { listen 127.0.0.1:$front_port; location / { proxy_pass http://calendox;"
		echo "proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_read_timeout 60s; } } }"
	} >"$work/nginx.conf"
	nginx -c "$work/nginx.conf" -p "$work" &
	ng_pid=$!
	for _ in $(seq 100); do curl -sf "$front/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
fi
base=$front
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null || echo '?'); store $store, $instances instance(s)"
# CPU seconds (user + system, every thread) a process used so far.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
cx_cpu_all() { local t=0; for p in "${cx_pids[@]}"; do t=$(python3 -c "print($t + $(cpu_s "$p"))"); done; echo "$t"; }
cx_cpu=$(cx_cpu_all)
# PostgreSQL's processes (the server and one backend per Calendox connection, all long-lived).
pg_cpu_all() { ps -u postgres -o times= 2>/dev/null | awk '{ t += $1 } END { printf "%.1f", t }'; }
pg_cpu=$(pg_cpu_all)
sb_cpu=$(cpu_s "$sb_pid")
start=$(date +%s.%N)
python3 "$here/client.py" "$base" "$sandbox" --clients "$clients" --seconds "$seconds" \
	--users "$users" --latency-ms "$latency"
wall=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
echo "CPU seconds during the run ($wall s of wall time, 2 cores = $(python3 -c "print(2 * $wall)") CPU s):" \
	"calendox serve ($instances) $(python3 -c "print(round($(cx_cpu_all) - $cx_cpu, 1))")," \
	"sandbox $(python3 -c "print(round($(cpu_s "$sb_pid") - $sb_cpu, 1))")" \
	"$([ "$store" = postgresql ] && echo ", postgresql $(python3 -c "print(round($(pg_cpu_all) - $pg_cpu, 1))")")"
created=$(curl -sf "$sandbox/_sandbox/state" | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["zoom"]["counters"]["meetings_created"])')
echo "meetings the sandbox created: $created"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
