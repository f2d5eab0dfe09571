#!/usr/bin/env python3
"""Puts the `make run` demo into a busy moment and takes the README's wallboard screenshot.

Start `make run` first (SIP 127.0.0.1:5060, HTTP 127.0.0.1:8080, control run/callq.sock), then
`scripts/wallboard-shot.py [OUT.png]` (default etc/screenshots/wallboard.png). It registers sipp phones for
the demo agents, lets one caller give up and one be served, then puts 1001 on a call, 1002 away, 1003's
phone ringing, and callers waiting in both queues; it logs in as the manager 1100 in headless Chromium (the
driver of tests/integration/test_web_pages.py) and saves the wallboard. Its phones and callers hang up when
it ends; callqd keeps running.
"""
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import harness  # noqa: E402
from test_web_pages import Browser  # noqa: E402


def demo_env(workdir):
    """A harness Env aimed at the running `make run` daemon instead of one of its own."""
    env = harness.Env(workdir, workdir)
    env.daemon.sip_port, env.daemon.http_port = 5060, 8080
    env.ctl = env.daemon.ctl = harness.Ctl(str(ROOT / "run" / "callq.sock"))
    return env


def busy_moment(env):
    """Returns once 1003's phone rings: the shot must be taken before connect_timeout (15 s) ends that."""
    phones = {login: env.phone(login, mode=mode, answer_ms=300)
              for login, mode in (("1001", "answer"), ("1003", "ring"))}
    env.call("6000", duration_ms=2000, from_user="00442071838750")        # gives up before anyone is ready
    time.sleep(3)
    env.make_ready("1001")
    env.call("6000", duration_ms=3000, from_user="0033142685300").sipp.expect_success(20)   # served
    env.call("6000", duration_ms=120000, from_user="004930901820")        # 1001 talks to this one
    env.wait_agent("1001", activity="oncall")
    env.ctl.ok("agent.login", "1002")
    env.ctl.ok("agent.away", "1002", "reason=break")
    for number, caller in (("6000", "0014155550142"), ("6001", "0039066988100"), ("6000", "0081335501234"),
                           ("6001", "0015125550199"), ("6000", "0034915550123")):
        env.call(number, duration_ms=120000, from_user=caller)
        time.sleep(1.5)
    env.make_ready("1003")
    env.wait_agent("1003", activity="ringing")
    return phones


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "etc" / "screenshots" / "wallboard.png")
    with tempfile.TemporaryDirectory(prefix="callq-shot-") as tmp:
        env = demo_env(Path(tmp))
        try:
            busy_moment(env)
            b = Browser(env, "wallboard")
            b.login("1100", "pass1100")
            b.wait(lambda d: len(b.find("section.queue tr[data-call]")) >= 6 and
                   b.find("tr[data-member='1003'] .state.ring"), 5, "the calls and 1003 ringing on the wallboard")
            b.driver.set_window_size(1400, 200)
            height = b.driver.execute_script("return document.documentElement.scrollHeight")
            b.driver.set_window_size(1400, height + 150)     # the whole page, both queues
            time.sleep(2)          # let the waits tick a little
            out.parent.mkdir(parents=True, exist_ok=True)
            b.driver.save_screenshot(str(out))
            print(f"wrote {out} ({out.stat().st_size} bytes)")
        finally:
            for fn in reversed(env.cleanups):
                fn()
            for s in env.sipps:
                s.kill()
            for port in env.rtp_ports:
                port.close()


if __name__ == "__main__":
    main()
