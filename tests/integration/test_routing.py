"""Routing rules of issue 3 over real SIP: call limit, escalation chain, timeout-if-empty, zero-out (RFC 4733
and SIP INFO), skills-strict without a match, most-idle order, force-away, recovery, call.bump / call.answer."""
import random
import struct
import time

from harness import PT_PCMU, TONE, TestFailure, check, encode, received_samples, tone_snr, wait_for

MIN_SNR_DB = 20
DTMF_PT = 101
DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}


# ---------------------------------------------------------------------------------------------- helpers

class Source:
    """One RTP source per python socket, like a phone: a fixed SSRC, sequence numbers and timestamps that
    continue across the tones and telephone-events the test sends (the harness's send_tone starts a new
    source each time)."""
    _all = {}

    def __init__(self):
        self.ssrc, self.seq, self.ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)

    @classmethod
    def of(cls, rtp):
        return cls._all.setdefault(id(rtp), cls())

    def packet(self, pt, payload, marker=False):
        header = struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), self.seq & 0xFFFF,
                             self.ts & 0xFFFFFFFF, self.ssrc)
        self.seq += 1
        return header + payload


def send_tone(rtp, count=50):
    """count packets of the test tone (PCMU) to callqd, paced 20 ms apart on absolute deadlines; returns count."""
    src, dest, payload = Source.of(rtp), rtp.peer(), encode(PT_PCMU, TONE)
    start = time.monotonic()
    for i in range(count):
        delay = start + i * 0.020 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rtp.sock.sendto(src.packet(PT_PCMU, payload, marker=i == 0), dest)
        src.ts += 160
    return count


def tone_arrives(sender, receiver, direction):
    """Sends 1 s of the test tone from sender to callqd and waits until receiver hears it."""
    since = time.monotonic()
    send_tone(sender)

    def heard():
        return tone_snr(received_samples(receiver.received(since), PT_PCMU)) >= MIN_SNR_DB
    try:
        wait_for(heard, 5, "")
    except TestFailure:
        got = receiver.received(since)
        raise TestFailure(f"{direction}: tone not heard (best SNR "
                          f"{tone_snr(received_samples(got, PT_PCMU)):.1f} dB over {len(got)} packets)") from None


def send_dtmf(rtp, digits, pt=DTMF_PT):
    """Keys digits as RFC 4733 telephone-events in rtp's source: per digit 5 packets 20 ms apart (marker on
    the first, one timestamp, growing duration) and 3 end packets, then 100 ms of nothing."""
    src, dest = Source.of(rtp), rtp.peer()
    for digit in digits:
        event = DTMF_EVENTS[digit]
        for i in range(8):
            end = i >= 5
            duration = 160 * min(i + 1, 5)
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
            rtp.sock.sendto(src.packet(pt, payload, marker=i == 0), dest)
            time.sleep(0.02)
        src.ts += 160 * 10
        time.sleep(0.1)


def calls(env, queue):
    return env.ctl.ok("calls", queue).rows


def call_id(env, queue, caller_number, timeout=10):
    """The id `calls QUEUE` shows for the caller with this number (waits for it to be listed)."""
    row = wait_for(lambda: next((r for r in calls(env, queue) if r.get("caller_number") == caller_number), None),
                   timeout, f"a call from {caller_number} in `calls {queue}`")
    return row["call"]


def stat(env, queue, key):
    return int(env.ctl.row("stats", queue)[key])


def answered_by(phones, count=1):
    """Login of the single phone whose ANSWERED count reached `count` (waits for one)."""
    def who():
        hits = [login for login, p in phones.items() if p.sipp.count("ANSWERED") >= count]
        check(len(hits) <= 1, f"more than one phone answered a call {count} times: {hits}")
        return hits[0] if hits else None
    return who


# ---------------------------------------------------------------------------------------------- tests

def test_call_limit(env):
    env.ctl.ok("queue.set", "support", "call_limit=1")
    first = env.call("6000", duration_ms=5000)
    call_id(env, "support", "5551234")
    second = env.call("6000", scenario="call_busy.xml", from_user="5559999")
    second.sipp.expect_success(20)
    code, _ = second.sipp.final_response()
    check(code == 486, f"the call over the limit got {code}, expected 486")
    check(not second.rtp.received(), "RTP reached the refused caller")
    rows = calls(env, "support")
    check([r.get("caller_number") for r in rows] == ["5551234"], f"calls support while at the limit: {rows}")
    env.wait_stats("support", missed=1, waiting=1)
    first.sipp.expect_success(20)
    env.wait_stats("support", missed=1, abandoned=1, waiting=0)


