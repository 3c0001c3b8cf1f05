"""Connecting Google and Microsoft calendar accounts and importing their calendars (DESIGN §4
"Connect", "Plans"; §5 /oauth/{google,microsoft}, /api/calendars, /api/calendar-accounts), against
the sandbox."""

import time
import urllib.parse

from base import ServerTest

GOOGLE_SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.events",
                 "https://www.googleapis.com/auth/calendar.calendarlist.readonly"]
MICROSOFT_SCOPES = ["offline_access", "openid", "email", "User.Read", "Calendars.ReadWrite"]
AUTHORIZE = {"google": "/google/o/oauth2/v2/auth",
             "microsoft": "/microsoft/common/oauth2/v2.0/authorize"}
USER = {"google": "alice@example.com", "microsoft": "alice@contoso.example"}


def split(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else ""), dict(urllib.parse.parse_qsl(u.query))


class ConnectCase(ServerTest):
    """The helpers of the calendar connect tests; the subclasses hold the tests."""
    sandbox = True

    def setUp(self):
        self.sb = self.server.sandbox
        self.sb.request("DELETE", "/_sandbox/faults")

    # --- helpers ---

    def start(self, client, provider):
        r = client.call("GET", f"/oauth/{provider}/start")
        self.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(self.sb.base + AUTHORIZE[provider] + "?"), loc)
        return split(loc)

    def authorize(self, client, provider, decision="allow"):
        """Start → the sandbox's consent page → the decision: the redirect back to Calendox."""
        path, params = self.start(client, provider)
        page = self.sb.request("GET", path)
        self.assertEqual(page.status, 200, page)
        d = self.sb.request("POST", AUTHORIZE[provider] + "/decision",
                            form=dict(params, user=USER[provider], decision=decision))
        self.assertEqual(d.status, 302, d)
        return split(d.header("Location"))[0]

    def connect(self, client, provider):
        cb = self.authorize(client, provider)
        r = client.call("GET", cb)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"connected", r.body)
        return cb

    def accounts(self, client):
        r = client.call("GET", "/api/calendars")
        self.assertEqual(r.status, 200, r)
        return r.json()["accounts"]

    def activity(self, client):
        return [e["kind"] for e in client.call("GET", "/api/activity").json()["entries"]]

    def providers(self, client):
        return {p["id"]: p for p in
                client.call("GET", "/api/meeting-providers").json()["providers"]}

    def user_id(self, client):
        return self.server.db_query("SELECT id FROM users WHERE email = ?", (client.email,))[0][0]

    def snapshot(self):
        s = self.server.snapshot()
        s.pop("oauth_states")  # every start stores one, and every callback uses it up
        # A connect starts a sync in the background; its progress (events, cursors) moves on its
        # own and is not what a refused request must leave alone.
        s.pop("events", None)
        s.pop("push_registrations", None)  # registrations settle on their own after a connect
        s["calendars"] = self.server.db_query(
            "SELECT id, account_id, external_id, name, is_primary, writable, color, selected "
            "FROM calendars ORDER BY id")
        return s

    def end_trial(self, client):
        self.server.db_exec("UPDATE subscriptions SET trial_ends_at = ? WHERE user_id = ?",
                            (int(time.time()) - 5, self.user_id(client)))

    def failed(self, r, status=400):
        self.assertEqual(r.status, status, r.body)
        self.assertIn(b"Authorization failed", r.body)


