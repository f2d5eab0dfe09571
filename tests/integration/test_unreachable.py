"""Agents who are logged in but cannot be reached: the daemon stays responsive and the call keeps its place."""
import time

from harness import check, wait_for


def test_unreachable_agents_do_not_stall(env):
    # Three agents ready with no phone registered: every offer fails at once.
    for login in ("1001", "1002", "1003"):
        env.make_ready(login)
    call = env.call("6000", duration_ms=8000)
    call.rtp.wait_packets(25, 10, what="hold RTP packets")
    started = time.monotonic()
    for _ in range(20):
        began = time.monotonic()
        env.ctl.ok("whoami")
        took = time.monotonic() - began
        check(took < 3.0, f"whoami took {took:.1f} s (callqctl start included): the loop is stalled")
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    row = env.ctl.row("stats", "support")
    misses = int(row["missed"])
    # An offer that cannot be placed fails after half a second, and the agent
    # then rests retry_unreachable (30 s): one miss per agent, not a loop.
    check(1 <= misses <= 3, f"{misses} misses in {elapsed:.1f} s")
    agent = env.ctl.row("agent.show", "1001")
    check(1 <= int(agent["retry_left"]) <= 30, f"1001 should rest after its miss: {agent}")
    check(int(row["waiting"]) == 1, f"the call should still wait: {row}")
    wait_for(lambda: int(env.ctl.row("stats", "support")["abandoned"]) == 1, 15, "the caller's hang-up counted")