def test_escalation_chain(env):
    """support times out (3 s) into sales, sales times out (3 s), then support's escalation_dest rings 1003."""
    env.ctl.ok("queue.set", "sales", "escalation_queue=", "timeout=3")
    env.ctl.ok("queue.set", "support", "timeout=3", "escalation_queue=sales", "escalation_dest=member:1003")
    phone = env.phone("1003", answer_ms=300)
    start = time.monotonic()
    call = env.call("6000", duration_ms=13000)
    ident = call_id(env, "support", "5551234")
    wait_for(lambda: any(r["call"] == ident for r in calls(env, "sales")), 10, f"call {ident} to move to sales")
    moved = time.monotonic() - start
    check(2.0 <= moved <= 8, f"the call moved to sales after {moved:.1f} s, support's timeout is 3 s")
    check(not calls(env, "support"), f"the call is still in support: {calls(env, 'support')}")
    check(phone.sipp.count("INVITE") == 0, "1003 was rung while the call waited in sales")
    phone.sipp.wait_event("INVITE", 10)
    rang = time.monotonic() - start
    check(5.0 <= rang <= 14, f"1003 was rung {rang:.1f} s after the call entered, expected ~6 s")
    phone.sipp.wait_event("ANSWERED", 10)
    check(not calls(env, "sales"), f"the transferred call is still in sales: {calls(env, 'sales')}")
    call.rtp.wait_packets(1, 5)
    tone_arrives(call.rtp, phone.rtp, "caller -> 1003")
    tone_arrives(phone.rtp, call.rtp, "1003 -> caller")
    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", waiting=0, handled=0, abandoned=0)
    env.wait_stats("sales", waiting=0, handled=0, abandoned=0)


def test_timeout_if_empty_to_queue(env):
    """A queue nobody is logged in to sends a new call straight to its escalation queue."""
    env.ctl.ok("queue.create", "night", "number=6050", "timeout_if_empty=yes", "escalation_queue=support")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    start = time.monotonic()
    call = env.call("6050", duration_ms=5000)
    phone.sipp.wait_event("ANSWERED", 10)
    took = time.monotonic() - start
    check(took < 7.0, f"1001 answered {took:.1f} s after the call entered the empty queue")
    tone_arrives(call.rtp, phone.rtp, "caller -> 1001")
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("night", handled=0, waiting=0)
    env.wait_stats("support", handled=1, waiting=0)


def test_timeout_if_empty_to_dest(env):
    """With 1001 logged in but away, support is not empty and the call waits; with nobody logged in the next
    call goes straight to escalation_dest (1002's phone)."""
    env.ctl.ok("queue.set", "support", "timeout_if_empty=yes", "escalation_dest=member:1002")
    phone = env.phone("1002", answer_ms=300)
    env.ctl.ok("agent.login", "1001")
    env.ctl.ok("agent.away", "1001")
    waiting = env.call("6000", duration_ms=2500)
    call_id(env, "support", "5551234")
    waiting.sipp.expect_success(20)
    check(phone.sipp.count("INVITE") == 0, "1002 was rung although support had an agent logged in (away)")
    env.wait_stats("support", abandoned=1, waiting=0)

    env.ctl.ok("agent.logout", "1001")
    start = time.monotonic()
    call = env.call("6000", duration_ms=6000, from_user="5550002")
    phone.sipp.wait_event("ANSWERED", 10)
    took = time.monotonic() - start
    check(took < 7.0, f"1002 answered {took:.1f} s after the call entered the empty queue")
    tone_arrives(call.rtp, phone.rtp, "caller -> 1002")
    tone_arrives(phone.rtp, call.rtp, "1002 -> caller")
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", abandoned=1, handled=0, waiting=0)


def test_escalated_calls_count_missed(env):
    """The README's `missed` includes every call that reached the queue timeout, whether or not the queue
    escalates it: a queue that hangs up on timeout and one that escalates to `hangup` count the same."""
    env.ctl.ok("queue.create", "plain", "number=6051", "timeout=2")
    env.ctl.ok("queue.create", "escalating", "number=6052", "timeout=2", "escalation_dest=hangup")
    plain = env.call("6051", scenario="caller_bye.xml")
    escalated = env.call("6052", scenario="caller_bye.xml")
    plain.sipp.expect_success(15)
    escalated.sipp.expect_success(15)
    env.wait_stats("plain", missed=1, abandoned=0, waiting=0)
    env.wait_stats("escalating", missed=1, abandoned=0, waiting=0)


