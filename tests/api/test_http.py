"""The HTTP core seen from outside: framing guard, limits, headers, errors, static files, health and
metrics (DESIGN §5)."""

import re
import time

from base import ServerTest
from harness import unique_email


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


class FramingTest(ServerTest):
    def smuggle(self, head, body=b""):
        before = self.server.snapshot()
        raw = self.server.raw(head + b"\r\n" + body)
        self.assertEqual(self.server.snapshot(), before)
        return raw

    def signup_body(self):
        return ('{"email":"%s","password":"correct horse battery","name":"x"}'
                % unique_email("smuggle")).encode()

    def test_te_and_cl_together(self):
        body = self.signup_body()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        raw = self.smuggle(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(chunked),
                           chunked)
        self.assertEqual(status_of(raw), 400, raw[:200])
        self.assertIn(b"connection: close", raw.lower())

    def test_duplicate_content_length(self):
        body = self.signup_body()
        raw = self.smuggle(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body)),
                           body)
        self.assertEqual(status_of(raw), 400, raw[:200])

    def test_unknown_transfer_encoding(self):
        body = self.signup_body()
        raw = self.smuggle(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Transfer-Encoding: gzip, chunked\r\n",
                           b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.assertEqual(status_of(raw), 400, raw[:200])

    def test_chunked_body_is_accepted(self):
        body = self.signup_body()
        raw = self.server.raw(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/json\r\nConnection: close\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n"
                              b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        self.assertEqual(status_of(raw), 201, raw[:300])

    def test_oversized_chunked_body(self):
        chunk = b"x" * 65536
        data = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
        raw = self.smuggle(b"POST /api/auth/signup HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                           data)
        self.assertEqual(status_of(raw), 413, raw[:200])


class HeadersTest(ServerTest):
    def test_security_headers_and_request_id(self):
        r = self.server.request("GET", "/healthz", headers={"X-Request-Id": "trace-123"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ok"})
        self.assertEqual(r.header("X-Request-Id"), "trace-123")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertIn("frame-ancestors 'none'", r.header("Content-Security-Policy"))
        self.assertIsNotNone(r.header("Referrer-Policy"))
        self.assertTrue(r.header("Content-Type").startswith("application/json"))
        # A request id that is not sane is replaced.
        r = self.server.request("GET", "/healthz", headers={"X-Request-Id": "bad id\"<>"})
        self.assertRegex(r.header("X-Request-Id"), r"^[A-Za-z0-9._-]{1,64}$")
        self.assertNotEqual(r.header("X-Request-Id"), "bad id\"<>")

    def test_unknown_routes_and_methods(self):
        r = self.server.request("GET", "/api/nothing-here")
        self.assertError(r, 404, "not_found")
        r = self.server.request("DELETE", "/api/me")
        self.assertEqual(r.status, 405, r)
        self.assertIn("GET", r.header("Allow"))

    def test_ready_and_metrics(self):
        self.assertEqual(self.server.request("GET", "/readyz").status, 200)
        self.server.request("GET", "/api/me")
        # A request is counted when its connection finishes, just after the client got the
        # answer: poll briefly rather than race it.
        pattern = re.compile(r'calendox_http_requests_total\{[^}]*route="/api/me"[^}]*'
                             r'status="401"[^}]*\} [1-9]')
        deadline = time.time() + 5
        while True:
            r = self.server.request("GET", "/metrics")
            text = r.body.decode()
            if pattern.search(text) or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        self.assertRegex(text, pattern)
        self.assertIn("calendox_http_request_duration_seconds_bucket", text)
        self.assertRegex(text, r'calendox_jobs\{state="queued"\} \d+')


class StaticTest(ServerTest):
    def test_index_and_client_routes(self):
        for path in ["/", "/settings/app", "/dashboard"]:
            with self.subTest(path=path):
                r = self.server.request("GET", path)
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.header("Content-Type").startswith("text/html"))
                self.assertIn(b"<title>Calendox</title>", r.body)
                self.assertEqual(r.header("Cache-Control"), "no-cache")

    def test_assets_are_immutable(self):
        r = self.server.request("GET", "/assets/app-1234abcd.js")
        self.assertEqual(r.status, 200, r)
        self.assertIn("javascript", r.header("Content-Type"))
        self.assertIn("immutable", r.header("Cache-Control"))
        etag = r.header("ETag")
        self.assertTrue(etag)
        r = self.server.request("GET", "/assets/app-1234abcd.js", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)

    def test_no_traversal(self):
        for path in ["/../calendox.db", "/%2e%2e/calendox.db", "/assets/../../calendox.db",
                     "/.hidden", "/assets/missing.js"]:
            with self.subTest(path=path):
                r = self.server.request("GET", path)
                self.assertIn(r.status, (400, 404), r)
                self.assertNotIn(b"SQLite", r.body)


class IsolationTest(ServerTest):
    def test_people_see_only_their_own_data(self):
        a = self.signed_up("alice")
        b = self.signed_up("bob")
        a.call("POST", "/api/billing/subscribe", {"plan": "premium"})
        self.assertEqual(b.call("GET", "/api/me").json()["user"]["email"], b.email)
        self.assertEqual(b.call("GET", "/api/me").json()["plan"]["name"], "trial")
        b_kinds = [e["detail"] for e in b.call("GET", "/api/activity").json()["entries"]]
        self.assertFalse(any("premium" in d for d in b_kinds), b_kinds)
        a_details = [e["detail"] for e in a.call("GET", "/api/activity").json()["entries"]]
        self.assertTrue(any("premium" in d for d in a_details), a_details)
        # b's CSRF token with a's cookie does nothing.
        r = self.server.request("POST", "/api/billing/subscribe", {"plan": "basic"},
                                headers={"X-CSRF-Token": b.csrf}, cookie=a.cookie)
        self.assertError(r, 403, "csrf_failed")


class NoSessionTest(ServerTest):
    def test_every_personal_endpoint_needs_a_session(self):
        for method, path, body in [("GET", "/api/me", None), ("GET", "/api/billing", None),
                                   ("POST", "/api/billing/subscribe", {"plan": "basic"}),
                                   ("GET", "/api/activity", None),
                                   ("POST", "/api/auth/logout", None)]:
            with self.subTest(path=path):
                r = self.server.request(method, path, body)
                self.assertError(r, 401, "unauthenticated")
