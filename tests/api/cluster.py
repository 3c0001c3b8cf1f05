"""Several `calendox serve` instances on one PostgreSQL database behind nginx (Debian's), with one
sandbox, for the multi-instance tests. A Cluster looks like a harness.Server to the tests: requests
go through nginx, which balances them over the instances round-robin, and the providers' redirects
and webhooks come back through nginx too. Instances can be killed (SIGKILL) and started again."""

import http.client
import os
import shutil
import subprocess
import time

from harness import BINARY, PG_SERVER_URL, Sandbox, Server, free_port

NGINX_CONF = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
	access_log off;
	client_body_temp_path {dir}/ngtmp;
	proxy_temp_path {dir}/ngtmp; fastcgi_temp_path {dir}/ngtmp;
	uwsgi_temp_path {dir}/ngtmp; scgi_temp_path {dir}/ngtmp;
	upstream calendox {{
{servers}
	}}
	server {{
		listen 127.0.0.1:{port};
		location / {{
			proxy_pass http://calendox;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host $host;
			proxy_read_timeout 30s;
			proxy_connect_timeout 1s;
			# An instance that is down: the next one answers (idempotent or not yet sent).
			proxy_next_upstream error timeout http_502;
		}}
	}}
}}
"""


class Cluster(Server):
    """n instances of calendox serve sharing one PostgreSQL database, behind nginx."""

    def __init__(self, n=3, extra_env=None, workers=2):
        if not PG_SERVER_URL:
            raise RuntimeError("a cluster needs CALENDOX_TEST_DATABASE_URL (PostgreSQL)")
        super().__init__(extra_env=extra_env, workers=workers, sandbox=True)
        self.n = n
        self.ports = [free_port() for _ in range(n)]
        self.procs = [None] * n
        self.nginx = None

    def start(self):
        self.port = free_port()
        front = f"http://127.0.0.1:{self.port}"
        self.sandbox = Sandbox(front + "/webhooks/zoom")
        self.env["CALENDOX_SANDBOX"] = self.sandbox.base
        self.env["CALENDOX_PUBLIC_URL"] = front
        # Migrate once up front, so the instances start on a ready store.
        r = subprocess.run([BINARY, "migrate"], env=self.env, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError("calendox migrate failed: " + r.stderr)
        for i in range(self.n):
            self.start_instance(i)
        conf = os.path.join(self.dir, "nginx.conf")
        os.makedirs(os.path.join(self.dir, "ngtmp"), exist_ok=True)
        servers = "\n".join(f"\t\tserver 127.0.0.1:{p} max_fails=1 fail_timeout=1s;"
                            for p in self.ports)
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, servers=servers, port=self.port))
        self.nginx = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_healthy(self.port)
        return self

    def instance_env(self, i):
        env = dict(self.env)
        env["CALENDOX_LISTEN"] = f"127.0.0.1:{self.ports[i]}"
        return env

    def start_instance(self, i):
        log = open(os.path.join(self.dir, f"instance-{i}.log"), "ab")
        self.procs[i] = subprocess.Popen([BINARY, "serve"], env=self.instance_env(i),
                                         stdout=log, stderr=log)
        self.wait_healthy(self.ports[i], self.procs[i])

    def kill_instance(self, i):
        """SIGKILL: no clean shutdown, leases and requests in flight are simply lost."""
        p = self.procs[i]
        if p and p.poll() is None:
            p.kill()
            p.wait()
        self.procs[i] = None

    def wait_healthy(self, port, proc=None):
        deadline = time.time() + 20
        while time.time() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("calendox serve exited: " + self.log())
            try:
                if self._probe(port) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nothing healthy on port {port}: " + self.log())

    def _probe(self, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status
        finally:
            conn.close()

    def log(self):
        out = []
        for i in range(self.n):
            try:
                with open(os.path.join(self.dir, f"instance-{i}.log"), "rb") as f:
                    out.append(f"--- instance {i}\n" + f.read().decode(errors="replace")[-2000:])
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        rc = 0
        for i, p in enumerate(self.procs):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                rc = rc or p.returncode
            self.procs[i] = None
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)
        self.nginx = None
        return rc

    def close(self):
        rc = self.stop()
        if self.sandbox:
            self.sandbox.stop()
            self.sandbox = None
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.pg_url:
            from harness import _psql
            _psql(PG_SERVER_URL, f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
            self.pg_url = None
        return rc