class CalendarsConnectTest(ConnectCase):
    # --- start ---

    def test_start_asks_for_the_scopes_extras_and_pkce(self):
        c = self.signed_up()
        _, g = self.start(c, "google")
        self.assertEqual(g["response_type"], "code")
        self.assertEqual(g["client_id"], "sandbox-google-client")
        self.assertEqual(g["redirect_uri"],
                         f"http://127.0.0.1:{self.server.port}/oauth/google/callback")
        self.assertEqual(g["scope"].split(" "), GOOGLE_SCOPES)
        self.assertEqual(g["access_type"], "offline")
        self.assertEqual(g["prompt"], "consent")
        self.assertEqual(g["include_granted_scopes"], "true")
        self.assertEqual(g["code_challenge_method"], "S256")
        self.assertRegex(g["code_challenge"], r"^[A-Za-z0-9_-]{43}$")
        self.assertGreaterEqual(len(g["state"]), 32)
        _, m = self.start(c, "microsoft")
        self.assertEqual(m["client_id"], "sandbox-microsoft-client")
        self.assertEqual(m["response_mode"], "query")
        self.assertEqual(m["scope"].split(" "), MICROSOFT_SCOPES)
        self.assertEqual(m["code_challenge_method"], "S256")
        self.assertNotEqual(m["state"], g["state"])
        for provider in ("google", "microsoft"):
            self.assertEqual(self.server.request("GET", f"/oauth/{provider}/start").status, 401)

    # --- connect ---

    def test_connect_google_imports_its_calendars(self):
        c = self.signed_up()
        self.assertEqual(self.accounts(c), [])
        self.assertFalse(self.providers(c)["google_meet"]["available"])
        self.connect(c, "google")
        accounts = self.accounts(c)
        self.assertEqual(len(accounts), 1)
        a = accounts[0]
        self.assertEqual((a["provider"], a["email"], a["status"]),
                         ("google", "alice@example.com", "active"))
        self.assertIsInstance(a["id"], str)
        cals = {cal["name"]: cal for cal in a["calendars"]}
        self.assertEqual(set(cals), {"alice@example.com", "Work"})
        self.assertTrue(cals["alice@example.com"]["primary"])
        self.assertFalse(cals["Work"]["primary"])
        self.assertEqual(cals["alice@example.com"]["color"], "#039be5")
        self.assertEqual(cals["Work"]["color"], "#7986cb")
        for cal in cals.values():
            self.assertTrue(cal["writable"])
            self.assertTrue(cal["selected"])
            self.assertIsInstance(cal["id"], str)
        self.assertEqual(a["calendars"][0]["name"], "alice@example.com")  # primary first
        self.assertIn("google.connected", self.activity(c))
        p = self.providers(c)
        self.assertEqual((p["google_meet"]["available"], p["google_meet"]["status"]),
                         (True, "connected"))
        self.assertFalse(p["teams"]["available"])
        # The code went to Google's token endpoint with PKCE and the client in the body.
        token = [q for q in self.sb.requests()
                 if q["method"] == "POST" and q["path"] == "/google/token"][-1]
        form = dict(urllib.parse.parse_qsl(token["body"]))
        self.assertEqual(form["grant_type"], "authorization_code")
        self.assertEqual(form["client_id"], "sandbox-google-client")
        self.assertIn("client_secret", form)
        self.assertRegex(form["code_verifier"], r"^[A-Za-z0-9_-]{43,128}$")
        # Tokens are sealed at rest.
        row = self.server.db_query(
            "SELECT tokens, external_id, token_expires_at FROM calendar_accounts "
            "WHERE user_id = ?", (self.user_id(c),))[0]
        self.assertNotIn("access_token", row[0])
        self.assertNotIn("ya29", row[0])
        self.assertEqual(row[1], "alice@example.com")
        self.assertGreater(row[2], time.time())

    def test_connect_microsoft(self):
        c = self.signed_up()
        self.connect(c, "microsoft")
        a = self.accounts(c)[0]
        self.assertEqual((a["provider"], a["email"], a["status"]),
                         ("microsoft", "alice@contoso.example", "active"))
        self.assertEqual([(x["name"], x["primary"], x["writable"], x["selected"])
                          for x in a["calendars"]], [("Calendar", True, True, True)])
        self.assertIn("microsoft.connected", self.activity(c))
        p = self.providers(c)
        self.assertEqual((p["teams"]["available"], p["teams"]["status"]), (True, "connected"))
        self.assertFalse(p["google_meet"]["available"])
        token = [q for q in self.sb.requests() if q["method"] == "POST" and
                 q["path"] == "/microsoft/common/oauth2/v2.0/token"][-1]
        form = dict(urllib.parse.parse_qsl(token["body"]))
        self.assertEqual(form["client_id"], "sandbox-microsoft-client")
        self.assertIn("code_verifier", form)

    def test_deny_bad_and_reused_state_store_nothing(self):
        c = self.signed_up()
        before = self.snapshot()
        for provider in ("google", "microsoft"):
            with self.subTest(provider=provider):
                cb = self.authorize(c, provider, decision="deny")
                self.assertEqual(split(cb)[1].get("error"), "access_denied")
                r = c.call("GET", cb)
                self.failed(r)
                self.assertIn(b"was not allowed", r.body)
                for q in ["", "?code=abc", "?state=madeup&code=abc", "?state=" + "x" * 300]:
                    self.failed(c.call("GET", f"/oauth/{provider}/callback" + q))
                _, params = self.start(c, provider)
                r = c.call("GET", f"/oauth/{provider}/callback?state=" +
                           urllib.parse.quote(params["state"]))
                self.assertIn(b"did not send an authorization code", r.body)
        # A state is bound to its provider: Google's does not finish at Microsoft's callback.
        cb = self.authorize(c, "google")
        self.failed(c.call("GET", cb.replace("/oauth/google/", "/oauth/microsoft/")))
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.accounts(c), [])
        # At its own it does, once: replaying the good callback fails and changes nothing.
        self.assertEqual(c.call("GET", cb).status, 200)
        self.assertEqual(len(self.accounts(c)), 1)
        after = self.snapshot()
        self.failed(c.call("GET", cb))
        self.assertEqual(self.snapshot(), after)
        # … and bound to its session.
        other = self.signed_up()
        cb = self.authorize(c, "microsoft")
        self.failed(other.call("GET", cb))
        self.assertEqual(self.accounts(other), [])

    def test_failed_upstream_steps_store_nothing(self):
        c = self.signed_up()
        before = self.snapshot()
        faults = [
            ("google", "POST", "/google/token", 503, {"error": "backend_error"}),
            ("google", "POST", "/google/token", 400, {"error": "invalid_grant"}),
            ("google", "GET", "/google/calendar/v3/users/me/calendarList", 500,
             {"error": {"code": 500, "message": "Backend Error"}}),
            ("microsoft", "POST", "/microsoft/common/oauth2/v2.0/token", 503,
             {"error": "temporarily_unavailable"}),
            ("microsoft", "GET", "/microsoft/v1.0/me", 500,
             {"error": {"code": "generalException", "message": "busy"}}),
            ("microsoft", "GET", "/microsoft/v1.0/me/calendars", 503,
             {"error": {"code": "serviceNotAvailable", "message": "busy"}}),
        ]
        for provider, method, path, status, body in faults:
            with self.subTest(path=path, status=status):
                cb = self.authorize(c, provider)
                self.sb.request("POST", "/_sandbox/faults", {"rules": [{
                    "method": method, "path_prefix": path, "status": status, "body": body,
                    "count": 1}]})
                self.failed(c.call("GET", cb))
                self.sb.request("DELETE", "/_sandbox/faults")
                self.assertEqual(self.accounts(c), [])
        self.assertEqual(self.snapshot(), before)

    # --- plans ---

    def test_free_plan_refuses_with_402_and_stores_nothing(self):
        c = self.signed_up()
        # A trial that ends between start and callback: the callback checks again.
        cb = self.authorize(c, "google")
        self.end_trial(c)
        before = self.snapshot()
        r = c.call("GET", cb)
        self.failed(r, 402)
        self.assertIn(b"Settings", r.body)
        for provider in ("google", "microsoft"):
            self.failed(c.call("GET", f"/oauth/{provider}/start"), 402)
            r = c.call("GET", f"/oauth/{provider}/start",
                       headers={"Accept": "application/json"})
            self.assertError(r, 402, "plan_required")
        # Zoom is not a calendar: Free may still connect it.
        self.assertEqual(c.call("GET", "/oauth/zoom/start").status, 302)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.accounts(c), [])

    def test_plan_limit_refuses_a_new_account_but_not_a_reconnect(self):
        c = self.signed_up()
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "basic"}).status, 200)
        self.connect(c, "google")
        self.connect(c, "microsoft")
        self.assertEqual(len(self.accounts(c)), 2)
        # Basic allows two: reconnecting one of them is fine.
        self.connect(c, "google")
        self.assertEqual(len(self.accounts(c)), 2)
        # Make the stored Google account someone else's: alice is then a third, new account.
        uid = self.user_id(c)
        self.server.db_exec("UPDATE calendar_accounts SET external_id = 'bob@example.com' "
                            "WHERE user_id = ? AND provider = 'google'", (uid,))
        cb = self.authorize(c, "google")
        before = self.snapshot()
        r = c.call("GET", cb)
        self.failed(r, 402)
        self.assertIn(b"all in use", r.body)
        self.assertEqual(self.snapshot(), before)
        # Two accounts and none of Microsoft's: start refuses at once.
        self.server.db_exec("UPDATE calendar_accounts SET provider = 'google', "
                            "external_id = 'carol@example.com' WHERE user_id = ? AND "
                            "provider = 'microsoft'", (uid,))
        self.assertError(c.call("GET", "/oauth/microsoft/start",
                                headers={"Accept": "application/json"}), 402, "plan_required")
        # Standard allows five.
        self.assertEqual(c.call("POST", "/api/billing/subscribe",
                                {"plan": "standard"}).status, 200)
        self.connect(c, "microsoft")
        self.assertEqual(len(self.accounts(c)), 3)

    def test_trial_end_suspends_and_subscribing_reactivates(self):
        c = self.signed_up()
        self.connect(c, "google")
        self.end_trial(c)
        # Free at once, before the job runs.
        self.assertEqual(self.accounts(c)[0]["status"], "suspended")
        self.assertFalse(self.providers(c)["google_meet"]["available"])
        # The periodic job records it: restart with its slot cleared so that it runs now.
        self.server.stop()
        self.server.db_exec("DELETE FROM jobs WHERE kind = 'plans.expire_trials'")
        self.server.start()
        deadline = time.time() + 10
        status = None
        while time.time() < deadline:
            status = self.server.db_query(
                "SELECT status FROM calendar_accounts WHERE user_id = ?",
                (self.user_id(c),))[0][0]
            if status == "suspended":
                break
            time.sleep(0.1)
        self.assertEqual(status, "suspended")
        self.assertEqual(self.accounts(c)[0]["status"], "suspended")
        self.assertFalse(self.providers(c)["google_meet"]["available"])
        self.assertIn("plan.trial_ended", self.activity(c))
        r = c.call("POST", "/api/billing/subscribe", {"plan": "basic"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.accounts(c)[0]["status"], "active")
        self.assertTrue(self.providers(c)["google_meet"]["available"])
        self.assertIn("calendars.reactivated", self.activity(c))

    # --- reconnect, select, delete ---

    def test_reconnect_merges_calendars(self):
        c = self.signed_up()
        self.connect(c, "google")
        a = self.accounts(c)[0]
        work = [x for x in a["calendars"] if x["name"] == "Work"][0]
        r = c.call("PATCH", f"/api/calendars/{work['id']}", {"selected": False})
        self.assertEqual(r.status, 200, r)
        # A calendar Google no longer lists, and an account that needed reconnecting.
        self.server.db_exec("INSERT INTO calendars (account_id, external_id, name, is_primary, "
                            "writable, color, selected) VALUES (?, 'gone@group', 'Old', 0, 1, "
                            "NULL, 1)", (int(a["id"]),))
        self.server.db_exec("UPDATE calendar_accounts SET status = 'needs_reconnect' "
                            "WHERE id = ?", (int(a["id"]),))
        self.connect(c, "google")
        accounts = self.accounts(c)
        self.assertEqual(len(accounts), 1)
        b = accounts[0]
        self.assertEqual((b["id"], b["status"]), (a["id"], "active"))
        self.assertEqual({(x["id"], x["name"], x["selected"]) for x in b["calendars"]},
                         {(x["id"], x["name"], x["name"] != "Work") for x in a["calendars"]})
        self.assertIn("google.reconnected", self.activity(c))

    def test_select_and_bad_bodies_change_nothing(self):
        c = self.signed_up()
        self.connect(c, "microsoft")
        cal = self.accounts(c)[0]["calendars"][0]
        r = c.call("PATCH", f"/api/calendars/{cal['id']}", {"selected": False})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["selected"], False)
        self.assertEqual(r.json()["id"], cal["id"])
        self.assertFalse(self.accounts(c)[0]["calendars"][0]["selected"])
        before = self.snapshot()
        for body in [{"selected": "yes"}, {"selected": 1}, {"selected": None}, {},
                     {"selected": True, "name": "x"}, [True]]:
            with self.subTest(body=body):
                self.assertError(c.call("PATCH", f"/api/calendars/{cal['id']}", body), 400,
                                 "invalid_request")
        r = c.call("PATCH", f"/api/calendars/{cal['id']}", raw=b"{\"selected\": tru",
                   headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertError(c.call("PATCH", f"/api/calendars/{cal['id']}", {"selected": True},
                                csrf=False), 403, "csrf_failed")
        for bad in ["abc", "0", "-1", "99999999", "1e3", "9" * 30]:
            self.assertError(c.call("PATCH", f"/api/calendars/{bad}", {"selected": True}), 404,
                             "not_found")
        self.assertEqual(self.server.request("PATCH", f"/api/calendars/{cal['id']}",
                                             {"selected": True}).status, 401)
        self.assertEqual(self.snapshot(), before)
        r = c.call("PATCH", f"/api/calendars/{cal['id']}", {"selected": True})
        self.assertEqual(r.json()["selected"], True)

    def test_delete_removes_from_calendox_and_revokes_at_google(self):
        c = self.signed_up()
        self.connect(c, "google")
        self.connect(c, "microsoft")
        google, microsoft = sorted(self.accounts(c), key=lambda a: a["provider"])
        self.assertError(c.call("DELETE", f"/api/calendar-accounts/{google['id']}", csrf=False),
                         403, "csrf_failed")
        revokes_before = len([q for q in self.sb.requests() if q["path"] == "/google/revoke"])
        r = c.call("DELETE", f"/api/calendar-accounts/{google['id']}")
        self.assertEqual(r.status, 204, r)
        self.assertEqual([a["provider"] for a in self.accounts(c)], ["microsoft"])
        self.assertEqual(self.server.db_query(
            "SELECT COUNT(*) FROM calendars WHERE account_id = ?", (int(google["id"]),))[0][0], 0)
        self.assertIn("google.disconnected", self.activity(c))
        self.assertFalse(self.providers(c)["google_meet"]["available"])
        deadline = time.time() + 10
        revokes = []
        while time.time() < deadline and len(revokes) <= revokes_before:
            revokes = [q for q in self.sb.requests()
                       if q["method"] == "POST" and q["path"] == "/google/revoke"]
            time.sleep(0.1)
        self.assertGreater(len(revokes), revokes_before, "no revoke reached Google")
        self.assertError(c.call("DELETE", f"/api/calendar-accounts/{google['id']}"), 404,
                         "not_found")
        # Microsoft has no revoke endpoint: the account just goes.
        self.assertEqual(c.call("DELETE", f"/api/calendar-accounts/{microsoft['id']}").status,
                         204)
        self.assertEqual(self.accounts(c), [])
        self.assertIn("microsoft.disconnected", self.activity(c))
        self.assertError(c.call("DELETE", "/api/calendar-accounts/abc"), 404, "not_found")

    def test_people_see_and_change_only_their_own(self):
        a = self.signed_up()
        b = self.signed_up()
        self.connect(a, "google")
        acc = self.accounts(a)[0]
        cal = acc["calendars"][0]
        self.assertEqual(self.accounts(b), [])
        self.assertFalse(self.providers(b)["google_meet"]["available"])
        before = self.snapshot()
        self.assertError(b.call("PATCH", f"/api/calendars/{cal['id']}", {"selected": False}),
                         404, "not_found")
        self.assertError(b.call("DELETE", f"/api/calendar-accounts/{acc['id']}"), 404,
                         "not_found")
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.accounts(a), [acc])
        self.assertEqual(self.server.request("GET", "/api/calendars").status, 401)
        self.assertEqual(self.server.request("DELETE",
                                             f"/api/calendar-accounts/{acc['id']}").status, 401)
        # Both may connect the same Google account: each gets an account of their own.
        self.connect(b, "google")
        self.assertEqual(len(self.accounts(b)), 1)
        self.assertNotEqual(self.accounts(b)[0]["id"], acc["id"])
        self.assertEqual(self.accounts(a), [acc])


