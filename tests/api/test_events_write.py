"""Events created, changed and deleted in Calendox and written to Google and Outlook, with Zoom,
Meet and Teams meetings (DESIGN §4 "Create an event with a meeting", "Edit", "Delete"; §5), against
the sandbox: the sandbox's own state is the proof that the provider has exactly what Calendox says."""

import datetime
import json
import time
import uuid

from test_events_sync import SyncCase, now_utc, rfc3339
from test_zoom_connect import split

WAIT_S = 20


class WriteCase(SyncCase):
    extra_env = {"CALENDOX_SYNC_POLL_S": "2"}

    def setUp(self):
        super().setUp()
        self.sb.request("POST", "/_sandbox/zoom/settings", {"restricted_mode": "page"})

    def connect_zoom(self, client, email="alice@example.com"):
        r = client.call("GET", "/oauth/zoom/start")
        self.assertEqual(r.status, 302, r)
        path, params = split(r.header("Location"))
        self.assertEqual(self.sb.request("GET", path).status, 200)
        d = self.sb.request("POST", "/zoom/oauth/authorize/decision",
                            form=dict(params, user=email, decision="allow"))
        self.assertEqual(d.status, 302, d)
        r = client.call("GET", split(d.header("Location"))[0])
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"Zoom connected", r.body)

    def calendar(self, client, provider="google", name=None):
        deadline = time.time() + WAIT_S
        while True:
            accounts = client.call("GET", "/api/calendars").json()["accounts"]
            for a in accounts:
                if a["provider"] != provider:
                    continue
                for cal in a["calendars"]:
                    if (name is None and cal["primary"]) or cal["name"] == name:
                        return cal["id"]
            if time.time() > deadline:
                self.fail(f"no {provider} calendar: {accounts}")
            time.sleep(0.2)

    def ready(self, provider="google", zoom=True):
        c = self.signed_up()
        self.connect(c, provider)
        if zoom:
            self.connect_zoom(c)
        return c, self.calendar(c, provider)

    def body(self, cal, title=None, meeting="zoom", hours=26, **extra):
        start = now_utc().replace(minute=0, second=0) + datetime.timedelta(hours=hours)
        b = {"calendar_id": cal, "title": title or self.unique("Planning"),
             "start": rfc3339(start), "end": rfc3339(start + datetime.timedelta(minutes=45)),
             "time_zone": "Europe/Berlin", "description": "Agenda: the roadmap",
             "meeting": {"provider": meeting} if meeting else None}
        b.update(extra)
        return b

    def settled(self, client, event_id, pred=None, what="the event to settle"):
        deadline = time.time() + WAIT_S
        while True:
            r = client.call("GET", f"/api/events/{event_id}")
            if r.status == 200:
                ev = r.json()
                m = ev["meeting"]
                if (pred(ev) if pred else (m is None or m["status"] != "pending")):
                    return ev
            if time.time() > deadline:
                self.fail(f"timed out waiting for {what}: {r.status} {r.body[:600]}")
            time.sleep(0.2)

    def zoom_meetings(self, live_only=True):
        ms = self.sb.state()["zoom"]["meetings"]
        ms = list(ms.values()) if isinstance(ms, dict) else ms
        if live_only:
            ms = [m for m in ms if m.get("status") != "deleted"]
        return ms

    def google_events(self, title, calendar="alice@example.com"):
        """The sandbox's live Google events with this title."""
        return [e for e in self.sb.state()["google"]["events"]
                if e.get("summary") == title and e.get("calendarId") == calendar
                and e.get("status") != "cancelled"]

    def microsoft_events(self, title):
        return [e for e in self.sb.state()["microsoft"]["events"]
                if e.get("subject") == title and not e.get("deleted")]

    def zoom_meeting(self, meeting_id):
        found = [m for m in self.zoom_meetings() if str(m["id"]) == str(meeting_id)]
        return found[0] if found else None

    def activity(self, client):
        return [e["kind"] for e in client.call("GET", "/api/activity").json()["entries"]]

    def wait_until(self, pred, what):
        deadline = time.time() + WAIT_S
        while not pred():
            if time.time() > deadline:
                self.fail(f"timed out waiting for {what}")
            time.sleep(0.2)

    def quiet_state(self, client):
        """What a refused request of client's must not change: the events they made in Calendox,
        their meetings and write jobs. (Sync and push move other rows on their own, and every test
        person connects the sandbox's one Google account, so one person's events reach all.)"""
        uid = int(client.call("GET", "/api/me").json()["user"]["id"])
        mine = {row[0] for row in self.server.db_query(
            "SELECT id FROM events WHERE user_id = ? AND write_seed IS NOT NULL", (uid,))}
        return {
            "events": self.server.db_query(
                "SELECT id, calendar_id, external_id, title, start_utc, end_utc, time_zone, "
                "all_day, description, location, deleted, write_state, local_version, "
                "delete_requested FROM events WHERE user_id = ? AND write_seed IS NOT NULL "
                "ORDER BY id", (uid,)),
            "meetings": self.server.db_query(
                "SELECT * FROM meetings WHERE user_id = ? ORDER BY id", (uid,)),
            "jobs": [row[0] for row in self.server.db_query(
                "SELECT id, payload FROM jobs WHERE kind IN ('event.write', "
                "'zoom.meeting.delete') ORDER BY id")
                if json.loads(row[1]).get("event_id") in mine],
        }

    def writes_settle(self, event_id):
        """The event's write jobs end (done, not retrying or looping)."""
        def settled():
            rows = self.server.db_query(
                "SELECT state, last_error FROM jobs WHERE kind = 'event.write' AND payload = ?",
                (f'{{"event_id":{event_id}}}',))
            return rows and all(r[0] == "done" for r in rows)
        self.wait_until(settled, f"the writes of event {event_id} to finish")

    def create(self, client, cal, status=201, **kw):
        r = client.call("POST", "/api/events", self.body(cal, **kw))
        self.assertIn(r.status, (201, 202) if status is None else (status,), r)
        return r.json()


