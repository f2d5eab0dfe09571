"""Transfers from agents' phones (REFER, blind and attended with Replaces) and members calling each other by
extension, over real SIP and RTP."""
import re
import sqlite3
import time

from harness import check, wait_for
from test_media_calls import recording_row
from test_routing import tone_arrives


# ---------------------------------------------------------------------------------------------- helpers

class ReferPhone:
    """An agent's phone (sipp) that answers callqd's INVITE, then 2 s later REFERs the call to refer_to and
    answers the NOTIFYs (scenarios/agent_refer.xml)."""

    def __init__(self, env, login, refer_to, answer_ms=1000):
        self.login = login
        self.rtp = env.rtp_port()
        self.sipp = env.sipp(f"phone{login}", "register.xml", service=login, ooc="agent_refer.xml",
                             keys=[("expires", 3600), ("rtpport", self.rtp.port), ("refer_to", refer_to)],
                             args=["-au", login, "-ap", f"secret{login}", "-d", answer_ms], timeout_s=120)
        self.sipp.wait_event("REGISTERED", 10)


def notify_bodies(sipp):
    """(Subscription-State, sipfrag status line) of every NOTIFY the phone received, in order."""
    out = []
    for direction, text in sipp.messages():
        if direction == "received" and text.startswith("NOTIFY "):
            head, _, body = text.partition("\n\n")
            state = re.search(r"^Subscription-State:\s*(.*)$", head, re.M | re.I)
            ctype = re.search(r"^Content-Type:\s*(.*)$", head, re.M | re.I)
            check(ctype and ctype.group(1).lower().startswith("message/sipfrag"),
                  f"NOTIFY without a message/sipfrag body:\n{text}")
            out.append((state.group(1) if state else "", body.strip().splitlines()[0] if body.strip() else ""))
    return out


def check_notifies(phone, final):
    """The phone got NOTIFY 100 Trying (active) first and `final` (terminated) last."""
    got = wait_for(lambda: (lambda n: n if n and "terminated" in n[-1][0] else None)(notify_bodies(phone.sipp)),
                   35, f"a terminating NOTIFY at {phone.login}")
    check(got[-1][1] == final, f"last NOTIFY says {got[-1][1]!r}, expected {final!r}: {got}")
    return got


def journal(env, call=None):
    """(event, call, queue, member, reason) rows of the journal, optionally of one call."""
    db = env.workdir / "run" / "callq.db"
    with sqlite3.connect(str(db), timeout=5) as conn:
        rows = conn.execute("SELECT event, call, queue, member, reason FROM journal ORDER BY id").fetchall()
    return [r for r in rows if call is None or r[1] == call]


def wait_journal(env, event, reason=None, timeout=10):
    def seen():
        return [r for r in journal(env) if r[0] == event and (reason is None or r[4] == reason)]
    return wait_for(seen, timeout, f"journal event {event} {reason or ''}")[0]


def sip_uri(env, user, headers=""):
    return f"sip:{user}@{env.daemon.address}{headers}"


# ---------------------------------------------------------------------------------------------- tests

def test_blind_transfer_to_queue(env):
    phone = ReferPhone(env, "1001", sip_uri(env, "6001"))
    env.make_ready("1001")
    env.ctl.ok("agent.pause", "sales", "1001")        # the transferred caller waits in sales
    call = env.call("6000", duration_ms=20000)
    phone.sipp.wait_event("ACCEPTED", 15)
    got = check_notifies(phone, "SIP/2.0 200 OK")
    check(got[0] == (got[0][0], "SIP/2.0 100 Trying") and "active" in got[0][0],
          f"first NOTIFY should be an active 100 Trying: {got}")
    phone.sipp.wait_event("BYE", 10)                  # callqd hangs up the agent's leg
    rows = wait_for(lambda: [r for r in env.ctl.ok("calls", "sales").rows if r.get("caller_number") == "5551234"],
                    10, "the caller waiting in sales")
    check(rows[0].get("talking") in (None, "no", "0"), f"caller should be waiting in sales: {rows[0]}")
    transfer = wait_journal(env, "call.transfer", "queue:sales")
    events = [r[0] for r in journal(env, transfer[1])]
    check(events.index("call.end") < events.index("call.transfer"), f"call.end must come first: {events}")
    check(transfer[2] == "support", f"transfer journaled in {transfer[2]}, expected support")
    env.wait_stats("support", handled=1, missed=0)
    env.wait_agent("1001", activity="recovery")
    check(call.sipp.running(), "the caller's call ended")


