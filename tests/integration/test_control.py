"""Control socket: error replies, live configuration, persistence across restarts."""
from harness import check


def test_control_errors(env):
    env.ctl.err("usage", "frobnicate")
    env.ctl.err("invalid", "queue.set", "support", "timeout=abc")
    env.ctl.err("notfound", "queue.show", "nope")
    support = env.ctl.row("queue.show", "support")
    check(support.get("timeout") == "600", f"a refused queue.set changed support: {support}")
    env.ctl.ok("whoami")


def test_queue_create_live(env):
    env.ctl.ok("queue.create", "q2", "number=6100")
    env.ctl.ok("queue.assign", "q2", "1001", "active=yes")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6100", duration_ms=4000)
    phone.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("q2", handled=1, waiting=0)
    env.wait_stats("support", handled=0)


def test_restart_persists(env):
    env.ctl.ok("queue.create", "q3", "number=6200", "strategy=most-idle")
    env.ctl.ok("member.add", "2001", "name=Test Agent", "password=pw2001", "role=agent")
    env.ctl.ok("queue.assign", "q3", "2001")
    env.ctl.ok("agent.login", "1001")
    env.daemon.restart()
    queue = env.ctl.row("queue.show", "q3")
    check(queue.get("number") == "6200" and queue.get("strategy") == "most-idle", f"q3 after restart: {queue}")
    member = env.ctl.row("member.show", "2001")
    check(member.get("name") == "Test Agent" and member.get("role") == "agent", f"2001 after restart: {member}")
    logins = [row.get("login") for row in env.ctl.ok("member.list").rows]
    check("2001" in logins and "1001" in logins, f"member.list after restart: {logins}")
    agent = env.ctl.row("agent.show", "1001")
    check(agent.get("logged_in") == "yes", f"1001 logged out by a restart: {agent}")
