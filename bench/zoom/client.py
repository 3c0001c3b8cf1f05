#!/usr/bin/env python3
"""bench/zoom client: signs people up at a running `calendox serve`, connects Google and Zoom for
each through the sandbox's consent form (no browser), then runs N closed-loop clients that POST
events with a Zoom meeting and measures creates per second and latency.

    client.py CALENDOX_URL SANDBOX_URL --clients 200 --seconds 10 --users 2 --latency-ms 50

Every client keeps one keep-alive connection and sends its next create when the answer came. A
create counts when it answered 201 with meeting.status "ready" and a join link (the Zoom meeting
was made and the link written to Google within the request); 202 (still pending after the
server's wait) and errors are counted apart. Prints a table and one JSON line."""

import argparse
import datetime
import http.client
import json
import resource
import sys
import threading
import time
import urllib.parse

# Zoom keeps one grant per account and app: a second person connecting the same Zoom account
# ends the first one's grant. So each person gets a seeded Zoom account of their own.
ZOOM_USERS = ["alice@example.com", "bob@example.com"]
GOOGLE_USER = "alice@example.com"
AUTHORIZE = {"zoom": "/zoom/oauth/authorize", "google": "/google/o/oauth2/v2/auth"}


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

    def close(self):
        if self.c:
            self.c.close()
            self.c = None


def header(headers, name):
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def signup(base, n):
    c = Conn(base)
    email = f"bench.{int(time.time() * 1000)}.{n}@example.com"
    st, hs, _ = c.call("POST", "/api/auth/signup", {"email": email, "password":
                                                    "correct horse battery", "name": "Bench"})
    if st != 201:
        sys.exit(f"signup answered {st}")
    cookie = header(hs, "Set-Cookie").split(";", 1)[0]
    c.cookie = cookie
    st, _, body = c.call("GET", "/api/me")
    c.csrf = json.loads(body)["csrf_token"]
    return c


def connect(c, sandbox, provider, user):
    """The OAuth dance: start → the sandbox's Allow → the callback."""
    st, hs, _ = c.call("GET", f"/oauth/{provider}/start")
    if st != 302:
        sys.exit(f"/oauth/{provider}/start answered {st}")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(header(hs, "Location")).query))
    sb = Conn(sandbox)
    form = urllib.parse.urlencode(dict(params, user=user, decision="allow")).encode()
    st, hs, _ = sb.call("POST", AUTHORIZE[provider] + "/decision", form,
                        {"Content-Type": "application/x-www-form-urlencoded"})
    sb.close()
    if st != 302:
        sys.exit(f"the {provider} consent answered {st}")
    u = urllib.parse.urlsplit(header(hs, "Location"))
    st, _, body = c.call("GET", u.path + "?" + u.query)
    if st != 200 or b"connected" not in body:
        sys.exit(f"the {provider} callback answered {st}")


def primary_calendar(c):
    deadline = time.time() + 20
    while time.time() < deadline:
        st, _, body = c.call("GET", "/api/calendars")
        for a in json.loads(body)["accounts"]:
            for cal in a["calendars"]:
                if a["provider"] == "google" and cal["primary"]:
                    return cal["id"]
        time.sleep(0.2)
    sys.exit("no Google calendar after connecting")


def percentile(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    i = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[i]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("calendox")
    ap.add_argument("sandbox")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--users", type=int, default=2)
    ap.add_argument("--latency-ms", type=int, default=50)
    args = ap.parse_args()
    if not 1 <= args.users <= len(ZOOM_USERS):
        sys.exit(f"--users: 1 to {len(ZOOM_USERS)} (the sandbox's Zoom accounts)")

    users = []
    for n in range(args.users):
        c = signup(args.calendox, n)
        connect(c, args.sandbox, "google", GOOGLE_USER)
        connect(c, args.sandbox, "zoom", ZOOM_USERS[n])
        users.append((c.cookie, c.csrf, primary_calendar(c)))
        c.close()
    # The latency goes on after the setup: sign-ups and connects are not what is measured.
    sb = Conn(args.sandbox)
    st, _, _ = sb.call("POST", "/_sandbox/latency", {"ms": args.latency_ms})
    sb.close()
    if st != 200:
        sys.exit(f"/_sandbox/latency answered {st}")

    lock = threading.Lock()
    ok_ms, pending, errors, samples = [], [0], {}, {}
    start_at = datetime.datetime.now(datetime.timezone.utc).replace(
        minute=0, second=0, microsecond=0) + datetime.timedelta(days=2)
    go = threading.Event()
    stop_at = [0.0]

    def client(i):
        cookie, csrf, cal = users[i % len(users)]
        c = Conn(args.calendox, cookie, csrf)
        n = 0
        go.wait()
        while time.time() < stop_at[0]:
            n += 1
            s = start_at + datetime.timedelta(minutes=(i * 1000 + n) % 50000)
            body = {"calendar_id": cal, "title": f"Bench {i}.{n}",
                    "start": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "end": (s + datetime.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "time_zone": "Europe/Berlin", "meeting": {"provider": "zoom"}}
            t0 = time.perf_counter()
            try:
                st, _, raw = c.call("POST", "/api/events", body)
            except OSError as e:
                with lock:
                    errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                continue
            ms = (time.perf_counter() - t0) * 1000
            m = json.loads(raw).get("meeting") if st in (201, 202) else None
            with lock:
                if st == 201 and m and m.get("status") == "ready" and m.get("join_url"):
                    ok_ms.append(ms)
                elif st in (201, 202):
                    pending[0] += 1
                else:
                    errors[str(st)] = errors.get(str(st), 0) + 1
                    if str(st) not in samples:
                        samples[str(st)] = raw[:300].decode(errors="replace")
        c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    t0 = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    stop_at[0] = t0 + args.seconds
    go.set()
    for t in threads:
        t.join()
    elapsed = time.time() - t0  # includes the last answers after the stop
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime

    ok_ms.sort()
    upstream = 2 * args.latency_ms
    rate = len(ok_ms) / elapsed
    p50, p99 = percentile(ok_ms, 50), percentile(ok_ms, 99)
    bound = args.clients / (upstream / 1000.0) if upstream else float("inf")
    bound_text = f"{bound:,.0f}" if upstream else "none (no latency)"
    print(f"clients {args.clients}, users {args.users}, sandbox latency {args.latency_ms:g} ms, "
          f"{elapsed:.1f} s")
    print("| creates/s | bound (clients / 2 round trips) | p50 | p99 | Calendox p50 | "
          "Calendox p99 | ok | pending (202) | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {rate:,.0f} | {bound_text} | {p50:.1f} ms | {p99:.1f} ms | {p50 - upstream:.1f} ms "
          f"| {p99 - upstream:.1f} ms | {len(ok_ms)} | {pending[0]} | {errors or 0} |")
    print(f"this client used {client_cpu:.1f} CPU s in the {elapsed:.1f} s of the run")
    for st, text in samples.items():
        print(f"first {st} answer: {text}")
    print(json.dumps({"creates_per_s": round(rate, 1), "bound_per_s": round(bound, 1) if upstream else None,
                      "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                      "calendox_p50_ms": round(p50 - upstream, 2),
                      "calendox_p99_ms": round(p99 - upstream, 2), "ok": len(ok_ms),
                      "pending": pending[0], "errors": errors, "seconds": round(elapsed, 2),
                      "client_cpu_s": round(client_cpu, 1)}))


if __name__ == "__main__":
    main()
