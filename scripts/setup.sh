#!/usr/bin/env bash
# Installs what Calendox needs to build, test and run on Debian 12, only what is missing.
# Called by `make run` and `make test`; safe to run again.
set -euo pipefail

packages=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libmicrohttpd-dev libjansson-dev libsodium-dev libcurl4-openssl-dev libsqlite3-dev libcmocka-dev
	libpq-dev postgresql
	tzdata ca-certificates python3 curl
	nginx-light wrk
	chromium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

# The web app and its end-to-end tests need Node.js 20 and npm; the machine image brings them, and
# Debian's packages stand in where it does not.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
