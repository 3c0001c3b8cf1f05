"""Conformance of `calendox sandbox` to the providers' published specs (issue "Provider sandbox"):
every answer of every endpoint Calendox uses, and every request body this test sends, is checked
member by member against shared/specs (Zoom's OpenAPI document, Google's Discovery document, the
Graph v1.0 CSDL). Each field must be declared with the type found, enums must hold a declared value,
required fields must be there, and no field may be invented unless a note in shared/providers
documents it from the live API; such fields are listed below with their citation. OAuth token
answers, which no spec file describes, are checked against the shapes the notes document.

The sandbox runs as its own process on a free loopback port; the OAuth consent form is posted the
way the browser would post it. A small receiver in this process answers Graph's validation handshake
and Google's push messages and keeps the change notifications Graph sends, which are checked against
the CSDL as well."""

import base64
import hashlib
import http.client
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import spec_csdl
import spec_discovery
import spec_openapi
from harness import Response
from spec_common import Documented, format_problems, specs_dir

BINARY = os.environ.get("CALENDOX_BINARY", "build/calendox")

ZOOM_SCOPES = ("meeting:write:meeting meeting:read:meeting meeting:update:meeting "
               "meeting:delete:meeting user:read:user")
GOOGLE_SCOPES = ("https://www.googleapis.com/auth/calendar.events "
                 "https://www.googleapis.com/auth/calendar.calendarlist.readonly")
MICROSOFT_SCOPES = "offline_access User.Read Calendars.ReadWrite"

# --- fields the specs lack that the notes document from the live API (with their citations) ---

# Zoom's meetingCreate 201 schema omits four fields the live API returns on create; their schemas
# are taken from the spec's own GET /meetings/{meetingId} 200 answer, which declares them.
ZOOM_CREATE_DOCUMENTED = {
    "uuid": "shared/providers/README.md (the Zoom spec \"lacks … some fields the live API returns "
            "on create (uuid, host_id, status, encrypted_password)\"); ZOOM.md ZE-18",
    "host_id": "shared/providers/README.md, same sentence; ZOOM.md ZE-18",
    "status": "shared/providers/README.md, same sentence; ZOOM.md ZE-18 (status \"waiting\")",
    "encrypted_password": "shared/providers/README.md, same sentence; ZOOM.md ZE-18",
}

# A field neither Zoom schema declares, on create nor on get. ZOOM.md §7 (POST /users/me/meetings,
# "Response"): "The live API also returns `uuid` …, `host_id`, `status:"waiting"`,
# `encrypted_password`, `pstn_password` [observed/3rd: ZP rest-api/examples/meeting-lifecycle.md;
# Zoom Postman example]"; and GET /meetings/{meetingId} answers "Create fields + …".
ZOOM_MEETING_DOCUMENTED = {
    "$.pstn_password": Documented({"type": "string"}, "shared/providers/ZOOM.md §7, POST "
                                  "/users/me/meetings \"Response\" and GET /meetings/{meetingId}"),
}

# OAuth token answers: no spec file describes OAuth (shared/providers/README.md), so the documented
# bodies are written here as schemas in the OpenAPI dialect.
ZOOM_TOKEN = {  # ZOOM.md §3 "200 [official ZP]" and ZE-09
    "type": "object",
    "required": ["access_token", "token_type", "refresh_token", "expires_in", "scope", "api_url"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "token_type": {"type": "string", "enum": ["bearer"]},
        "refresh_token": {"type": "string", "minLength": 1},
        "expires_in": {"type": "integer", "enum": [3599, 3600]},
        "scope": {"type": "string"},
        "api_url": {"type": "string"},
    },
}
GOOGLE_TOKEN = {  # GOOGLE.md §2 "Token exchange and refresh", 200 [official web-server guide]
    "type": "object",
    "required": ["access_token", "expires_in", "scope", "token_type"],
    "properties": {
        "access_token": {"type": "string", "minLength": 1},
        "expires_in": {"type": "integer", "enum": [3599, 3600]},
        # Only on the first exchange with access_type=offline (again after prompt=consent).
        "refresh_token": {"type": "string", "minLength": 1},
        "scope": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "id_token": {"type": "string"},  # only when openid is requested
    },
}
MICROSOFT_TOKEN = {  # MICROSOFT.md ME-05 (and ME-04: refresh_token only with offline_access)
    "type": "object",
    "required": ["token_type", "scope", "expires_in", "ext_expires_in", "access_token"],
    "properties": {
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "scope": {"type": "string"},
        "expires_in": {"type": "integer", "minimum": 1},
        "ext_expires_in": {"type": "integer", "minimum": 1},
        "access_token": {"type": "string", "minLength": 1},
        "refresh_token": {"type": "string", "minLength": 1},
        "id_token": {"type": "string"},
    },
}

_specs = {}


def zoom_spec():
    if "zoom" not in _specs:
        _specs["zoom"] = spec_openapi.OpenAPIDocument(
            os.path.join(specs_dir(), "zoom", "ZoomMeetingAPISpec.json"))
    return _specs["zoom"]


def google_spec():
    if "google" not in _specs:
        _specs["google"] = spec_discovery.DiscoveryDocument(
            os.path.join(specs_dir(), "google", "calendar.v3.json"))
    return _specs["google"]


def graph_spec():
    if "graph" not in _specs:
        _specs["graph"] = spec_csdl.CsdlModel(
            os.path.join(specs_dir(), "microsoft", "graph-v1.0-Prod.csdl"))
    return _specs["graph"]


# --- the sandbox process and a receiver for what it sends ---

