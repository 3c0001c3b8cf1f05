"""The first sync of Google and Microsoft calendars into Calendox and the Unified Calendar's event
list (DESIGN §4 sync, §5 GET /api/events and /api/events/{id}), against the sandbox: events made
outside Calendox appear after connecting, recurring series as occurrences, edits and deletions
outside reach Calendox by the poll, a dead sync token (410) and a failing page (503) end without
duplicates, bad ranges are refused and nobody sees another person's events."""

import datetime
import time
import urllib.parse
import uuid

from base import ServerTest
from test_calendars_connect import AUTHORIZE, USER, split

WAIT_S = 20


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class SyncCase(ServerTest):
    """Helpers shared by the sync tests; the subclasses hold the tests."""
    sandbox = True

    def setUp(self):
        self.sb = self.server.sandbox
        self.sb.request("DELETE", "/_sandbox/faults")

    # --- helpers ---

    def connect(self, client, provider):
        r = client.call("GET", f"/oauth/{provider}/start")
        self.assertEqual(r.status, 302, r)
        path, params = split(r.header("Location"))
        self.assertEqual(self.sb.request("GET", path).status, 200)
        d = self.sb.request("POST", AUTHORIZE[provider] + "/decision",
                            form=dict(params, user=USER[provider], decision="allow"))
        self.assertEqual(d.status, 302, d)
        r = client.call("GET", split(d.header("Location"))[0])
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"connected", r.body)

    def range_query(self, days_back=31, days_ahead=366):
        n = now_utc()
        start = rfc3339(n - datetime.timedelta(days=days_back))
        end = rfc3339(n + datetime.timedelta(days=days_ahead - days_back))
        return "/api/events?" + urllib.parse.urlencode({"start": start, "end": end})

    def events(self, client):
        r = client.call("GET", self.range_query())
        self.assertEqual(r.status, 200, r)
        return r.json()["events"]

    def titled(self, client, title):
        return [e for e in self.events(client) if e["title"] == title]

    def wait_for(self, client, pred, what):
        deadline = time.time() + WAIT_S
        while True:
            evs = self.events(client)
            if pred(evs):
                return evs
            if time.time() > deadline:
                self.fail(f"timed out waiting for {what}; events: {evs}")
            time.sleep(0.2)

    def google_event(self, title, start, minutes=60, calendar="alice@example.com", **extra):
        # Recurring events need the zone their rule repeats in.
        body = {"summary": title, "start": {"dateTime": rfc3339(start), "timeZone": "UTC"},
                "end": {"dateTime": rfc3339(start + datetime.timedelta(minutes=minutes)),
                        "timeZone": "UTC"}}
        body.update(extra)
        r = self.sb.request("POST", "/_sandbox/google/calendars/"
                            f"{urllib.parse.quote(calendar)}/events", body)
        self.assertIn(r.status, (200, 201), r)
        return r.json()

    def microsoft_event(self, title, start, minutes=60):
        body = {"subject": title,
                "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {"dateTime": (start + datetime.timedelta(minutes=minutes))
                        .strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}}
        r = self.sb.request("POST", "/_sandbox/microsoft/events", body)
        self.assertIn(r.status, (200, 201), r)
        return r.json()

    def no_duplicate_rows(self):
        rows = self.server.db_query(
            "SELECT calendar_id, external_id, COUNT(*) FROM events "
            "GROUP BY calendar_id, external_id HAVING COUNT(*) > 1")
        self.assertEqual(rows, [])

    def unique(self, label):
        return f"{label} {uuid.uuid4().hex[:8]}"

    # --- tests ---


