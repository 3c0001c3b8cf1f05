"""Black-box harness: starts the built `calendox serve` on a free loopback port with its own SQLite
file and web root, and talks HTTP to it like a client would. The store file is read with Python's
sqlite3 only to check that a refused request changed nothing.

With CALENDOX_TEST_DATABASE_URL set to a PostgreSQL server URL (postgresql://…/postgres, as
scripts/pg.sh prints), each Server gets a fresh database cx_<random> on that server instead, read
through `psql` (Python has no libpq module here), and dropped when the server closes."""

import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import base64
import urllib.parse

BINARY = os.environ.get("CALENDOX_BINARY", "build/calendox")
PG_SERVER_URL = os.environ.get("CALENDOX_TEST_DATABASE_URL")


def _pg_url(server_url, dbname):
    """server_url with its database name replaced."""
    u = urllib.parse.urlsplit(server_url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))


def _psql_binary():
    """Debian's /usr/bin/psql is a Perl wrapper that costs as much as the query: use the real one."""
    import glob
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else "psql"


PSQL = _psql_binary()


def _psql(url, sql):
    r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url,
                        "-c", sql], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed: {r.stderr.strip()}")
    return r.stdout


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x" + bytes(v).hex() + "'::bytea"
    return "'" + str(v).replace("'", "''") + "'"