class Sandbox:
    """One `calendox sandbox --port 0` process."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="calendox-conformance-")
        self.log_path = os.path.join(self.dir, "sandbox.log")
        self.proc = None
        self.port = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "sandbox", "--port", "0", "--seed", "11"],
                                     stdout=subprocess.PIPE, stderr=log)
        log.close()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("calendox sandbox exited: " + self.log())
        self.port = json.loads(line)["port"]
        # Keep reading so that later output can never block the sandbox on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return self

    def stop(self):
        if not self.proc:
            return 0
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, target, body=None, headers=None, form=None):
        """target: a path or an absolute URL on the sandbox. body: JSON; form: dict, url-encoded."""
        if target.startswith("http"):
            u = urllib.parse.urlsplit(target)
            target = u.path + ("?" + u.query if u.query else "")
        h = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, target, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()


class Receiver:
    """Answers Graph's validationToken handshake with the decoded token, acknowledges Graph change
    notifications (202) and Google push messages (200), and keeps the notification bodies."""

    def __init__(self):
        self.lock = threading.Lock()
        self.notifications = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if "validationToken" in query:
                    token = query["validationToken"][0].encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(token)))
                    self.end_headers()
                    self.wfile.write(token)
                    return
                if self.path.startswith("/graph"):
                    with outer.lock:
                        outer.notifications.append(json.loads(raw))
                    self.send_response(202)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_notifications(self, n, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.notifications) >= n:
                    return list(self.notifications)
            time.sleep(0.02)
        with self.lock:
            return list(self.notifications)

    def wait_for(self, match, since=0, timeout=5.0):
        """The first notification body after the first `since` that match() accepts, or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [n for n in self.notifications[since:] if match(n)]
            if found:
                return found[0]
            time.sleep(0.02)
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SANDBOX = None
RECEIVER = None


def setUpModule():
    global SANDBOX, RECEIVER
    if not os.path.isdir(specs_dir()):
        # Missing specs must fail loudly: a skipped conformance suite would look like a pass.
        raise RuntimeError(f"the shared specs are not at {specs_dir()} (set CALENDOX_SPECS)")
    SANDBOX = Sandbox().start()
    RECEIVER = Receiver()


def tearDownModule():
    global SANDBOX
    if RECEIVER:
        RECEIVER.close()
    if SANDBOX:
        rc = SANDBOX.stop()
        log = SANDBOX.log()
        SANDBOX = None
        # A clean shutdown is part of the contract (under the sanitizers a leak fails here).
        assert rc == 0, f"calendox sandbox exited with {rc}: {log}"


def pkce_pair(seed):
    verifier = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).rstrip(b"=")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
    return verifier.decode(), challenge.decode()


class ConformanceTest(unittest.TestCase):
    maxDiff = None

    def assertConforms(self, endpoint, problems):
        if problems:
            self.fail(format_problems(endpoint, problems))

    def json_answer(self, r, status, endpoint):
        self.assertEqual(r.status, status, f"{endpoint}: {r}")
        return r.json()

    def authorize(self, decision_path, redirect, form):
        """Posts the consent form; returns the query of the redirect (dict of first values)."""
        r = SANDBOX.request("POST", decision_path, form=dict(form, decision="allow"))
        self.assertEqual(r.status, 302, r)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(redirect + "?"), loc)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        self.assertIn("code", query, loc)
        return {k: v[0] for k, v in query.items()}


# --- Zoom ---

ZOOM_REDIRECT = "http://127.0.0.1:8080/oauth/zoom/callback"
ZOOM_BASIC = "Basic " + base64.b64encode(b"sandbox-zoom-client:sandbox-secret").decode()


