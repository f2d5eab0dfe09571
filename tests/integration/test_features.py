"""Feature codes dialed from a member's phone, and the digest proof they need."""
import re

from harness import check


def dial_feature(env, code, login="1001"):
    """Dials code as login with credentials; checks 407 -> 200 -> prompt -> BYE from callqd."""
    call = env.call(code, scenario="feature.xml", from_user=login, auth=(login, f"secret{login}"), duration_ms=0)
    call.sipp.expect_success(30)
    codes = call.sipp.responses()
    check(codes[0] != 200 and 407 in codes and codes[-1] == 200, f"{code}: INVITE responses {codes}")
    prompt = call.rtp.received()
    check(len(prompt) >= 15, f"{code}: {len(prompt)} RTP packets of confirmation prompt, expected at least 15")


def test_feature_codes(env):
    env.phone("1001")
    dial_feature(env, "*50")
    env.wait_agent("1001", logged_in="yes", ready="yes")
    dial_feature(env, "*52")
    env.wait_agent("1001", logged_in="yes", ready="no")
    dial_feature(env, "*53")
    env.wait_agent("1001", logged_in="yes", ready="yes")
    dial_feature(env, "*51")
    env.wait_agent("1001", logged_in="no")


def test_spoofed_from_challenged(env):
    env.phone("1001")
    env.ctl.ok("agent.login", "1001")
    call = env.call("*51", scenario="call_rejected.xml", from_user="1001")
    call.sipp.expect_success(20)
    code, text = call.sipp.final_response()
    check(code == 407, f"a From: 1001 INVITE without credentials got {code}, expected 407")
    check(re.search(r'^Proxy-Authenticate:\s*Digest\s.*realm="callq"', text, re.M | re.I),
          f"407 without a callq digest challenge:\n{text}")
    agent = env.ctl.row("agent.show", "1001")
    check(agent.get("logged_in") == "yes", f"a spoofed *51 logged 1001 out: {agent}")
