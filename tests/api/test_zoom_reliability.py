"""Zoom meetings that hold up where things go wrong (issue "Zoom: connect, a meeting link on save,
delete with the event, disconnect, deauthorize", its reliability tests; DESIGN §4 "Token refresh",
"Create an event with a meeting", "Delete"), against the sandbox.

The invariant every test ends on, read from the sandbox's own state: every live event with a Zoom
meeting has exactly one live meeting in Zoom, whose join_url is the one Calendox shows and the one
in the Google event's location; every deleted event's meeting and Google event are gone; the only
extra meetings in Zoom come from create requests whose answer was lost, and each such event is
named in a "zoom.meeting.unconfirmed" activity entry; Google never holds two events of one title.
Every request Calendox sent to Zoom is checked against shared/specs/zoom/ZoomMeetingAPISpec.json."""

import datetime
import json
import os
import re
import threading
import time
import urllib.parse

import spec_openapi
from spec_common import specs_dir
from test_events_write import WriteCase

SETTLE_S = 40
GOOGLE_EVENTS = "/google/calendar/v3/calendars/"
ZOOM_CREATE = "/zoom/v2/users/me/meetings"
ZOOM_MEETING = "/zoom/v2/meetings/"

GOOGLE_503 = {"error": {"code": 503, "message": "The service is currently unavailable.",
                        "errors": [{"domain": "global", "reason": "backendError",
                                    "message": "The service is currently unavailable."}]}}
ZOOM_503 = {"code": 503, "message": "Service unavailable, try again later."}
ZOOM_QPS_429 = {"code": 429, "message": "You have reached the maximum per-second rate limit "
                "for this API. Try again later."}
ZOOM_QPS_HEADERS = {"X-RateLimit-Category": "Medium", "X-RateLimit-Type": "QPS",
                    "X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0",
                    "Retry-After": "1"}
ZOOM_DAILY_429 = {"code": 429, "message": "You have exceeded the daily rate limit (100) of "
                  "Meeting Create/Update API requests permitted for this particular user. You "
                  "may resume these requests at GMT 00:00:00."}

# The form fields of Zoom's OAuth endpoints (ZOOM.md; not part of the Meeting API document).
OAUTH_FORMS = {
    "/zoom/oauth/token": {"grant_type", "code", "redirect_uri", "code_verifier",
                          "refresh_token"},
    "/zoom/oauth/revoke": {"token"},
}
_spec = []


def zoom_spec():
    if not _spec:
        _spec.append(spec_openapi.OpenAPIDocument(
            os.path.join(specs_dir(), "zoom", "ZoomMeetingAPISpec.json")))
    return _spec[0]


def spec_path(path):
    """The spec's path template of a sandbox Zoom API path, or None."""
    p = path[len("/zoom/v2"):]
    if p == "/users/me":
        return "/users/{userId}"
    if p == "/users/me/meetings":
        return "/users/{userId}/meetings"
    if re.fullmatch(r"/meetings/\d+", p):
        return "/meetings/{meetingId}"
    return None


def parallel(fns):
    """Runs the callables on threads at once; their results (or exceptions) in order."""
    out = [None] * len(fns)

    def run(i, fn):
        try:
            out[i] = fn()
        except Exception as e:  # a request cut by a crash shows as its exception
            out[i] = e

    ts = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


