"""README claims that had no end-to-end test (issue 15): a 200 crossing our CANCEL, the recording and
voicemail limits, 503 with Retry-After beyond max_calls, miss reasons per status code, the ring limit of a
destination outside the queues, the agent hanging up first, the recording pausing on hold, and #0 by SIP INFO
with Content-Type application/dtmf."""
import re
import time

from harness import SCENARIOS, Background, check, tone_snr, wait_for
from test_faults import set_conf
from test_malformed import RawSip, sdp_offer
from test_media_calls import (clip_pattern, contains_clip, finished, frame_rms, recording_row, send_tone_async,
                              ulaw_stream, wav_samples)
from test_routing import call_id, calls, send_tone, tone_arrives

MIN_SNR_DB = 20


def restart_with(env, **conf):
    """Restarts callqd with these callq.conf keys set (the database is kept)."""
    for key, value in conf.items():
        set_conf(env, key, value)
    env.daemon.restart()


def wav_seconds(path):
    _, rate, data = wav_samples(path)
    return len(data[0]) / rate


def code_phone(env, login, code, ring_ms=200):
    """An agent phone (sipp) for login that rings ring_ms, then refuses every INVITE with status code: sipp
    checks status codes when it reads a scenario, so agent_reject.xml is copied with 486 replaced."""
    scenario = env.workdir / f"agent_{code}.xml"
    text = (SCENARIOS / "agent_reject.xml").read_text()
    check("486 Busy Here" in text, "agent_reject.xml no longer answers 486 Busy Here")
    scenario.write_text(text.replace("486 Busy Here", f"{code} Refused"))
    phone = env.sipp(f"phone{login}", "register.xml", service=login, ooc=str(scenario),
                     keys=[("expires", 3600), ("rtpport", env.rtp_port().port)],
                     args=["-au", login, "-ap", f"secret{login}", "-d", ring_ms], timeout_s=120)
    phone.wait_event("REGISTERED", 10)
    return phone


# ---------------------------------------------------------------------------------------------- tests

def test_claim_200_after_cancel_gets_bye(env):
    """1001's phone rings past connect_timeout (2 s); callqd cancels, and the phone answers the INVITE 200
    anyway after the CANCEL. callqd ACKs and hangs that leg up with BYE; the call is bridged with 1002 only,
    and no RTP ever reaches 1001's phone."""
    env.ctl.ok("queue.set", "support", "connect_timeout=2", "retry_timeout=60")
    late_rtp = env.rtp_port()
    late = env.sipp("phone1001", "register.xml", service="1001", ooc="agent_ignore_cancel.xml",
                    keys=[("expires", 3600), ("rtpport", late_rtp.port)],
                    args=["-au", "1001", "-ap", "secret1001"], timeout_s=120)
    late.wait_event("REGISTERED", 10)
    second = env.phone("1002", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=12000)
    late.wait_event("INVITE", 10)
    env.make_ready("1002")
    late.wait_event("CANCEL", 10)
    late.wait_event("ANSWERED", 5)          # callqd ACKed the 200 that crossed its CANCEL ...
    late.wait_event("BYE", 5)               # ... and hung that leg up
    second.sipp.wait_event("ANSWERED", 15)
    call.rtp.wait_packets(1, 5)
    tone_arrives(call.rtp, second.rtp, "caller -> 1002")
    tone_arrives(second.rtp, call.rtp, "1002 -> caller")
    check(not late_rtp.received(), f"{len(late_rtp.received())} RTP packets reached 1001's phone after its "
                                   "late 200: the call was bridged to it")
    check(late.count("INVITE") == 1, f"1001 was offered the call {late.count('INVITE')} times")
    agent = env.ctl.row("agent.show", "1001")
    check(agent.get("activity") == "idle" and agent.get("call", "0") in ("0", ""),
          f"1001 after its late 200: {agent}")
    call.sipp.expect_success(30)
    second.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, missed=1, waiting=0, busy=0)
    answers = env.wait_journal("call.answer")
    check([r["member"] for r in answers] == ["1002"], f"call.answer rows: {answers}")
    misses = env.journal("call.miss")
    check([(r["member"], r["reason"]) for r in misses] == [("1001", "timeout")], f"call.miss rows: {misses}")


