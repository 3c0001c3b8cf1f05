"""Plans and billing (DESIGN §4 "Plans", §5), the admin CLI and trial expiry."""

import time

from base import ServerTest
from harness import Client, Server, unique_email


class BillingTest(ServerTest):
    def test_billing_lists_plans(self):
        c = self.signed_up()
        r = c.call("GET", "/api/billing")
        self.assertEqual(r.status, 200, r)
        b = r.json()
        self.assertEqual(b["plan"], "trial")
        self.assertEqual(b["status"], "trialing")
        self.assertIsNotNone(b["trial_ends_at"])
        self.assertEqual({p["name"]: p["calendar_accounts"] for p in b["plans"]},
                         {"basic": 2, "standard": 5, "premium": None})
        self.assertEqual(self.server.request("GET", "/api/billing").status, 401)

    def test_subscribe(self):
        c = self.signed_up()
        r = c.call("POST", "/api/billing/subscribe", {"plan": "standard"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"plan": "standard", "status": "active"})
        self.assertEqual(c.call("GET", "/api/me").json()["plan"]["name"], "standard")
        kinds = [e["kind"] for e in c.call("GET", "/api/activity").json()["entries"]]
        self.assertIn("plan.changed", kinds)

    def test_bad_plans_change_nothing(self):
        c = self.signed_up()
        before = self.server.snapshot()
        for body in [{"plan": "free"}, {"plan": "trial"}, {"plan": "gold"}, {"plan": 1},
                     {"plan": "basic", "coupon": "x"}, {}]:
            with self.subTest(body=body):
                r = c.call("POST", "/api/billing/subscribe", body)
                self.assertError(r, 400, "invalid_request")
        self.assertEqual(self.server.snapshot(), before)


class AdminAndExpiryTest(ServerTest):
    def test_admin_plan_cli(self):
        c = self.signed_up()
        r = self.server.run_cli("admin", "plan", c.email, "premium")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(c.call("GET", "/api/me").json()["plan"]["name"], "premium")
        r = self.server.run_cli("admin", "plan", c.email, "gold")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown plan", r.stderr)
        r = self.server.run_cli("admin", "plan", unique_email("nobody"), "basic")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no account", r.stderr)
        self.assertEqual(c.call("GET", "/api/me").json()["plan"]["name"], "premium")

    def test_ended_trial_is_free_at_once_and_recorded_by_the_job(self):
        c = self.signed_up()
        self.server.db_exec("UPDATE subscriptions SET trial_ends_at = ? WHERE user_id = "
                            "(SELECT id FROM users WHERE email = ?)",
                            (int(time.time()) - 5, c.email))
        plan = c.call("GET", "/api/me").json()["plan"]
        self.assertEqual(plan["name"], "free")
        self.assertEqual(plan["status"], "trial_ended")
        # The periodic job records it in the store: restart with its slot cleared so it runs now.
        self.server.stop()
        self.server.db_exec("DELETE FROM jobs WHERE kind = 'plans.expire_trials'")
        self.server.start()
        deadline = time.time() + 10
        row = None
        while time.time() < deadline:
            row = self.server.db_query(
                "SELECT plan, status FROM subscriptions WHERE user_id = "
                "(SELECT id FROM users WHERE email = ?)", (c.email,))[0]
            if row[0] == "free":
                break
            time.sleep(0.1)
        self.assertEqual(row, ("free", "trial_ended"))
        entries = c.call("GET", "/api/activity").json()["entries"]
        self.assertIn("plan.trial_ended", [e["kind"] for e in entries])
        # Subscribing again lifts it.
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "basic"}).status, 200)
        self.assertEqual(c.call("GET", "/api/me").json()["plan"]["name"], "basic")


class PaymentsOffTest(ServerTest):
    extra_env = {"CALENDOX_PAYMENTS": "none"}

    def test_subscribe_refused_without_payments(self):
        c = self.signed_up()
        before = self.server.snapshot()
        r = c.call("POST", "/api/billing/subscribe", {"plan": "basic"})
        self.assertError(r, 409, "payments_unavailable")
        self.assertEqual(self.server.snapshot(), before)