class ZoomOnSaveTest(WriteCase):
    """DESIGN §8: Save creates a unique meeting through the Zoom API, opening the event shows the
    join link, and the link is written to the Google event; deleting the event deletes both."""

    def test_save_creates_the_meeting_and_writes_the_link_to_google(self):
        c, cal = self.ready()
        title = self.unique("Planning")
        ev = self.create(c, cal, title=title)
        m = ev["meeting"]
        self.assertEqual((m["provider"], m["status"], m["error"]), ("zoom", "ready", None))
        self.assertIn("/zoom/j/" + m["meeting_id"], m["join_url"])
        self.assertEqual(ev["title"], title)
        self.assertEqual(ev["description"], "Agenda: the roadmap")
        zm = self.zoom_meeting(m["meeting_id"])
        self.assertIsNotNone(zm, "the meeting exists in Zoom")
        self.assertEqual((zm["topic"], zm["type"], zm["duration"], zm["timezone"]),
                         (title, 2, 45, "Europe/Berlin"))
        self.assertEqual(zm["start_time"], ev["start"])
        self.assertEqual(zm["agenda"], "Agenda: the roadmap")
        self.assertEqual(zm["join_url"], m["join_url"])
        self.assertEqual(m["passcode"], zm["password"])
        g = self.google_events(title)
        self.assertEqual(len(g), 1, g)
        self.assertEqual(g[0]["id"], ev["external_id"])
        self.assertEqual(g[0]["location"], m["join_url"])
        self.assertIn("-- Calendox meeting --\nJoin Zoom meeting: " + m["join_url"],
                      g[0]["description"])
        self.assertTrue(g[0]["description"].startswith("Agenda: the roadmap\n\n"))
        self.assertEqual(g[0]["start"], {"dateTime": ev["start"], "timeZone": "Europe/Berlin"})
        # Opening the event shows the link, from the store; the list shows it too.
        self.assertEqual(c.call("GET", f"/api/events/{ev['id']}").json()["meeting"], m)
        listed = self.wait_for(c, lambda evs: any(e["id"] == ev["id"] for e in evs), "the list")
        self.assertEqual([e["meeting"]["join_url"] for e in listed if e["id"] == ev["id"]],
                         [m["join_url"]])
        self.assertIn("zoom.meeting.created", self.activity(c))
        # Sync reads the event back without making a second row or losing the meeting.
        time.sleep(2.5)
        self.no_duplicate_rows()
        again = c.call("GET", f"/api/events/{ev['id']}").json()
        self.assertEqual(again["meeting"]["join_url"], m["join_url"])
        self.assertEqual(again["description"], "Agenda: the roadmap")

    def test_each_save_makes_a_unique_meeting(self):
        c, cal = self.ready()
        a = self.create(c, cal)["meeting"]
        b = self.create(c, cal)["meeting"]
        self.assertNotEqual(a["meeting_id"], b["meeting_id"])
        self.assertNotEqual(a["join_url"], b["join_url"])

    def test_deleting_the_event_deletes_the_meeting_and_the_google_event(self):
        c, cal = self.ready()
        title = self.unique("Retro")
        ev = self.create(c, cal, title=title)
        mid = ev["meeting"]["meeting_id"]
        r = c.call("DELETE", f"/api/events/{ev['id']}")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(c.call("GET", f"/api/events/{ev['id']}").status, 404)
        self.assertFalse(any(e["id"] == ev["id"] for e in self.events(c)))
        self.wait_until(lambda: self.zoom_meeting(mid) is None, "the meeting to be deleted")
        self.wait_until(lambda: not self.google_events(title), "the Google event to go")
        self.wait_until(lambda: "zoom.meeting.deleted" in self.activity(c), "the activity")
        self.writes_settle(ev["id"])
        self.assertEqual(c.call("DELETE", f"/api/events/{ev['id']}").status, 404)

    def test_deleted_in_google_deletes_the_meeting(self):
        c, cal = self.ready()
        title = self.unique("Standup")
        ev = self.create(c, cal, title=title)
        mid = ev["meeting"]["meeting_id"]
        r = self.sb.request("POST", "/_sandbox/google/calendars/alice%40example.com/events/"
                            f"{ev['external_id']}/delete")
        self.assertIn(r.status, (200, 204), r)
        self.wait_until(lambda: self.zoom_meeting(mid) is None, "the meeting to be deleted")
        self.assertEqual(c.call("GET", f"/api/events/{ev['id']}").status, 404)
        self.assertIn("zoom.meeting.deleted", self.activity(c))
        self.writes_settle(ev["id"])

    def test_idempotency_key_returns_the_first_event(self):
        c, cal = self.ready()
        key = str(uuid.uuid4())
        body = self.body(cal)
        r1 = c.call("POST", "/api/events", body, headers={"Idempotency-Key": key})
        r2 = c.call("POST", "/api/events", body, headers={"Idempotency-Key": key})
        self.assertEqual(r1.status, 201, r1)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r1.json()["id"], r2.json()["id"])
        self.assertEqual(r1.json()["meeting"]["join_url"], r2.json()["meeting"]["join_url"])
        self.assertEqual(len(self.google_events(body["title"])), 1)
        self.assertEqual(len([m for m in self.zoom_meetings() if m["topic"] == body["title"]]), 1)
        other = dict(body, title="Something else")
        before = self.quiet_state(c)
        r3 = c.call("POST", "/api/events", other, headers={"Idempotency-Key": key})
        self.assertError(r3, 422, "idempotency_key_reused")
        self.assertEqual(self.quiet_state(c), before)
        # The key is the person's own: another person's same key makes their own event.
        d = self.signed_up("other")
        self.connect(d, "google")
        cal_d = self.calendar(d)
        r4 = d.call("POST", "/api/events", dict(body, calendar_id=cal_d, meeting=None),
                    headers={"Idempotency-Key": key})
        self.assertEqual(r4.status, 201, r4)
        self.assertNotEqual(r4.json()["id"], r1.json()["id"])

    def test_patch_adds_and_removes_zoom_and_moves_the_event(self):
        c, cal = self.ready()
        title = self.unique("Review")
        ev = self.create(c, cal, title=title, meeting=None)
        self.assertIsNone(ev["meeting"])
        self.assertEqual(self.google_events(title)[0].get("location"), None)
        r = c.call("PATCH", f"/api/events/{ev['id']}", {"meeting": {"provider": "zoom"}})
        self.assertEqual(r.status, 200, r)
        m = r.json()["meeting"]
        self.assertEqual(m["status"], "ready")
        g = self.google_events(title)[0]
        self.assertEqual(g["location"], m["join_url"])
        self.assertIn(m["join_url"], g["description"])
        # Time and title move in Google; without meeting:update:meeting the meeting stays.
        new_title = title + " moved"
        start = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=3)
        r = c.call("PATCH", f"/api/events/{ev['id']}", {
            "title": new_title, "start": rfc3339(start),
            "end": rfc3339(start + datetime.timedelta(minutes=30))})
        self.assertEqual(r.status, 200, r)
        g = self.google_events(new_title)
        self.assertEqual(len(g), 1)
        self.assertEqual(g[0]["start"]["dateTime"], rfc3339(start))
        self.assertEqual(g[0]["location"], m["join_url"])
        self.assertEqual(self.zoom_meeting(m["meeting_id"])["topic"], title)
        # Removing the meeting deletes it in Zoom and takes the link out of the Google event.
        r = c.call("PATCH", f"/api/events/{ev['id']}", {"meeting": None})
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["meeting"])
        self.wait_until(lambda: self.zoom_meeting(m["meeting_id"]) is None, "the meeting to go")
        g = self.google_events(new_title)[0]
        self.assertEqual(g["description"], "Agenda: the roadmap")
        self.assertFalse(g.get("location"))

    def test_disconnected_zoom_keeps_links_and_leaves_old_meetings(self):
        c, cal = self.ready()
        ev = self.create(c, cal)
        link = ev["meeting"]["join_url"]
        self.assertEqual(c.call("DELETE", "/api/apps/zoom").status, 204)
        providers = {p["id"]: p for p in c.call("GET", "/api/meeting-providers").json()["providers"]}
        self.assertEqual(providers["zoom"]["status"], "not_connected")
        self.assertEqual(c.call("GET", f"/api/events/{ev['id']}").json()["meeting"]["join_url"],
                         link)
        before = self.quiet_state(c)
        r = c.call("POST", "/api/events", self.body(cal))
        self.assertError(r, 409, "provider_not_connected")
        self.assertEqual(self.quiet_state(c), before)
        # Deleting the older event cannot delete its meeting any more: it stays, and activity says so.
        self.assertEqual(c.call("DELETE", f"/api/events/{ev['id']}").status, 204)
        self.wait_until(lambda: "zoom.meeting.left" in self.activity(c), "the activity")
        self.assertIsNotNone(self.zoom_meeting(ev["meeting"]["meeting_id"]))