def test_claim_record_max(env):
    """record_max=3: a recorded call's recording ends `done` after 3 s of audio while the call goes on."""
    restart_with(env, record_max=3)
    env.ctl.ok("queue.set", "support", "record=yes")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=11000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    row = recording_row(env, "call", timeout=8, status="done", queue="support", agent="1001")
    talking = [r for r in calls(env, "support") if r.get("state") == "talking"]
    check(call.sipp.running() and talking, f"the call ended with its recording: {calls(env, 'support')}")
    seconds = wav_seconds(row["path"])
    check(2.8 <= seconds <= 3.2, f"the recording holds {seconds:.2f} s of audio, record_max is 3")
    check(int(row["duration"]) in (2, 3), f"the recording's duration column: {row}")
    tone_arrives(call.rtp, phone.rtp, "after the recording stopped: caller -> agent")
    tone_arrives(phone.rtp, call.rtp, "after the recording stopped: agent -> caller")
    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, waiting=0)
    rows = env.ctl.ok("recordings").rows
    check(len(rows) == 1, f"one recorded call, recordings: {rows}")


def test_claim_voicemail_max(env):
    """voicemail_max=3: the caller who keeps talking into voicemail gets BYE about 3 s after the prompt, and
    the message holds about 3 s of their voice."""
    restart_with(env, voicemail_max=3)
    env.ctl.ok("queue.set", "support", "timeout=2", "escalation_dest=voicemail:1001")
    call = env.call("6000", scenario="caller_bye.xml")
    call.sipp.wait_event("ANSWERED", 10)
    tail = clip_pattern("en/leave-message.wav", at=0.9)
    wait_for(lambda: contains_clip(ulaw_stream(call.rtp.received()), tail), 12,
             "the end of the leave-a-message prompt")
    prompt_end = time.monotonic()
    sender = Background(send_tone, call.rtp, 300)     # 6 s of voice, longer than the limit
    call.sipp.wait_event("BYE", 12)
    took = time.monotonic() - prompt_end
    check(2.0 <= took <= 7.0, f"the caller got BYE {took:.1f} s after the prompt, voicemail_max is 3")
    finished(sender, 300, 10, "the caller's RTP sender")
    call.sipp.expect_success(10)
    row = recording_row(env, "voicemail", status="done", agent="1001")
    channels, rate, (samples,) = wav_samples(row["path"])
    seconds = len(samples) / rate
    check(2.8 <= seconds <= 3.2, f"the voicemail holds {seconds:.2f} s, voicemail_max is 3")
    loud = [r for r in frame_rms(samples) if r > 2000]
    check(len(loud) >= 50, f"only {len(loud)} loud 20 ms frames in the voicemail: the caller's voice is missing")
    env.wait_stats("support", waiting=0, handled=0, abandoned=0)


def test_claim_max_calls_503(env):
    """max_calls=2: with two calls in progress a third INVITE gets 503 with a Retry-After; once one ends, a
    new call is taken again."""
    restart_with(env, max_calls=2)
    first = env.call("6000", duration_ms=5000, from_user="5550001")
    second = env.call("6000", duration_ms=14000, from_user="5550002")
    call_id(env, "support", "5550001")
    call_id(env, "support", "5550002")

    raw = RawSip(env)
    invite, cid = raw.request("INVITE", "6000", from_user="5550003", body=sdp_offer(env.rtp_port().port))
    raw.send(invite)
    refused = raw.final(cid, timeout=5)
    check(refused is not None and refused.status == 503, f"the third INVITE got {refused}")
    raw.ack(invite, refused)
    retry = refused.header("retry-after")
    check(re.fullmatch(r"\d+( .*)?", retry) and int(retry.split()[0]) > 0,
          f"the 503 has Retry-After {retry!r}:\n{refused.raw.decode(errors='replace')}")
    check(len(calls(env, "support")) == 2, f"calls support after the refusal: {calls(env, 'support')}")

    first.sipp.expect_success(20)
    wait_for(lambda: len(calls(env, "support")) == 1, 5, "the first call to end")
    invite, cid = raw.request("INVITE", "6000", from_user="5550004", body=sdp_offer(env.rtp_port().port))
    raw.send(invite)
    taken = raw.final(cid, timeout=5)
    check(taken is not None and taken.status == 200, f"an INVITE below the limit again got {taken}")
    raw.ack(invite, taken)
    call_id(env, "support", "5550004")
    raw.bye(invite, taken)
    second.sipp.expect_success(20)
    env.wait_stats("support", abandoned=3, waiting=0)


