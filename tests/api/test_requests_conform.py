"""Every request Calendox sends to Google, Microsoft Graph and Zoom while it syncs, creates, changes
and deletes events with meetings is checked against the providers' published specs in
../shared/specs (issue: "The requests Calendox sends to Google are checked against
calendar.v3.json"; "Every request Calendox sends to Zoom is checked against ZoomMeetingAPISpec.json"):
the path is an operation of the spec, every query parameter exists with a value of its declared
type, and the body's fields exist with their declared types and limits."""

import json
import re
import urllib.parse

import spec_discovery
import spec_openapi
from test_events_write import WriteCase
from test_sandbox_conformance import google_spec, graph_spec, zoom_spec

# Calendox's paths under the sandbox prefixes, as the specs write them.
GOOGLE_METHODS = [
    ("GET", r"/users/me/calendarList", "calendar.calendarList.list"),
    ("GET", r"/calendars/[^/]+/events", "calendar.events.list"),
    ("POST", r"/calendars/[^/]+/events", "calendar.events.insert"),
    ("POST", r"/calendars/[^/]+/events/watch", "calendar.events.watch"),
    ("GET", r"/calendars/[^/]+/events/[^/]+", "calendar.events.get"),
    ("PATCH", r"/calendars/[^/]+/events/[^/]+", "calendar.events.patch"),
    ("DELETE", r"/calendars/[^/]+/events/[^/]+", "calendar.events.delete"),
    ("POST", r"/channels/stop", "calendar.channels.stop"),
]
ZOOM_OPERATIONS = [
    ("GET", r"/users/me", "/users/{userId}"),
    ("POST", r"/users/me/meetings", "/users/{userId}/meetings"),
    ("GET", r"/meetings/\d+", "/meetings/{meetingId}"),
    ("PATCH", r"/meetings/\d+", "/meetings/{meetingId}"),
    ("DELETE", r"/meetings/\d+", "/meetings/{meetingId}"),
]


def discovery_type_ok(value, param):
    t = param.get("type")
    if t == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if t == "boolean":
        return value in ("true", "false")
    if param.get("enum"):
        return value in param["enum"]
    return True


