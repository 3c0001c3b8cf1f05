#!/usr/bin/env bash
# Builds and runs every test suite, then prints one line "N passed, N failed".
# Stages: the normal build's unit tests and fuzz-corpus replay (ctest), the API black-box suite
# against the built binary on SQLite and again on PostgreSQL, the web app's type check and build,
# the end-to-end tests in Chromium, then the unit, fuzz and API (SQLite) suites again under
# AddressSanitizer + UndefinedBehaviorSanitizer. A stage that cannot even build counts as one
# failure. A throw-away PostgreSQL (scripts/pg.sh) runs for the whole script and is stopped at
# exit; the unit tests' PostgreSQL store test must run (CALENDOX_REQUIRE_PG=1).
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
passed=0
failed=0
summary=()

tally() { # stage passed failed
	passed=$((passed + $2))
	failed=$((failed + $3))
	summary+=("$1: $2 passed, $3 failed")
}

# ctest prints "N% tests passed, F tests failed out of T".
run_ctest() { # stage builddir
	local out
	out=$(cd "$2" && ctest --output-on-failure -j "$jobs" 2>&1)
	echo "$out" | tail -n 40
	local line total fails
	line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests? failed out of' | tail -n 1)
	if [ -z "$line" ]; then
		tally "$1" 0 1
		return
	fi
	fails=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/')
	total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
	tally "$1" $((total - fails)) "$fails"
}

# The API runner prints "api: N passed, N failed" as its last line. The third argument picks the
# store: sqlite (a file per server) or postgresql (a database per server on the test server).
run_api() { # stage binary [sqlite|postgresql]
	local out line
	if [ "${3:-sqlite}" = postgresql ]; then
		if [ -z "${CALENDOX_TEST_DATABASE_URL:-}" ]; then
			echo "no PostgreSQL server: $1 not run"
			tally "$1" 0 1
			return
		fi
		out=$(python3 tests/api/run.py --binary "$2" 2>&1)
	else
		out=$(env -u CALENDOX_TEST_DATABASE_URL python3 tests/api/run.py --binary "$2" 2>&1)
	fi
	echo "$out" | tail -n 60
	line=$(echo "$out" | grep -E '^api: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		tally "$1" 0 1
		return
	fi
	tally "$1" "$(echo "$line" | sed -E 's/api: ([0-9]+) passed.*/\1/')" \
		"$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')"
}

# The e2e runner prints "e2e: N passed, N failed" as its last line.
run_e2e() { # stage binary
	local out line
	out=$(node tests/e2e/run.mjs --binary "$2" 2>&1)
	echo "$out" | tail -n 60
	line=$(echo "$out" | grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		tally "$1" 0 1
		return
	fi
	tally "$1" "$(echo "$line" | sed -E 's/e2e: ([0-9]+) passed.*/\1/')" \
		"$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')"
}

build() { # dir cmake-args…
	local dir=$1
	shift
	cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j "$jobs" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' 
	return "${PIPESTATUS[0]}"
}

echo "== PostgreSQL (throw-away server for the store test and the API suite)"
export CALENDOX_REQUIRE_PG=1
pgdir=$(mktemp -d /tmp/calendox-pg-XXXXXX)
trap 'scripts/pg.sh stop "$pgdir"' EXIT
if pg_url=$(scripts/pg.sh start "$pgdir"); then
	export CALENDOX_TEST_DATABASE_URL=$pg_url
	echo "started $pg_url"
else
	unset CALENDOX_TEST_DATABASE_URL
	tally "postgresql start" 0 1
fi

echo "== build"
if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo && [ -x build/calendox ]; then
	echo "== unit tests and fuzz-corpus replay"
	run_ctest "unit+fuzz" build
	echo "== API black-box tests"
	run_api "api" build/calendox
	echo "== API black-box tests on PostgreSQL"
	run_api "api (postgresql)" build/calendox postgresql
	echo "== web app (type check and build) and end-to-end tests in Chromium"
	if scripts/web.sh --with-e2e; then
		tally "web build" 1 0
		run_e2e "e2e" build/calendox
	else
		tally "web build" 0 1
	fi
else
	tally "build" 0 1
fi

echo "== sanitizer build (AddressSanitizer + UndefinedBehaviorSanitizer)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build build-asan -DCMAKE_BUILD_TYPE=Debug -DCALENDOX_SANITIZE=ON && [ -x build-asan/calendox ]; then
	run_ctest "asan unit+fuzz" build-asan
	run_api "asan api" build-asan/calendox
else
	tally "asan build" 0 1
fi

echo
for s in "${summary[@]}"; do echo "  $s"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