class ReliabilityCase(WriteCase):
    """The invariant, the spec check and fault helpers; the subclasses hold the tests."""

    def tearDown(self):
        self.sb.request("DELETE", "/_sandbox/faults")
        self.sb.request("POST", "/_sandbox/latency", {"ms": 0})

    def faults(self, *rules):
        r = self.sb.request("POST", "/_sandbox/faults", {"rules": list(rules)})
        self.assertIn(r.status, (200, 201, 204), r)

    def faults_fired(self):
        """Asserts every count-limited rule was used up: the faults really hit."""
        rules = self.sb.request("GET", "/_sandbox/faults").json()["rules"]
        self.assertEqual([r for r in rules if r.get("count", 0) > 0], [],
                         "every fault rule hit its requests")

    def activity_entries(self, client):
        return client.call("GET", "/api/activity").json()["entries"]

    def post_event(self, client, cal, title):
        r = client.call("POST", "/api/events", self.body(cal, title=title))
        self.assertIn(r.status, (201, 202), r)
        return r.json()

    def create_many(self, client, cal, n, label="Fault"):
        titles = [self.unique(label) for _ in range(n)]
        evs = parallel([lambda t=t: self.post_event(client, cal, t) for t in titles])
        for ev in evs:
            if isinstance(ev, Exception):
                raise ev
        return evs

    def delete(self, client, ev):
        r = client.call("DELETE", f"/api/events/{ev['id']}")
        self.assertEqual(r.status, 204, r)

    def problems(self, client, live, deleted, dropped=None):
        """What breaks the invariant now (an empty list when it holds).

        live, deleted: events as POST answered them. dropped: how many Zoom creates lost their
        answer (None: any number, each one named in activity)."""
        out = []
        state = self.sb.state()
        meetings = state["zoom"]["meetings"]
        meetings = list(meetings.values()) if isinstance(meetings, dict) else meetings
        meetings = [m for m in meetings if m.get("status") != "deleted"]
        gevents = [e for e in state["google"]["events"] if e.get("status") != "cancelled"]
        unconfirmed = [e["detail"] for e in self.activity_entries(client)
                       if e["kind"] == "zoom.meeting.unconfirmed"]
        extra = 0
        for ev in live:
            title = ev["title"]
            r = client.call("GET", f"/api/events/{ev['id']}")
            if r.status != 200:
                out.append(f"{title}: GET answered {r.status}")
                continue
            m = r.json()["meeting"]
            if not m or m["status"] != "ready" or not m.get("join_url"):
                out.append(f"{title}: meeting {m}")
                continue
            mine = [z for z in meetings if z.get("topic") == title]
            same = [z for z in mine if z["join_url"] == m["join_url"]]
            if len(same) != 1 or str(same[0]["id"]) != m["meeting_id"]:
                out.append(f"{title}: {len(same)} live meetings with its link")
            others = len(mine) - len(same)
            if others and not any(title in u for u in unconfirmed):
                out.append(f"{title}: {others} extra meetings and no unconfirmed activity")
            extra += others
            g = [e for e in gevents if e.get("summary") == title]
            if len(g) != 1:
                out.append(f"{title}: {len(g)} Google events")
            elif g[0].get("location") != m["join_url"]:
                out.append(f"{title}: Google location {g[0].get('location')!r}")
        for ev in deleted:
            title = ev["title"]
            if client.call("GET", f"/api/events/{ev['id']}").status != 404:
                out.append(f"{title}: still in Calendox after the delete")
            mid = (ev.get("meeting") or {}).get("meeting_id")
            if mid and any(str(z["id"]) == str(mid) for z in meetings):
                out.append(f"{title}: meeting {mid} still live")
            mine = [z for z in meetings if z.get("topic") == title and str(z["id"]) != str(mid)]
            if mine and not any(title in u for u in unconfirmed):
                out.append(f"{title}: {len(mine)} extra meetings and no unconfirmed activity")
            extra += len(mine)
            if any(e.get("summary") == title for e in gevents):
                out.append(f"{title}: still in Google after the delete")
        if dropped is not None and extra != dropped:
            out.append(f"{extra} extra meetings in Zoom for {dropped} lost create answers")
        if len(unconfirmed) < extra:
            out.append(f"{extra} extra meetings but {len(unconfirmed)} unconfirmed entries")
        return out

    def holds(self, client, live, deleted, dropped=None, wait_s=SETTLE_S):
        """Waits until the invariant holds; fails with what still breaks it."""
        deadline = time.time() + wait_s
        while True:
            p = self.problems(client, live, deleted, dropped)
            if not p:
                return
            if time.time() > deadline:
                self.fail("the invariant does not hold: " + "; ".join(p))
            time.sleep(0.3)

    def zoom_requests_conform(self):
        """Every request Calendox sent to Zoom against the Meeting API spec."""
        doc = zoom_spec()
        seen = 0
        for q in self.sb.requests():
            path = q["path"]
            if not path.startswith("/zoom/"):
                continue
            where = f"{q['method']} {path}"
            body = q.get("body")
            if path in OAUTH_FORMS:
                self.assertEqual(q["method"], "POST", where)
                fields = set(urllib.parse.parse_qs(body or "", keep_blank_values=True))
                self.assertLessEqual(fields, OAUTH_FORMS[path], where)
                continue
            if path.startswith("/zoom/oauth/authorize") or path.startswith("/zoom/j/"):
                continue  # the person's browser, not Calendox
            tmpl = spec_path(path)
            self.assertIsNotNone(tmpl, f"{where}: no such path in Zoom's Meeting API")
            op = doc.operation(q["method"], tmpl)  # KeyError: the spec has no such operation
            declared = {p["name"] for p in (doc.resolve(p) for p in op.get("parameters", []))
                        if p.get("in") == "query"}
            for name in urllib.parse.parse_qs(q.get("query") or "", keep_blank_values=True):
                self.assertIn(name, declared, f"{where}: query parameter {name}")
            if body:
                value = json.loads(body) if isinstance(body, str) else body
                schema = doc.request_schema(q["method"], tmpl)
                problems = spec_openapi.validate(value, schema, resolve=doc.resolve,
                                                 check_required=q["method"] != "PATCH")
                self.assertEqual(problems, [], f"request body of {where}")
            seen += 1
        return seen


