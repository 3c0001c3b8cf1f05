#!/usr/bin/env bash
# Shows that `calendox sandbox` is never the bottleneck of a Calendox benchmark: (1) the throughput
# of simple provider API calls with the sandbox pinned to one core and wrk on another, and (2) how
# accurate injected latency (POST /_sandbox/latency) is at 0, 20 and 50 ms under a light load.
#   bench/sandbox/run.sh [duration_s=10] [connections=50]
# CALENDOX_BIN chooses the binary (default build/calendox). Loopback only, fixed durations (about
# a minute in all with the defaults), every process it starts is stopped on exit. A benchmark, not a
# test: it prints figures and a closing verdict against the targets, and never fails on them.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
conns=${2:-50}
bin=${CALENDOX_BIN:-build/calendox}
here=bench/sandbox
[ -x "$bin" ] || { echo "build first: make build (or set CALENDOX_BIN)" >&2; exit 1; }
for tool in wrk taskset python3 curl; do
	command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/setup.sh)" >&2; exit 1; }
done
# The sandbox gets core 0 and wrk core 1; on a single core machine both share it.
sb_cpu=0
wrk_cpu=1
[ "$(nproc)" -ge 2 ] || wrk_cpu=0

work=$(mktemp -d /tmp/calendox-bench-sandbox.XXXXXX)
sb_pid=
cleanup() {
	local rc=0
	if [ -n "$sb_pid" ]; then
		kill "$sb_pid" 2>/dev/null || true
		wait "$sb_pid" 2>/dev/null || rc=$?
	fi
	# SIGTERM stops the sandbox cleanly; any other end (a crash, a sanitizer report) is shown.
	if [ "$rc" -ne 0 ]; then
		echo "the sandbox exited with status $rc; the end of its log:" >&2
		tail -n 40 "$work/sandbox.log" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "bench/sandbox/run.sh: failed at line $LINENO" >&2' ERR
trap 'exit 130' INT TERM

taskset -c "$sb_cpu" "$bin" sandbox --port 0 >"$work/sandbox.out" 2>"$work/sandbox.log" &
sb_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n '1s/^{"port":\([0-9]*\)}$/\1/p' "$work/sandbox.out" 2>/dev/null)
	[ -n "$port" ] && break
	kill -0 "$sb_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.log" >&2; exit 1; }
base=http://127.0.0.1:$port

ctl() { # path json: a control call of the sandbox
	curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$base$1" >/dev/null
}
# A phase starts from a clean sandbox: reset (which also drops every grant and restores Zoom's
# per-second limits), lift the rate limits, sign in again.
fresh() {
	ctl /_sandbox/reset '{}'
	ctl /_sandbox/zoom/settings '{"qps_light":1000000,"qps_medium":1000000}'
	ctl /_sandbox/google/rate_limit '{"limit":0}'
	zoom_token=$(python3 "$here/client.py" token zoom "$base")
	google_token=$(python3 "$here/client.py" token google "$base")
}
# Clock ticks of CPU the sandbox used so far (user + system, every thread).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$sb_pid/stat"; }

# wrk with report.lua: one JSON line of counts and exact percentiles, plus the sandbox's CPU time.
run_wrk() { # name token connections seconds path
	local before after
	before=$(cpu_ticks)
	BENCH_TOKEN=$2 taskset -c "$wrk_cpu" wrk -t1 -c "$3" -d "${4}s" -s "$here/report.lua" \
		"$base$5" | tail -n 1 >"$work/$1.json"
	after=$(cpu_ticks)
	python3 - "$work/$1.json" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
path, ticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(path))
r["cpu_s"] = ticks / hz
json.dump(r, open(path, "w"))
PY
}

echo "calendox sandbox benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
threads=$(awk '/^Threads:/{ print $2 }' "/proc/$sb_pid/status")
wrk_version=$( (wrk -v 2>&1 || true) | head -n 1 | cut -d' ' -f1-2)
echo "binary: $bin; sandbox pinned to CPU $sb_cpu, $threads threads (its HTTP pool is 4: the" \
	"sandbox has no thread option); $wrk_version pinned to CPU $wrk_cpu, 1 thread"
echo

echo "measuring throughput (2 × ${duration} s), then injected latency (about 16 s)…" >&2
fresh
run_wrk zoom "$zoom_token" "$conns" "$duration" /zoom/v2/users/me
fresh
run_wrk google "$google_token" "$conns" "$duration" /google/calendar/v3/users/me/calendarList
requests_logged=$(curl -sf "$base/_sandbox/requests" | python3 -c \
	'import json,sys; print(len(json.load(sys.stdin)["requests"]))')