class EventsSyncTest(SyncCase):
    extra_env = {"CALENDOX_SYNC_POLL_S": "1"}

    def test_google_events_and_occurrences_appear_after_connecting(self):
        soon = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=2)
        title, weekly, work = self.unique("Dentist"), self.unique("Weekly"), self.unique("Work")
        single = self.google_event(title, soon, description="Bring the card",
                                   location="Main street 1")
        self.google_event(weekly, soon + datetime.timedelta(hours=3), minutes=30,
                          recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
        self.google_event(work, soon + datetime.timedelta(hours=5), calendar="c_alicework@group.calendar.google.com")
        far = self.unique("Far away")
        self.google_event(far, now_utc() + datetime.timedelta(days=500))

        c = self.signed_up()
        self.connect(c, "google")
        evs = self.wait_for(c, lambda evs: len([e for e in evs if e["title"] == weekly]) == 3
                            and any(e["title"] == title for e in evs)
                            and any(e["title"] == work for e in evs), "the first sync")
        one = [e for e in evs if e["title"] == title][0]
        self.assertEqual(one["provider"], "google")
        self.assertEqual(one["external_id"], single["id"])
        self.assertEqual(one["start"], rfc3339(soon))
        self.assertEqual(one["end"], rfc3339(soon + datetime.timedelta(hours=1)))
        self.assertEqual(one["description"], "Bring the card")
        self.assertEqual(one["location"], "Main street 1")
        self.assertFalse(one["all_day"])
        self.assertIsNone(one["meeting"])
        self.assertIsInstance(one["id"], str)
        self.assertIsInstance(one["calendar_id"], str)
        self.assertIsInstance(one["updated_at"], str)
        # Occurrences: three different instances a week apart, not the series itself.
        occ = sorted((e for e in evs if e["title"] == weekly), key=lambda e: e["start"])
        self.assertEqual(len({e["external_id"] for e in occ}), 3)
        starts = [datetime.datetime.strptime(e["start"], "%Y-%m-%dT%H:%M:%SZ") for e in occ]
        self.assertEqual(starts[1] - starts[0], datetime.timedelta(days=7))
        self.assertEqual(starts[2] - starts[1], datetime.timedelta(days=7))
        # The Work calendar is another calendar of the same account.
        w = [e for e in evs if e["title"] == work][0]
        self.assertNotEqual(w["calendar_id"], one["calendar_id"])
        # Outside the window (365 days ahead): not synced.
        self.assertEqual(self.titled(c, far), [])
        # One event read back.
        r = c.call("GET", f"/api/events/{one['id']}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), one)
        # Both calendars reached Google with singleEvents and the window.
        lists = [q for q in self.sb.requests() if q["method"] == "GET"
                 and q["path"].startswith("/google/calendar/v3/calendars/")
                 and q["path"].endswith("/events")]
        self.assertTrue(lists)
        self.assertTrue(any("singleEvents=true" in q["query"] and "timeMin=" in q["query"]
                            for q in lists), lists)
        # A cursor per calendar after the round.
        cur = self.server.db_query("SELECT COUNT(*) FROM calendars WHERE sync_token IS NOT NULL")
        self.assertGreaterEqual(cur[0][0], 2)
        self.no_duplicate_rows()

    def test_meet_link_is_the_events_meeting(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=3)
        title = self.unique("Meet call")
        self.google_event(title, soon, conferenceData={"createRequest": {
            "requestId": uuid.uuid4().hex, "conferenceSolutionKey": {"type": "hangoutsMeet"}}})
        c = self.signed_up()
        self.connect(c, "google")
        evs = self.wait_for(c, lambda evs: any(e["title"] == title for e in evs), "the event")
        ev = [e for e in evs if e["title"] == title][0]
        self.assertIsNotNone(ev["meeting"], ev)
        self.assertEqual(ev["meeting"]["provider"], "google_meet")
        self.assertEqual(ev["meeting"]["status"], "ready")
        self.assertIn("/google/meet/", ev["meeting"]["join_url"])

    def test_outside_edit_and_delete_reach_calendox_by_the_poll(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=4)
        keep, drop = self.unique("Keep"), self.unique("Drop")
        k = self.google_event(keep, soon)
        d = self.google_event(drop, soon + datetime.timedelta(hours=2))
        c = self.signed_up()
        self.connect(c, "google")
        self.wait_for(c, lambda evs: {keep, drop} <= {e["title"] for e in evs}, "the first sync")
        moved = self.unique("Kept and moved")
        r = self.sb.request("POST", f"/_sandbox/google/calendars/alice%40example.com/events/"
                            f"{k['id']}/patch", {"summary": moved})
        self.assertEqual(r.status, 200, r)
        r = self.sb.request("POST", f"/_sandbox/google/calendars/alice%40example.com/events/"
                            f"{d['id']}/delete")
        self.assertIn(r.status, (200, 204), r)
        evs = self.wait_for(c, lambda evs: any(e["title"] == moved for e in evs)
                            and not any(e["title"] == drop for e in evs), "the poll")
        self.assertFalse(any(e["title"] == keep for e in evs))
        # The incremental rounds used the stored sync token.
        self.assertTrue(any("syncToken=" in q["query"] for q in self.sb.requests()
                            if q["path"].startswith("/google/calendar/v3/calendars/")))
        self.no_duplicate_rows()

    def test_an_expired_token_is_refreshed_and_sync_goes_on(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=6)
        first = self.unique("Before expiry")
        self.google_event(first, soon)
        c = self.signed_up()
        self.connect(c, "google")
        self.wait_for(c, lambda evs: any(e["title"] == first for e in evs), "the first sync")
        refreshes = self.sb.state()["google"]["counters"]["token_refreshes"]
        # On Google's clock the access token is now dead, while Calendox still believes it has
        # half an hour left: the 401 must lead to a refresh and the page being fetched again.
        self.sb.request("POST", "/_sandbox/clock", {"advance_seconds": 3700})
        later = self.unique("After expiry")
        self.google_event(later, soon + datetime.timedelta(hours=1))
        self.wait_for(c, lambda evs: any(e["title"] == later for e in evs), "the refreshed sync")
        self.assertGreater(self.sb.state()["google"]["counters"]["token_refreshes"], refreshes)
        account = self.server.db_query(
            "SELECT status, token_version FROM calendar_accounts WHERE user_id = "
            "(SELECT id FROM users WHERE email = ?)", (c.email,))[0]
        self.assertEqual(account[0], "active")
        self.assertGreater(account[1], 1)
        self.no_duplicate_rows()

    def test_dead_sync_token_means_a_full_resync_without_duplicates(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=5)
        first = self.unique("Before 410")
        self.google_event(first, soon)
        c = self.signed_up()
        self.connect(c, "google")
        self.wait_for(c, lambda evs: any(e["title"] == first for e in evs), "the first sync")
        before = len(self.events(c))
        r = self.sb.request("POST", "/_sandbox/google/invalidate_sync_tokens")
        self.assertIn(r.status, (200, 204), r)
        after = self.unique("After 410")
        self.google_event(after, soon + datetime.timedelta(hours=1))
        evs = self.wait_for(c, lambda evs: any(e["title"] == after for e in evs), "the resync")
        self.assertEqual(len(evs), before + 1)
        self.assertEqual(len([e for e in evs if e["title"] == first]), 1)
        self.no_duplicate_rows()

    def test_a_failing_page_is_retried_without_duplicates(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=6)
        title = self.unique("Despite 503")
        self.google_event(title, soon)
        r = self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "GET", "path_prefix": "/google/calendar/v3/calendars/", "status": 503,
            "body": {"error": {"code": 503, "message": "Backend Error",
                               "errors": [{"reason": "backendError"}]}},
            "count": 2}]})
        self.assertIn(r.status, (200, 204), r)
        c = self.signed_up()
        self.connect(c, "google")
        evs = self.wait_for(c, lambda evs: any(e["title"] == title for e in evs), "the retry")
        self.assertEqual(len([e for e in evs if e["title"] == title]), 1)
        self.no_duplicate_rows()
        failed = self.server.db_query(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'calendar.sync' AND state = 'failed'")
        self.assertEqual(failed[0][0], 0)

    def test_microsoft_events_sync_and_removals(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=2)
        title, gone = self.unique("Outlook review"), self.unique("Outlook gone")
        m = self.microsoft_event(title, soon)
        g = self.microsoft_event(gone, soon + datetime.timedelta(hours=2))
        c = self.signed_up()
        self.connect(c, "microsoft")
        evs = self.wait_for(c, lambda evs: {title, gone} <= {e["title"] for e in evs},
                            "the first sync")
        ev = [e for e in evs if e["title"] == title][0]
        self.assertEqual(ev["provider"], "microsoft")
        self.assertEqual(ev["external_id"], m["id"])
        self.assertEqual(ev["start"], rfc3339(soon))
        r = self.sb.request("POST", f"/_sandbox/microsoft/events/{g['id']}/delete")
        self.assertIn(r.status, (200, 204), r)
        self.wait_for(c, lambda evs: not any(e["title"] == gone for e in evs)
                      and any(e["title"] == title for e in evs), "the removal")
        self.no_duplicate_rows()

    def test_bad_ranges_are_refused(self):
        c = self.signed_up()
        n = now_utc()
        good_start, good_end = rfc3339(n), rfc3339(n + datetime.timedelta(days=7))
        cases = [
            {},
            {"start": good_start},
            {"end": good_end},
            {"start": "yesterday", "end": good_end},
            {"start": good_start, "end": "2026-13-01T00:00:00Z"},
            {"start": n.strftime("%Y-%m-%dT%H:%M:%S"), "end": good_end},  # no offset
            {"start": good_end, "end": good_start},                       # end before start
            {"start": good_start, "end": good_start},                     # empty range
            {"start": good_start, "end": rfc3339(n + datetime.timedelta(days=367))},
        ]
        for q in cases:
            r = c.call("GET", "/api/events?" + urllib.parse.urlencode(q))
            self.assertError(r, 400, "invalid_request")
        r = c.call("GET", "/api/events?" + urllib.parse.urlencode(
            {"start": "2026-01-01T00:00:00+02:00",
             "end": "2027-01-02T00:00:00+02:00"}))  # exactly 366 days
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"events": []})
        self.assertEqual(self.server.request("GET", "/api/events?" + urllib.parse.urlencode(
            {"start": good_start, "end": good_end})).status, 401)
        self.assertError(c.call("GET", "/api/events/0"), 404, "not_found")
        self.assertError(c.call("GET", "/api/events/abc"), 404, "not_found")
        self.assertError(c.call("GET", "/api/events/99999999"), 404, "not_found")

    def test_nobody_sees_another_persons_events(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=8)
        title = self.unique("Private")
        self.google_event(title, soon)
        alice = self.signed_up("alice")
        self.connect(alice, "google")
        evs = self.wait_for(alice, lambda evs: any(e["title"] == title for e in evs), "sync")
        mine = [e for e in evs if e["title"] == title][0]
        other = self.signed_up("other")
        self.assertEqual(self.events(other), [])
        self.assertError(other.call("GET", f"/api/events/{mine['id']}"), 404, "not_found")
        # Unselecting the calendar hides its events from the list.
        r = alice.call("PATCH", f"/api/calendars/{mine['calendar_id']}", {"selected": False})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.titled(alice, title), [])


