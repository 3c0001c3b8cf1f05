#!/usr/bin/env python3
"""Runs the API black-box suite against a built binary and ends with "api: N passed, N failed"."""

import argparse
import os
import sys
import unittest


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", default="build/calendox")
    ap.add_argument("-k", dest="pattern", default=None, help="only tests whose id contains this")
    args = ap.parse_args()
    os.environ["CALENDOX_BINARY"] = os.path.abspath(args.binary)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py", top_level_dir=here)
    if args.pattern:
        def keep(s):
            out = unittest.TestSuite()
            for t in s:
                if isinstance(t, unittest.TestSuite):
                    out.addTests(keep(t))
                elif args.pattern in t.id():
                    out.addTest(t)
            return out
        suite = keep(suite)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"api: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