# Latency: 4 connections in a closed loop, each phase long enough for 600+ answers.
for ms in 0 20 50; do
	secs=$(((ms * 600 / 4 + 999) / 1000 + 1))
	[ "$secs" -ge 3 ] || secs=3
	fresh
	ctl /_sandbox/latency "{\"ms\":$ms}"
	run_wrk "latency-$ms" "$zoom_token" 4 "$secs" /zoom/v2/users/me
done
ctl /_sandbox/reset '{}'

python3 - "$work" "$requests_logged" "$duration" "$conns" <<'PY'
import json, os, sys
work, logged, duration, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def load(name):
    return json.load(open(os.path.join(work, name + ".json")))

def ms(us):
    return us / 1000.0

print(f"(1) throughput: wrk {duration} s, {conns} keep-alive connections, rate limits lifted")
print(f"{'request':46} {'req/s':>9} {'req/CPU-s':>10} {'p50 ms':>8} {'p99 ms':>8} "
      f"{'non-2xx':>8} {'sock err':>8}")
tp = {}
for name, label in (("zoom", "GET /zoom/v2/users/me"),
                     ("google", "GET /google/calendar/v3/users/me/calendarList")):
    r = load(name)
    secs = r["duration_us"] / 1e6
    rps = r["requests"] / secs
    per_cpu = r["requests"] / r["cpu_s"] if r["cpu_s"] > 0 else float("nan")
    tp[name] = (rps, per_cpu, r["status_errors"] + r["socket_errors"], r["cpu_s"] / secs)
    print(f"{label:46} {rps:9.0f} {per_cpu:10.0f} {ms(r['p50_us']):8.2f} {ms(r['p99_us']):8.2f} "
          f"{r['status_errors']:8d} {r['socket_errors']:8d}")
print(f"sandbox CPU use during the runs: zoom {tp['zoom'][3]:.0%}, google {tp['google'][3]:.0%}"
      f" of one core; the request log holds {logged} entries after them (a bounded ring)")

print()
print("(2) injected latency: wrk, 4 keep-alive connections, GET /zoom/v2/users/me")
print(f"{'injected':>8} {'answers':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
      f"{'p50 error':>10} {'non-2xx':>8}")
errors = {}
counts = {}
for inj in (0, 20, 50):
    r = load(f"latency-{inj}")
    err = ms(r["p50_us"]) - inj
    errors[inj] = err
    counts[inj] = (r["requests"], r["status_errors"] + r["socket_errors"])
    print(f"{inj:6d}ms {r['requests']:8d} {ms(r['p50_us']):8.2f} {ms(r['p90_us']):8.2f} "
          f"{ms(r['p99_us']):8.2f} {ms(r['max_us']):8.2f} {err:+9.2f}  {r['status_errors']:8d}")
print("(p50 error = median − injected; at 0 ms it is the base cost of a request)")

print()
rps, per_cpu, bad, _ = tp["zoom"]
if bad:
    thr = f"throughput NOT MEASURED: {bad} non-2xx or failed answers void {rps:.0f} req/s"
elif rps >= 10000:
    thr = f"throughput MET: {rps:,.0f} req/s ≥ 10,000 on one core, 0 non-2xx"
elif per_cpu >= 10000:
    thr = (f"throughput NOT MET on the wall clock ({rps:,.0f} req/s) but {per_cpu:,.0f} req per "
           "CPU-second: core 0 was shared with other load, rerun on a quiet machine")
else:
    thr = f"throughput NOT MET: {rps:,.0f} req/s < 10,000 on one core"
worst = max(errors, key=lambda k: abs(errors[k]))
lat_bad = [k for k in errors if counts[k][1] or counts[k][0] < 500]
if lat_bad:
    lat = f"latency NOT MEASURED at {lat_bad} ms: fewer than 500 answers or failed answers"
elif abs(errors[worst]) <= 2.0:
    lat = (f"latency MET: every median within ±2 ms of the injected value "
           f"(worst {errors[worst]:+.2f} ms at {worst} ms)")
else:
    lat = f"latency NOT MET: median off by {errors[worst]:+.2f} ms at {worst} ms"
print(f"verdict: {thr}; {lat}")
PY