class ZoomConformanceTest(ConformanceTest):
    """Zoom Meeting API answers against shared/specs/zoom/ZoomMeetingAPISpec.json."""

    def connect(self, user="alice@example.com"):
        verifier, challenge = pkce_pair("zoom-" + user)
        q = self.authorize("/zoom/oauth/authorize/decision", ZOOM_REDIRECT, {
            "response_type": "code", "client_id": "sandbox-zoom-client",
            "redirect_uri": ZOOM_REDIRECT, "state": "s1", "scope": ZOOM_SCOPES,
            "code_challenge": challenge, "code_challenge_method": "S256", "user": user})
        r = SANDBOX.request("POST", "/zoom/oauth/token", headers={"Authorization": ZOOM_BASIC},
                            form={"grant_type": "authorization_code", "code": q["code"],
                                  "redirect_uri": ZOOM_REDIRECT, "code_verifier": verifier})
        return self.json_answer(r, 200, "POST /zoom/oauth/token (authorization_code)")

    def api(self, method, path, token, body=None):
        return SANDBOX.request(method, "/zoom/v2" + path, body=body,
                               headers={"Authorization": "Bearer " + token["access_token"]})

    def check(self, r, method, spec_path, status, allow=None, endpoint=None):
        """The answer has the spec's status, and its body the spec's schema (or no body)."""
        endpoint = endpoint or f"{method} {spec_path} {status}"
        self.assertEqual(r.status, status, f"{endpoint}: {r}")
        schema = zoom_spec().response_schema(method, spec_path, status)
        if schema is None:
            self.assertEqual(r.body, b"", f"{endpoint}: the spec declares no body")
            return None
        body = r.json()
        self.assertConforms(endpoint, spec_openapi.validate(
            body, schema, resolve=zoom_spec().resolve, allow=allow))
        return body

    def create_allow_list(self):
        """What the create answer may carry beyond its schema: ZOOM_CREATE_DOCUMENTED with the
        schemas the spec's GET answer gives those fields, and ZOOM_MEETING_DOCUMENTED."""
        get = zoom_spec().response_schema("GET", "/meetings/{meetingId}", 200)["properties"]
        allow = {f"$.{name}": Documented(get[name], source)
                 for name, source in ZOOM_CREATE_DOCUMENTED.items()}
        allow.update(ZOOM_MEETING_DOCUMENTED)
        return allow

    def check_request(self, method, spec_path, body, partial=False):
        schema = zoom_spec().request_schema(method, spec_path)
        self.assertConforms(f"request body of {method} {spec_path}", spec_openapi.validate(
            body, schema, resolve=zoom_spec().resolve, check_required=not partial))

    def test_token_answers(self):
        tok = self.connect()
        self.assertConforms("POST /zoom/oauth/token (authorization_code)",
                            spec_openapi.validate(tok, ZOOM_TOKEN))
        r = SANDBOX.request("POST", "/zoom/oauth/token", headers={"Authorization": ZOOM_BASIC},
                            form={"grant_type": "refresh_token",
                                  "refresh_token": tok["refresh_token"]})
        fresh = self.json_answer(r, 200, "POST /zoom/oauth/token (refresh_token)")
        self.assertConforms("POST /zoom/oauth/token (refresh_token)",
                            spec_openapi.validate(fresh, ZOOM_TOKEN))
        self.assertNotEqual(fresh["refresh_token"], tok["refresh_token"])  # rotation, ZE-11

    def test_users_me(self):
        tok = self.connect()
        for user, kind in (("alice@example.com", 2), ("bob@example.com", 1)):
            with self.subTest(user=user):
                me = self.check(self.api("GET", "/users/me", self.connect(user)), "GET",
                                "/users/{userId}", 200, endpoint="GET /zoom/v2/users/me")
                self.assertEqual(me["email"], user)
                self.assertEqual(me["type"], kind)
        self.assertTrue(tok["access_token"])

    def test_meeting_create_get_patch_delete(self):
        tok = self.connect()
        # What Calendox sends (DESIGN §4): scheduled, local start time with its zone, topic, agenda.
        create = {"topic": "Quarterly review", "type": 2, "start_time": "2026-12-01T10:00:00",
                  "timezone": "Europe/Berlin", "duration": 45,
                  "agenda": "Numbers and next steps",
                  "settings": {"join_before_host": False, "waiting_room": True}}
        self.check_request("POST", "/users/{userId}/meetings", create)
        allow = self.create_allow_list()
        m = self.check(self.api("POST", "/users/me/meetings", tok, create), "POST",
                       "/users/{userId}/meetings", 201, allow=allow,
                       endpoint="POST /zoom/v2/users/me/meetings 201")
        self.assertGreater(m["id"], 2 ** 32)  # ZE-18: meeting numbers exceed 32 bits
        self.assertEqual(m["topic"], "Quarterly review")
        for name in ZOOM_CREATE_DOCUMENTED:
            self.assertIn(name, m, f"ZE-18 documents {name} on create")

        path = f"/meetings/{m['id']}"
        got = self.check(self.api("GET", path, tok), "GET", "/meetings/{meetingId}", 200,
                         allow=ZOOM_MEETING_DOCUMENTED, endpoint=f"GET /zoom/v2{path} 200")
        self.assertEqual(got["id"], m["id"])

        patch = {"topic": "Quarterly review (moved)", "start_time": "2026-12-02T09:30:00Z",
                 "duration": 30, "timezone": "Europe/Berlin"}
        self.check_request("PATCH", "/meetings/{meetingId}", patch, partial=True)
        self.check(self.api("PATCH", path, tok, patch), "PATCH", "/meetings/{meetingId}", 204,
                   endpoint=f"PATCH /zoom/v2{path} 204")
        got = self.check(self.api("GET", path, tok), "GET", "/meetings/{meetingId}", 200,
                         allow=ZOOM_MEETING_DOCUMENTED,
                         endpoint=f"GET /zoom/v2{path} 200 after PATCH")
        self.assertEqual(got["topic"], "Quarterly review (moved)")
        self.assertEqual(got["duration"], 30)

        self.check(self.api("DELETE", path, tok), "DELETE", "/meetings/{meetingId}", 204,
                   endpoint=f"DELETE /zoom/v2{path} 204")
        r = self.api("GET", path, tok)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["code"], 3001)
        zoom_spec().response("GET", "/meetings/{meetingId}", 404)  # a status the spec declares

    def test_meeting_with_passcode_and_instant_type(self):
        tok = self.connect("bob@example.com")
        for create in ({"topic": "Stand-up", "type": 2, "start_time": "2026-12-03T08:00:00Z",
                        "duration": 15, "password": "abc123"},
                       {"topic": "Right now", "type": 1}):
            with self.subTest(type=create["type"]):
                self.check_request("POST", "/users/{userId}/meetings", create)
                allow = self.create_allow_list()
                m = self.check(self.api("POST", "/users/me/meetings", tok, create), "POST",
                               "/users/{userId}/meetings", 201, allow=allow,
                               endpoint="POST /zoom/v2/users/me/meetings 201")
                self.check(self.api("GET", f"/meetings/{m['id']}", tok), "GET",
                           "/meetings/{meetingId}", 200, allow=ZOOM_MEETING_DOCUMENTED,
                           endpoint=f"GET /zoom/v2/meetings/{m['id']} 200")


# --- Google ---

GOOGLE_REDIRECT = "http://127.0.0.1:8080/oauth/google/callback"
CAL = "/google/calendar/v3"


