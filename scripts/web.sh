#!/usr/bin/env bash
# Installs the web app's npm packages (from its lock file) and builds it into web/dist.
# Used by `make run` and `make test`; a second run with unchanged packages skips `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

install() { # dir
	local stamp="$1/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$1/package-lock.json" -nt "$stamp" ]; then
		(cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}

install web
(cd web && npm run --silent typecheck && npm run --silent build)
[ "${1:-}" = "--with-e2e" ] && install tests/e2e
exit 0