WORK_CALENDAR = "c_alicework@group.calendar.google.com"


class ReselectTest(SyncCase):
    # The poll is out of the picture here: only the re-selection can bring the event in.
    extra_env = {"CALENDOX_SYNC_POLL_S": "3600"}

    def test_a_calendar_shown_again_is_synced_at_once(self):
        for attempt in range(3):
            with self.subTest(attempt=attempt):
                c = self.signed_up()
                self.connect(c, "google")
                accounts = c.call("GET", "/api/calendars").json()["accounts"]
                work = next(cal for a in accounts for cal in a["calendars"]
                            if cal["name"] == "Work")
                r = c.call("PATCH", f"/api/calendars/{work['id']}", {"selected": False})
                self.assertEqual(r.status, 200, r)
                # Created while hidden, and re-selected at once: often while the first round
                # is still running, which must then be followed by another.
                later = self.unique("Work while hidden")
                self.google_event(later, now_utc() + datetime.timedelta(days=3),
                                  calendar=WORK_CALENDAR)
                r = c.call("PATCH", f"/api/calendars/{work['id']}", {"selected": True})
                self.assertEqual(r.status, 200, r)
                self.wait_for(c, lambda evs: any(e["title"] == later for e in evs),
                              "the re-selection")
                self.no_duplicate_rows()