def test_blind_transfer_to_member(env):
    target = env.phone("1002")                        # not logged in: only the transfer rings it
    phone = ReferPhone(env, "1001", sip_uri(env, "1002"))
    env.make_ready("1001")
    env.ctl.ok("queue.set", "support", "record=yes")
    call = env.call("6000", duration_ms=25000)
    phone.sipp.wait_event("ACCEPTED", 15)
    # The guide: recorded until the agent who answered from the queue leaves the call.
    row = recording_row(env, "call", status="done", queue="support", agent="1001")
    check(int(row["duration"]) <= 3, f"recording lasted {row['duration']} s; 1001 talked 2 s before the REFER")
    target.sipp.wait_event("ANSWERED", 15)
    got = check_notifies(phone, "SIP/2.0 200 OK")
    check(got[0][1] == "SIP/2.0 100 Trying", f"first NOTIFY should be 100 Trying: {got}")
    phone.sipp.wait_event("BYE", 10)
    tone_arrives(call.rtp, target.rtp, "caller -> transfer target")
    tone_arrives(target.rtp, call.rtp, "transfer target -> caller")
    transfer = wait_journal(env, "call.transfer", "member:1002")
    events = [r[0] for r in journal(env, transfer[1])]
    check(events.index("call.end") < events.index("call.transfer"), f"call.end must come first: {events}")
    env.wait_stats("support", handled=1, missed=0, waiting=0)
    env.wait_agent("1001", activity="recovery")


def test_refer_from_stranger_refused(env):
    phone = env.phone("1001")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=6000, scenario="caller_refer.xml")
    call.sipp.wait_event("REFUSED", 15)
    env.wait_agent("1001", activity="oncall")        # the call goes on, untouched
    check(not [r for r in journal(env) if r[0] == "call.transfer"], "a refused REFER transferred the call")
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)


def test_extension_call(env):
    target = env.phone("1002")
    a_rtp = env.rtp_port()
    dialer = env.sipp("ext1001", "ext_call.xml", service="1002", keys=[
        ("rtpport", a_rtp.port), ("fmts", "0 101"), ("attrs", "a=rtpmap:101 telephone-event/8000"),
        ("from_user", "1001")], args=["-d", 12000, "-au", "1001", "-ap", "secret1001",
                                      "-auth_uri", f"1002@{env.daemon.address}"])
    dialer.wait_event("ANSWERED", 15)
    target.sipp.wait_event("ANSWERED", 15)
    a_rtp.wait_packets(1, 5, "RTP from callqd")
    tone_arrives(a_rtp, target.rtp, "1001 -> 1002")
    tone_arrives(target.rtp, a_rtp, "1002 -> 1001")
    check(env.ctl.row("stats", "support").get("waiting") == "0", "an extension call entered a queue")
    dialer.expect_success(20)
    target.sipp.wait_event("BYE", 10)                 # 1001's BYE ends 1002's leg too


def consult_dialog(sipp):
    """(Call-ID, our tag, callqd's tag) of the dialog a sipp caller set up."""
    for direction, text in sipp.messages():
        if direction == "received" and text.startswith("SIP/2.0 200") and re.search(r"^CSeq:\s*\d+ INVITE", text,
                                                                                      re.M | re.I):
            call_id = re.search(r"^Call-ID:\s*(\S+)", text, re.M | re.I).group(1)
            from_tag = re.search(r"^From:.*;tag=([^;\s]+)", text, re.M | re.I).group(1)
            to_tag = re.search(r"^To:.*;tag=([^;\s]+)", text, re.M | re.I).group(1)
            return call_id, from_tag, to_tag
    raise AssertionError("no 200 OK to the consultation INVITE")