class GoogleConformanceTest(ConformanceTest):
    """Calendar API v3 answers against shared/specs/google/calendar.v3.json."""

    @classmethod
    def setUpClass(cls):
        SANDBOX.request("POST", "/_sandbox/reset")

    def connect(self):
        verifier, challenge = pkce_pair("google")
        q = self.authorize("/google/o/oauth2/v2/auth/decision", GOOGLE_REDIRECT, {
            "client_id": "sandbox-google-client", "redirect_uri": GOOGLE_REDIRECT,
            "response_type": "code", "scope": GOOGLE_SCOPES, "state": "s1",
            "access_type": "offline", "prompt": "consent", "code_challenge": challenge,
            "code_challenge_method": "S256", "user": "alice@example.com"})
        r = SANDBOX.request("POST", "/google/token", form={
            "grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": GOOGLE_REDIRECT, "client_id": "sandbox-google-client",
            "client_secret": "sandbox-secret", "code_verifier": verifier})
        return self.json_answer(r, 200, "POST /google/token (authorization_code)")

    def setUp(self):
        self.token = self.connect()

    def api(self, method, path, body=None):
        return SANDBOX.request(method, CAL + path, body=body,
                               headers={"Authorization": "Bearer " + self.token["access_token"]})

    def check(self, r, method_id, status=200, endpoint=None):
        endpoint = endpoint or method_id
        self.assertEqual(r.status, status, f"{endpoint}: {r}")
        schema = google_spec().response_schema(method_id)
        if schema is None:
            self.assertEqual(r.body, b"", f"{endpoint}: the method has no response body")
            return None
        body = r.json()
        self.assertConforms(f"{endpoint} ({method_id})",
                            spec_discovery.validate(body, schema, google_spec()))
        return body

    def check_request(self, method_id, body):
        self.assertConforms(f"request body of {method_id}", spec_discovery.validate(
            body, google_spec().request_schema(method_id), google_spec(), method=method_id))

    def insert(self, body, query=""):
        self.check_request("calendar.events.insert", body)
        return self.check(self.api("POST", "/calendars/primary/events" + query, body),
                          "calendar.events.insert",
                          endpoint=f"POST {CAL}/calendars/primary/events{query}")

    def test_token_answers(self):
        self.assertConforms("POST /google/token (authorization_code)",
                            spec_openapi.validate(self.token, GOOGLE_TOKEN))
        self.assertIn("refresh_token", self.token)
        r = SANDBOX.request("POST", "/google/token", form={
            "grant_type": "refresh_token", "refresh_token": self.token["refresh_token"],
            "client_id": "sandbox-google-client", "client_secret": "sandbox-secret"})
        fresh = self.json_answer(r, 200, "POST /google/token (refresh_token)")
        self.assertConforms("POST /google/token (refresh_token)",
                            spec_openapi.validate(fresh, GOOGLE_TOKEN))

    def test_calendar_list(self):
        body = self.check(self.api("GET", "/users/me/calendarList"), "calendar.calendarList.list",
                          endpoint=f"GET {CAL}/users/me/calendarList")
        self.assertEqual(body["kind"], "calendar#calendarList")
        names = {c["summary"]: c for c in body["items"]}
        self.assertTrue(names["alice@example.com"]["primary"])
        self.assertIn("Work", names)

    def test_insert_get_patch_and_meet(self):
        plain = {"summary": "Planning", "description": "Agenda:\n- budget",
                 "location": "Room 4", "start": {"dateTime": "2026-12-01T10:00:00+01:00",
                                                 "timeZone": "Europe/Berlin"},
                 "end": {"dateTime": "2026-12-01T11:00:00+01:00", "timeZone": "Europe/Berlin"},
                 "extendedProperties": {"private": {"calendoxEventId": "ev-1"}},
                 "reminders": {"useDefault": True}}
        e = self.insert(plain)
        self.assertEqual(e["kind"], "calendar#event")
        path = f"/calendars/primary/events/{e['id']}"
        got = self.check(self.api("GET", path), "calendar.events.get",
                         endpoint=f"GET {CAL}{path}")
        self.assertEqual(got["summary"], "Planning")

        patch = {"summary": "Planning (moved)", "location": "https://zoom.example/j/1",
                 "start": {"dateTime": "2026-12-01T12:00:00Z"},
                 "end": {"dateTime": "2026-12-01T13:00:00Z"}}
        self.check_request("calendar.events.patch", patch)
        p = self.check(self.api("PATCH", path, patch), "calendar.events.patch",
                       endpoint=f"PATCH {CAL}{path}")
        self.assertEqual(p["summary"], "Planning (moved)")

        # A Meet link: conferenceData.createRequest with conferenceDataVersion=1.
        meet = {"summary": "With Meet", "start": {"dateTime": "2026-12-02T10:00:00Z"},
                "end": {"dateTime": "2026-12-02T11:00:00Z"},
                "conferenceData": {"createRequest": {
                    "requestId": "req-conformance-1",
                    "conferenceSolutionKey": {"type": "hangoutsMeet"}}}}
        m = self.insert(meet, "?conferenceDataVersion=1")
        self.assertIn("createRequest", m["conferenceData"])
        mpath = f"/calendars/primary/events/{m['id']}"
        got = self.check(self.api("GET", mpath), "calendar.events.get",
                         endpoint=f"GET {CAL}{mpath} (with Meet)")
        self.assertTrue(got["conferenceData"]["entryPoints"])
        self.assertIn("hangoutLink", got)

        # The all-day form of EventDateTime.
        self.insert({"summary": "Off", "start": {"date": "2026-12-24"},
                     "end": {"date": "2026-12-25"}})

        self.check(self.api("DELETE", path), "calendar.events.delete", status=204,
                   endpoint=f"DELETE {CAL}{path}")
        gone = self.check(self.api("GET", path), "calendar.events.get",
                          endpoint=f"GET {CAL}{path} (deleted)")
        self.assertEqual(gone["status"], "cancelled")

    def test_list_pages_sync_token_and_incremental(self):
        ids = []
        for day in (7, 8, 9):
            e = self.insert({"summary": f"day {day}",
                             "start": {"dateTime": f"2026-12-{day:02d}T10:00:00Z"},
                             "end": {"dateTime": f"2026-12-{day:02d}T11:00:00Z"}})
            ids.append(e["id"])
        query = "?maxResults=2"
        pages = []
        while True:
            body = self.check(self.api("GET", "/calendars/primary/events" + query),
                              "calendar.events.list",
                              endpoint=f"GET {CAL}/calendars/primary/events{query}")
            pages.append(body)
            if "nextPageToken" not in body:
                break
            query = "?maxResults=2&pageToken=" + urllib.parse.quote(body["nextPageToken"])
        self.assertGreaterEqual(len(pages), 2)
        self.assertIn("nextSyncToken", pages[-1])

        # An incremental round after a deletion made outside Calendox: a cancelled item.
        r = SANDBOX.request("POST", "/_sandbox/google/calendars/primary/events/"
                                    f"{ids[0]}/delete")
        self.assertIn(r.status, (200, 204), r)
        self.api("PATCH", f"/calendars/primary/events/{ids[1]}", {"summary": "renamed"})
        query = "?syncToken=" + urllib.parse.quote(pages[-1]["nextSyncToken"])
        inc = self.check(self.api("GET", "/calendars/primary/events" + query),
                         "calendar.events.list",
                         endpoint=f"GET {CAL}/calendars/primary/events?syncToken=…")
        by_id = {i["id"]: i for i in inc["items"]}
        self.assertEqual(by_id[ids[0]]["status"], "cancelled")
        self.assertEqual(by_id[ids[1]]["summary"], "renamed")
        self.assertIn("nextSyncToken", inc)

    def test_recurring_event_and_its_instances(self):
        series = {"summary": "Weekly sync", "start": {"dateTime": "2026-12-01T10:00:00",
                                                      "timeZone": "Europe/Berlin"},
                  "end": {"dateTime": "2026-12-01T10:30:00", "timeZone": "Europe/Berlin"},
                  "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
                  "attendees": [{"email": "bob@example.com", "displayName": "Bob",
                                 "optional": True}],
                  "reminders": {"useDefault": False,
                                "overrides": [{"method": "popup", "minutes": 10}]},
                  "transparency": "transparent", "visibility": "private", "colorId": "3",
                  "source": {"title": "Calendox", "url": "https://calendox.example/e/1"}}
        e = self.insert(series)
        self.assertEqual(e["recurrence"], ["RRULE:FREQ=WEEKLY;COUNT=3"])
        query = ("?singleEvents=true&orderBy=startTime&timeMin=2026-11-30T00:00:00Z"
                 "&timeMax=2027-01-01T00:00:00Z")
        body = self.check(self.api("GET", "/calendars/primary/events" + query),
                          "calendar.events.list",
                          endpoint=f"GET {CAL}/calendars/primary/events?singleEvents=true…")
        instances = [i for i in body["items"] if i.get("recurringEventId") == e["id"]]
        self.assertEqual(len(instances), 3)
        self.assertIn("originalStartTime", instances[0])

    def test_wrongly_typed_values_are_refused(self):
        """A value of the wrong type is refused with 400, never stored and answered back."""
        base = {"summary": "typed", "start": {"dateTime": "2026-12-01T10:00:00Z"},
                "end": {"dateTime": "2026-12-01T11:00:00Z"}}
        insert = google_spec().request_schema("calendar.events.insert")
        for extra in ({"sequence": "1"}, {"reminders": {"useDefault": "no"}},
                      {"guestsCanModify": "true"}, {"attendees": {"email": "a@example.com"}},
                      {"colorId": 3}, {"summary": 5}):
            with self.subTest(extra=extra):
                body = dict(base, **extra)
                self.assertTrue(spec_discovery.validate(body, insert, google_spec(),
                                                        method="calendar.events.insert"))
                r = self.api("POST", "/calendars/primary/events", body)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["errors"][0]["reason"], "invalid")

    def test_watch(self):
        channel = {"id": "conformance-channel-1", "type": "web_hook",
                   "address": RECEIVER.base + "/google", "token": "channel-token",
                   "params": {"ttl": "3600"}}
        self.check_request("calendar.events.watch", channel)
        ch = self.check(self.api("POST", "/calendars/primary/events/watch", channel),
                        "calendar.events.watch",
                        endpoint=f"POST {CAL}/calendars/primary/events/watch")
        self.assertEqual(ch["kind"], "api#channel")
        self.assertEqual(ch["id"], "conformance-channel-1")
        stop = {"id": ch["id"], "resourceId": ch["resourceId"]}
        self.check_request("calendar.channels.stop", stop)
        self.check(self.api("POST", "/channels/stop", stop), "calendar.channels.stop",
                   status=204, endpoint=f"POST {CAL}/channels/stop")


