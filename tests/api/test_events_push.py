"""Push notifications for calendar sync (DESIGN §4 "Delete", §5 POST /webhooks/google and
/webhooks/microsoft, §7), against the sandbox with a poll of an hour, so only push can bring a
change in quickly: connecting registers a Google channel and a Graph subscription; edits and
deletions made outside Calendox arrive within seconds; forged notifications change nothing; the
Graph validation handshake; renewals (Google: a new channel, the old one stopped; Graph: PATCH);
removing an account and hiding a calendar stop their registrations at the provider."""

import datetime
import time
import urllib.parse

from test_events_sync import SyncCase, now_utc

PUSH_WAIT_S = 8
WORK_CALENDAR = "c_alicework@group.calendar.google.com"


class PushCase(SyncCase):
    extra_env = {"CALENDOX_SYNC_POLL_S": "3600"}

    # --- helpers ---

    def calendar_ids(self, client, provider, name=None):
        accounts = client.call("GET", "/api/calendars").json()["accounts"]
        return [int(cal["id"]) for a in accounts if a["provider"] == provider
                for cal in a["calendars"] if name is None or cal["name"] == name]

    def registrations(self, calendar_ids, state="active"):
        if not calendar_ids:
            return []
        marks = ",".join("?" * len(calendar_ids))
        return self.server.db_query(
            "SELECT id, calendar_id, channel_id, resource_id, expires_at, state FROM "
            f"push_registrations WHERE calendar_id IN ({marks}) AND state = ? ORDER BY id",
            tuple(calendar_ids) + (state,))

    def wait_until(self, pred, what, timeout=PUSH_WAIT_S):
        deadline = time.time() + timeout
        while True:
            value = pred()
            if value:
                return value
            if time.time() > deadline:
                self.fail(f"timed out waiting for {what}")
            time.sleep(0.1)

    def wait_registered(self, calendar_ids):
        return self.wait_until(
            lambda: (lambda rows: rows if len({r[1] for r in rows}) == len(calendar_ids)
                     else None)(self.registrations(calendar_ids)),
            "the push registrations")

    def google_channel(self, channel_id):
        for ch in self.sb.state()["google"]["channels"]:
            if ch["id"] == channel_id:
                return ch
        return None

    def graph_subscription(self, sub_id):
        for s in self.sb.state()["microsoft"]["subscriptions"]:
            if s["id"] == sub_id:
                return s
        return None

    def sync_jobs(self, calendar_id):
        return self.server.db_query(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'calendar.sync' AND payload = ?",
            (f'{{"calendar_id":{calendar_id}}}',))[0][0]

    def webhook(self, provider, headers=None, body=None, query=""):
        raw = body if isinstance(body, bytes) or body is None else body.encode()
        h = dict(headers or {})
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
        return self.server.request("POST", f"/webhooks/{provider}{query}", headers=h, raw=raw)

    def connected_google(self):
        c = self.signed_up()
        self.connect(c, "google")
        cals = self.calendar_ids(c, "google")
        rows = self.wait_registered(cals)
        return c, cals, rows

    def connected_microsoft(self):
        c = self.signed_up()
        self.connect(c, "microsoft")
        cals = self.calendar_ids(c, "microsoft")
        rows = self.wait_registered(cals)
        return c, cals, rows


