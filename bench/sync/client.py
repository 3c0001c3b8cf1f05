#!/usr/bin/env python3
"""bench/sync client: incremental-sync throughput of a running `calendox serve` against the sandbox
(Python standard library only).

    client.py CALENDOX_URL SANDBOX_URL DB_PATH --accounts 1000 --latency-ms 20 --concurrency 64
              [--threads 8] [--cx-pid PID] [--sb-pid PID]

Set-up (not measured): signs up N people, connects Google for each through the sandbox's consent
form (start → the Allow decision → the callback; every one of them connects the seeded account
alice@example.com), hides each account's second calendar ("Work"), then waits until every primary
calendar has finished its first sync round and holds an active push channel and the job queue is
idle. While the set-up runs, a fault rule answers 404 to events.watch on the Work calendar, so no
push channel is made for it before it is hidden (the sandbox keeps at most 1,000 channels, stopped
ones included).

Measurement: sets the sandbox's latency, makes ONE change in alice's primary calendar (an event
created outside Calendox, which sends a push notification to each of the N channels) and polls
the SQLite file (read-only) every 25 ms until each of the N people has that event in the store.
Reports accounts per second, the per-account delay, the bound that the latency and the egress
concurrency allow, the provider round trips of the rounds (from GET /_sandbox/requests), when the
notifications arrived (the sandbox's delivery record) and the job and CPU figures that tell what
else limited the rate. Prints a report and one JSON line."""

import argparse
import datetime
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.parse

GOOGLE_USER = "alice@example.com"
PRIMARY = "alice@example.com"
WORK_PREFIX = "/google/calendar/v3/calendars/c_alicework"
MARKER = "/google/calendar/v3/users/me/calendarList"
POLL_S = 0.025


class Conn:
    """One keep-alive HTTP/1.1 connection with a session cookie and CSRF token."""

    def __init__(self, base, cookie=None, csrf=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = None
        self.cookie, self.csrf = cookie, csrf

    def call(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            h.setdefault("Content-Type", "application/json")
        if self.cookie:
            h["Cookie"] = self.cookie
        if self.csrf and method != "GET":
            h["X-CSRF-Token"] = self.csrf
        for attempt in (0, 1):
            if self.c is None:
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                out = (r.status, r.getheaders(), r.read())
                if r.getheader("Connection", "").lower() == "close":
                    self.close()
                return out
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        return None

    def close(self):
        if self.c:
            self.c.close()
            self.c = None


def header(headers, name):
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def fail(msg):
    sys.exit(f"bench/sync: {msg}")


def sandbox_call(base, method, path, body=None):
    c = Conn(base)
    st, _, raw = c.call(method, path, body)
    c.close()
    if st >= 300:
        fail(f"{method} {path} answered {st}: {raw[:200]!r}")
    return json.loads(raw) if raw else None


def set_up_one(calendox, sandbox, run_id, n):
    """Signs one person up, connects Google and hides Work. Returns the user's email."""
    c = Conn(calendox)
    email = f"bench.sync.{run_id}.{n}@example.com"
    st, hs, raw = c.call("POST", "/api/auth/signup", {"email": email, "password":
                                                       "correct horse battery", "name": "Bench"})
    if st != 201:
        fail(f"signup answered {st}: {raw[:200]!r}")
    c.cookie = header(hs, "Set-Cookie").split(";", 1)[0]
    st, _, raw = c.call("GET", "/api/me")
    c.csrf = json.loads(raw)["csrf_token"]

    st, hs, _ = c.call("GET", "/oauth/google/start")
    if st != 302:
        fail(f"/oauth/google/start answered {st}")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(header(hs, "Location")).query))
    sb = Conn(sandbox)
    form = urllib.parse.urlencode(dict(params, user=GOOGLE_USER, decision="allow")).encode()
    st, hs, _ = sb.call("POST", "/google/o/oauth2/v2/auth/decision", form,
                        {"Content-Type": "application/x-www-form-urlencoded"})
    sb.close()
    if st != 302:
        fail(f"the Google consent answered {st}")
    u = urllib.parse.urlsplit(header(hs, "Location"))
    st, _, raw = c.call("GET", u.path + "?" + u.query)
    if st >= 400:
        fail(f"the Google callback answered {st}: {raw[:200]!r}")

    st, _, raw = c.call("GET", "/api/calendars")
    cals = [cal for a in json.loads(raw)["accounts"] if a["provider"] == "google"
            for cal in a["calendars"]]
    if len(cals) != 2 or sum(1 for cal in cals if cal["primary"]) != 1:
        fail(f"{email}: expected a primary and a Work calendar, got {len(cals)}")
    for cal in cals:
        if not cal["primary"]:
            st, _, raw = c.call("PATCH", f"/api/calendars/{cal['id']}", {"selected": False})
            if st != 200:
                fail(f"hiding Work answered {st}: {raw[:200]!r}")
    c.close()
    return email


