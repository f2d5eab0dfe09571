#!/usr/bin/env python3
"""Runs callq's integration tests: every `test_*` function of the `test_*.py` modules beside this file.

    python3 tests/integration/run.py [-k SUBSTRING] [--timeout SECONDS] [--list]

Each test gets a fresh callqd (harness.Env) in build/integration/<test>/, stopped at the end. The last line
printed is `integration: N passed, M failed`; the exit status is 1 if any test failed.
"""
import argparse
import importlib
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


class TestTimeout(harness.TestFailure):
    pass


def discover():
    tests = []
    for path in sorted(HERE.glob("test_*.py")):
        module = importlib.import_module(path.stem)
        tests += [(name, fn) for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)]
    return tests


def on_alarm(signum, frame):
    raise TestTimeout("test timed out")


def indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def run_one(name, fn, timeout):
    """Runs one test; returns (passed, seconds, reason, diagnostics)."""
    workdir = harness.ROOT / "build" / "integration" / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    socket_dir = Path(tempfile.mkdtemp(prefix="callq-it-"))
    start = time.monotonic()
    reason = None
    env = None
    signal.alarm(timeout)
    try:
        harness.check(shutil.which(harness.SIPP), "sipp not found (scripts/deps.sh installs sip-tester)")
        env = harness.Env(workdir, socket_dir)
        env.start()
        fn(env)
    except harness.TestFailure as e:
        reason = str(e) if not isinstance(e, TestTimeout) else f"timed out after {timeout} s"
    except Exception:
        reason = "exception:\n" + traceback.format_exc().rstrip()
    finally:
        signal.alarm(0)
        complaint = env.close() if env else None
        shutil.rmtree(socket_dir, ignore_errors=True)
    if reason is None and complaint:
        reason = complaint
    diagnostics = env.diagnostics() if env and reason else ""
    return reason is None, time.monotonic() - start, reason, diagnostics


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-k", dest="pattern", default="", help="run only tests whose name contains this")
    parser.add_argument("--timeout", type=int, default=60, help="per-test timeout in seconds (default 60)")
    parser.add_argument("--list", action="store_true", help="list the tests and exit")
    opts = parser.parse_args()

    tests = [(n, f) for n, f in discover() if opts.pattern in n]
    if opts.list:
        print("\n".join(n for n, _ in tests))
        return 0
    if not tests:
        print(f"no test name contains {opts.pattern!r}")
        print("integration: 0 passed, 1 failed")
        return 1
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = 0
    for name, fn in tests:
        ok, seconds, reason, diagnostics = run_one(name, fn, opts.timeout)
        if ok:
            passed += 1
            print(f"PASS {name} ({seconds:.1f}s)", flush=True)
        else:
            failed += 1
            first, _, rest = reason.partition("\n")
            print(f"FAIL {name}: {first}")
            if rest:
                print(indent(rest))
            print(indent(diagnostics), flush=True)
    print(f"integration: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
