#!/usr/bin/env bash
# Measures GET /healthz and GET /api/me on `calendox serve` (SQLite) next to nginx serving the same
# bytes from static files, in one run, with wrk on loopback, and prints the ratios.
#   bench/http/run.sh [duration_s=10] [connections=50] [wrk_threads=1]
# A benchmark, not a test: the machine is shared, so compare ratios and medians across runs.
# BENCH_STORE=postgresql runs Calendox on a throw-away PostgreSQL (scripts/pg.sh), and
# BENCH_INSTANCES=N (PostgreSQL only) runs N instances behind a proxying nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
conns=${2:-50}
threads=${3:-1}
bin=${CALENDOX_BIN:-build/calendox}
[ -x "$bin" ] || { echo "build first: make build" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing: scripts/setup.sh installs it" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is missing: scripts/setup.sh installs it" >&2; exit 1; }

work=$(mktemp -d /tmp/calendox-bench-http.XXXXXX)
chmod 755 "$work"
pids=()
pg_dir=
store=${BENCH_STORE:-sqlite}
instances=${BENCH_INSTANCES:-1}
if [ "$instances" -gt 1 ] && [ "$store" != postgresql ]; then
	echo "several instances share a PostgreSQL store: set BENCH_STORE=postgresql" >&2
	exit 1
fi
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "$pg_dir" ] && scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cx_port=$(free_port)
if [ "$store" = postgresql ]; then
	pg_dir=$(mktemp -d /tmp/calendox-bench-pg.XXXXXX) # the postgres user must reach it
	pg_server=$(scripts/pg.sh start "$pg_dir")
	psql -X -q -d "$pg_server" -c "CREATE DATABASE bench" >/dev/null
	database=${pg_server%/*}/bench
else
	database=sqlite:$work/bench.db
fi
export CALENDOX_DATABASE=$database CALENDOX_SECRET_KEY_FILE=$work/key CALENDOX_WEB_ROOT=$work
export CALENDOX_LOG_LEVEL=warn CALENDOX_HTTP_THREADS=${CALENDOX_HTTP_THREADS:-2}
export CALENDOX_PUBLIC_URL=http://127.0.0.1:$cx_port
"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
upstreams=
for i in $(seq 1 "$instances"); do
	if [ "$instances" -eq 1 ]; then p=$cx_port; else p=$(free_port); fi
	upstreams="$upstreams server 127.0.0.1:$p;"
	CALENDOX_LISTEN=127.0.0.1:$p "$bin" serve >"$work/calendox-$i.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
done
if [ "$instances" -gt 1 ]; then
	mkdir -p "$work/lbtmp"
	cat >"$work/lb.conf" <<CONF
worker_processes ${CALENDOX_HTTP_THREADS:-2};
daemon off;
pid $work/lb.pid;
error_log $work/lb-error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $work/lbtmp; proxy_temp_path $work/lbtmp; fastcgi_temp_path $work/lbtmp;
	uwsgi_temp_path $work/lbtmp; scgi_temp_path $work/lbtmp;
	upstream calendox { $upstreams keepalive 64; }
	server {
		listen 127.0.0.1:$cx_port;
		location / { proxy_pass http://calendox; proxy_http_version 1.1;
			proxy_set_header Connection ""; }
	}
}
CONF
	nginx -c "$work/lb.conf" -p "$work" &
	pids+=($!)
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$cx_port/healthz" >/dev/null && break; sleep 0.1; done
fi

base=http://127.0.0.1:$cx_port
curl -sf -c "$work/jar" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench"}' \
	"$base/api/auth/signup" >/dev/null
session=$(awk '$6=="calendox_session"{print $7}' "$work/jar")
cookie="calendox_session=$session"

# nginx serves byte-identical bodies from files.
mkdir -p "$work/www"
curl -sf "$base/healthz" >"$work/www/healthz"
curl -sf -H "Cookie: $cookie" "$base/api/me" >"$work/www/me"
chmod -R a+rX "$work/www"
ng_port=$(free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes ${CALENDOX_HTTP_THREADS:-2};
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $work/ngtmp;
	proxy_temp_path $work/ngtmp; fastcgi_temp_path $work/ngtmp;
	uwsgi_temp_path $work/ngtmp; scgi_temp_path $work/ngtmp;
	server {
		listen 127.0.0.1:$ng_port;
		root $work/www;
		default_type application/json;
		location = /healthz { try_files /healthz =404; }
		location = /api/me { try_files /me =404; }
	}
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ng_port/healthz" >/dev/null && break; sleep 0.1; done

# wrk's summary: requests/s and the latency distribution (--latency gives p50/p99).
measure() { # name url [cookie]
	local out
	if [ -n "${3:-}" ]; then
		out=$(wrk -t "$threads" -c "$conns" -d "${duration}s" --latency -H "Cookie: $3" "$2")
	else
		out=$(wrk -t "$threads" -c "$conns" -d "${duration}s" --latency "$2")
	fi
	local rps p50 p99 non2xx
	rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
	p50=$(echo "$out" | awk '$1=="50%"{print $2}')
	p99=$(echo "$out" | awk '$1=="99%"{print $2}')
	non2xx=$(echo "$out" | awk '/Non-2xx/{print $5}')
	printf '%-26s %12s req/s   p50 %9s   p99 %9s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
	echo "$rps" >"$work/rps-$1"
}

echo "wrk: ${duration}s, $conns connections, $threads thread(s); calendox HTTP threads = nginx workers = ${CALENDOX_HTTP_THREADS:-2}; $(nproc) cores; store $store, $instances calendox instance(s)"
measure calendox-healthz "http://127.0.0.1:$cx_port/healthz"
measure nginx-healthz "http://127.0.0.1:$ng_port/healthz"
measure calendox-me "http://127.0.0.1:$cx_port/api/me" "$cookie"
measure nginx-me "http://127.0.0.1:$ng_port/api/me" "$cookie"
ratio() { python3 -c "print(f'{float(open(\"$work/rps-$1\").read())/float(open(\"$work/rps-$2\").read()):.2f}')"; }
echo "ratio calendox/nginx: healthz $(ratio calendox-healthz nginx-healthz)   me $(ratio calendox-me nginx-me)"
