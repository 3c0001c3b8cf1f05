"""The command line: --help, --version, migrate, bad configuration."""

import os
import subprocess
import tempfile
import unittest

from harness import BINARY


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=e, timeout=30)


class CliTest(unittest.TestCase):
    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ["serve", "migrate", "admin plan", "sandbox"]:
            self.assertIn(word, r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^calendox \d+\.\d+\.\d+")
        r = run("frobnicate")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown command", r.stderr)

    def test_migrate_is_idempotent(self):
        with tempfile.TemporaryDirectory() as d:
            env = {"CALENDOX_DATABASE": "sqlite:" + os.path.join(d, "x.db"),
                   "CALENDOX_SECRET_KEY_FILE": os.path.join(d, "key")}
            r1 = run("migrate", env=env)
            self.assertEqual(r1.returncode, 0, r1.stderr)
            self.assertRegex(r1.stdout, r"migrated to version [1-9]")
            r2 = run("migrate", env=env)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            self.assertEqual(r1.stdout, r2.stdout)
            # The development key file was created, private to its owner.
            self.assertEqual(os.stat(os.path.join(d, "key")).st_mode & 0o777, 0o600)

    def test_bad_configuration_names_the_variable(self):
        with tempfile.TemporaryDirectory() as d:
            base = {"CALENDOX_DATABASE": "sqlite:" + os.path.join(d, "x.db"),
                    "CALENDOX_SECRET_KEY_FILE": os.path.join(d, "key")}
            for var, value in [("CALENDOX_LISTEN", "nonsense"),
                               ("CALENDOX_SECRET_KEY", "c2hvcnQ="),
                               ("CALENDOX_HTTP_THREADS", "many"),
                               ("CALENDOX_PUBLIC_URL", "ftp://x"),
                               ("CALENDOX_PAYMENTS", "sandbx")]:
                with self.subTest(var=var):
                    r = run("serve", env=dict(base, **{var: value}))
                    self.assertNotEqual(r.returncode, 0)
                    self.assertIn(var, r.stderr)
            r = run("migrate", env=dict(base, CALENDOX_DATABASE="mysql://x"))
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("mysql://x", r.stderr)