class PagingTest(SyncCase):
    """A calendar larger than one page: every page is stored, once (Google pages of at most 250 —
    short ones with an empty last page here — and Graph pages of 100)."""
    extra_env = {"CALENDOX_SYNC_POLL_S": "1"}

    def test_many_pages_arrive_whole_for_both_providers(self):
        self.sb.request("POST", "/_sandbox/google/page_mode", {"short": True})
        try:
            base = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=1)
            tag = self.unique("Paged")
            for i in range(260):
                self.google_event(f"{tag} g{i}", base + datetime.timedelta(hours=i))
            for i in range(230):
                self.microsoft_event(f"{tag} m{i}", base + datetime.timedelta(hours=i))
            c = self.signed_up()
            self.connect(c, "google")
            self.connect(c, "microsoft")

            def count(evs, p):
                return len({e["title"] for e in evs if e["title"].startswith(f"{tag} {p}")})
            evs = self.wait_for(c, lambda evs: count(evs, "g") == 260 and count(evs, "m") == 230,
                                "every page of both calendars")
            titles = [e["title"] for e in evs if e["title"].startswith(tag)]
            self.assertEqual(len(titles), len(set(titles)), "no event twice")
            self.no_duplicate_rows()
            reqs = self.sb.requests()
            g_pages = [q for q in reqs if q["method"] == "GET" and
                       q["path"].startswith("/google/") and "pageToken=" in (q["query"] or "")]
            m_pages = [q for q in reqs if q["method"] == "GET" and
                       q["path"].startswith("/microsoft/") and "skiptoken=" in (q["query"] or "")]
            self.assertGreaterEqual(len(g_pages), 2, "Google answered in several pages")
            self.assertGreaterEqual(len(m_pages), 2, "Graph answered in several pages")
        finally:
            self.sb.request("POST", "/_sandbox/google/page_mode", {"short": False})