def zero_out_setup(env):
    env.ctl.ok("queue.set", "support", "zero_out=member:1002")
    return env.phone("1002", answer_ms=300)


def test_zero_out_rfc4733(env):
    phone = zero_out_setup(env)
    call = env.call("6000", duration_ms=12000)
    call_id(env, "support", "5551234")
    call.rtp.wait_packets(10, 10, what="hold RTP packets")
    send_dtmf(call.rtp, "#")
    time.sleep(0.5)
    check(phone.sipp.count("INVITE") == 0, "a lone # already sent the caller to the zero-out destination")
    send_dtmf(call.rtp, "#0")
    phone.sipp.wait_event("ANSWERED", 10)
    check(not calls(env, "support"), f"the zeroed-out call is still in support: {calls(env, 'support')}")
    tone_arrives(call.rtp, phone.rtp, "caller -> 1002")
    tone_arrives(phone.rtp, call.rtp, "1002 -> caller")
    env.wait_stats("support", abandoned=1, waiting=0, handled=0, missed=0)
    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)


def test_zero_out_sip_info(env):
    phone = zero_out_setup(env)
    call = env.call("6000", scenario="caller_info.xml", duration_ms=1500)
    call_id(env, "support", "5551234")
    call.sipp.wait_event("ZEROED", 10)
    phone.sipp.wait_event("ANSWERED", 10)
    check(not calls(env, "support"), f"the zeroed-out call is still in support: {calls(env, 'support')}")
    tone_arrives(phone.rtp, call.rtp, "1002 -> caller")
    env.wait_stats("support", abandoned=1, waiting=0, handled=0)
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)


def test_skills_strict_no_match(env):
    env.ctl.ok("queue.set", "support", "strategy=skills-strict", "escalation_dest=hangup")
    env.ctl.ok("skill.set", "uk", "match=all", "rule=caller_number starts_with +44")
    env.ctl.ok("skill.assign", "1001", "uk")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")

    call = env.call("6000", scenario="caller_bye.xml", from_user="+15551234")
    call.sipp.wait_event("ANSWERED", 10)
    start = time.monotonic()
    call.sipp.expect_success(15)
    took = time.monotonic() - start
    check(call.sipp.count("BYE") == 1, f"the unmatched caller saw no BYE: {call.sipp.events()}")
    check(took < 8, f"the unmatched caller was hung up {took:.1f} s after the answer")
    check(phone.sipp.count("INVITE") == 0, "1001 (skill uk) was offered a +1 caller under skills-strict")
    check(not calls(env, "support"), f"the unmatched call is still listed: {calls(env, 'support')}")

    # The same queue does route a caller that matches.
    matched = env.call("6000", duration_ms=3000, from_user="+441632960000")
    phone.sipp.wait_event("ANSWERED", 10)
    matched.sipp.expect_success(20)
    env.wait_stats("support", handled=1, waiting=0)


def test_most_idle_order(env):
    """Three agents take calls A, B, C; B ends first, then C, then A. The next two calls go to B's agent, then
    C's: the ones idle longest."""
    env.ctl.ok("queue.set", "sales", "recovery=0")
    phones = {login: env.phone(login, answer_ms=300) for login in ("1001", "1002", "1003")}
    for login in phones:
        env.make_ready(login)
    order = []
    callers = []
    for n, duration in enumerate((9000, 3000, 4500)):
        callers.append(env.call("6001", duration_ms=duration, from_user=f"555000{n}"))
        who = wait_for(lambda: next((l for l, p in phones.items() if l not in order and p.sipp.count("ANSWERED")),
                                    None), 10, f"an idle agent to answer call {'ABC'[n]}")
        order.append(who)
    a1, a2, a3 = order
    for c in (callers[1], callers[2], callers[0]):
        c.sipp.expect_success(20)
    for login in order:
        phones[login].sipp.wait_event("BYE", 10)
        env.wait_agent(login, activity="idle", timeout=5)

    env.call("6001", duration_ms=4000, from_user="5550010")
    phones[a2].sipp.wait_event("ANSWERED", 10, count=2)
    env.call("6001", duration_ms=3000, from_user="5550011")
    phones[a3].sipp.wait_event("ANSWERED", 10, count=2)
    check(phones[a1].sipp.count("INVITE") == 1,
          f"{a1} (idle the shortest) was offered {phones[a1].sipp.count('INVITE')} calls; answer order {order}")
    env.wait_stats("sales", handled=5, waiting=0, timeout=20)