class FaultsOnEveryStepTest(ReliabilityCase):
    """Faults at each provider call; after the run settles the invariant holds."""

    def scenario(self, create_rules=(), delete_rules=(), n=4, n_delete=2, dropped=0):
        c, cal = self.ready()
        if create_rules:
            self.faults(*create_rules)
        evs = self.create_many(c, cal, n)
        if create_rules:
            self.faults_fired()
            self.sb.request("DELETE", "/_sandbox/faults")
        # The events to delete must be settled first, so their meeting ids are known.
        gone = [self.settled(c, ev["id"]) for ev in evs[:n_delete]]
        if delete_rules:
            self.faults(*delete_rules)
        for ev in gone:
            self.delete(c, ev)
        self.holds(c, evs[n_delete:], gone, dropped)
        if delete_rules:
            self.faults_fired()
        self.assertGreater(self.zoom_requests_conform(), 0)
        return c

    def test_zoom_create_503(self):
        self.scenario([{"method": "POST", "path_prefix": ZOOM_CREATE, "status": 503,
                        "body": ZOOM_503, "count": 3}])

    def test_zoom_create_connection_reset(self):
        # Zoom never answered: the next try may warn in activity, but Zoom holds no extra.
        self.scenario([{"method": "POST", "path_prefix": ZOOM_CREATE, "reset": True,
                        "count": 2}])

    def test_zoom_create_answer_dropped(self):
        c = self.scenario([{"method": "POST", "path_prefix": ZOOM_CREATE,
                            "drop_response": True, "count": 2}], dropped=2)
        kinds = [e["kind"] for e in self.activity_entries(c)]
        self.assertGreaterEqual(kinds.count("zoom.meeting.unconfirmed"), 1)

    def test_zoom_create_per_second_limit(self):
        self.scenario([{"method": "POST", "path_prefix": ZOOM_CREATE, "status": 429,
                        "body": ZOOM_QPS_429, "headers": ZOOM_QPS_HEADERS, "count": 3}])

    def test_zoom_per_second_limit_of_the_sandbox(self):
        before = self.sb.request("GET", "/_sandbox/zoom/settings").json()
        self.sb.request("POST", "/_sandbox/zoom/settings", {"qps_medium": 1})
        try:
            limited = self.sb.state()["zoom"]["counters"]["rate_limited"]
            self.scenario(n=5, n_delete=1)
            self.assertGreater(self.sb.state()["zoom"]["counters"]["rate_limited"], limited,
                               "the sandbox's per-second limit answered 429")
        finally:
            self.sb.request("POST", "/_sandbox/zoom/settings",
                            {"qps_medium": before["qps_medium"]})

    def test_google_insert_503(self):
        self.scenario([{"method": "POST", "path_prefix": GOOGLE_EVENTS, "status": 503,
                        "body": GOOGLE_503, "count": 3}])

    def test_google_insert_connection_reset(self):
        self.scenario([{"method": "POST", "path_prefix": GOOGLE_EVENTS, "reset": True,
                        "count": 3}])

    def test_google_insert_answer_dropped(self):
        # Google did insert; the retry's 409 on the same id counts as done: no second event.
        self.scenario([{"method": "POST", "path_prefix": GOOGLE_EVENTS, "drop_response": True,
                        "count": 3}])

    def test_zoom_delete_503(self):
        self.scenario(delete_rules=[{"method": "DELETE", "path_prefix": ZOOM_MEETING,
                                     "status": 503, "body": ZOOM_503, "count": 3}], n_delete=3)

    def test_google_delete_503(self):
        self.scenario(delete_rules=[{"method": "DELETE", "path_prefix": GOOGLE_EVENTS,
                                     "status": 503, "body": GOOGLE_503, "count": 3}], n_delete=3)

    def test_zoom_delete_connection_reset(self):
        self.scenario(delete_rules=[{"method": "DELETE", "path_prefix": ZOOM_MEETING,
                                     "reset": True, "count": 2}], n_delete=2)

    def test_google_delete_answer_dropped(self):
        # Google did delete; the retry's 410 means already gone.
        self.scenario(delete_rules=[{"method": "DELETE", "path_prefix": GOOGLE_EVENTS,
                                     "drop_response": True, "count": 2}], n_delete=2)

    def test_delete_while_the_zoom_create_is_in_flight(self):
        c, cal = self.ready()
        self.faults({"method": "POST", "path_prefix": ZOOM_CREATE, "delay_ms": 1500,
                     "count": 1})
        title = self.unique("Hasty")
        seen = len(self.sb.requests())
        answer = []
        t = threading.Thread(target=lambda: answer.append(
            c.call("POST", "/api/events", self.body(cal, title=title))))
        t.start()
        self.wait_until(lambda: any(q["path"] == ZOOM_CREATE
                                    for q in self.sb.requests()[seen:]), "the create on its way")
        ev = self.wait_for(c, lambda evs: any(e["title"] == title for e in evs), "the event")
        ev = [e for e in ev if e["title"] == title][0]
        self.delete(c, ev)
        t.join(30)
        self.assertIn(answer[0].status, (201, 202, 404), answer[0])
        self.wait_until(lambda: not [z for z in self.zoom_meetings() if z["topic"] == title],
                        "the meeting made meanwhile to be deleted")
        self.holds(c, [], [ev], dropped=0)
        self.faults_fired()

    def test_random_faults_everywhere(self):
        # Every step at once, drawn under the sandbox's fixed seed.
        c, cal = self.ready()
        self.faults(
            {"method": "POST", "path_prefix": ZOOM_CREATE, "status": 503, "body": ZOOM_503,
             "probability": 0.3, "count": 3},
            {"method": "POST", "path_prefix": GOOGLE_EVENTS, "reset": True,
             "probability": 0.3, "count": 3},
            {"method": "DELETE", "path_prefix": ZOOM_MEETING, "status": 503, "body": ZOOM_503,
             "probability": 0.5, "count": 2},
            {"method": "DELETE", "path_prefix": GOOGLE_EVENTS, "reset": True,
             "probability": 0.5, "count": 2})
        evs = self.create_many(c, cal, 5)
        gone = [self.settled(c, ev["id"]) for ev in evs[:2]]
        for ev in gone:
            self.delete(c, ev)
        self.holds(c, evs[2:], gone, dropped=0)
        self.zoom_requests_conform()