def _pg_inline(sql, params):
    """The test's sqlite-style SQL ("?" placeholders) with the values written in as literals."""
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(params)} parameters for {len(parts) - 1} placeholders: {sql}")
    out = parts[0]
    for v, rest in zip(params, parts[1:]):
        out += _pg_literal(v) + rest
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_named(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    def error_code(self):
        try:
            return self.json()["error"]["code"]
        except Exception:
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Sandbox:
    """One `calendox sandbox` process on a free port (DESIGN §7)."""

    def __init__(self, zoom_webhook_url=None):
        args = [BINARY, "sandbox", "--port", "0"]
        if zoom_webhook_url:
            args += ["--zoom-webhook-url", zoom_webhook_url]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline()
        self.port = json.loads(line)["port"]
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None, form=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        out = Response(r.status, r.getheaders(), r.read())
        conn.close()
        return out

    def state(self):
        return self.request("GET", "/_sandbox/state").json()

    def requests(self):
        return self.request("GET", "/_sandbox/requests").json()["requests"]


class Server:
    """One calendox serve process with a fresh store."""

    def __init__(self, extra_env=None, workers=2, sandbox=False):
        self.dir = tempfile.mkdtemp(prefix="calendox-api-")
        self.db = os.path.join(self.dir, "calendox.db")
        self.pg_url = None
        if PG_SERVER_URL:
            name = "cx_" + os.urandom(8).hex()
            _psql(PG_SERVER_URL, f"CREATE DATABASE {name}")
            self.pg_url = _pg_url(PG_SERVER_URL, name)
            self.pg_name = name
        self.web = os.path.join(self.dir, "web")
        os.makedirs(os.path.join(self.web, "assets"))
        with open(os.path.join(self.web, "index.html"), "w") as f:
            f.write("<!doctype html><title>Calendox</title><div id=app></div>")
        with open(os.path.join(self.web, "assets", "app-1234abcd.js"), "w") as f:
            f.write("console.log('calendox');")
        self.port = None
        self.proc = None
        self.with_sandbox = sandbox
        self.sandbox = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.env = dict(os.environ)
        self.env.update({
            "CALENDOX_DATABASE": self.pg_url or ("sqlite:" + self.db),
            "CALENDOX_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
            "CALENDOX_WEB_ROOT": self.web,
            "CALENDOX_JOB_WORKERS": str(workers),
            "CALENDOX_HTTP_THREADS": "4",
            "CALENDOX_PWHASH_FAST": "1",
            "CALENDOX_LOG_LEVEL": "info",
        })
        if extra_env:
            self.env.update(extra_env)

    def start(self):
        if self.port is None:
            self.port = free_port()
        self.env["CALENDOX_LISTEN"] = f"127.0.0.1:{self.port}"
        self.env["CALENDOX_PUBLIC_URL"] = f"http://127.0.0.1:{self.port}"
        if self.with_sandbox and self.sandbox is None:
            self.sandbox = Sandbox(f"http://127.0.0.1:{self.port}/webhooks/zoom")
            self.env["CALENDOX_SANDBOX"] = self.sandbox.base
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("calendox serve exited: " + self.log())
            try:
                if self.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("calendox serve did not start: " + self.log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def close(self):
        rc = self.stop()
        if self.sandbox:
            self.sandbox.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_url:
            _psql(PG_SERVER_URL, f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
            self.pg_url = None
        return rc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def run_cli(self, *args):
        return subprocess.run([BINARY, *args], env=self.env, capture_output=True, text=True,
                              timeout=30)

    def request(self, method, path, body=None, headers=None, cookie=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if cookie:
            h["Cookie"] = cookie
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        out = Response(r.status, r.getheaders(), r.read())
        conn.close()
        return out

    def raw(self, data, timeout=5):
        """Sends bytes on a fresh connection and returns everything read until close/timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except socket.timeout:
            pass
        s.close()
        return b"".join(chunks)

    def db_query(self, sql, params=()):
        if self.pg_url:
            # One JSON array of rows; each row's values in column order.
            out = _psql(self.pg_url, "SELECT COALESCE(json_agg(t), '[]') FROM (" +
                        _pg_inline(sql, params) + ") t")
            return json.loads(out, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
        con = sqlite3.connect(self.db, timeout=10)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def db_exec(self, sql, params=()):
        if self.pg_url:
            _psql(self.pg_url, _pg_inline(sql, params))
            return
        con = sqlite3.connect(self.db, timeout=10)
        try:
            con.execute(sql, params)
            con.commit()
        finally:
            con.close()

    def snapshot(self):
        """Row counts of every table, to show that a refused request changed nothing."""
        if self.pg_url:
            return self._pg_snapshot()
        else:
            tables = [r[0] for r in self.db_query(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        out = {}
        for t in tables:
            if t in ("jobs", "login_attempts"):
                continue  # housekeeping jobs and throttling counters move on their own
            out[t] = self.db_query(f"SELECT * FROM {t} ORDER BY 1")
        return out


    def _pg_snapshot(self):
        # One psql call for every table: starting psql costs more than the queries.
        tables = [r[0] for r in self.db_query(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "AND tablename NOT IN ('jobs', 'login_attempts')")]
        parts = [f"json_build_array('{t}', (SELECT COALESCE(json_agg(r), '[]') FROM "
                 f"(SELECT * FROM {t} ORDER BY 1) r))" for t in tables]
        out = _psql(self.pg_url, "SELECT json_build_array(" + ", ".join(parts) + ")")
        pairs = json.loads(out, object_pairs_hook=lambda kv: tuple(v for _, v in kv))
        return {name: rows for name, rows in pairs}


class Client:
    """A browser-like client: keeps the session cookie and the CSRF token."""

    def __init__(self, server):
        self.server = server
        self.cookie = None
        self.csrf = None

    def _keep_cookie(self, r):
        for v in r.headers_named("Set-Cookie"):
            name, _, rest = v.partition("=")
            if name == "calendox_session":
                value = rest.split(";", 1)[0]
                self.cookie = f"calendox_session={value}" if value else None

    def call(self, method, path, body=None, headers=None, csrf=True, raw=None):
        h = dict(headers or {})
        if csrf and self.csrf and method in ("POST", "PATCH", "DELETE", "PUT"):
            h.setdefault("X-CSRF-Token", self.csrf)
        r = self.server.request(method, path, body=body, headers=h, cookie=self.cookie, raw=raw)
        self._keep_cookie(r)
        return r

    def signup(self, email, password="correct horse battery", name="Test Person"):
        r = self.call("POST", "/api/auth/signup", {"email": email, "password": password,
                                                   "name": name})
        if r.status == 201:
            self.refresh_csrf()
        return r

    def login(self, email, password="correct horse battery"):
        r = self.call("POST", "/api/auth/login", {"email": email, "password": password})
        if r.status == 200:
            self.refresh_csrf()
        return r

    def refresh_csrf(self):
        r = self.call("GET", "/api/me")
        if r.status == 200:
            self.csrf = r.json()["csrf_token"]
        return r


_counter = [0]


def unique_email(prefix="person"):
    _counter[0] += 1
    return f"{prefix}.{os.getpid()}.{_counter[0]}.{int(time.time()*1000) % 100000}@example.com"