class SyncKillTest(SyncCase):
    """A sync killed half-way (kill -9) resumes after a restart without losing or duplicating."""
    extra_env = {"CALENDOX_SYNC_POLL_S": "1", "CALENDOX_JOB_LEASE_S": "5"}

    def test_a_killed_sync_resumes_whole(self):
        self.sb.request("POST", "/_sandbox/google/page_mode", {"short": True})
        try:
            base = now_utc().replace(minute=0, second=0) + datetime.timedelta(days=1)
            tag = self.unique("Killed")
            for i in range(400):
                self.google_event(f"{tag} {i}", base + datetime.timedelta(hours=i))
            self.sb.request("POST", "/_sandbox/latency", {"ms": 400})
            c = self.signed_up()
            self.connect(c, "google")

            def stored():
                return self.server.db_query(
                    "SELECT COUNT(*) FROM events WHERE title LIKE ?", (tag + " %",))[0][0]
            deadline = time.time() + WAIT_S
            while stored() == 0 and time.time() < deadline:
                time.sleep(0.05)
            partial = stored()
            self.assertGreater(partial, 0, "a first page was stored")
            self.assertLess(partial, 400, "the kill came before the round ended")
            self.server.proc.kill()
            self.server.proc.wait()
            self.sb.request("POST", "/_sandbox/latency", {"ms": 0})
            self.server.start()
            self.wait_for(c, lambda evs: len({e["title"] for e in evs
                                              if e["title"].startswith(tag)}) == 400,
                          "every event after the restart")
            self.no_duplicate_rows()
        finally:
            self.sb.request("POST", "/_sandbox/latency", {"ms": 0})
            self.sb.request("POST", "/_sandbox/google/page_mode", {"short": False})