def set_up(args, run_id):
    todo = list(range(args.accounts))
    lock = threading.Lock()
    done = [0]
    errors = []

    def worker():
        while True:
            with lock:
                if not todo or errors:
                    return
                n = todo.pop(0)
            try:
                set_up_one(args.calendox, args.sandbox, run_id, n)
            except BaseException as e:  # SystemExit from fail() included
                with lock:
                    errors.append(str(e))
                return
            with lock:
                done[0] += 1
                if done[0] % 100 == 0:
                    print(f"  {done[0]} accounts connected", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(errors[0])


def db_open(path):
    # Read-only: the benchmark never writes to Calendox's database.
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    db.execute("PRAGMA query_only = 1")
    return db


def settled(db, n):
    """(ready, description) of the set-up: first rounds done, channels active, queue idle."""
    synced = db.execute("SELECT count(*) FROM calendars WHERE is_primary = 1 AND selected = 1 "
                        "AND sync_token IS NOT NULL").fetchone()[0]
    hidden = db.execute("SELECT count(*) FROM calendars WHERE is_primary = 0 AND selected = 0"
                        ).fetchone()[0]
    channels = db.execute("SELECT count(*) FROM push_registrations WHERE provider = 'google' "
                          "AND state = 'active'").fetchone()[0]
    busy = db.execute("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running') AND "
                      "kind IN ('calendar.sync', 'calendar.watch', 'calendar.unwatch')"
                      ).fetchone()[0]
    text = (f"{synced}/{n} primary calendars synced, {hidden}/{n} Work hidden, "
            f"{channels}/{n} channels active, {busy} sync/watch jobs queued or running")
    return synced >= n and hidden >= n and channels >= n and busy == 0, text


def wait_settled(args, db):
    deadline = time.time() + args.settle_timeout
    last = ""
    while time.time() < deadline:
        ok, text = settled(db, args.accounts)
        if text != last:
            print(f"  {text}", file=sys.stderr, flush=True)
            last = text
        if ok:
            return
        time.sleep(0.5)
    fail(f"the set-up did not settle within {args.settle_timeout} s: {last}")


def deliveries_quiet(sandbox, timeout_s):
    """Waits until the sandbox's delivery record stops growing (the channels' "sync" messages)."""
    deadline = time.time() + timeout_s
    prev = -1
    while time.time() < deadline:
        n = len(sandbox_call(sandbox, "GET", "/_sandbox/state")["deliveries"])
        if n == prev:
            return
        prev = n
        time.sleep(1.0)


def cpu_s(pid):
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def percentile(sorted_v, p):
    if not sorted_v:
        return float("nan")
    i = min(len(sorted_v) - 1, max(0, int(round(p / 100.0 * len(sorted_v) + 0.5)) - 1))
    return sorted_v[i]


def parse_at(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def classify(req):
    path, q = req["path"], req["query"] or ""
    if path == "/google/token":
        return "token"
    if path.endswith("/events/watch"):
        return "events.watch"
    if path.endswith("/channels/stop"):
        return "channels.stop"
    if req["method"] == "GET" and path.endswith("/events"):
        return "events.list (syncToken)" if "syncToken=" in q else "events.list (full)"
    return f"{req['method']} {path.split('/')[-1]}"


def measure(args, db):
    n = args.accounts
    title = f"Bench sync change {int(time.time() * 1000)}"
    before_id = db.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    before_jobs = db.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
    sandbox_call(args.sandbox, "POST", "/_sandbox/latency", {"ms": args.latency_ms})
    # A marker in the request log: an unauthenticated call (401) right before the change, so the
    # provider requests that follow it are the measured rounds'.
    marker = Conn(args.sandbox)
    marker.call("GET", MARKER + "?bench=" + title.split()[-1])
    marker.close()
    start = datetime.datetime.now(datetime.timezone.utc).replace(
        minute=0, second=0, microsecond=0) + datetime.timedelta(days=3)
    body = {"summary": title,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "timeZone": "UTC"},
            "end": {"dateTime": (start + datetime.timedelta(minutes=30)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"), "timeZone": "UTC"}}
    counters0 = sandbox_call(args.sandbox, "GET", "/_sandbox/state")["google"]["counters"]
    cx0, sb0 = cpu_s(args.cx_pid), cpu_s(args.sb_pid)
    t0 = time.time()
    sandbox_call(args.sandbox, "POST",
                 f"/_sandbox/google/calendars/{urllib.parse.quote(PRIMARY)}/events", body)
    t_change = time.time()
    seen = {}
    last_id = before_id
    deadline = t0 + args.timeout
    while len(seen) < n and time.time() < deadline:
        rows = db.execute("SELECT id, user_id, title FROM events WHERE id > ? ORDER BY id",
                          (before_id,)).fetchall()
        now = time.time()
        for rid, uid, t in rows:
            last_id = max(last_id, rid)
            if t == title and uid not in seen:
                seen[uid] = now
        if len(seen) < n:
            time.sleep(POLL_S)
    # Complete: until the last account had it. Incomplete: the whole wait counts.
    t_end = max(seen.values()) if len(seen) == n else time.time()
    cx1, sb1 = cpu_s(args.cx_pid), cpu_s(args.sb_pid)
    sandbox_call(args.sandbox, "POST", "/_sandbox/latency", {"ms": 0})

    # What the provider was asked: the sandbox's counters, and by kind the request log after the
    # marker (a ring of the last 10,000 requests: when the rounds made more, the marker is gone).
    counters1 = sandbox_call(args.sandbox, "GET", "/_sandbox/state")["google"]["counters"]
    counted = {k: counters1[k] - counters0.get(k, 0) for k in counters1
               if isinstance(counters1[k], int) and counters1[k] != counters0.get(k, 0)}
    reqs = sandbox_call(args.sandbox, "GET", "/_sandbox/requests")["requests"]
    mark = max((i for i, r in enumerate(reqs) if r["path"] == MARKER and
                (r["query"] or "").endswith(title.split()[-1])), default=None)
    kinds = {}
    if mark is not None:
        for r in reqs[mark + 1:]:
            k = classify(r)
            kinds[k] = kinds.get(k, 0) + 1
    # When the notifications reached Calendox (the sandbox's record of its deliveries).
    record = sandbox_call(args.sandbox, "GET", "/_sandbox/state")["deliveries"]
    deliv = sorted(parse_at(d["at"]) - t0 for d in record if parse_at(d["at"]) >= t0 - 0.001)
    deliv_ok = sum(1 for d in record if parse_at(d["at"]) >= t0 - 0.001 and d["delivered"])
    # The sync jobs the notifications made.
    jobs = db.execute("SELECT count(*), coalesce(sum(attempts), 0), min(created_at_ms), "
                      "max(created_at_ms), max(updated_at_ms), "
                      "sum(state = 'done'), sum(state = 'failed') "
                      "FROM jobs WHERE id > ? AND kind = 'calendar.sync'",
                      (before_jobs,)).fetchone()
    # Each account's sync job was made when its notification arrived: the delay after it is the
    # sync side's own share (queue wait, the fetch with its latency, the store).
    made = dict(db.execute(
        "SELECT a.user_id, min(j.created_at_ms) FROM jobs j "
        "JOIN calendars c ON c.id = json_extract(j.payload, '$.calendar_id') "
        "JOIN calendar_accounts a ON a.id = c.account_id "
        "WHERE j.id > ? AND j.kind = 'calendar.sync' GROUP BY a.user_id",
        (before_jobs,)).fetchall())
    after = sorted(seen[u] - made[u] / 1000.0 for u in seen if u in made)
    other_jobs = db.execute("SELECT kind, count(*) FROM jobs WHERE id > ? AND "
                            "kind != 'calendar.sync' GROUP BY kind", (before_jobs,)).fetchall()

    delays = sorted(v - t0 for v in seen.values())
    elapsed = t_end - t0
    # The round trips one incremental round needs: the events.list with the sync token, plus the
    # token refreshes, channel creations and stops the rounds caused (per account). Lists beyond
    # one per account are repeated fetches, reported apart: they are waste, not the round's need.
    lists = counted.get("lists", 0)
    extra = (counted.get("token_refreshes", 0) + counted.get("channels", 0) +
             kinds.get("channels.stop", 0))
    rtt = 1.0 + extra / n
    bound = args.concurrency / (rtt * args.latency_ms / 1000.0) if args.latency_ms else None
    rate = len(seen) / elapsed if elapsed > 0 else float("nan")
    out = {
        "accounts": n, "synced": len(seen), "latency_ms": args.latency_ms,
        "concurrency": args.concurrency, "job_workers": args.job_workers,
        "elapsed_s": round(elapsed, 3), "accounts_per_s": round(rate, 1),
        "delay_p50_ms": round(percentile(delays, 50) * 1000, 1),
        "delay_p99_ms": round(percentile(delays, 99) * 1000, 1),
        "delay_max_ms": round(delays[-1] * 1000, 1) if delays else None,
        "change_request_ms": round((t_change - t0) * 1000, 1),
        "provider_requests": kinds, "request_log_complete": mark is not None,
        "sandbox_counters": counted, "lists_per_account": round(lists / n, 3),
        "round_trips_per_round": round(rtt, 3),
        "bound_accounts_per_s": round(bound, 1) if bound else None,
        "measured_over_bound": round(rate / bound, 3) if bound else None,
        "deliveries": len(deliv), "deliveries_2xx": deliv_ok,
        "delivery_first_ms": round(deliv[0] * 1000, 1) if deliv else None,
        "delivery_p50_ms": round(percentile(deliv, 50) * 1000, 1) if deliv else None,
        "delivery_last_ms": round(deliv[-1] * 1000, 1) if deliv else None,
        "after_notification_p50_ms": round(percentile(after, 50) * 1000, 1),
        "after_notification_p99_ms": round(percentile(after, 99) * 1000, 1),
        "after_notification_max_ms": round(after[-1] * 1000, 1) if after else None,
        "sync_jobs": jobs[0], "sync_job_runs": jobs[1],
        "sync_jobs_done": jobs[5], "sync_jobs_failed": jobs[6],
        "sync_job_created_first_ms": round(jobs[2] - t0 * 1000, 1) if jobs[2] else None,
        "sync_job_created_last_ms": round(jobs[3] - t0 * 1000, 1) if jobs[3] else None,
        "other_jobs": dict(other_jobs),
        "calendox_cpu_s": round(cx1 - cx0, 2) if cx0 is not None and cx1 is not None else None,
        "sandbox_cpu_s": round(sb1 - sb0, 2) if sb0 is not None and sb1 is not None else None,
    }
    return out


def report(o):
    n = o["accounts"]
    print(f"accounts synced: {o['synced']}/{n} in {o['elapsed_s']:.3f} s after the change "
          f"(polled every {POLL_S * 1000:.0f} ms)")
    print(f"throughput:      {o['accounts_per_s']:.1f} accounts/s")
    print(f"per-account delay from the change: p50 {o['delay_p50_ms']:.0f} ms, "
          f"p99 {o['delay_p99_ms']:.0f} ms, max {o['delay_max_ms']:.0f} ms")
    counted = ", ".join(f"{k} +{v}" for k, v in sorted(o["sandbox_counters"].items()))
    print(f"sandbox counters during the measurement: {counted or 'none'} "
          f"({o['lists_per_account']:.3f} events.list per account)")
    if o["request_log_complete"]:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(o["provider_requests"].items()))
        print(f"provider requests after the change, by kind: {kinds or 'none'}")
    else:
        print("provider requests by kind: not available (more than 10,000 requests: the "
              "sandbox's request log overflowed)")
    if o["bound_accounts_per_s"]:
        print(f"bound:           {o['concurrency']} transfers in flight / "
              f"({o['round_trips_per_round']:.3f} round trips per round × "
              f"{o['latency_ms']} ms) = {o['bound_accounts_per_s']:.0f} accounts/s; "
              f"measured / bound = {o['measured_over_bound']:.3f}")
    print(f"notifications:   {o['deliveries']} delivered by the sandbox ({o['deliveries_2xx']} "
          f"answered 2xx), first at +{o['delivery_first_ms']} ms, median +"
          f"{o['delivery_p50_ms']} ms, last +{o['delivery_last_ms']} ms "
          f"(the change request itself took {o['change_request_ms']} ms)")
    print(f"sync jobs:       {o['sync_jobs']} made (first +{o['sync_job_created_first_ms']} ms, "
          f"last +{o['sync_job_created_last_ms']} ms), {o['sync_job_runs']} runs, "
          f"{o['sync_jobs_done']} done, {o['sync_jobs_failed']} failed; other jobs: "
          f"{o['other_jobs'] or 'none'}")
    print(f"delay from each account's notification (its sync job made) to the change stored: "
          f"p50 {o['after_notification_p50_ms']:.0f} ms, p99 "
          f"{o['after_notification_p99_ms']:.0f} ms, max {o['after_notification_max_ms']:.0f} ms")
    wall = o["elapsed_s"]
    if o["calendox_cpu_s"] is not None and wall > 0:
        print(f"CPU during the measurement: calendox {o['calendox_cpu_s']:.2f} s "
              f"({o['calendox_cpu_s'] / wall:.0%} of one core), sandbox "
              f"{o['sandbox_cpu_s']:.2f} s ({o['sandbox_cpu_s'] / wall:.0%})")
    print(json.dumps(o, sort_keys=True))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("calendox")
    ap.add_argument("sandbox")
    ap.add_argument("db")
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--job-workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--settle-timeout", type=float, default=900)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--cx-pid", type=int, default=0)
    ap.add_argument("--sb-pid", type=int, default=0)
    args = ap.parse_args()
    if not 1 <= args.accounts <= 1000:
        fail("--accounts: 1 to 1000 (the sandbox keeps at most 1,000 Google push channels and "
             "1,000 pending deliveries)")

    run_id = int(time.time())
    t = time.time()
    sandbox_call(args.sandbox, "POST", "/_sandbox/google/rate_limit", {"limit": 0})
    sandbox_call(args.sandbox, "POST", "/_sandbox/faults", {"rules": [
        {"method": "POST", "path_prefix": WORK_PREFIX, "status": 404, "count": -1,
         "body": {"error": {"code": 404, "message": "Not Found",
                            "errors": [{"domain": "global", "reason": "notFound",
                                        "message": "Not Found"}]}}}]})
    print(f"set-up: {args.accounts} sign-ups and Google connections with {args.threads} threads…",
          file=sys.stderr, flush=True)
    set_up(args, run_id)
    db = db_open(args.db)
    wait_settled(args, db)
    deliveries_quiet(args.sandbox, 60)
    sandbox_call(args.sandbox, "DELETE", "/_sandbox/faults")
    print(f"set-up done in {time.time() - t:.0f} s; measuring…", file=sys.stderr, flush=True)
    o = measure(args, db)
    db.close()
    report(o)
    if o["synced"] < args.accounts:
        fail(f"only {o['synced']} of {args.accounts} accounts had the change after "
             f"{args.timeout:.0f} s")


if __name__ == "__main__":
    main()
