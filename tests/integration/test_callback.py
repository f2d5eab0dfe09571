"""Callbacks instead of waiting (issue 13): a waiting caller presses 1, confirms the number with #, hangs up,
and is called back through a sipp provider at its place in line; a busy customer is retried after the delay;
a restart keeps a pending callback."""
import time

from harness import check, wait_for
from test_gateway import PROVIDER_IP, provider
from test_permissions import ADMIN, AGENT, MANAGER, OTHER, as_member, outcome, setup_identities
from test_reporting import report_csv
from test_routing import call_id, calls, send_dtmf, tone_arrives
from test_web_api import Web, metric, parse_prometheus

CB_COUNTERS = ("requested", "attempted", "reached", "failed")


def callbacks_on(env, prov, *settings):
    env.ctl.ok("gateway.add", "prov", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=gwsecret")
    # throughput: the estimate grows with the line, so the offer (wait > callback_wait=0) is heard at once.
    env.ctl.ok("queue.set", "support", "callback_gateway=prov", "wait_estimate=throughput", "recovery=0",
               "hold=position,callback,file:music.wav,repeat", *settings)


def take_callback(env, call, number):
    """The caller keys 1, then # to confirm the number it calls from; callq reads it back and hangs up."""
    call.rtp.wait_packets(10, 10, what="hold RTP packets")
    send_dtmf(call.rtp, "1")
    time.sleep(0.3)
    send_dtmf(call.rtp, "#")
    wait_for(lambda: any(r.get("caller_number") == number and r.get("state") == "callback"
                         for r in calls(env, "support")), 10, f"{number} to show state=callback")


def check_callback_counters(env, start, report, metrics):
    """The support queue's callback counters (requested, attempted, reached, failed) in the `report` CSV since
    `start` (its last four columns) and in /metrics (since callqd started)."""
    lines, rows = report_csv(env, "queue=support", f"from={start}")
    check(lines[0].split(",")[-4:] == [f"callbacks_{c}" for c in CB_COUNTERS], f"CSV header: {lines[0]}")
    got = tuple(int(rows[0][f"callbacks_{c}"]) for c in CB_COUNTERS)
    check(got == report, f"report CSV callback counters {got}, expected {report}: {lines}")
    status, _, raw = Web(env).request("GET", "/metrics")
    check(status == 200, f"/metrics: {status}")
    samples = parse_prometheus(raw.decode())
    got = tuple(int(metric(samples, f"callq_queue_callbacks_{c}_total", queue="support")) for c in CB_COUNTERS)
    check(got == metrics, f"/metrics callback counters {got}, expected {metrics}")


def test_callback_keeps_place(env):
    """Three callers; the middle one takes a callback and hangs up. The agent answers the first, then the
    callback (the provider is dialed exactly once and bridged to the agent), then the third."""
    start = int(time.time()) - 1
    prov_rtp = env.rtp_port(PROVIDER_IP)
    prov = provider(env, "provider_call.xml", keys=[("rtpport", prov_rtp.port)])
    callbacks_on(env, prov)
    agent = env.phone("1001", answer_ms=300)
    first = env.call("6000", duration_ms=15000, from_user="5550001")
    one = call_id(env, "support", "5550001")
    middle = env.call("6000", duration_ms=6000, from_user="5550002")
    two = call_id(env, "support", "5550002")
    third = env.call("6000", duration_ms=60000, from_user="5550003")
    three = call_id(env, "support", "5550003")
    take_callback(env, middle, "5550002")
    middle.sipp.expect_success(20)
    rows = calls(env, "support")
    check([(r["call"], r["position"], r["state"]) for r in rows] ==
          [(one, "1", "waiting"), (two, "2", "callback"), (three, "3", "waiting")], f"calls support: {rows}")
    listed = env.ctl.ok("callback.list", "support").rows
    check(len(listed) == 1 and listed[0]["id"] == two and listed[0]["number"] == "5550002"
          and listed[0]["position"] == "2", f"callback.list: {listed}")
    env.wait_stats("support", waiting=3, callbacks_requested=1)
    check(prov.count("INVITE") == 0, "the provider was called before the callback's turn")

    env.make_ready("1001")
    agent.sipp.wait_event("ANSWERED", 10)
    check(prov.count("INVITE") == 0, "the provider was called while the first caller was served")
    first.sipp.expect_success(30)
    agent.sipp.wait_event("ANSWERED", 15, count=2)      # the callback, agent first
    prov.wait_event("ANSWERED", 15)
    tone_arrives(prov_rtp, agent.rtp, "customer -> agent")
    tone_arrives(agent.rtp, prov_rtp, "agent -> customer")
    check(agent.sipp.count("INVITE") == 2, "the third caller was offered before the callback was done")
    env.ctl.ok("call.hangup", two)
    prov.wait_event("BYE", 10)
    agent.sipp.wait_event("ANSWERED", 15, count=3)
    answered = [r["call"] for r in env.wait_journal("call.answer", count=3)]
    check(answered == [int(one), int(two), int(three)], f"answer order {answered}, expected {[one, two, three]}")
    invites = [t for d, t in prov.messages() if d == "received" and t.startswith("INVITE")]
    check(len(invites) == 2 and invites[0].startswith(f"INVITE sip:5550002@{PROVIDER_IP}"),
          f"provider INVITEs (challenge + answer of one call expected): {[i.splitlines()[0] for i in invites]}")
    env.wait_stats("support", callbacks_requested=1, callbacks_attempted=1, callbacks_reached=1,
                   callbacks_failed=0)
    check_callback_counters(env, start, report=(1, 1, 1, 0), metrics=(1, 1, 1, 0))
    env.ctl.ok("call.hangup", three)
    check(not env.ctl.ok("callback.list", "support").rows, "a reached callback is still pending")


def test_callback_busy_retries_and_restart(env):
    """A pending callback survives a restart at its place; a busy customer is tried again after
    callback_retry_delay, and after callback_retries it is given up. The report counts the request made
    before the restart; /metrics counts from the restart."""
    start = int(time.time()) - 1
    prov = provider(env, "provider_busy.xml", args=["-m", "10"])
    callbacks_on(env, prov, "callback_retries=1", "callback_retry_delay=5")
    caller = env.call("6000", duration_ms=6000, from_user="5550002")
    call_id(env, "support", "5550002")
    take_callback(env, caller, "5550002")
    caller.sipp.expect_success(20)
    env.wait_journal("callback.request")
    env.daemon.restart()
    listed = env.ctl.ok("callback.list", "support").rows
    check(len(listed) == 1 and listed[0]["number"] == "5550002" and listed[0]["position"] == "1"
          and int(listed[0]["wait"]) >= 1, f"after the restart: {listed}")

    agent = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    wait_for(lambda: len([e for e in prov.events() if e.startswith("INVITE ")]) >= 2, 25,
             "the second try of the busy customer")
    ticks = [int(e.split()[1]) for e in prov.events() if e.startswith("INVITE ")]
    check(ticks[1] - ticks[0] >= 4500, f"the retry came {ticks[1] - ticks[0]} ms after the first try (delay 5 s)")
    failed = env.wait_journal("callback.failed")
    check(failed[0]["reason"] == "busy", f"callback.failed: {failed}")
    retry = env.wait_journal("callback.retry")
    check(retry[0]["value"] == 5000 and retry[0]["reason"] == "busy", f"callback.retry: {retry}")
    env.wait_stats("support", callbacks_requested=1, callbacks_attempted=2, callbacks_reached=0,
                   callbacks_failed=1, waiting=0)
    check_callback_counters(env, start, report=(1, 2, 0, 1), metrics=(0, 2, 0, 1))
    time.sleep(6)
    check(len([e for e in prov.events() if e.startswith("INVITE ")]) == 2, f"more tries: {prov.events()}")
    check(agent.sipp.count("INVITE") == 2, f"agent offered {agent.sipp.count('INVITE')} times")


def test_callback_manager_verbs(env):
    """Managers of the queue list, move, place now and cancel callbacks; agents and other queues' managers
    may not. A cancelled callback is counted failed and never dialed."""
    prov = provider(env, "provider_busy.xml", args=["-m", "10"])
    callbacks_on(env, prov)
    setup_identities(env)
    first = env.call("6000", duration_ms=30000, from_user="5550001")
    one = call_id(env, "support", "5550001")
    caller = env.call("6000", duration_ms=6000, from_user="5550002")
    call_id(env, "support", "5550002")
    take_callback(env, caller, "5550002")
    two = env.ctl.ok("callback.list", "support").rows[0]["id"]
    for login, want in ((AGENT, "denied"), (OTHER, "denied"), (MANAGER, "ok"), (ADMIN, "ok")):
        got = outcome(as_member(env, login, "callback.list support"))
        check(got == want, f"callback.list as {login}: {got}, expected {want}")
    check(outcome(as_member(env, OTHER, f"callback.move {two} position=1")) == "denied",
          "another queue's manager moved a callback")
    check(outcome(as_member(env, MANAGER, f"callback.move {two} position=1")) == "ok", "the manager could not move")
    rows = calls(env, "support")
    check([(r["call"], r["position"]) for r in rows] == [(two, "1"), (one, "2")], f"after callback.move: {rows}")
    env.ctl.err("notfound", "callback.cancel", one)         # a live caller is no callback
    env.ctl.err("invalid", "call.hangup", two)              # a pending callback is cancelled, not hung up
    env.ctl.ok("callback.move", two, "position=2")
    env.ctl.ok("callback.now", two)
    check(calls(env, "support")[0]["call"] == two, f"after callback.now: {calls(env, 'support')}")
    env.ctl.ok("callback.cancel", two)
    env.ctl.err("notfound", "callback.cancel", two)
    env.wait_stats("support", waiting=1, callbacks_requested=1, callbacks_failed=1, callbacks_attempted=0)
    failed = env.wait_journal("callback.failed")
    check(failed[0]["reason"] == "cancelled", f"callback.failed: {failed}")
    check(prov.count("INVITE") == 0 and not prov.events(), f"the provider was called: {prov.events()}")
    env.ctl.ok("call.hangup", one)
    env.wait_stats("support", waiting=0)
    first.sipp.wait(20)     # callq's BYE ends it (sipp calls that BYE unexpected)


def test_callback_customer_first(env):
    """callback_mode=customer-first: when the callback's turn comes with an agent ready, the provider is
    dialed before any agent rings; once the customer answers, the agent is offered the call and audio flows
    both ways."""
    start = int(time.time()) - 1
    prov_rtp = env.rtp_port(PROVIDER_IP)
    prov = provider(env, "provider_call.xml", keys=[("rtpport", prov_rtp.port)])
    callbacks_on(env, prov, "callback_mode=customer-first")
    check(env.ctl.row("queue.show", "support")["callback_mode"] == "customer-first", "callback_mode not set")
    agent = env.phone("1001", answer_ms=300)
    caller = env.call("6000", duration_ms=6000, from_user="5550002")
    two = call_id(env, "support", "5550002")
    take_callback(env, caller, "5550002")
    caller.sipp.expect_success(20)
    check(prov.count("INVITE") == 0, "the provider was called with no agent ready")

    env.make_ready("1001")
    prov.wait_event("ANSWERED", 15)
    agent.sipp.wait_event("ANSWERED", 15)
    tone_arrives(prov_rtp, agent.rtp, "customer -> agent")
    tone_arrives(agent.rtp, prov_rtp, "agent -> customer")
    attempt = env.wait_journal("callback.attempt", call=two)[0]
    reached = env.wait_journal("callback.reached", call=two)[0]
    offers = env.wait_journal("call.offer", call=two)
    check(attempt["id"] < reached["id"] < offers[0]["id"] and len(offers) == 1,
          f"attempt {attempt}, reached {reached}, offers {offers}: the agent was rung before the customer answered")
    check(agent.sipp.count("INVITE") == 1, f"agent offered {agent.sipp.count('INVITE')} times")
    env.wait_stats("support", callbacks_requested=1, callbacks_attempted=1, callbacks_reached=1,
                   callbacks_failed=0, handled=1)
    check_callback_counters(env, start, report=(1, 1, 1, 0), metrics=(1, 1, 1, 0))
    env.ctl.ok("call.hangup", two)
    prov.wait_event("BYE", 10)
    check(not env.ctl.ok("callback.list", "support").rows, "a reached callback is still pending")
