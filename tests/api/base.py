"""A test case class that shares one running server per test module."""

import unittest

from harness import Client, Server, unique_email


class ServerTest(unittest.TestCase):
    server = None
    extra_env = None
    sandbox = False

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_env=cls.extra_env, sandbox=cls.sandbox).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.server.close()
        # A clean shutdown is part of the contract (and under the sanitizers, a leak fails here).
        assert rc == 0, f"calendox serve exited with {rc}"

    def client(self):
        return Client(self.server)

    def signed_up(self, prefix="person"):
        c = self.client()
        email = unique_email(prefix)
        r = c.signup(email)
        self.assertEqual(r.status, 201, r)
        c.email = email
        return c

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.error_code(), code, r)
        body = r.json()["error"]
        self.assertIsInstance(body.get("message"), str)
        self.assertTrue(body["message"])