class PlanFitTest(ConnectCase):
    """A smaller plan suspends the accounts beyond its limit (the newest first) and a larger one
    takes them back, without a new authorization."""
    extra_env = {"CALENDOX_PLAN_BASIC_ACCOUNTS": "1"}

    def test_downgrade_suspends_the_newest_and_upgrade_takes_them_back(self):
        c = self.signed_up()
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "premium"}).status,
                         200)
        self.connect(c, "google")
        self.connect(c, "microsoft")
        status = {a["provider"]: a["status"] for a in self.accounts(c)}
        self.assertEqual(status, {"google": "active", "microsoft": "active"})
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "basic"}).status, 200)
        status = {a["provider"]: a["status"] for a in self.accounts(c)}
        self.assertEqual(status, {"google": "active", "microsoft": "suspended"})
        self.assertIn("calendars.suspended", self.activity(c))
        teams = {p["id"]: p for p in c.call("GET", "/api/meeting-providers").json()["providers"]}
        self.assertFalse(teams["teams"]["available"])
        # Subscribing to the same plan again changes nothing more.
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "basic"}).status, 200)
        self.assertEqual(self.activity(c).count("calendars.suspended"), 1)
        self.assertEqual(c.call("POST", "/api/billing/subscribe", {"plan": "standard"}).status,
                         200)
        status = {a["provider"]: a["status"] for a in self.accounts(c)}
        self.assertEqual(status, {"google": "active", "microsoft": "active"})
        self.assertIn("calendars.reactivated", self.activity(c))