class KillNineTest(ReliabilityCase):
    """kill -9 of calendox serve with create and delete jobs in flight, then a restart."""
    # Short leases: the restarted process takes the dead one's jobs over within seconds.
    extra_env = dict(ReliabilityCase.extra_env, CALENDOX_JOB_LEASE_S="5")

    def test_jobs_finish_after_kill_nine(self):
        c, cal = self.ready()
        old = self.create_many(c, cal, 3, "Old")
        old = [self.settled(c, ev["id"]) for ev in old]
        self.holds(c, old, [])
        self.sb.request("POST", "/_sandbox/latency", {"ms": 300})
        titles = [self.unique("Crash") for _ in range(4)]
        seen = len(self.sb.requests())

        def post(title):
            return c.call("POST", "/api/events", self.body(cal, title=title))

        answers = []
        t = threading.Thread(target=lambda: answers.extend(
            parallel([lambda x=x: post(x) for x in titles])))
        t.start()
        for ev in old:
            self.delete(c, ev)
        # Kill while Zoom creates are on their way (the first one has reached the sandbox).
        self.wait_until(lambda: any(q["method"] == "POST" and q["path"] == ZOOM_CREATE
                                    for q in self.sb.requests()[seen:]), "a create in flight")
        self.server.proc.kill()
        self.server.proc.wait()
        t.join(30)
        self.sb.request("POST", "/_sandbox/latency", {"ms": 0})
        running = self.server.db_query(
            "SELECT COUNT(*) FROM jobs WHERE state = 'running' "
            "AND kind IN ('event.write', 'zoom.meeting.delete')")[0][0]
        self.assertGreater(running, 0, "the kill caught jobs in flight")
        # The dead process's leases run out by themselves (CALENDOX_JOB_LEASE_S).
        self.server.start()
        # An event is there when its POST committed; the rest never happened at all.
        listed = {e["title"]: e for e in self.events(c)}
        live = [listed[x] for x in titles if x in listed]
        answered = [a for a in answers if not isinstance(a, Exception)]
        for a in answered:
            self.assertIn(a.status, (201, 202), a)
            self.assertIn(a.json()["title"], listed, "an answered create is kept")
        for x in titles:
            if x not in listed:
                self.assertFalse(self.google_events(x), x)
                self.assertFalse([m for m in self.zoom_meetings() if m["topic"] == x], x)
        self.assertTrue(live, "some creates were committed before the kill")
        self.holds(c, live, old)
        self.no_duplicate_rows()
        self.zoom_requests_conform()