class GooglePushTest(PushCase):

    def test_connecting_registers_a_channel_per_calendar(self):
        c, cals, rows = self.connected_google()
        self.assertEqual(len(cals), 2)
        for row in rows:
            ch = self.google_channel(row[2])
            self.assertIsNotNone(ch, row)
            self.assertEqual(ch["resourceId"], row[3])
            self.assertFalse(ch["stopped"])
            self.assertEqual(ch["address"], f"http://127.0.0.1:{self.server.port}/webhooks/google")
            # The first "sync" message was acknowledged.
            self.assertGreaterEqual(ch["messages"], 1)
        self.assertEqual({self.google_channel(r[2])["calendarId"] for r in rows},
                         {"alice@example.com", WORK_CALENDAR})
        # Only a hash of the channel token is stored.
        hashes = self.server.db_query(
            "SELECT secret_hash FROM push_registrations WHERE calendar_id = ?", (cals[0],))
        self.assertRegex(hashes[0][0], "^[0-9a-f]{64}$")

    def test_outside_edit_and_delete_arrive_by_push(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=3)
        keep, drop = self.unique("Push keep"), self.unique("Push drop")
        k = self.google_event(keep, soon)
        d = self.google_event(drop, soon + datetime.timedelta(hours=2))
        c, cals, rows = self.connected_google()
        self.wait_for(c, lambda evs: {keep, drop} <= {e["title"] for e in evs}, "the first sync")
        moved = self.unique("Push moved")
        started = time.time()
        r = self.sb.request("POST", "/_sandbox/google/calendars/alice%40example.com/events/"
                            f"{k['id']}/patch", {"summary": moved})
        self.assertEqual(r.status, 200, r)
        r = self.sb.request("POST", "/_sandbox/google/calendars/alice%40example.com/events/"
                            f"{d['id']}/delete")
        self.assertIn(r.status, (200, 204), r)
        self.wait_until(lambda: (lambda evs: any(e["title"] == moved for e in evs) and
                                 not any(e["title"] in (keep, drop) for e in evs))(
                                     self.events(c)), "the pushed changes")
        self.assertLess(time.time() - started, PUSH_WAIT_S)
        self.no_duplicate_rows()

    def test_forged_notifications_change_nothing(self):
        c, cals, rows = self.connected_google()
        self.wait_until(lambda: self.sync_jobs(cals[0]) >= 1, "the first sync job")
        time.sleep(0.5)
        before = self.sync_jobs(cals[0])
        channel = rows[0][2]
        resource = rows[0][3]
        good = {"X-Goog-Channel-ID": channel, "X-Goog-Resource-ID": resource,
                "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "9"}
        for headers in (dict(good, **{"X-Goog-Channel-Token": "not-the-token"}),
                        good,  # no token at all
                        dict(good, **{"X-Goog-Channel-ID": "unknown-channel",
                                      "X-Goog-Channel-Token": "whatever"})):
            r = self.webhook("google", headers)
            self.assertError(r, 404, "not_found")
        # The same answer for an unknown channel and a bad token: nothing tells ids apart.
        self.assertError(self.webhook("google", {"X-Goog-Resource-State": "exists"}), 400,
                         "invalid_request")
        self.assertEqual(self.sync_jobs(cals[0]), before)
        self.assertIn(self.server.request("GET", "/webhooks/google").status, (404, 405))

    def test_an_expiring_channel_is_replaced_and_the_old_one_stopped(self):
        c, cals, rows = self.connected_google()
        primary = [r for r in rows if self.google_channel(r[2])["calendarId"] ==
                   "alice@example.com"][0]
        # Within a day of its end: the next notification (or the periodic check) replaces it.
        self.server.db_exec("UPDATE push_registrations SET expires_at = ? WHERE id = ?",
                            (int(time.time()) + 3600, primary[0]))
        title = self.unique("Push renew")
        self.google_event(title, now_utc() + datetime.timedelta(days=2))
        self.wait_for(c, lambda evs: any(e["title"] == title for e in evs), "the pushed event")
        new = self.wait_until(
            lambda: [r for r in self.registrations([primary[1]]) if r[0] != primary[0]],
            "the new channel")
        self.assertEqual(len(new), 1)
        self.assertGreater(new[0][4], int(time.time()) + 86400)
        self.assertFalse(self.google_channel(new[0][2])["stopped"])
        self.wait_until(lambda: self.google_channel(primary[2])["stopped"], "the old stop")
        self.assertEqual(self.registrations([primary[1]]), new)
        # And the new one delivers.
        gone = self.unique("Push after renew")
        self.google_event(gone, now_utc() + datetime.timedelta(days=2, hours=3))
        self.wait_for(c, lambda evs: any(e["title"] == gone for e in evs), "the next push")

    def test_hiding_a_calendar_stops_its_channel_and_showing_it_watches_again(self):
        c, cals, rows = self.connected_google()
        work_id = self.calendar_ids(c, "google", "Work")[0]
        work = [r for r in rows if r[1] == work_id][0]
        r = c.call("PATCH", f"/api/calendars/{work_id}", {"selected": False})
        self.assertEqual(r.status, 200, r)
        self.wait_until(lambda: self.google_channel(work[2])["stopped"], "the channel stop")
        self.assertEqual(self.registrations([work_id]), [])
        # The other calendar keeps its channel.
        other = [r for r in rows if r[1] != work_id][0]
        self.assertFalse(self.google_channel(other[2])["stopped"])
        r = c.call("PATCH", f"/api/calendars/{work_id}", {"selected": True})
        self.assertEqual(r.status, 200, r)
        again = self.wait_registered([work_id])
        self.assertNotEqual(again[0][2], work[2])
        self.assertFalse(self.google_channel(again[0][2])["stopped"])

    def test_removing_the_account_stops_its_channels(self):
        c, cals, rows = self.connected_google()
        account = c.call("GET", "/api/calendars").json()["accounts"][0]["id"]
        r = c.call("DELETE", f"/api/calendar-accounts/{account}")
        self.assertEqual(r.status, 204, r)
        for row in rows:
            self.wait_until(lambda: self.google_channel(row[2])["stopped"], "the channel stops")
        self.assertEqual(self.server.db_query(
            "SELECT COUNT(*) FROM push_registrations WHERE account_id = ?", (int(account),))[0][0],
            0)
        # The grant is still revoked, after the stops.
        self.wait_until(lambda: any(q["path"] == "/google/revoke" for q in self.sb.requests()),
                        "the revoke", timeout=10)


class MicrosoftPushTest(PushCase):

    def test_connecting_subscribes_and_answers_the_validation(self):
        c, cals, rows = self.connected_microsoft()
        sub = self.graph_subscription(rows[0][2])
        self.assertIsNotNone(sub, rows)
        self.assertEqual(sub["status"], "active")
        url = f"http://127.0.0.1:{self.server.port}/webhooks/microsoft"
        self.assertEqual(sub["notificationUrl"], url)
        self.assertEqual(sub["lifecycleNotificationUrl"], url)
        self.assertGreater(rows[0][4], int(time.time()) + 2 * 86400)

    def test_validation_handshake(self):
        token = "Validation: Testing client application reachability <b>&"
        r = self.webhook("microsoft", {"Content-Type": "text/plain; charset=utf-8"}, b"",
                         "?validationToken=" + urllib.parse.quote(token))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        self.assertEqual(r.body.decode(), token)
        r = self.webhook("microsoft", {"Content-Type": "text/plain"}, b"",
                         "?validationToken=bad%01token")
        self.assertError(r, 400, "invalid_request")
        r = self.webhook("microsoft", {"Content-Type": "text/plain"}, b"",
                         "?validationToken=" + "x" * 5000)
        self.assertError(r, 400, "invalid_request")

    def test_outside_edit_and_delete_arrive_by_push(self):
        soon = now_utc().replace(second=0) + datetime.timedelta(days=3)
        keep, drop = self.unique("Outlook keep"), self.unique("Outlook drop")
        k = self.microsoft_event(keep, soon)
        d = self.microsoft_event(drop, soon + datetime.timedelta(hours=2))
        c, cals, rows = self.connected_microsoft()
        self.wait_for(c, lambda evs: {keep, drop} <= {e["title"] for e in evs}, "the first sync")
        moved = self.unique("Outlook moved")
        started = time.time()
        r = self.sb.request("POST", f"/_sandbox/microsoft/events/{k['id']}/patch",
                            {"subject": moved})
        self.assertEqual(r.status, 200, r)
        r = self.sb.request("POST", f"/_sandbox/microsoft/events/{d['id']}/delete")
        self.assertIn(r.status, (200, 204), r)
        self.wait_until(lambda: (lambda evs: any(e["title"] == moved for e in evs) and
                                 not any(e["title"] in (keep, drop) for e in evs))(
                                     self.events(c)), "the pushed changes")
        self.assertLess(time.time() - started, PUSH_WAIT_S)
        self.no_duplicate_rows()

    def test_forged_notifications_change_nothing(self):
        c, cals, rows = self.connected_microsoft()
        self.wait_until(lambda: self.sync_jobs(cals[0]) >= 1, "the first sync job")
        time.sleep(0.5)
        before = self.sync_jobs(cals[0])
        sub = rows[0][2]

        def note(sub_id, client_state):
            return ('{"value":[{"subscriptionId":"%s","clientState":%s,"changeType":"updated",'
                    '"resource":"Users/x/Events/y","resourceData":{"id":"y"}}]}'
                    % (sub_id, client_state))
        for body in (note(sub, '"wrong-state"'), note(sub, "null"),
                     note("00000000-0000-0000-0000-000000000000", '"wrong-state"')):
            r = self.webhook("microsoft", body=body)
            self.assertEqual(r.status, 202, r)
        for body in (b"not json", b"[]", b'{"value":'):
            self.assertError(self.webhook("microsoft", body=body), 400, "invalid_request")
        self.assertEqual(self.sync_jobs(cals[0]), before)

    def test_renewal_by_lifecycle_and_near_expiry(self):
        c, cals, rows = self.connected_microsoft()
        sub_id = rows[0][2]

        def patches():
            return [q for q in self.sb.requests() if q["method"] == "PATCH" and
                    q["path"] == f"/microsoft/v1.0/subscriptions/{sub_id}"]
        r = self.sb.request("POST", f"/_sandbox/microsoft/subscriptions/{sub_id}/lifecycle",
                            {"event": "reauthorizationRequired"})
        self.assertEqual(r.status, 200, r)
        self.wait_until(lambda: len(patches()) >= 1, "the renewal after reauthorizationRequired")
        # Near its end, the next notification renews it too (the periodic check would as well).
        self.server.db_exec("UPDATE push_registrations SET expires_at = ? WHERE id = ?",
                            (int(time.time()) + 3600, rows[0][0]))
        n = len(patches())
        title = self.unique("Outlook renew")
        self.microsoft_event(title, now_utc() + datetime.timedelta(days=2))
        self.wait_for(c, lambda evs: any(e["title"] == title for e in evs), "the pushed event")
        self.wait_until(lambda: len(patches()) > n, "the renewal near expiry")
        self.wait_until(lambda: self.registrations(cals)[0][4] > int(time.time()) + 2 * 86400,
                        "the stored expiry")
        self.assertEqual([r[2] for r in self.registrations(cals)], [sub_id])
        self.assertEqual(self.graph_subscription(sub_id)["status"], "active")

    def test_a_removed_subscription_is_made_again(self):
        c, cals, rows = self.connected_microsoft()
        sub_id = rows[0][2]
        r = self.sb.request("POST", f"/_sandbox/microsoft/subscriptions/{sub_id}/lifecycle",
                            {"event": "subscriptionRemoved"})
        self.assertEqual(r.status, 200, r)
        new = self.wait_until(
            lambda: [r for r in self.registrations(cals) if r[2] != sub_id], "a new subscription")
        self.assertEqual(self.graph_subscription(new[0][2])["status"], "active")

    def test_removing_the_account_deletes_its_subscription(self):
        c, cals, rows = self.connected_microsoft()
        account = c.call("GET", "/api/calendars").json()["accounts"][0]["id"]
        r = c.call("DELETE", f"/api/calendar-accounts/{account}")
        self.assertEqual(r.status, 204, r)
        self.wait_until(lambda: self.graph_subscription(rows[0][2])["status"] == "deleted",
                        "the subscription delete")