# Status codes an agent's phone may refuse an offer with, the miss reason README gives each, and the queue
# setting of the rest that follows (retry_rejected=20, retry_timeout=40, retry_unreachable=60 below).
MISS_CODES = {
    "1201": (600, "rejected"), "1202": (603, "rejected"),
    "1203": (408, "timeout"), "1204": (480, "timeout"),
    "1205": (500, "unreachable"), "1206": (404, "unreachable"),
}
REST = {"rejected": 20, "timeout": 40, "unreachable": 60}


def test_claim_miss_reasons(env):
    """Six agents whose phones refuse with 600, 603, 408, 480, 500 and 404: the call is offered to each once,
    each refusal is one miss with its reason in the journal, `stats` counts six, and each agent rests for its
    reason's retry delay."""
    env.ctl.ok("queue.set", "support", *(f"retry_{k}={v}" for k, v in REST.items()))
    phones = {}
    for login, (code, _) in MISS_CODES.items():
        env.ctl.ok("member.add", login, f"name=Agent{login}", f"password=secret{login}", "role=agent")
        env.ctl.ok("queue.assign", "support", login, "active=yes")
        phones[login] = code_phone(env, login, code)
    for login in MISS_CODES:
        env.make_ready(login)
    call = env.call("6000", duration_ms=10000)
    misses = env.wait_journal("call.miss", count=len(MISS_CODES), timeout=20)
    got = sorted((r["member"], r["reason"]) for r in misses)
    check(got == sorted((login, reason) for login, (_, reason) in MISS_CODES.items()),
          f"call.miss (member, reason) rows: {got}")
    for login, (code, reason) in MISS_CODES.items():
        phone = phones[login]
        phone.wait_event("REJECTED", 5)
        check(phone.count("INVITE") == 1, f"{login} ({code}) was offered the call {phone.count('INVITE')} times")
        agent = env.ctl.row("agent.show", login)
        rest = int(agent.get("retry_left", -1))
        check(REST[reason] - 15 <= rest <= REST[reason],
              f"{login} refused with {code} ({reason}) and rests {rest} s, retry_{reason} is {REST[reason]}: {agent}")
    env.wait_stats("support", missed=len(MISS_CODES), waiting=1, handled=0)
    call.sipp.expect_success(20)
    env.wait_stats("support", missed=len(MISS_CODES), abandoned=1, waiting=0)


def test_claim_transfer_ring_gives_up(env):
    """transfer_ring=3: support escalates after 2 s to group:1001+1002, whose phones ring and never answer;
    after 3 s both are cancelled and the caller is hung up."""
    restart_with(env, transfer_ring=3)
    env.ctl.ok("queue.set", "support", "timeout=2", "escalation_dest=group:1001+1002")
    phones = [env.phone(login, mode="ring") for login in ("1001", "1002")]
    call = env.call("6000", scenario="caller_bye.xml")
    for phone in phones:
        phone.sipp.wait_event("INVITE", 10)
    rung = time.monotonic()
    for phone in phones:
        phone.sipp.wait_event("CANCEL", 10)
    gave_up = time.monotonic() - rung
    check(2.0 <= gave_up <= 6.0, f"the group's phones were cancelled {gave_up:.1f} s after ringing, "
                                 "transfer_ring is 3")
    call.sipp.wait_event("BYE", 5)
    call.sipp.expect_success(10)
    check(all(p.sipp.count("INVITE") == 1 for p in phones),
          f"INVITEs per phone: {[p.sipp.count('INVITE') for p in phones]}")
    env.wait_stats("support", waiting=0, handled=0)
    check(not calls(env, "support"), f"the call is still listed: {calls(env, 'support')}")