def test_force_away_after_reject(env):
    env.ctl.ok("queue.set", "support", "force_away=yes")
    first = env.phone("1001", mode="reject", answer_ms=1000)
    second = env.phone("1002", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=6000)
    first.sipp.wait_event("INVITE", 10)
    env.make_ready("1002")
    first.sipp.wait_event("REJECTED", 10)
    agent = env.wait_agent("1001", logged_in="yes", ready="no", timeout=5)
    second.sipp.wait_event("ANSWERED", 10)
    call.sipp.expect_success(20)
    second.sipp.wait_event("BYE", 10)
    check(first.sipp.count("INVITE") == 1, f"1001 was offered the call {first.sipp.count('INVITE')} times")
    check(env.ctl.row("agent.show", "1001").get("ready") == "no", f"1001 came back by itself: {agent}")
    env.wait_stats("support", missed=1, handled=1, waiting=0)


def test_recovery(env):
    """recovery=3: 1001 is offered nothing for 3 s after a call ends. Measured between the engine's own event
    times in the journal, not by this test's clock, so a loaded machine cannot squeeze or stretch it."""
    env.ctl.ok("queue.set", "support", "recovery=3")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    first = env.call("6000", duration_ms=2000)
    phone.sipp.wait_event("ANSWERED", 10)
    first.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)
    env.wait_agent("1001", activity="recovery", timeout=2)
    second = env.call("6000", duration_ms=6000, from_user="5550002")
    call_id(env, "support", "5550002")
    phone.sipp.wait_event("INVITE", 10, count=2)
    phone.sipp.wait_event("ANSWERED", 10, count=2)
    second.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10, count=2)
    env.wait_agent("1001", activity="idle", timeout=10)
    env.wait_stats("support", handled=2, waiting=0)

    ended = env.wait_journal("call.end", count=2)
    offers = env.wait_journal("call.offer", count=2, member="1001")
    gap = (offers[1]["t_ms"] - ended[0]["t_ms"]) / 1000
    check(2.9 <= gap <= 6, f"1001 was offered the next call {gap:.2f} s after the last ended (recovery=3)")
    starts = env.wait_journal("agent.recovery_start", count=2, member="1001")
    stops = env.wait_journal("agent.recovery_end", count=2, member="1001")
    for start, stop in zip(starts, stops):
        lasted = (stop["t_ms"] - start["t_ms"]) / 1000
        check(2.9 <= lasted <= 4, f"a recovery of 1001 lasted {lasted:.2f} s (recovery=3): {start} {stop}")


def test_call_bump_and_answer(env):
    manager = env.phone("1100", answer_ms=300)
    agent = env.phone("1001", answer_ms=300)
    first = env.call("6000", duration_ms=14000, from_user="5550001")
    one = call_id(env, "support", "5550001")
    second = env.call("6000", duration_ms=14000, from_user="5550002")
    two = call_id(env, "support", "5550002")
    check([r["call"] for r in calls(env, "support")] == [one, two], f"calls support: {calls(env, 'support')}")
    env.ctl.ok("call.bump", two)
    rows = calls(env, "support")
    check([(r["call"], r["position"]) for r in rows] == [(two, "1"), (one, "2")], f"after call.bump: {rows}")

    env.make_ready("1001")
    agent.sipp.wait_event("ANSWERED", 10)
    rows = {r["call"]: r for r in calls(env, "support")}
    check(rows[two].get("agent") == "1001" and rows[one].get("state") == "waiting",
          f"1001 did not get the bumped call first: {rows}")

    env.ctl.ok("call.answer", one, "1100")
    manager.sipp.wait_event("ANSWERED", 10)
    rows = {r["call"]: r for r in calls(env, "support")}
    check(rows[one].get("agent") == "1100" and rows[one].get("state") == "talking", f"after call.answer: {rows}")
    tone_arrives(first.rtp, manager.rtp, "caller -> manager 1100")
    tone_arrives(manager.rtp, first.rtp, "manager 1100 -> caller")
    check(agent.sipp.count("INVITE") == 1, "1001 was offered the call the manager took")
    first.sipp.expect_success(30)
    second.sipp.expect_success(30)
    manager.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=2, waiting=0)