class EventWriteTest(WriteCase):
    """Events without Zoom, Meet and Teams, bad input and tenant isolation."""

    def test_plain_event_round_trip(self):
        c, cal = self.ready(zoom=False)
        title = self.unique("Lunch")
        ev = self.create(c, cal, title=title, meeting=None, location="Cafe", description="Soup")
        self.assertIsNone(ev["meeting"])
        g = self.google_events(title)[0]
        self.assertEqual((g["location"], g["description"]), ("Cafe", "Soup"))
        r = c.call("PATCH", f"/api/events/{ev['id']}", {"description": None, "location": "Bar"})
        self.assertEqual(r.status, 200, r)
        g = self.google_events(title)[0]
        self.assertEqual(g["location"], "Bar")
        self.assertFalse(g.get("description"))
        self.assertEqual(c.call("DELETE", f"/api/events/{ev['id']}").status, 204)
        self.wait_until(lambda: not self.google_events(title), "the Google event to go")
        self.writes_settle(ev["id"])

    def test_all_day_event(self):
        c, cal = self.ready(zoom=False)
        title = self.unique("Holiday")
        day = (now_utc() + datetime.timedelta(days=5)).date()
        ev = self.create(c, cal, title=title, meeting=None, all_day=True,
                         start=f"{day}T00:00:00+02:00", end=f"{day}T00:00:00+02:00")
        self.assertTrue(ev["all_day"])
        self.assertEqual(ev["start"], f"{day}T00:00:00Z")
        nxt = day + datetime.timedelta(days=1)
        self.assertEqual(ev["end"], f"{nxt}T00:00:00Z")
        g = self.google_events(title)[0]
        self.assertEqual((g["start"], g["end"]), ({"date": str(day)}, {"date": str(nxt)}))

    def test_google_meet_link(self):
        c, cal = self.ready(zoom=False)
        title = self.unique("Meet")
        ev = self.settled(c, self.create(c, cal, title=title, meeting="google_meet",
                                         status=None)["id"])
        m = ev["meeting"]
        self.assertEqual((m["provider"], m["status"]), ("google_meet", "ready"), ev)
        self.assertIn("/google/meet/", m["join_url"])
        g = self.google_events(title)[0]
        self.assertEqual(g["hangoutLink"], m["join_url"])

    def test_microsoft_with_teams_and_with_zoom(self):
        c, cal = self.ready("microsoft")
        title = self.unique("Teams call")
        ev = self.settled(c, self.create(c, cal, title=title, meeting="teams", status=None)["id"])
        m = ev["meeting"]
        self.assertEqual((m["provider"], m["status"]), ("teams", "ready"), ev)
        self.assertIn("/microsoft/teams/", m["join_url"])
        o = self.microsoft_events(title)
        self.assertEqual(len(o), 1)
        self.assertTrue(o[0]["isOnlineMeeting"])
        self.assertEqual(o[0]["onlineMeeting"]["joinUrl"], m["join_url"])
        self.assertEqual(ev["external_id"], o[0]["id"])
        title = self.unique("Zoom in Outlook")
        ev = self.create(c, cal, title=title)
        m = ev["meeting"]
        self.assertEqual(m["status"], "ready")
        o = self.microsoft_events(title)
        self.assertEqual(len(o), 1)
        self.assertEqual(o[0]["location"]["displayName"], m["join_url"])
        self.assertIn(m["join_url"], o[0]["body"]["content"])
        self.assertEqual(ev["external_id"], o[0]["id"])
        time.sleep(2.5)  # a sync round reads it back: still one row
        self.no_duplicate_rows()
        self.assertEqual(c.call("DELETE", f"/api/events/{ev['id']}").status, 204)
        self.wait_until(lambda: not self.microsoft_events(title), "the Outlook event to go")
        self.wait_until(lambda: self.zoom_meeting(m["meeting_id"]) is None, "the meeting to go")

    def test_meet_and_teams_only_on_their_own_calendars(self):
        c, cal = self.ready(zoom=False)
        before = self.quiet_state(c)
        self.assertError(c.call("POST", "/api/events", self.body(cal, meeting="teams")), 409,
                         "provider_not_connected")
        self.assertError(c.call("POST", "/api/events", self.body(cal)), 409,
                         "provider_not_connected")
        self.assertEqual(self.quiet_state(c), before)

    def test_bad_input_changes_nothing(self):
        c, cal = self.ready(zoom=False)
        before = self.quiet_state(c)
        good = self.body(cal, meeting=None)
        cases = [
            (dict(good, title=""), 400, "invalid_request"),
            ({k: v for k, v in good.items() if k != "title"}, 400, "invalid_request"),
            (dict(good, end=good["start"]), 400, "invalid_request"),
            (dict(good, start="tomorrow"), 400, "invalid_request"),
            (dict(good, start="2026-05-01T09:00:00"), 400, "invalid_request"),
            (dict(good, time_zone="Mars/Olympus"), 400, "invalid_request"),
            (dict(good, title="x" * 1025), 400, "invalid_request"),
            (dict(good, description="x" * (64 * 1024 + 1)), 400, "invalid_request"),
            (dict(good, meeting={"provider": "skype"}), 400, "invalid_request"),
            (dict(good, meeting={"provider": "zoom", "extra": 1}), 400, "invalid_request"),
            (dict(good, colour="red"), 400, "invalid_request"),
            (dict(good, calendar_id=7), 400, "invalid_request"),
            (dict(good, calendar_id="999999"), 404, "calendar_not_found"),
            (dict(good, calendar_id="abc"), 404, "calendar_not_found"),
            (dict(good, end=rfc3339(now_utc() + datetime.timedelta(days=400))), 400,
             "invalid_request"),
        ]
        for body, status, code in cases:
            with self.subTest(body=str(body)[:80]):
                self.assertError(c.call("POST", "/api/events", body), status, code)
        self.assertError(c.call("POST", "/api/events", raw=b"{not json",
                                        headers={"Content-Type": "application/json"}), 400, "invalid_request")
        self.assertEqual(c.call("POST", "/api/events", good, csrf=False).status, 403)
        self.assertEqual(self.quiet_state(c), before)
        ev = self.create(c, cal, meeting=None)
        before = self.quiet_state(c)
        for body in ({"start": "nope"}, {"calendar_id": cal}, {"title": ""},
                     {"end": ev["start"]}, {"meeting": {"provider": "zoom"}}):
            with self.subTest(patch=body):
                r = c.call("PATCH", f"/api/events/{ev['id']}", body)
                self.assertIn(r.status, (400, 409), r)
        self.assertEqual(self.quiet_state(c), before)

    def test_free_plan_cannot_create(self):
        c, cal = self.ready(zoom=False)
        me = c.call("GET", "/api/me").json()["user"]
        r = self.server.run_cli("admin", "plan", me["email"], "free")
        self.assertEqual(r.returncode, 0, r.stderr)
        before = self.quiet_state(c)
        self.assertError(c.call("POST", "/api/events", self.body(cal, meeting=None)), 402,
                         "plan_required")
        self.assertEqual(self.quiet_state(c), before)

    def test_people_never_touch_each_others_events(self):
        a, cal_a = self.ready(zoom=False)
        ev = self.create(a, cal_a, meeting=None)
        b, cal_b = self.ready(zoom=False)
        before = self.quiet_state(a)
        self.assertError(b.call("GET", f"/api/events/{ev['id']}"), 404, "not_found")
        self.assertError(b.call("PATCH", f"/api/events/{ev['id']}", {"title": "mine"}), 404,
                         "not_found")
        self.assertError(b.call("DELETE", f"/api/events/{ev['id']}"), 404, "not_found")
        self.assertError(b.call("POST", "/api/events", self.body(cal_a, meeting=None)), 404,
                         "calendar_not_found")
        self.assertEqual(self.quiet_state(a), before)
        self.assertFalse(any(e["id"] == ev["id"] for e in self.events(b)))

    def test_a_write_refused_for_good_leaves_nothing_behind(self):
        c, cal = self.ready()
        title = self.unique("Refused")
        # The push channels are made by then (their requests share the fault's path prefix).
        self.wait_until(lambda: not self.server.db_query(
            "SELECT id FROM jobs WHERE kind = 'calendar.watch' AND state IN ('queued', 'running')"),
            "the push channels")
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "POST", "path_prefix": "/google/calendar/v3/calendars/", "status": 403,
            "body": {"error": {"code": 403, "message": "Forbidden", "errors": [
                {"reason": "forbidden", "message": "Forbidden", "domain": "global"}]}},
            "count": 1}]})
        r = c.call("POST", "/api/events", self.body(cal, title=title))
        self.assertError(r, 502, "upstream_error")
        self.wait_until(lambda: not [m for m in self.zoom_meetings() if m["topic"] == title],
                        "the meeting to be deleted again")
        self.assertFalse(self.google_events(title))
        self.assertFalse([e for e in self.events(c) if e["title"] == title])
        self.assertIn("event.create_failed", self.activity(c))