# --- Microsoft ---

MICROSOFT_REDIRECT = "http://127.0.0.1:8080/oauth/microsoft/callback"
GRAPH = "/microsoft/v1.0"


class MicrosoftConformanceTest(ConformanceTest):
    """Graph v1.0 answers against shared/specs/microsoft/graph-v1.0-Prod.csdl."""

    @classmethod
    def setUpClass(cls):
        SANDBOX.request("POST", "/_sandbox/reset")

    def connect(self):
        verifier, challenge = pkce_pair("microsoft")
        q = self.authorize("/microsoft/common/oauth2/v2.0/authorize/decision",
                           MICROSOFT_REDIRECT, {
                               "client_id": "sandbox-microsoft-client",
                               "redirect_uri": MICROSOFT_REDIRECT, "response_type": "code",
                               "scope": MICROSOFT_SCOPES, "state": "s1",
                               "code_challenge": challenge, "code_challenge_method": "S256",
                               "user": "alice@contoso.example"})
        r = SANDBOX.request("POST", "/microsoft/common/oauth2/v2.0/token", form={
            "grant_type": "authorization_code", "code": q["code"],
            "redirect_uri": MICROSOFT_REDIRECT, "client_id": "sandbox-microsoft-client",
            "client_secret": "sandbox-secret", "code_verifier": verifier,
            "scope": MICROSOFT_SCOPES})
        return self.json_answer(r, 200, "POST /microsoft/common/oauth2/v2.0/token")

    def setUp(self):
        self.token = self.connect()

    def api(self, method, target, body=None, headers=None):
        h = {"Authorization": "Bearer " + self.token["access_token"]}
        h.update(headers or {})
        if not target.startswith("http"):
            target = GRAPH + target
        return SANDBOX.request(method, target, body=body, headers=h)

    def check(self, r, type_name, status, endpoint, **kw):
        self.assertEqual(r.status, status, f"{endpoint}: {r}")
        body = r.json()
        self.assertConforms(endpoint, graph_spec().validate(body, type_name, nullable=False,
                                                            **kw))
        return body

    def check_collection(self, r, type_name, endpoint, **kw):
        self.assertEqual(r.status, 200, f"{endpoint}: {r}")
        body = r.json()
        self.assertConforms(endpoint, graph_spec().validate_collection(body, type_name, **kw))
        return body

    def check_request(self, type_name, body, endpoint, **kw):
        self.assertConforms(f"request body of {endpoint}", graph_spec().validate(
            body, type_name, nullable=False, require_key=False, **kw))

    def create_event(self, body):
        self.check_request("graph.event", body, "POST /me/events")
        return self.check(self.api("POST", "/me/events", body), "graph.event", 201,
                          f"POST {GRAPH}/me/events")

    def test_token_answers(self):
        self.assertConforms("POST /microsoft/common/oauth2/v2.0/token (authorization_code)",
                            spec_openapi.validate(self.token, MICROSOFT_TOKEN))
        self.assertIn("refresh_token", self.token)
        r = SANDBOX.request("POST", "/microsoft/common/oauth2/v2.0/token", form={
            "grant_type": "refresh_token", "refresh_token": self.token["refresh_token"],
            "client_id": "sandbox-microsoft-client", "client_secret": "sandbox-secret",
            "scope": MICROSOFT_SCOPES})
        fresh = self.json_answer(r, 200, "POST /microsoft/…/token (refresh_token)")
        self.assertConforms("POST /microsoft/common/oauth2/v2.0/token (refresh_token)",
                            spec_openapi.validate(fresh, MICROSOFT_TOKEN))

    def test_me_and_calendars(self):
        me = self.check(self.api("GET", "/me"), "graph.user", 200, f"GET {GRAPH}/me")
        self.assertEqual(me.get("mail") or me.get("userPrincipalName"), "alice@contoso.example")
        cals = self.check_collection(self.api("GET", "/me/calendars"), "graph.calendar",
                                     f"GET {GRAPH}/me/calendars")
        default = [c for c in cals["value"] if c.get("isDefaultCalendar")]
        self.assertEqual(len(default), 1)
        self.assertEqual(default[0]["name"], "Calendar")

    def test_events_create_patch_and_online_meeting(self):
        # "HTML" as in the Graph docs' own create example; the answer spells it html.
        plain = {"subject": "Planning", "body": {"contentType": "HTML",
                                                 "content": "<p>Agenda</p>"},
                 "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "UTC"},
                 "location": {"displayName": "https://zoom.example/j/1"},
                 "attendees": [{"emailAddress": {"address": "bob@example.com", "name": "Bob"},
                                "type": "required"}],
                 "transactionId": "calendox-conformance-1"}
        e = self.create_event(plain)
        self.assertEqual(e["subject"], "Planning")
        self.assertEqual(e["body"]["contentType"], "html")
        teams = {"subject": "Teams", "start": {"dateTime": "2026-12-02T10:00:00",
                                               "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-02T11:00:00", "timeZone": "UTC"},
                 "isOnlineMeeting": True, "onlineMeetingProvider": "teamsForBusiness"}
        t = self.create_event(teams)
        self.assertTrue(t["onlineMeeting"]["joinUrl"])

        patch = {"subject": "Planning (moved)",
                 "start": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
                 "end": {"dateTime": "2026-12-01T13:00:00", "timeZone": "UTC"}}
        self.check_request("graph.event", patch, "PATCH /me/events/{id}")
        p = self.check(self.api("PATCH", f"/me/events/{e['id']}", patch), "graph.event", 200,
                       f"PATCH {GRAPH}/me/events/{{id}}")
        self.assertEqual(p["subject"], "Planning (moved)")
        self.check(self.api("GET", f"/me/events/{e['id']}",
                            headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'}),
                   "graph.event", 200, f"GET {GRAPH}/me/events/{{id}} (Prefer outlook.timezone)")

    def test_wrongly_typed_values_are_refused(self):
        """A value of the wrong type is refused with 400, never stored and answered back."""
        base = {"subject": "typed", "start": {"dateTime": "2026-12-01T10:00:00",
                                              "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-01T11:00:00", "timeZone": "UTC"}}
        for extra in ({"isAllDay": "false"}, {"showAs": "maybe"}, {"categories": "work"},
                      {"reminderMinutesBeforeStart": "5"}, {"isOnlineMeeting": 1},
                      {"body": {"contentType": "rtf", "content": "x"}}, {"subject": 5}):
            with self.subTest(extra=extra):
                body = dict(base, **extra)
                self.assertTrue(graph_spec().validate(body, "graph.event", require_key=False))
                r = self.api("POST", "/me/events", body)
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"]["code"], "BadRequest")

    def test_recurring_series_and_occurrences(self):
        series = {"subject": "Weekly sync",
                  "start": {"dateTime": "2026-12-01T10:00:00",
                            "timeZone": "Pacific Standard Time"},
                  "end": {"dateTime": "2026-12-01T10:30:00",
                          "timeZone": "Pacific Standard Time"},
                  "recurrence": {"pattern": {"type": "weekly", "interval": 1,
                                             "daysOfWeek": ["tuesday"]},
                                 "range": {"type": "numbered", "startDate": "2026-12-01",
                                           "numberOfOccurrences": 3}},
                  "showAs": "tentative", "importance": "high", "sensitivity": "private",
                  "categories": ["Blue category"], "reminderMinutesBeforeStart": 5,
                  "isReminderOn": True, "locations": [{"displayName": "Room 4"}],
                  "responseRequested": False, "allowNewTimeProposals": True}
        master = self.create_event(series)
        self.assertEqual(master["type"], "seriesMaster")
        view = self.check_collection(
            self.api("GET", "/me/calendarView?startDateTime=2026-11-30T00:00:00Z&"
                            "endDateTime=2027-01-01T00:00:00Z"),
            "graph.event", f"GET {GRAPH}/me/calendarView (a series)")
        occurrences = [e for e in view["value"] if e.get("seriesMasterId") == master["id"]]
        self.assertEqual(len(occurrences), 3)
        self.assertEqual({e["type"] for e in occurrences}, {"occurrence"})
        self.check_collection(self.api("GET", "/me/events"), "graph.event",
                              f"GET {GRAPH}/me/events")

    def test_calendar_view_and_delta(self):
        made = [self.create_event({
            "subject": f"d{i}", "start": {"dateTime": f"2026-12-0{i}T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": f"2026-12-0{i}T11:00:00", "timeZone": "UTC"}})
            for i in range(1, 4)]
        window = "startDateTime=2026-12-01T00:00:00Z&endDateTime=2027-01-01T00:00:00Z"
        target = f"/me/calendarView?{window}&$top=2"
        seen = 0
        while target:
            body = self.check_collection(self.api("GET", target), "graph.event",
                                         f"GET {GRAPH}/me/calendarView")
            seen += len(body["value"])
            target = body.get("@odata.nextLink")
        self.assertGreaterEqual(seen, 3)

        prefer = {"Prefer": "odata.maxpagesize=2"}
        target, delta = f"/me/calendarView/delta?{window}", None
        while target:
            body = self.check_collection(self.api("GET", target, headers=prefer), "graph.event",
                                         f"GET {GRAPH}/me/calendarView/delta",
                                         item_allow_removed=True)
            target = body.get("@odata.nextLink")
            delta = body.get("@odata.deltaLink", delta)
        self.assertIsNotNone(delta)

        # A round with a change and a deletion: @removed items (MICROSOFT.md ME-20).
        self.api("PATCH", f"/me/events/{made[0]['id']}", {"subject": "changed"})
        self.assertEqual(self.api("DELETE", f"/me/events/{made[1]['id']}").status, 204)
        target, items = delta, []
        while target:
            body = self.check_collection(self.api("GET", target, headers=prefer), "graph.event",
                                         f"GET {GRAPH}/me/calendarView/delta?$deltatoken=…",
                                         item_allow_removed=True)
            items += body["value"]
            target = body.get("@odata.nextLink")
        removed = [i for i in items if "@removed" in i]
        self.assertEqual([i["id"] for i in removed], [made[1]["id"]])

    def test_subscriptions_and_notifications(self):
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 3600))
        sub = {"changeType": "created,updated,deleted",
               "notificationUrl": RECEIVER.base + "/graph",
               "lifecycleNotificationUrl": RECEIVER.base + "/graph",
               "resource": "me/events", "expirationDateTime": exp,
               "clientState": "conformance-client-state"}
        self.check_request("graph.subscription", sub, "POST /subscriptions",
                           require_non_nullable=True)
        s = self.check(self.api("POST", "/subscriptions", sub), "graph.subscription", 201,
                       f"POST {GRAPH}/subscriptions", require_non_nullable=True)
        renew = {"expirationDateTime": time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 3600))}
        self.check_request("graph.subscription", renew, "PATCH /subscriptions/{id}")
        self.check(self.api("PATCH", f"/subscriptions/{s['id']}", renew), "graph.subscription",
                   200, f"PATCH {GRAPH}/subscriptions/{{id}}", require_non_nullable=True)

        before = len(RECEIVER.wait_notifications(0, 0))
        self.create_event({"subject": "notify me",
                           "start": {"dateTime": "2026-12-05T10:00:00", "timeZone": "UTC"},
                           "end": {"dateTime": "2026-12-05T11:00:00", "timeZone": "UTC"}})
        got = RECEIVER.wait_notifications(before + 1)
        self.assertGreater(len(got), before, "no change notification arrived")
        for n in got[before:]:
            # resourceData is an open type: its members depend on the resource.
            self.assertConforms("change notification POSTed to notificationUrl",
                                graph_spec().validate(n, "graph.changeNotificationCollection",
                                                      nullable=False,
                                                      open_types=["graph.resourceData"]))

        # A lifecycle notification to lifecycleNotificationUrl (ME-27). It carries no changeType
        # and no resource although the CSDL makes both non-nullable: MICROSOFT.md §8 "Lifecycle
        # notifications [official DC lifecycle doc]" documents the payload as
        # {subscriptionId, subscriptionExpirationDateTime, tenantId, clientState, lifecycleEvent}.
        lifecycle_omits = {
            "$.value[].changeType": "shared/providers/MICROSOFT.md §8 Lifecycle notifications",
            "$.value[].resource": "shared/providers/MICROSOFT.md §8 Lifecycle notifications",
        }
        before = len(RECEIVER.wait_notifications(0, 0))
        r = SANDBOX.request("POST", f"/_sandbox/microsoft/subscriptions/{s['id']}/lifecycle",
                            body={"event": "missed"})
        self.assertEqual(r.status, 200, r)
        n = RECEIVER.wait_for(lambda body: any("lifecycleEvent" in v for v in body["value"]),
                              since=before)
        self.assertIsNotNone(n, "no lifecycle notification arrived")
        self.assertEqual(n["value"][0]["lifecycleEvent"], "missed")
        self.assertConforms("lifecycle notification POSTed to lifecycleNotificationUrl",
                            graph_spec().validate(n, "graph.changeNotificationCollection",
                                                  nullable=False, may_omit=lifecycle_omits))

        r = self.api("DELETE", f"/subscriptions/{s['id']}")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")


