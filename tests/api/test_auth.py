"""Sign up, sign in, sign out, sessions and CSRF (DESIGN §5)."""

import json
import time

from base import ServerTest
from harness import unique_email


class SignupTest(ServerTest):
    def test_signup_starts_a_session_and_a_trial(self):
        c = self.client()
        email = unique_email("Signup").replace("Signup", "SignUp")
        r = c.signup(email, name="Ada Lovelace")
        self.assertEqual(r.status, 201, r)
        user = r.json()["user"]
        self.assertEqual(user["email"], email.lower())
        self.assertEqual(user["name"], "Ada Lovelace")
        self.assertIsInstance(user["id"], str)
        self.assertNotIn("password_hash", user)
        cookie = r.header("Set-Cookie")
        self.assertIn("calendox_session=", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertIn("Path=/", cookie)
        self.assertNotIn("Secure", cookie)  # the public URL is http here
        me = c.call("GET", "/api/me")
        self.assertEqual(me.status, 200, me)
        body = me.json()
        self.assertEqual(body["user"]["email"], email.lower())
        self.assertEqual(body["plan"]["name"], "trial")
        self.assertEqual(body["plan"]["status"], "trialing")
        ends = time.strptime(body["plan"]["trial_ends_at"], "%Y-%m-%dT%H:%M:%SZ")
        days = (time.mktime(ends) - time.mktime(time.gmtime())) / 86400
        self.assertTrue(13.9 < days < 14.1, days)
        self.assertGreaterEqual(len(body["csrf_token"]), 32)
        # The store keeps the password as Argon2id and the session only as a hash.
        row = self.server.db_query("SELECT password_hash FROM users WHERE email = ?",
                                   (email.lower(),))[0]
        self.assertTrue(row[0].startswith("$argon2id$"), row)
        token = c.cookie.split("=", 1)[1]
        self.assertEqual(self.server.db_query(
            "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", (token,))[0][0], 0)

    def test_email_taken_case_insensitively(self):
        c = self.signed_up()
        before = self.server.snapshot()
        r = self.client().signup(c.email.upper())
        self.assertError(r, 409, "email_taken")
        self.assertEqual(self.server.snapshot(), before)

    def test_bad_bodies_change_nothing(self):
        good = {"email": unique_email(), "password": "correct horse battery", "name": "N"}
        cases = [
            (b"{not json", 400, "invalid_request"),
            (b'{"email":"a@example.com","email":"b@example.com","password":"0123456789",'
             b'"name":"x"}', 400, "invalid_request"),
            (json.dumps(dict(good, email=42)).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, name=None)).encode(), 400, "invalid_request"),
            (json.dumps({"email": good["email"], "name": "x"}).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, admin=True)).encode(), 400, "invalid_request"),
            (json.dumps([good]).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, password="short")).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, name="x" * 2000)).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, name="   ")).encode(), 400, "invalid_request"),
            (json.dumps(dict(good, name="bad\u0001name")).encode(), 400, "invalid_request"),
            (b'{"email":"a@example.com","password":"0123456789","name":"x"} trailing', 400,
             "invalid_request"),
            (b"", 400, "invalid_request"),
        ]
        before = self.server.snapshot()
        for raw, status, code in cases:
            with self.subTest(raw=raw[:60]):
                r = self.server.request("POST", "/api/auth/signup", raw=raw,
                                        headers={"Content-Type": "application/json"})
                self.assertError(r, status, code)
        self.assertEqual(self.server.snapshot(), before)

    def test_invalid_emails(self):
        before = self.server.snapshot()
        for email in ["", "plain", "@example.com", "a@", "a@b", "a b@example.com",
                      "a@@example.com", "a@-example.com", "a@example..com",
                      "<a@example.com>", "a@exa mple.com", "x" * 65 + "@example.com",
                      "a@" + "b" * 250 + ".com"]:
            with self.subTest(email=email):
                r = self.client().signup(email)
                self.assertError(r, 400, "invalid_request")
        self.assertEqual(self.server.snapshot(), before)

    def test_wrong_content_type(self):
        before = self.server.snapshot()
        r = self.server.request("POST", "/api/auth/signup",
                                raw=json.dumps({"email": unique_email(), "password": "x" * 12,
                                                "name": "n"}).encode(),
                                headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415, r)
        self.assertEqual(self.server.snapshot(), before)

    def test_oversized_body(self):
        before = self.server.snapshot()
        # The server refuses on the announced length, before the body arrives.
        raw = self.server.raw(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\n"
                              b"Content-Length: %d\r\n\r\n{\"email\":" % (2 << 20))
        self.assertTrue(raw.startswith(b"HTTP/1.1 413"), raw[:200])
        self.assertIn(b"payload_too_large", raw)
        # A body just over the limit, sent whole.
        big = json.dumps({"email": unique_email(), "password": "x" * 12,
                          "name": "n" * (1 << 20)}).encode()
        try:
            r = self.server.request("POST", "/api/auth/signup", raw=big,
                                    headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 413, r)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while the client was still sending: also a refusal
        self.assertEqual(self.server.snapshot(), before)


