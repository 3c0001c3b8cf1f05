#!/usr/bin/env bash
# A throw-away PostgreSQL for the tests, from Debian's packages.
#
#   scripts/pg.sh start DIR   initdb into DIR (created if missing), start the server on a free
#                             loopback port with its socket in DIR, print the connection URL
#                             (postgresql://postgres@127.0.0.1:PORT/postgres) on stdout
#   scripts/pg.sh stop DIR    stop that server and remove DIR
#
# Debian's initdb refuses to run as root, so as root the cluster belongs to the unprivileged
# "postgres" user (created by the postgresql package). The cluster trusts loopback connections and
# trades durability for speed (fsync off): it lives only as long as one test run.
set -euo pipefail

bindir=""
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ]; then
	echo "pg.sh: PostgreSQL server binaries not found (install postgresql)" >&2
	exit 1
fi

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: scripts/pg.sh start|stop DIR" >&2
	exit 2
fi

case "$cmd" in
start)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	# The port may be taken between choosing and binding: try a few.
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
			-c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
			start >/dev/null 2>&1; then
			echo "postgresql://postgres@127.0.0.1:$port/postgres"
			exit 0
		fi
	done
	cat "$dir/server.log" >&2 || true
	exit 1
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: scripts/pg.sh start|stop DIR" >&2
	exit 2
	;;
esac