class ExpiredTokenTest(ReliabilityCase):
    """50 creates at once on an expired Zoom access token: one refresh reaches Zoom."""
    extra_env = {"CALENDOX_SYNC_POLL_S": "60", "CALENDOX_HTTP_THREADS": "8"}

    def test_fifty_creates_one_refresh(self):
        c, cal = self.ready()
        self.create(c, cal)  # the token works
        self.sb.request("POST", "/_sandbox/zoom/settings", {"qps_medium": 100})
        self.sb.request("POST", "/_sandbox/clock", {"advance_seconds": 3700})
        before = self.sb.state()["zoom"]["counters"]
        n_requests = len(self.sb.requests())
        titles = [self.unique("Rush") for _ in range(50)]
        evs = parallel([lambda t=t: self.post_event(c, cal, t) for t in titles])
        for ev in evs:
            if isinstance(ev, Exception):
                raise ev
        self.holds(c, evs, [], dropped=0, wait_s=60)
        after = self.sb.state()["zoom"]["counters"]
        self.assertEqual(after["token_refreshes"] - before["token_refreshes"], 1)
        self.assertEqual(after["meetings_created"] - before["meetings_created"], 50)
        refreshes = [q for q in self.sb.requests()[n_requests:]
                     if q["path"] == "/zoom/oauth/token"]
        self.assertEqual(len(refreshes), 1, "exactly one refresh reached Zoom")
        links = {c.call("GET", f"/api/events/{ev['id']}").json()["meeting"]["join_url"]
                 for ev in evs}
        self.assertEqual(len(links), 50)
        app = c.call("GET", "/api/apps").json()["apps"][0]
        self.assertEqual(app["status"], "connected")
        kinds = [e["kind"] for e in self.activity_entries(c)]
        self.assertNotIn("zoom.needs_reconnect", kinds)
        self.zoom_requests_conform()