class ZoomReadTest(WriteCase):
    """GET /api/events/{id}?refresh=1 reads the meeting from Zoom (meeting:read:meeting)."""

    def test_refresh_reads_zoom_and_takes_a_new_link_over(self):
        c, cal = self.ready()
        title = self.unique("Sync up")
        ev = self.create(c, cal, title=title)
        m = ev["meeting"]
        r = c.call("GET", f"/api/events/{ev['id']}?refresh=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["meeting"]["join_url"], m["join_url"])
        reads = [q for q in self.sb.requests()
                 if q["method"] == "GET" and q["path"] == f"/zoom/v2/meetings/{m['meeting_id']}"]
        self.assertEqual(len(reads), 1)
        # Zoom changed the link: Calendox shows the new one and writes it to Google.
        new_url = m["join_url"].split("?")[0] + "?pwd=changed"
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "GET", "path_prefix": f"/zoom/v2/meetings/{m['meeting_id']}",
            "status": 200, "count": 1,
            "body": {"id": int(m["meeting_id"]), "join_url": new_url, "password": "changed1",
                     "topic": title, "type": 2}}]})
        r = c.call("GET", f"/api/events/{ev['id']}?refresh=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["meeting"]["join_url"], r.json()["meeting"]["passcode"]),
                         (new_url, "changed1"))
        self.wait_until(lambda: self.google_events(title)[0].get("location") == new_url,
                        "the new link in Google")
        self.assertIn("zoom.meeting.link_changed", self.activity(c))
        # Deleted in Zoom: the event says so, with the way out.
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "GET", "path_prefix": f"/zoom/v2/meetings/{m['meeting_id']}",
            "status": 404, "count": 1,
            "body": {"code": 3001, "message": "Meeting does not exist: " + m["meeting_id"]}}]})
        r = c.call("GET", f"/api/events/{ev['id']}?refresh=1")
        self.assertEqual(r.status, 200, r)
        gone = r.json()["meeting"]
        self.assertEqual((gone["status"], gone["error"]["code"]), ("failed", "meeting_gone"))
        self.assertTrue(gone["error"]["hint"])
        # Without refresh nothing is asked of Zoom.
        n = len(self.sb.requests())
        c.call("GET", f"/api/events/{ev['id']}")
        self.assertEqual([q for q in self.sb.requests()[n:] if q["path"].startswith("/zoom/")], [])