# --- the checkers themselves: each kind of mistake is caught ---

class CheckerSelfTest(ConformanceTest):
    """The spec walkers flag what they must, so a conforming answer above means something."""

    def test_openapi_checker(self):
        doc = zoom_spec()
        schema = doc.response_schema("GET", "/meetings/{meetingId}", 200)
        good = {"id": 92674392836, "topic": "x", "type": 2, "status": "waiting",
                "start_time": "2026-12-01T10:00:00Z", "settings": {"waiting_room": True}}
        self.assertEqual(spec_openapi.validate(good, schema, resolve=doc.resolve), [])
        cases = {
            "$.id": dict(good, id="92674392836"),             # int64 is a JSON integer here
            "$.invented": dict(good, invented=1),             # not in the spec
            "$.type": dict(good, type=5),                     # not in the enum
            "$.settings.waiting_room": dict(good, settings={"waiting_room": "yes"}),
            "$.status": dict(good, status=None),              # not nullable
        }
        for path, value in cases.items():
            with self.subTest(path=path):
                problems = spec_openapi.validate(value, schema, resolve=doc.resolve)
                self.assertTrue(any(p.startswith(path + ":") for p in problems), problems)
        user = doc.response_schema("GET", "/users/{userId}", 200)
        self.assertIn("$.type: required by the spec but missing",
                      spec_openapi.validate({"id": "u"}, user, resolve=doc.resolve))
        allow = {"$.invented": Documented({"type": "integer"}, "a test citation")}
        self.assertEqual(spec_openapi.validate(dict(good, invented=1), schema,
                                               resolve=doc.resolve, allow=allow), [])
        self.assertTrue(spec_openapi.validate(dict(good, invented="1"), schema,
                                              resolve=doc.resolve, allow=allow))
        one_of = {"oneOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                            {"type": "object", "properties": {"b": {"type": "integer"}}}]}
        self.assertEqual(spec_openapi.validate({"b": 1}, one_of), [])
        self.assertTrue(spec_openapi.validate({"b": "1"}, one_of))
        ref_doc = {"components": {"schemas": {"X": {"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "boolean"}}}]}}}}
        resolver = spec_openapi.OpenAPIDocument.__new__(spec_openapi.OpenAPIDocument)
        resolver.doc = ref_doc
        ref = {"$ref": "#/components/schemas/X"}
        self.assertEqual(spec_openapi.validate({"a": "x", "b": True}, ref,
                                               resolve=resolver.resolve), [])
        self.assertEqual(len(spec_openapi.validate({"b": 1}, ref, resolve=resolver.resolve)), 2)

    def test_discovery_checker(self):
        doc = google_spec()
        event = doc.response_schema("calendar.events.get")
        good = {"kind": "calendar#event", "id": "abc", "sequence": 0,
                "start": {"dateTime": "2026-12-01T10:00:00Z"},
                "extendedProperties": {"private": {"k": "v"}},
                "attendees": [{"email": "a@example.com", "responseStatus": "accepted"}]}
        self.assertEqual(spec_discovery.validate(good, event, doc), [])
        cases = {
            "$.sequence": dict(good, sequence="0"),
            "$.start.dateTime": dict(good, start={"dateTime": "2026-12-01T10:00:00"}),
            "$.attendees[0].invented": dict(good, attendees=[{"invented": True}]),
            "$.extendedProperties.private.k": dict(good,
                                                   extendedProperties={"private": {"k": 1}}),
            "$.summary": dict(good, summary=None),
        }
        for path, value in cases.items():
            with self.subTest(path=path):
                problems = spec_discovery.validate(value, event, doc)
                self.assertTrue(any(p.startswith(path + ":") for p in problems), problems)
        insert = doc.request_schema("calendar.events.insert")
        problems = spec_discovery.validate({"summary": "x"}, insert, doc,
                                           method="calendar.events.insert")
        self.assertIn("$.start: required by calendar.events.insert but missing", problems)
        channel = doc.response_schema("calendar.events.watch")
        self.assertEqual(spec_discovery.validate({"expiration": "1767225600000"}, channel, doc),
                         [])
        self.assertTrue(spec_discovery.validate({"expiration": 1767225600000}, channel, doc))

    def test_csdl_checker(self):
        model = graph_spec()
        good = {"@odata.etag": "W/\"x\"", "id": "AAMk", "subject": "x", "isAllDay": False,
                "start": {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "UTC"},
                "showAs": "busy", "categories": [], "createdDateTime": "2026-12-01T10:00:00Z",
                "reminderMinutesBeforeStart": 15}
        self.assertEqual(model.validate(good, "graph.event"), [])
        cases = {
            "$.isAllDay": dict(good, isAllDay="false"),
            "$.invented": dict(good, invented=1),               # OpenType, yet strict
            "$.showAs": dict(good, showAs="maybe"),
            "$.start.dateTime": dict(good, start={"timeZone": "UTC"}),  # non-nullable
            "$.categories": dict(good, categories="work"),
            "$.createdDateTime": dict(good, createdDateTime="yesterday"),
            "$.reminderMinutesBeforeStart": dict(good, reminderMinutesBeforeStart=1.5),
            "$.id": {k: v for k, v in good.items() if k != "id"},  # the entity key
        }
        for path, value in cases.items():
            with self.subTest(path=path):
                problems = model.validate(value, "graph.event")
                self.assertTrue(any(p.startswith(path + ":") for p in problems), problems)
        self.assertTrue(model.derives_from("graph.event", "graph.entity"))
        self.assertIn("changeKey", model.properties("graph.event"))  # from outlookItem
        page = {"@odata.context": "x", "value": [good], "@odata.nextLink": "http://x"}
        self.assertEqual(model.validate_collection(page, "graph.event"), [])
        removed = {"value": [{"id": "AAMk", "@removed": {"reason": "deleted"}}]}
        self.assertEqual(model.validate_collection(removed, "graph.event",
                                                   item_allow_removed=True), [])
        self.assertTrue(model.validate_collection(removed, "graph.event"))
        self.assertTrue(model.validate_collection({"value": [], "extra": 1}, "graph.event"))
        sub = {"id": "s", "resource": "me/events", "changeType": "created",
               "notificationUrl": "https://x", "expirationDateTime": "2026-12-01T10:00:00Z"}
        self.assertEqual(model.validate(sub, "graph.subscription",
                                        require_non_nullable=True), [])
        self.assertTrue(model.validate({"id": "s"}, "graph.subscription",
                                       require_non_nullable=True))
        self.assertTrue(model.validate(dict(good, **{"@odata.type": "#microsoft.graph.user"}),
                                       "graph.event"))


if __name__ == "__main__":
    unittest.main()
