"""Connecting Zoom, its status, disconnecting and Zoom's deauthorization webhook (DESIGN §4
"Connect", "Disconnect", "Uninstalled in Zoom"; §8), against the sandbox."""

import hashlib
import hmac
import json
import time
import urllib.parse

from base import ServerTest

SCOPES = ["meeting:write:meeting", "meeting:read:meeting", "meeting:delete:meeting",
          "user:read:user"]
WEBHOOK_SECRET = b"sandbox-webhook-secret"


def split(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else ""), dict(urllib.parse.parse_qsl(u.query))


class ZoomTest(ServerTest):
    sandbox = True

    def setUp(self):
        self.sb = self.server.sandbox
        self.sb.request("DELETE", "/_sandbox/faults")
        self.sb.request("POST", "/_sandbox/zoom/settings", {"restricted_mode": "page"})

    def start(self, client):
        r = client.call("GET", "/oauth/zoom/start")
        self.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(self.sb.base + "/zoom/oauth/authorize?"), loc)
        return split(loc)

    def authorize(self, client, email="alice@example.com", decision="allow"):
        """Start → the sandbox's consent page → the decision: the callback URL it redirects to."""
        path, params = self.start(client)
        page = self.sb.request("GET", path)
        self.assertEqual(page.status, 200, page)
        d = self.sb.request("POST", "/zoom/oauth/authorize/decision",
                            form=dict(params, user=email, decision=decision))
        return d, params

    def connect(self, client, email="alice@example.com"):
        d, _ = self.authorize(client, email)
        self.assertEqual(d.status, 302, d)
        cb_path, _ = split(d.header("Location"))
        r = client.call("GET", cb_path)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b"Zoom connected", r.body)
        self.assertIn(b'<a href="/settings/app">go back to Calendox</a>', r.body)
        return cb_path

    def zoom_app(self, client):
        apps = client.call("GET", "/api/apps").json()["apps"]
        self.assertEqual([a["id"] for a in apps], ["zoom"])
        return apps[0]

    def activity(self, client):
        return [e["kind"] for e in client.call("GET", "/api/activity").json()["entries"]]

    def signed_webhook(self, body, ts=None, secret=WEBHOOK_SECRET):
        raw = json.dumps(body).encode()
        ts = str(int(time.time()) if ts is None else ts)
        sig = "v0=" + hmac.new(secret, b"v0:" + ts.encode() + b":" + raw,
                               hashlib.sha256).hexdigest()
        return self.server.request("POST", "/webhooks/zoom", raw=raw, headers={
            "Content-Type": "application/json", "x-zm-request-timestamp": ts,
            "x-zm-signature": sig})

    # --- connect ---

    def test_start_asks_for_exactly_the_four_scopes_with_pkce(self):
        c = self.signed_up()
        path, params = self.start(c)
        self.assertEqual(params["response_type"], "code")
        self.assertEqual(params["client_id"], "sandbox-zoom-client")
        self.assertEqual(params["redirect_uri"],
                         f"http://127.0.0.1:{self.server.port}/oauth/zoom/callback")
        self.assertEqual(params["scope"].split(" "), SCOPES)
        self.assertEqual(params["code_challenge_method"], "S256")
        self.assertRegex(params["code_challenge"], r"^[A-Za-z0-9_-]{43}$")
        self.assertGreaterEqual(len(params["state"]), 32)
        page = self.sb.request("GET", path).body.decode()
        for scope, words in [("meeting:write:meeting", "Create meetings"),
                             ("meeting:read:meeting", "Read meeting details"),
                             ("meeting:delete:meeting", "Remove the meeting"),
                             ("user:read:user", "Read your Zoom user ID")]:
            self.assertIn(scope, page)
            self.assertIn(words, page)
        # Without a session there is nothing to connect to.
        self.assertEqual(self.server.request("GET", "/oauth/zoom/start").status, 401)

    def test_connect_shows_connected_and_keeps_tokens_sealed(self):
        c = self.signed_up()
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")
        cb = self.connect(c)
        app = self.zoom_app(c)
        self.assertEqual(app["status"], "connected")
        self.assertEqual(app["account_email"], "alice@example.com")
        self.assertEqual(sorted(app["scopes"]), sorted(SCOPES))
        self.assertIsNotNone(app["connected_at"])
        providers = {p["id"]: p for p in c.call("GET", "/api/meeting-providers").json()[
            "providers"]}
        self.assertTrue(providers["zoom"]["available"])
        self.assertEqual(providers["zoom"]["status"], "connected")
        self.assertFalse(providers["google_meet"]["available"])
        self.assertIn("zoom.connected", self.activity(c))
        row = self.server.db_query(
            "SELECT tokens, external_user_id FROM app_connections WHERE user_id = "
            "(SELECT id FROM users WHERE email = ?)", (c.email,))[0]
        self.assertNotIn("access_token", row[0])
        self.assertNotIn("eyJ", row[0])
        self.assertTrue(row[1])
        # The state is single use: the same callback URL again fails and changes nothing.
        before = self.server.snapshot()
        r = c.call("GET", cb)
        self.assertEqual(r.status, 400)
        self.assertIn(b"Authorization failed", r.body)
        self.assertEqual(self.server.snapshot(), before)
        # The page only talks to our own origin and keeps a strict CSP with a nonce.
        r = c.call("GET", "/oauth/zoom/callback?state=x&code=y")
        csp = r.header("Content-Security-Policy")
        self.assertIn("script-src 'nonce-", csp)
        self.assertIn(f'"http:\\/\\/127.0.0.1:{self.server.port}");'.encode(), r.body)

    def test_reconnect_replaces_the_connection(self):
        c = self.signed_up()
        self.connect(c, "alice@example.com")
        self.connect(c, "bob@example.com")
        self.assertEqual(self.zoom_app(c)["account_email"], "bob@example.com")
        self.assertEqual(self.server.db_query(
            "SELECT COUNT(*) FROM app_connections WHERE user_id = "
            "(SELECT id FROM users WHERE email = ?)", (c.email,))[0][0], 1)

    def test_deny_restricted_and_bad_callbacks_store_nothing(self):
        c = self.signed_up()
        before = self.server.snapshot()
        # Deny.
        d, _ = self.authorize(c, decision="deny")
        cb, q = split(d.header("Location"))
        self.assertEqual(q.get("error"), "access_denied")
        r = c.call("GET", cb)
        self.assertEqual(r.status, 400)
        self.assertIn(b"Authorization failed", r.body)
        self.assertIn(b"Zoom administrator", r.body)
        # A restricted organization, as Zoom's own page: no redirect ever reaches Calendox.
        d, _ = self.authorize(c, email="restricted@example.com")
        self.assertNotEqual(d.status, 302)
        # … and as an error redirect.
        self.sb.request("POST", "/_sandbox/zoom/settings", {"restricted_mode": "redirect"})
        d, _ = self.authorize(c, email="restricted@example.com")
        r = c.call("GET", split(d.header("Location"))[0])
        self.assertIn(b"Authorization failed", r.body)
        self.assertIn(b"approve Calendox", r.body)
        # No state, a made-up state, no code.
        for q in ["", "?code=abc", "?state=madeup&code=abc", "?state=" + "x" * 300]:
            with self.subTest(q=q):
                r = c.call("GET", "/oauth/zoom/callback" + q)
                self.assertEqual(r.status, 400)
                self.assertIn(b"Authorization failed", r.body)
        _, params = self.start(c)
        r = c.call("GET", "/oauth/zoom/callback?state=" + urllib.parse.quote(params["state"]))
        self.assertIn(b"did not send an authorization code", r.body)
        after = self.server.snapshot()
        after.pop("oauth_states")
        before.pop("oauth_states")
        self.assertEqual(after, before)
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")

    def test_a_state_is_bound_to_its_session(self):
        a = self.signed_up()
        b = self.signed_up()
        d, _ = self.authorize(a)
        cb = split(d.header("Location"))[0]
        r = b.call("GET", cb)
        self.assertIn(b"Authorization failed", r.body)
        self.assertEqual(self.zoom_app(b)["status"], "not_connected")
        # The rightful session can still finish.
        self.assertEqual(a.call("GET", cb).status, 200)
        self.assertEqual(self.zoom_app(a)["status"], "connected")
        self.assertEqual(self.zoom_app(b)["status"], "not_connected")

    def test_failed_exchange_stores_nothing(self):
        c = self.signed_up()
        d, _ = self.authorize(c)
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "POST", "path_prefix": "/zoom/oauth/token", "status": 503,
            "body": {"reason": "busy"}, "count": 1}]})
        r = c.call("GET", split(d.header("Location"))[0])
        self.assertEqual(r.status, 400)
        self.assertIn(b"Authorization failed", r.body)
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")
        # A failed identity read after a good exchange stores nothing either.
        d, _ = self.authorize(c)
        self.sb.request("POST", "/_sandbox/faults", {"rules": [{
            "method": "GET", "path_prefix": "/zoom/v2/users/me", "status": 500,
            "body": {"code": 500, "message": "busy"}, "count": 1}]})
        r = c.call("GET", split(d.header("Location"))[0])
        self.assertIn(b"Authorization failed", r.body)
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")

    # --- disconnect ---

    def test_disconnect_revokes_at_zoom_and_is_idempotent(self):
        c = self.signed_up()
        self.connect(c)
        self.assertError(c.call("DELETE", "/api/apps/zoom", csrf=False), 403, "csrf_failed")
        self.assertEqual(self.zoom_app(c)["status"], "connected")
        r = c.call("DELETE", "/api/apps/zoom")
        self.assertEqual(r.status, 204, r)
        app = self.zoom_app(c)
        self.assertEqual(app["status"], "not_connected")
        self.assertIsNone(app["account_email"])
        row = self.server.db_query(
            "SELECT tokens, external_email FROM app_connections WHERE user_id = "
            "(SELECT id FROM users WHERE email = ?)", (c.email,))[0]
        self.assertEqual(row, (None, None))
        self.assertIn("zoom.disconnected", self.activity(c))
        deadline = time.time() + 10
        revoked = []
        while time.time() < deadline and not revoked:
            revoked = [q for q in self.sb.requests()
                       if q["method"] == "POST" and q["path"] == "/zoom/oauth/revoke"]
            time.sleep(0.1)
        self.assertTrue(revoked, "no revoke reached Zoom")
        self.assertEqual(c.call("DELETE", "/api/apps/zoom").status, 204)
        self.assertEqual(self.activity(c).count("zoom.disconnected"), 1)

    # --- deauthorization webhook ---

    def test_uninstall_in_zoom_disconnects(self):
        c = self.signed_up()
        self.connect(c)
        r = self.sb.request("POST", "/_sandbox/zoom/uninstall", {"email": "alice@example.com"})
        self.assertIn(r.status, (200, 202, 204), r)
        deadline = time.time() + 10
        while time.time() < deadline and self.zoom_app(c)["status"] != "not_connected":
            time.sleep(0.1)
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")
        self.assertIn("zoom.deauthorized", self.activity(c))

    def test_webhook_signature_timestamp_validation_and_replay(self):
        c = self.signed_up()
        self.connect(c, "bob@example.com")
        zoom_user = self.server.db_query(
            "SELECT external_user_id, external_account_id FROM app_connections WHERE user_id = "
            "(SELECT id FROM users WHERE email = ?)", (c.email,))[0]
        event = {"event": "app_deauthorized", "event_ts": int(time.time() * 1000),
                 "payload": {"account_id": zoom_user[1], "user_id": zoom_user[0],
                             "signature": "x", "deauthorization_time": "2026-11-24T08:00:00Z",
                             "client_id": "sandbox-zoom-client"}}
        before = self.server.snapshot()
        r = self.signed_webhook(event, secret=b"wrong secret")
        self.assertError(r, 401, "bad_signature")
        r = self.signed_webhook(event, ts=int(time.time()) - 600)
        self.assertError(r, 401, "bad_signature")
        r = self.server.request("POST", "/webhooks/zoom", event)
        self.assertEqual(r.status, 401)
        self.assertEqual(self.server.snapshot(), before)
        # URL validation.
        r = self.signed_webhook({"event": "endpoint.url_validation",
                                 "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": hmac.new(WEBHOOK_SECRET, b"qgg8vlvZRS6UYooatFL8Aw",
                                       hashlib.sha256).hexdigest()})
        # The real thing, twice.
        self.assertEqual(self.signed_webhook(event).status, 200)
        self.assertEqual(self.zoom_app(c)["status"], "not_connected")
        self.assertEqual(self.signed_webhook(event).status, 200)
        self.assertEqual(self.activity(c).count("zoom.deauthorized"), 1)

    def test_people_see_only_their_own_connection(self):
        a = self.signed_up()
        b = self.signed_up()
        self.connect(a)
        self.assertEqual(self.zoom_app(b)["status"], "not_connected")
        self.assertEqual(b.call("DELETE", "/api/apps/zoom").status, 204)
        self.assertEqual(self.zoom_app(a)["status"], "connected")