class ZoomUpdateTest(WriteCase):
    """With meeting:update:meeting granted, time and title edits move the meeting too, whether
    made in Calendox or arriving by sync."""
    extra_env = dict(WriteCase.extra_env, CALENDOX_ZOOM_SCOPES=(
        "meeting:write:meeting meeting:read:meeting meeting:delete:meeting user:read:user "
        "meeting:update:meeting"))

    def test_edits_move_the_meeting(self):
        c, cal = self.ready()
        title = self.unique("Board")
        ev = self.create(c, cal, title=title)
        mid = ev["meeting"]["meeting_id"]
        start = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=4)
        r = c.call("PATCH", f"/api/events/{ev['id']}", {
            "title": title + " (moved)", "start": rfc3339(start),
            "end": rfc3339(start + datetime.timedelta(minutes=90))})
        self.assertEqual(r.status, 200, r)
        zm = self.zoom_meeting(mid)
        self.assertEqual((zm["topic"], zm["start_time"], zm["duration"]),
                         (title + " (moved)", rfc3339(start), 90))
        self.assertIn("zoom.meeting.updated", self.activity(c))
        # Moved in Google: the next sync round moves the meeting.
        later = start + datetime.timedelta(hours=2)
        g = self.google_events(title + " (moved)")[0]
        r = self.sb.request("POST", "/_sandbox/google/calendars/alice%40example.com/events/"
                            + g["id"] + "/patch", {
                                "start": {"dateTime": rfc3339(later)},
                                "end": {"dateTime": rfc3339(later + datetime.timedelta(
                                    minutes=30))}})
        self.assertIn(r.status, (200, 204), r)
        self.wait_until(lambda: self.zoom_meeting(mid)["start_time"] == rfc3339(later),
                        "the meeting to follow the event")
        self.assertEqual(self.zoom_meeting(mid)["duration"], 30)

    def test_a_failed_meeting_update_is_retried(self):
        c, cal = self.ready()
        title = self.unique("Retried")
        ev = self.create(c, cal, title=title)
        mid = ev["meeting"]["meeting_id"]
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "PATCH", "path_prefix": f"/zoom/v2/meetings/{mid}", "status": 503,
            "body": {"code": 503, "message": "Service unavailable"}, "count": 1}]})
        start = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=6)
        r = c.call("PATCH", f"/api/events/{ev['id']}", {
            "start": rfc3339(start), "end": rfc3339(start + datetime.timedelta(minutes=20))})
        self.assertIn(r.status, (200, 202), r)
        self.wait_until(lambda: self.zoom_meeting(mid)["start_time"] == rfc3339(start),
                        "the meeting to move after the retry")
        self.assertEqual(self.zoom_meeting(mid)["duration"], 20)
        patches = [q for q in self.sb.requests()
                   if q["method"] == "PATCH" and q["path"] == f"/zoom/v2/meetings/{mid}"]
        self.assertEqual(len(patches), 2, "the refused update and its retry")
        self.writes_settle(ev["id"])
        self.assertEqual(self.google_events(title)[0]["start"]["dateTime"], rfc3339(start))