class LoginTest(ServerTest):
    def test_login_and_logout(self):
        c = self.signed_up()
        other = self.client()
        r = other.login(c.email.upper())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"]["email"], c.email)
        self.assertEqual(other.call("GET", "/api/me").status, 200)
        # Logout needs the CSRF token.
        r = other.call("POST", "/api/auth/logout", csrf=False)
        self.assertError(r, 403, "csrf_failed")
        self.assertEqual(other.call("GET", "/api/me").status, 200)
        old_cookie = other.cookie
        r = other.call("POST", "/api/auth/logout")
        self.assertEqual(r.status, 204, r)
        self.assertIn("Max-Age=0", r.header("Set-Cookie"))
        # The old cookie no longer works, even if a client kept it.
        r = self.server.request("GET", "/api/me", cookie=old_cookie)
        self.assertError(r, 401, "unauthenticated")
        # The first session is untouched.
        self.assertEqual(c.call("GET", "/api/me").status, 200)

    def test_wrong_password_and_unknown_email(self):
        c = self.signed_up()
        r = self.client().login(c.email, "wrong password!")
        self.assertError(r, 401, "invalid_credentials")
        r = self.client().login(unique_email("nobody"))
        self.assertError(r, 401, "invalid_credentials")
        r = self.client().call("POST", "/api/auth/login", {"email": c.email})
        self.assertError(r, 400, "invalid_request")

    def test_rate_limited_after_repeated_failures(self):
        c = self.signed_up()
        for _ in range(5):
            self.assertEqual(self.client().login(c.email, "wrong password!").status, 401)
        r = self.client().login(c.email, "wrong password!")
        self.assertError(r, 429, "rate_limited")
        self.assertGreater(int(r.header("Retry-After")), 0)
        # Locked even with the right password, so guessing cannot continue.
        r = self.client().login(c.email)
        self.assertError(r, 429, "rate_limited")
        # Other addresses are not affected.
        d = self.signed_up()
        self.assertEqual(self.client().login(d.email).status, 200)
        # Once the lock ends, the right password works again.
        self.server.db_exec("UPDATE login_attempts SET locked_until = 0 WHERE key = ?",
                            ("email:" + c.email,))
        self.assertEqual(self.client().login(c.email).status, 200)


class SessionTest(ServerTest):
    def test_no_session_forged_and_expired(self):
        self.assertError(self.server.request("GET", "/api/me"), 401, "unauthenticated")
        self.assertError(self.server.request("GET", "/api/me", cookie="calendox_session=forged"),
                         401, "unauthenticated")
        self.assertError(self.server.request("GET", "/api/me",
                                             cookie="calendox_session=" + "A" * 43),
                         401, "unauthenticated")
        self.assertError(self.server.request("GET", "/api/me",
                                             cookie="calendox_session=" + "A" * 5000),
                         401, "unauthenticated")
        c = self.signed_up()
        self.server.db_exec("UPDATE sessions SET expires_at = 1 WHERE user_id = "
                            "(SELECT id FROM users WHERE email = ?)", (c.email,))
        r = c.call("GET", "/api/me")
        self.assertError(r, 401, "unauthenticated")
        self.assertEqual(self.server.db_query(
            "SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)",
            (c.email,))[0][0], 0)

    def test_csrf_is_required_and_bound_to_the_session(self):
        a = self.signed_up()
        b = self.signed_up()
        before = self.server.snapshot()
        for headers in [{}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "wrong"},
                        {"X-CSRF-Token": b.csrf}]:
            with self.subTest(headers=headers):
                r = a.call("POST", "/api/billing/subscribe", {"plan": "basic"}, headers=headers,
                           csrf=False)
                self.assertError(r, 403, "csrf_failed")
        self.assertEqual(self.server.snapshot(), before)
        self.assertEqual(a.call("GET", "/api/me").json()["plan"]["name"], "trial")
        # No session at all is 401, before any CSRF question.
        r = self.server.request("POST", "/api/billing/subscribe", {"plan": "basic"})
        self.assertError(r, 401, "unauthenticated")