def test_attended_transfer(env):
    target = env.phone("1002")
    # 1001 calls 1002 by extension first (the consultation call; it stays up until callqd ends it).
    consult = env.call("1002", scenario="feature.xml", from_user="1001", auth=("1001", "secret1001"))
    target.sipp.wait_event("ANSWERED", 15)
    call_id, from_tag, to_tag = consult_dialog(consult.sipp)
    replaces = f"{call_id};to-tag={to_tag};from-tag={from_tag}".replace("@", "%40").replace(";", "%3B") \
        .replace("=", "%3D")
    phone = ReferPhone(env, "1001", sip_uri(env, "1002", f"?Replaces={replaces}"))
    env.make_ready("1001")
    call = env.call("6000", duration_ms=25000)
    phone.sipp.wait_event("ACCEPTED", 15)
    got = check_notifies(phone, "SIP/2.0 200 OK")
    check(got[0][1] == "SIP/2.0 100 Trying", f"first NOTIFY should be 100 Trying: {got}")
    phone.sipp.wait_event("BYE", 10)                  # both of 1001's legs are hung up
    consult.sipp.expect_success(15)
    check(target.sipp.count("INVITE") == 1, "callqd rang 1002 again instead of reusing the consultation leg")
    tone_arrives(call.rtp, target.rtp, "caller -> 1002")
    tone_arrives(target.rtp, call.rtp, "1002 -> caller")
    transfer = wait_journal(env, "call.transfer", "member:1002")
    events = [r[0] for r in journal(env, transfer[1])]
    check(events.index("call.end") < events.index("call.transfer"), f"call.end must come first: {events}")
    env.wait_stats("support", handled=1, missed=0, waiting=0)


def test_attended_transfer_needs_own_dialog(env):
    target = env.phone("1002")
    # 1003's consultation call to 1002: 1001 may not name it in a Replaces.
    consult = env.call("1002", scenario="feature.xml", from_user="1003", auth=("1003", "secret1003"))
    target.sipp.wait_event("ANSWERED", 15)
    call_id, from_tag, to_tag = consult_dialog(consult.sipp)
    replaces = f"{call_id};to-tag={to_tag};from-tag={from_tag}".replace("@", "%40").replace(";", "%3B") \
        .replace("=", "%3D")
    phone = ReferPhone(env, "1001", sip_uri(env, "1002", f"?Replaces={replaces}"))
    env.make_ready("1001")
    env.call("6000", duration_ms=15000)
    wait_for(lambda: 403 in phone.sipp.responses("REFER"), 15, "403 to the REFER")
    # The test phone gives up on the 403 and hangs up: the call ends as a plain call, not a transfer.
    wait_journal(env, "call.end")
    check(not [r for r in journal(env) if r[0] == "call.transfer"], "a refused REFER transferred the call")
    check(consult.sipp.running(), "the other member's consultation call was touched")


def test_blind_transfer_caller_hangs_up(env):
    target = env.phone("1002", mode="ring")
    phone = ReferPhone(env, "1001", sip_uri(env, "1002"))
    env.make_ready("1001")
    call = env.call("6000", duration_ms=6000)         # gone while 1002's phone still rings
    target.sipp.wait_event("INVITE", 15)
    call.sipp.expect_success(20)
    check_notifies(phone, "SIP/2.0 487 Request Terminated")
    phone.sipp.wait_event("BYE", 10)
    target.sipp.wait_event("CANCEL", 10)


def test_blind_transfer_to_outside_number_through_gateway(env):
    """An agent REFERs the caller to a number that is neither a queue nor a member: it goes out through
    the first configured gateway, answering the provider's 407, and the caller talks to the provider."""
    from test_gateway import PROVIDER_IP, check_digest, provider
    prov_rtp = env.rtp_port(PROVIDER_IP)
    prov = provider(env, "provider_call.xml", keys=[("rtpport", prov_rtp.port)])
    env.ctl.ok("gateway.add", "out", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=gwsecret")
    phone = ReferPhone(env, "1001", sip_uri(env, "15557654"))
    env.make_ready("1001")
    call = env.call("6000", duration_ms=20000)
    phone.sipp.wait_event("ACCEPTED", 15)
    prov.wait_event("ANSWERED", 15)
    check_notifies(phone, "SIP/2.0 200 OK")
    tone_arrives(call.rtp, prov_rtp, "caller -> provider")
    tone_arrives(prov_rtp, call.rtp, "provider -> caller")
    invites = [t for d, t in prov.messages() if d == "received" and t.startswith("INVITE")]
    check(invites and invites[0].startswith(f"INVITE sip:15557654@{PROVIDER_IP}:{prov.port}"),
          f"INVITEs at the provider: {invites[:1]}")
    check_digest(invites[-1], "Proxy-Authorization", "INVITE", "gwuser", "gwsecret")
    wait_journal(env, "call.transfer", "gateway:out/15557654")
    env.wait_stats("support", handled=1, missed=0)
