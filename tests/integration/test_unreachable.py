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
    # An offer that cannot be placed fails after half a second: a few per
    # second, not a tight loop of thousands.
    check(1 <= misses <= 3 * (elapsed + 1) * 2, f"{misses} misses in {elapsed:.1f} s")
    check(int(row["waiting"]) == 1, f"the call should still wait: {row}")
    wait_for(lambda: int(env.ctl.row("stats", "support")["abandoned"]) == 1, 15, "the caller's hang-up counted")
