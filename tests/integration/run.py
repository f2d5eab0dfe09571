#!/usr/bin/env python3
"""Runs callq's integration tests: every `test_*` function of the `test_*.py` modules beside this file and in
tests/security/ (the attacks on a running callqd, which use the same harness).

    python3 tests/integration/run.py [-k SUBSTRING] [--timeout SECONDS] [--list]

Each test gets a fresh callqd (harness.Env) in build/integration/<test>/, stopped at the end. A test passes
when it returns having made at least one check (harness.check, a wait_for that saw its condition, or a helper
built on them: env.ctl.ok/row/err, sipp.expect_success, wait_event ...); one that makes none fails. A test that
raises harness.Skip is skipped, never passed. The last line printed is `integration: N passed, N failed, N skipped`.
Exit status: 0 when nothing failed and every skip was allowed (Skip(..., allowed=True): a hardware or kernel
limit of this machine), 1 if a test failed, 2 if a test was skipped for any other reason (scripts/check.sh
fails on both).
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
SECURITY = HERE.parent / "security"   # attacks on a running callqd, same harness (tests/security/)
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(SECURITY))

import harness  # noqa: E402


class TestTimeout(harness.TestFailure):
    pass


def discover():
    tests = []
    for path in sorted(HERE.glob("test_*.py")) + sorted(SECURITY.glob("test_*.py")):
        module = importlib.import_module(path.stem)
        tests += [(name, fn) for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)]
    return tests


def on_alarm(signum, frame):
    raise TestTimeout("test timed out")


def indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def run_one(name, fn, timeout):
    """Runs one test; returns (outcome, seconds, reason, diagnostics); outcome is "pass", "fail", "skip" or
    "skip-allowed"."""
    workdir = harness.ROOT / "build" / "integration" / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    socket_dir = Path(tempfile.mkdtemp(prefix="callq-it-"))
    start = time.monotonic()
    reason = None
    skipped = None
    env = None
    signal.alarm(timeout)
    try:
        harness._require(shutil.which(harness.SIPP), "sipp not found (scripts/deps.sh installs sip-tester)")
        env = harness.Env(workdir, socket_dir)
        env.start()
        harness.checks_made = 0
        fn(env)
        if harness.checks_made == 0:
            reason = "the test made no check (harness.check, wait_for, env.ctl.ok ...): it cannot fail"
    except harness.Skip as e:
        skipped = e
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
    seconds = time.monotonic() - start
    if reason is None and skipped is not None:
        return ("skip-allowed" if skipped.allowed else "skip"), seconds, skipped.reason, ""
    return ("pass" if reason is None else "fail"), seconds, reason, diagnostics


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
        print("integration: 0 passed, 1 failed, 0 skipped")
        return 1
    signal.signal(signal.SIGALRM, on_alarm)
    passed = failed = skipped = refused_skips = 0
    for name, fn in tests:
        outcome, seconds, reason, diagnostics = run_one(name, fn, opts.timeout)
        if outcome == "pass":
            passed += 1
            print(f"PASS {name} ({seconds:.1f}s)", flush=True)
        elif outcome.startswith("skip"):
            skipped += 1
            allowed = outcome == "skip-allowed"
            refused_skips += not allowed
            kind = "allowed: a limit of this machine" if allowed else "NOT allowed: make check fails"
            print(f"SKIP {name} ({kind}): {reason}", flush=True)
        else:
            failed += 1
            first, _, rest = reason.partition("\n")
            print(f"FAIL {name}: {first}")
            if rest:
                print(indent(rest))
            print(indent(diagnostics), flush=True)
    print(f"integration: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 2 if refused_skips else 0

if __name__ == "__main__":
    sys.exit(main())
