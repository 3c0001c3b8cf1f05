"""Three Calendox instances on one PostgreSQL behind nginx (tests/api/cluster.py): the Zoom flow
while instances are killed (SIGKILL) and started again, with no duplicate meeting and no lost
event, and exactly one token refresh per expiry across all instances. Runs on the PostgreSQL pass
of `make test` (CALENDOX_TEST_DATABASE_URL); SQLite has one instance by design."""

import threading
import time
import unittest
import uuid

from harness import PG_SERVER_URL
from test_events_write import WriteCase

SETTLE_S = 60


@unittest.skipUnless(PG_SERVER_URL, "several instances share a PostgreSQL store: run by the "
                     "PostgreSQL pass of make test")
class MultiInstanceTest(WriteCase):
    # Short leases, so a killed instance's jobs are taken over within seconds.
    extra_env = dict(WriteCase.extra_env, CALENDOX_JOB_LEASE_S="6")

    @classmethod
    def setUpClass(cls):
        from cluster import Cluster
        cls.server = Cluster(3, extra_env=cls.extra_env).start()

    def post_until_answered(self, client, body, key):
        """POST with an Idempotency-Key, repeated while an instance dies under it."""
        deadline = time.time() + SETTLE_S
        while True:
            try:
                r = client.call("POST", "/api/events", body, headers={"Idempotency-Key": key})
                if r.status in (201, 202):
                    return r.json()
            except OSError:
                pass
            if time.time() > deadline:
                self.fail(f"the create never went through: {body['title']}")
            time.sleep(0.3)

    def delete_until_answered(self, client, event_id):
        deadline = time.time() + SETTLE_S
        while True:
            try:
                r = client.call("DELETE", f"/api/events/{event_id}")
                if r.status in (204, 404):
                    return
            except OSError:
                pass
            if time.time() > deadline:
                self.fail(f"the delete never went through: {event_id}")
            time.sleep(0.3)

    def writes_settled(self):
        rows = self.server.db_query(
            "SELECT COUNT(*) FROM jobs WHERE kind IN ('event.write', 'zoom.meeting.delete') "
            "AND state IN ('queued', 'running')")
        return rows[0][0] == 0

    def test_zoom_flow_while_instances_die(self):
        c, cal = self.ready()
        self.sb.request("POST", "/_sandbox/latency", {"ms": 300})
        stop = threading.Event()
        kills = []

        def chaos():
            i = 0
            while not stop.is_set():
                kills.append(i % self.server.n)
                victim = i % self.server.n
                self.server.kill_instance(victim)
                time.sleep(0.5)
                self.server.start_instance(victim)
                time.sleep(0.5)
                i += 1

        killer = threading.Thread(target=chaos)
        made, lock = [], threading.Lock()

        def make(n):
            title = self.unique(f"Cluster {n}")
            ev = self.post_until_answered(c, self.body(cal, title=title), str(uuid.uuid4()))
            with lock:
                made.append((title, ev["id"]))

        killer.start()
        try:
            # Three waves of four, so the writes span several kills.
            for wave in range(3):
                workers = [threading.Thread(target=make, args=(wave * 4 + n,))
                           for n in range(4)]
                for w in workers:
                    w.start()
                for w in workers:
                    w.join()
            gone = made[:4]
            for _, event_id in gone:
                self.delete_until_answered(c, event_id)
        finally:
            stop.set()
            killer.join()
        for i in range(self.server.n):
            if self.server.procs[i] is None:
                self.server.start_instance(i)
        self.sb.request("POST", "/_sandbox/latency", {"ms": 0})
        self.wait_until(self.writes_settled, "every write job to finish")

        self.assertGreaterEqual(len(kills), 2, "instances died while events were written")
        kept = made[4:]
        live = {m["topic"]: m for m in self.zoom_meetings()}
        topics = [m["topic"] for m in self.zoom_meetings()]
        unconfirmed = self.activity(c).count("zoom.meeting.unconfirmed")
        for title, event_id in kept:
            ev = self.settled(c, event_id)
            m = ev["meeting"]
            self.assertEqual(m["status"], "ready", ev)
            g = self.google_events(title)
            self.assertEqual(len(g), 1, f"one Google event for {title}: {g}")
            self.assertEqual(g[0]["location"], m["join_url"])
            self.assertIn(title, live)
            self.assertTrue(any(x["join_url"] == m["join_url"] for x in self.zoom_meetings()
                                if x["topic"] == title))
        for title, event_id in gone:
            self.assertEqual(c.call("GET", f"/api/events/{event_id}").status, 404)
            self.assertFalse(self.google_events(title), f"{title} is gone from Google")
        self.wait_until(lambda: not [m for m in self.zoom_meetings()
                                     if m["topic"] in {t for t, _ in gone}],
                        "the deleted events' meetings to go")
        extra = len([t for t in topics if t in {t for t, _ in kept}]) - len(kept)
        self.assertLessEqual(extra, unconfirmed,
                             "every extra meeting comes from a create whose answer was lost, "
                             "and each one is in activity")
        self.no_duplicate_rows()

    def test_one_refresh_per_expiry_across_instances(self):
        c, cal = self.ready()
        before = self.sb.state()["zoom"]["counters"]["token_refreshes"]
        # Past the access token's hour: every create needs a fresh token.
        self.sb.request("POST", "/_sandbox/clock", {"advance_seconds": 3700})
        results, lock = [], threading.Lock()

        def make():
            r = c.call("POST", "/api/events", self.body(cal))
            with lock:
                results.append(r)

        threads = [threading.Thread(target=make) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        refused = [r for r in results if r.status not in (201, 202)]
        self.assertEqual(refused, [])
        for r in results:
            ev = self.settled(c, r.json()["id"])
            self.assertEqual(ev["meeting"]["status"], "ready", ev)
        zoom = self.sb.state()["zoom"]
        self.assertEqual(zoom["counters"]["token_refreshes"] - before, 1)
        self.assertNotIn("zoom.needs_reconnect", self.activity(c))
