#!/usr/bin/env python3
"""Helper of bench/sandbox/run.sh (Python standard library only).

  client.py token zoom|google BASE_URL

Signs in as alice@example.com through the sandbox's consent form (the POST its Allow button sends,
so no browser is needed), exchanges the code for tokens with PKCE (S256) and client credentials in
HTTP Basic, and prints the access token on stdout for the caller, nothing else.
"""
import base64
import hashlib
import http.client
import json
import secrets
import sys
import urllib.parse

ZOOM = {
    "decision": "/zoom/oauth/authorize/decision",
    "token": "/zoom/oauth/token",
    "client_id": "sandbox-zoom-client",
    "client_secret": "sandbox-secret",
    "scope": "user:read:user meeting:read:meeting",
    "redirect": "/oauth/zoom/callback",
}
GOOGLE = {
    "decision": "/google/o/oauth2/v2/auth/decision",
    "token": "/google/token",
    "client_id": "sandbox-google-client",
    "client_secret": "sandbox-secret",
    "scope": "https://www.googleapis.com/auth/calendar.readonly",
    "redirect": "/oauth/google/callback",
}


def connect(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def post_form(conn, path, fields, headers=None):
    body = urllib.parse.urlencode(fields)
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    conn.request("POST", path, body=body, headers=h)
    resp = conn.getresponse()
    return resp.status, resp.getheader("Location"), resp.read()


def token(provider, base):
    p = ZOOM if provider == "zoom" else GOOGLE
    # The redirect URI is never visited: the code is read from the 302's Location header.
    redirect_uri = "http://127.0.0.1:9/" + p["redirect"].lstrip("/")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge = challenge.rstrip(b"=").decode()
    conn = connect(base)
    status, location, _ = post_form(conn, p["decision"], {
        "client_id": p["client_id"], "redirect_uri": redirect_uri, "response_type": "code",
        "scope": p["scope"], "state": "bench", "code_challenge": challenge,
        "code_challenge_method": "S256", "access_type": "offline",
        "user": "alice@example.com", "decision": "allow"})
    if status != 302 or not location:
        sys.exit(f"{provider}: consent answered {status}, expected a 302 with a code")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [None])[0]
    if not code:
        sys.exit(f"{provider}: consent redirect carries no code")
    basic = base64.b64encode(f"{p['client_id']}:{p['client_secret']}".encode()).decode()
    status, _, body = post_form(conn, p["token"], {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier}, {"Authorization": "Basic " + basic})
    conn.close()
    if status != 200:
        sys.exit(f"{provider}: token endpoint answered {status}")
    print(json.loads(body)["access_token"])


def main(argv):
    if len(argv) == 4 and argv[1] == "token" and argv[2] in ("zoom", "google"):
        token(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