class DailyLimitTest(ReliabilityCase):
    """Zoom's daily cap for creating meetings: the event goes to Google without the link, the
    person is told once, and the meeting is made when the cap resets."""

    def test_daily_cap_of_the_sandbox(self):
        c, cal = self.ready()
        self.sb.request("POST", "/_sandbox/zoom/settings", {"daily_limit": 0})
        try:
            title = self.unique("Capped")
            ev = self.post_event(c, cal, title)
            ev = self.settled(c, ev["id"], lambda e: e["meeting"]["error"] is not None
                              and self.google_events(title), "the event without the link")
            m = ev["meeting"]
            self.assertEqual((m["status"], m["error"]["code"]), ("pending", "zoom_daily_limit"))
            self.assertTrue(m["error"]["message"])
            self.assertIsNone(m["join_url"])
            g = self.google_events(title)
            self.assertEqual(len(g), 1)
            self.assertFalse(g[0].get("location"))
            # The retry waits for the reset Zoom named (00:00 UTC), not a fast loop.
            reset = (datetime.datetime.now(datetime.timezone.utc).date()
                     + datetime.timedelta(days=1))
            reset_ms = int(datetime.datetime(reset.year, reset.month, reset.day,
                                             tzinfo=datetime.timezone.utc).timestamp() * 1000)
            self.wait_until(lambda: self.server.db_query(
                "SELECT run_at_ms FROM jobs WHERE kind = 'event.write' AND state = 'queued' "
                "AND run_at_ms >= ?", (reset_ms - 5000,)), "the retry at the reset")
            time.sleep(1)
            kinds = [e["kind"] for e in self.activity_entries(c)]
            self.assertEqual(kinds.count("zoom.daily_limit"), 1)
            self.assertFalse([z for z in self.zoom_meetings() if z["topic"] == title])
        finally:
            self.sb.request("POST", "/_sandbox/zoom/settings", {"daily_limit": 100})

    def test_link_arrives_after_the_cap_resets(self):
        c, cal = self.ready()
        # Zoom's daily-cap answer with a reset two seconds away.
        headers = {"X-RateLimit-Category": "Medium", "X-RateLimit-Type": "Daily-limit",
                   "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                   "Retry-After": "2"}
        self.faults({"method": "POST", "path_prefix": ZOOM_CREATE, "status": 429,
                     "body": ZOOM_DAILY_429, "headers": headers, "count": 1})
        title = self.unique("Capped")
        r = c.call("POST", "/api/events", self.body(cal, title=title))
        self.assertIn(r.status, (201, 202), r)
        ev = r.json()
        if ev["meeting"]["status"] == "pending" and ev["meeting"]["error"]:
            self.assertEqual(ev["meeting"]["error"]["code"], "zoom_daily_limit")
        self.wait_until(lambda: self.google_events(title), "the event in Google")
        ev = self.settled(c, ev["id"], lambda e: e["meeting"]["status"] == "ready", "the link")
        self.holds(c, [ev], [], dropped=0)
        kinds = [e["kind"] for e in self.activity_entries(c)]
        self.assertEqual(kinds.count("zoom.daily_limit"), 1)
        self.assertIn("zoom.meeting.created", kinds)
        self.zoom_requests_conform()


class NeedsReconnectTest(ReliabilityCase):
    """A dead refresh token: the meeting fails with the reason and the hint, the app shows
    needs_reconnect, and disconnecting and connecting again fixes it."""

    def test_dead_refresh_token(self):
        c, cal = self.ready(zoom=False)
        self.sb.request("POST", "/_sandbox/zoom/settings", {"refresh_token_ttl_s": 120})
        try:
            self.connect_zoom(c)
        finally:
            self.sb.request("POST", "/_sandbox/zoom/settings",
                            {"refresh_token_ttl_s": 15 * 365 * 86400})
        self.sb.request("POST", "/_sandbox/clock", {"advance_seconds": 3700})
        title = self.unique("Orphan")
        ev = self.post_event(c, cal, title)
        ev = self.settled(c, ev["id"], lambda e: e["meeting"]["status"] == "failed",
                          "the meeting to fail")
        m = ev["meeting"]
        self.assertEqual(m["error"]["code"], "provider_needs_reconnect")
        self.assertIn("reconnect", m["error"]["hint"].lower())
        self.assertIsNone(m["join_url"])
        self.wait_until(lambda: self.google_events(title), "the event in Google without a link")
        self.assertFalse(self.google_events(title)[0].get("location"))
        app = c.call("GET", "/api/apps").json()["apps"][0]
        self.assertEqual(app["status"], "needs_reconnect")
        kinds = [e["kind"] for e in self.activity_entries(c)]
        self.assertIn("zoom.needs_reconnect", kinds)
        self.assertEqual(c.call("DELETE", "/api/apps/zoom").status, 204)
        self.connect_zoom(c)
        self.assertEqual(c.call("GET", "/api/apps").json()["apps"][0]["status"], "connected")
        fixed = self.create(c, cal)
        self.assertEqual(fixed["meeting"]["status"], "ready")
        self.holds(c, [fixed], [], dropped=0)
        self.zoom_requests_conform()