class OccurrenceTest(WriteCase):
    """One occurrence of a recurring event is changed or deleted on its own."""

    def test_edit_and_delete_single_occurrences(self):
        c, cal = self.ready(zoom=False)
        title = self.unique("Weekly")
        start = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=1)
        self.google_event(title, start, minutes=30, recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
        evs = self.wait_for(c, lambda evs: len([e for e in evs if e["title"] == title]) == 3,
                            "the three occurrences")
        first, second, third = sorted((e for e in evs if e["title"] == title),
                                      key=lambda e: e["start"])
        r = c.call("PATCH", f"/api/events/{second['id']}", {"title": title + " (moved)"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(c.call("DELETE", f"/api/events/{third['id']}").status, 204)
        self.writes_settle(third["id"])
        # Google holds the change as an exception of that occurrence only, and the deletion.
        g = [e for e in self.sb.state()["google"]["events"]
             if e.get("summary", "").startswith(title)]
        moved = [e for e in g if e.get("summary") == title + " (moved)"]
        self.assertEqual(len(moved), 1, g)
        self.assertEqual(moved[0]["id"], second["external_id"])
        # The next sync rounds agree: one moved, one as it was, the third gone.
        time.sleep(2.5)
        titles = sorted(e["title"] for e in self.events(c) if e["title"].startswith(title))
        self.assertEqual(titles, [title, title + " (moved)"])
        self.assertEqual(c.call("GET", f"/api/events/{first['id']}").json()["title"], title)