class RequestsConformTest(WriteCase):
    def exercise(self):
        """Sync, create, change and delete on both calendars, with Zoom, Meet and Teams."""
        g, g_cal = self.ready("google")
        ev = self.create(g, g_cal)
        self.assertEqual(g.call("PATCH", f"/api/events/{ev['id']}", {"title": "Renamed"}).status,
                         200)
        self.assertEqual(g.call("GET", f"/api/events/{ev['id']}?refresh=1").status, 200)
        self.assertEqual(g.call("DELETE", f"/api/events/{ev['id']}").status, 204)
        self.settled(g, self.create(g, g_cal, meeting="google_meet", status=None)["id"])
        self.create(g, g_cal, meeting=None, all_day=True, start="2026-12-24T00:00:00Z",
                    end="2026-12-26T00:00:00Z")
        m, m_cal = self.ready("microsoft")
        ev = self.create(m, m_cal)
        self.settled(m, self.create(m, m_cal, meeting="teams", status=None)["id"])
        self.assertEqual(m.call("PATCH", f"/api/events/{ev['id']}",
                                {"meeting": None, "location": "Room 4"}).status, 200)
        self.assertEqual(m.call("DELETE", f"/api/events/{ev['id']}").status, 204)
        self.wait_until(lambda: not [q for q in self.server.db_query(
            "SELECT id FROM jobs WHERE kind IN ('event.write', 'zoom.meeting.delete') AND "
            "state IN ('queued', 'running')")], "the writes to settle: " + str(
                self.server.db_query("SELECT id, kind, state, attempts, last_error, payload FROM jobs "
                                     "WHERE state IN ('queued', 'running')")))
        return self.sb.requests()

    def test_every_request_conforms(self):
        reqs = self.exercise()
        seen = {"google": set(), "microsoft": set(), "zoom": set()}
        bodies = {"google": 0, "microsoft": 0, "zoom": 0}
        problems = []
        for q in reqs:
            path, query = q["path"], q.get("query") or ""
            body = q.get("body")
            if isinstance(body, str) and body:
                try:
                    body = json.loads(body)
                except ValueError:
                    body = None  # form bodies (OAuth) are checked by the OAuth tests
            params = urllib.parse.parse_qsl(query, keep_blank_values=True)
            if path.startswith("/google/calendar/v3/"):
                rest = path[len("/google/calendar/v3"):]
                found = [mid for meth, pat, mid in GOOGLE_METHODS
                         if meth == q["method"] and re.fullmatch(pat, rest)]
                if not found:
                    problems.append(f"{q['method']} {path}: not a Calendar API method")
                    continue
                mid = found[-1] if rest.endswith("/watch") else found[0]
                seen["google"].add(mid)
                method = google_spec().method(mid)
                declared = method.get("parameters", {})
                for name, value in params:
                    p = declared.get(name)
                    if p is None:
                        problems.append(f"{mid}: query parameter {name} is not declared")
                    elif not discovery_type_ok(value, p):
                        problems.append(f"{mid}: {name}={value!r} is not a {p.get('type')}")
                if body is not None and method.get("request"):
                    bodies["google"] += 1
                    problems += [f"{mid}: {p}" for p in spec_discovery.validate(
                        body, google_spec().request_schema(mid), google_spec(),
                        method=mid if q["method"] == "POST" else None)]
            elif path.startswith("/zoom/v2/"):
                rest = path[len("/zoom/v2"):]
                found = [op for meth, pat, op in ZOOM_OPERATIONS
                         if meth == q["method"] and re.fullmatch(pat, rest)]
                if not found:
                    problems.append(f"{q['method']} {path}: not a Zoom API operation")
                    continue
                op = zoom_spec().operation(q["method"], found[0])
                seen["zoom"].add(f"{q['method']} {found[0]}")
                declared = {p["name"] for p in (zoom_spec().resolve(x) for x in
                                                op.get("parameters", [])) if p.get("in") == "query"}
                for name, _ in params:
                    if name not in declared:
                        problems.append(f"zoom {found[0]}: query parameter {name} is not declared")
                if body is not None and q["method"] in ("POST", "PATCH"):
                    bodies["zoom"] += 1
                    schema = zoom_spec().request_schema(q["method"], found[0])
                    problems += [f"zoom {q['method']} {found[0]}: {p}" for p in spec_openapi.validate(
                        body, schema, resolve=zoom_spec().resolve,
                        check_required=q["method"] == "POST")]
            elif path.startswith("/microsoft/v1.0/"):
                rest = path[len("/microsoft/v1.0"):]
                seen["microsoft"].add(f"{q['method']} {re.sub(r'/[A-Za-z0-9=_-]{20,}', '/{id}', rest)}")
                if body is not None and q["method"] in ("POST", "PATCH") and "/events" in rest:
                    bodies["microsoft"] += 1
                    problems += [f"graph {q['method']} {rest}: {p}" for p in graph_spec().validate(
                        body, "microsoft.graph.event", require_key=False)]
        self.assertEqual(problems, [], "\n".join(problems))
        # The run did exercise what it claims to check.
        self.assertTrue(all(n >= 2 for n in bodies.values()), bodies)
        for mid in ("calendar.events.insert", "calendar.events.patch", "calendar.events.delete",
                    "calendar.events.list", "calendar.events.get"):
            self.assertIn(mid, seen["google"])
        for op in ("POST /users/{userId}/meetings", "GET /meetings/{meetingId}",
                   "DELETE /meetings/{meetingId}"):
            self.assertIn(op, seen["zoom"])
        self.assertTrue(any(s.startswith("POST ") and "/events" in s for s in seen["microsoft"]),
                        seen["microsoft"])