def test_claim_agent_bye_ends_both(env):
    """The agent hangs up first: the caller gets BYE, the call ends handled (not abandoned), the agent goes
    into recovery and is no longer counted busy."""
    env.ctl.ok("queue.set", "support", "recovery=5")
    phone = env.phone("1001", mode="bye", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", scenario="caller_bye.xml")
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    tone_arrives(call.rtp, phone.rtp, "caller -> agent")
    phone.sipp.wait_event("HUNGUP", 10)
    call.sipp.wait_event("BYE", 5)
    call.sipp.expect_success(10)
    env.wait_agent("1001", activity="recovery", timeout=3)
    env.wait_stats("support", handled=1, abandoned=0, waiting=0, busy=0)
    ended = env.wait_journal("call.end", queue="support")
    answered = env.journal("call.answer", queue="support")
    check(len(ended) == 1 and len(answered) == 1 and ended[0]["member"] == "1001",
          f"call.answer {answered}, call.end {ended}")
    talk = (ended[0]["t_ms"] - answered[0]["t_ms"]) / 1000
    check(2.5 <= talk <= 6, f"the call talked {talk:.1f} s, the agent hung up 3 s after answering")
    check(not env.journal("call.abandon"), f"the agent's hang-up counted as abandoned: {env.journal('call.abandon')}")


def test_claim_recording_pauses_on_hold(env):
    """The agent holds the caller for 4 s (re-INVITE sendonly, then sendrecv) and speaks only while holding:
    the recording is the talk time minus the hold, and the agent's held voice is not in it."""
    env.ctl.ok("queue.set", "support", "record=yes")
    phone = env.phone("1001", mode="hold", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=12000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    tone_arrives(call.rtp, phone.rtp, "before hold: caller -> agent")
    phone.sipp.wait_event("HOLD", 8)
    finished(send_tone_async(phone.rtp, 50), 50, 5, "the held agent's RTP sender")
    check(phone.sipp.count("UNHOLD") == 0, "the agent resumed before its held voice was sent")
    phone.sipp.wait_event("UNHOLD", 8)
    tone_arrives(call.rtp, phone.rtp, "after unhold: caller -> agent")
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)

    row = recording_row(env, "call", status="done", queue="support", agent="1001")
    channels, rate, (left, right) = wav_samples(row["path"])
    check(channels == 2, f"the recording has {channels} channels")
    answered = env.wait_journal("call.answer")[0]
    ended = env.wait_journal("call.end")[0]
    talk = (ended["t_ms"] - answered["t_ms"]) / 1000
    seconds = len(left) / rate
    check(talk - 6.0 <= seconds <= talk - 3.3,
          f"the recording holds {seconds:.2f} s of a {talk:.2f} s call with a 4 s hold")
    lf = frame_rms(left)
    i = lf.index(max(lf))
    check(tone_snr(left[max(0, 160 * i - 800):160 * i + 800]) >= MIN_SNR_DB, "the caller's voice is not in the recording")
    rf = frame_rms(right)
    check(max(rf) < 300, f"the agent channel has audio ({max(rf):.0f} RMS): the held agent's voice was recorded")


def test_claim_zero_out_info_application_dtmf(env):
    """#0 keyed as two SIP INFOs with Content-Type application/dtmf (body "#", then "0") moves the waiting
    caller to support's zero_out destination."""
    env.ctl.ok("queue.set", "support", "zero_out=member:1002")
    phone = env.phone("1002", answer_ms=300)
    call = env.call("6000", scenario="caller_info_dtmf.xml", duration_ms=1500)
    call_id(env, "support", "5551234")
    call.sipp.wait_event("ZEROED", 10)
    phone.sipp.wait_event("ANSWERED", 10)
    check(not calls(env, "support"), f"the zeroed-out call is still in support: {calls(env, 'support')}")
    tone_arrives(phone.rtp, call.rtp, "1002 -> caller")
    tone_arrives(call.rtp, phone.rtp, "caller -> 1002")
    env.wait_stats("support", abandoned=1, waiting=0, handled=0)
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)
