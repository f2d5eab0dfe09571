"""Calls through the queue: hold RTP, offers to agents, bridging, transcoding, abandon, refusals."""
import re
import time

from harness import (PT_PCMA, PT_PCMU, TONE, TestFailure, alaw_decode, check, encode, received_samples,
                     stream_report, tone_snr, ulaw_encode, wait_for)

MIN_SNR_DB = 20


def sdp_audio(sdp):
    """(port, [payload types]) of the m=audio line."""
    m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)$", sdp, re.M)
    check(m, f"no m=audio line in SDP:\n{sdp}")
    return int(m.group(1)), [int(pt) for pt in m.group(2).split()]


def check_hold_stream(packets, pt):
    report = stream_report(packets)
    check(report["pts"] == [pt], f"hold RTP payload types {report['pts']}, expected [{pt}]")
    check(report["sizes"] == [160], f"hold RTP payload sizes {report['sizes']}, expected 160 bytes (20 ms)")
    check(report["seq_ok"] >= 0.95, f"hold RTP sequence numbers not consecutive ({report['seq_ok']:.0%} in order)")
    check(15 <= report["median_ms"] <= 25, f"hold RTP median spacing {report['median_ms']:.1f} ms, expected ~20")


def check_tone_arrives(sender, dest, send_pt, receiver, receive_pt, direction):
    """Sends 1 s of TONE from sender to dest and waits until receiver hears it with payload type receive_pt."""
    since = time.monotonic()
    sender.send_tone(dest, send_pt)

    def heard():
        return tone_snr(received_samples(receiver.received(since), receive_pt)) >= MIN_SNR_DB
    try:
        wait_for(heard, 5, "")
    except TestFailure:
        got = receiver.received(since)
        raise TestFailure(f"{direction}: tone not heard (payload type {receive_pt}, best SNR "
                             f"{tone_snr(received_samples(got, receive_pt)):.1f} dB over {len(got)} packets, "
                             f"payload types {sorted({p.pt for p in got})})") from None


def hold_then_answer(phone, call, hold_pt):
    """Waits for 40 hold packets while the agent's phone has not answered, then for the answer."""
    hold = call.rtp.wait_packets(40, 10, what="hold RTP packets")
    check(phone.sipp.count("ANSWERED") == 0 and not phone.rtp.received(),
          "the agent answered before 40 hold packets reached the caller")
    check_hold_stream(hold, hold_pt)
    port, _ = sdp_audio(call.sipp.answer_sdp())
    check(hold[0].source[1] == port, f"hold RTP comes from port {hold[0].source[1]}, SDP answer says {port}")
    phone.sipp.wait_event("ANSWERED", 15)


def test_first_call(env):
    phone = env.phone("1001", answer_ms=2500)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=12000)
    call.rtp.wait_packets(1, 10, what="hold RTP packets")
    sdp = call.sipp.answer_sdp()
    for codec in ("PCMU/8000", "PCMA/8000", "telephone-event/8000"):
        check(re.search(rf"^a=rtpmap:\d+ {codec}", sdp, re.M | re.I), f"SDP answer lacks {codec}:\n{sdp}")
    check(re.search(r"^c=IN IP4 127\.0\.0\.1$", sdp, re.M), f"SDP answer lacks c=IN IP4 127.0.0.1:\n{sdp}")
    _, pts = sdp_audio(sdp)
    hold_pt = PT_PCMU if pts[0] == PT_PCMU else PT_PCMA
    hold_then_answer(phone, call, hold_pt)

    check_tone_arrives(call.rtp, call.rtp.peer(), hold_pt, phone.rtp, PT_PCMU, "caller -> agent")
    check_tone_arrives(phone.rtp, phone.rtp.peer(), PT_PCMU, call.rtp, hold_pt, "agent -> caller")

    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, waiting=0)


def test_transcode(env):
    phone = env.phone("1001", answer_ms=1500)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=10000, fmts="8 101")
    call.rtp.wait_packets(1, 10, what="hold RTP packets")
    _, pts = sdp_audio(call.sipp.answer_sdp())
    check(PT_PCMA in pts and PT_PCMU not in pts, f"SDP answer to a PCMA-only offer has payload types {pts}")
    hold_then_answer(phone, call, PT_PCMA)

    since = time.monotonic()
    check_tone_arrives(call.rtp, call.rtp.peer(), PT_PCMA, phone.rtp, PT_PCMU, "caller (PCMA) -> agent (PCMU)")
    expected = bytes(ulaw_encode(alaw_decode(b)) for b in encode(PT_PCMA, TONE))
    stream = b"".join(p.payload for p in phone.rtp.received(since) if p.pt == PT_PCMU)
    check(expected in stream, "the PCMA tone reached the agent, but not as the exact G.711 A-law -> u-law "
                              "conversion of its samples")
    check_tone_arrives(phone.rtp, phone.rtp.peer(), PT_PCMU, call.rtp, PT_PCMA, "agent (PCMU) -> caller (PCMA)")

    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)


def test_reject_goes_next(env):
    first = env.phone("1001", mode="reject", answer_ms=1500)
    second = env.phone("1002", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=8000)
    first.sipp.wait_event("INVITE", 10)
    env.make_ready("1002")
    first.sipp.wait_event("REJECTED", 10)
    second.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(30)
    second.sipp.wait_event("BYE", 10)
    check(first.sipp.count("INVITE") == 1, f"1001 was offered the call {first.sipp.count('INVITE')} times")
    env.wait_stats("support", missed=1, handled=1, waiting=0)


def test_reject_rests_agent(env):
    # The only agent's phone rejects every offer at once: it is offered the call
    # again only after retry_rejected (5 s), not in a loop; the call waits.
    phone = env.phone("1001", mode="reject", answer_ms=100)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=9000)
    phone.sipp.wait_event("REJECTED", 10)
    rejected = time.monotonic()
    agent = env.ctl.row("agent.show", "1001")
    check(1 <= int(agent["retry_left"]) <= 5 and agent["activity"] == "idle", f"1001 should rest: {agent}")
    phone.sipp.wait_event("INVITE", 10, count=2)
    again = time.monotonic() - rejected
    check(4.0 <= again <= 7.0, f"1001 was offered the call again {again:.1f} s after rejecting it (retry_rejected=5)")
    phone.sipp.wait_event("REJECTED", 10, count=2)
    row = env.ctl.row("stats", "support")
    check(phone.sipp.count("INVITE") == 2 and row["waiting"] == "1",
          f"{phone.sipp.count('INVITE')} offers in {again:.1f} s; stats {row}")
    call.sipp.expect_success(30)
    env.wait_stats("support", missed=2, abandoned=1, waiting=0)


def test_no_answer_goes_next(env):
    env.ctl.ok("queue.set", "support", "connect_timeout=2")
    first = env.phone("1001", mode="ring")
    second = env.phone("1002", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=9000)
    first.sipp.wait_event("INVITE", 10)
    offered = time.monotonic()
    env.make_ready("1002")
    first.sipp.wait_event("CANCEL", 10)
    rang = time.monotonic() - offered
    check(rang >= 1.0, f"1001 was cancelled after {rang:.1f} s, connect_timeout is 2 s")
    second.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(30)
    second.sipp.wait_event("BYE", 10)
    env.wait_stats("support", missed=1, handled=1, waiting=0)


def test_abandon_waiting(env):
    call = env.call("6000", duration_ms=3000)
    rows = wait_for(lambda: env.ctl.ok("calls", "support").rows, 10, "the call to be listed by `calls support`")
    check(len(rows) == 1 and rows[0].get("position") == "1" and rows[0].get("caller_number") == "5551234",
          f"calls support: {rows}")
    call.rtp.wait_packets(20, 10, what="hold RTP packets")
    call.sipp.expect_success(20)
    env.wait_stats("support", abandoned=1, waiting=0, handled=0)
    check(env.ctl.ok("calls", "support").rows == [], "the abandoned call is still listed")


def test_abandon_ringing(env):
    phone = env.phone("1001", mode="ring")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=3000)
    phone.sipp.wait_event("INVITE", 10)
    call.sipp.expect_success(20)
    phone.sipp.wait_event("CANCEL", 10)
    env.wait_stats("support", abandoned=1, waiting=0, handled=0)
    env.wait_agent("1001", activity="idle")


def expect_refusal(env, code, **call_options):
    call = env.call(scenario="call_rejected.xml", **call_options)
    call.sipp.expect_success(20)
    got, _ = call.sipp.final_response()
    check(got == code, f"INVITE answered {got}, expected {code}")
    check(not call.rtp.received(), "RTP arrived for a refused call")


def test_unknown_number_404(env):
    expect_refusal(env, 404, number="6999")


def test_acl_403(env):
    expect_refusal(env, 403, ip="127.0.0.2")


def test_no_common_codec_488(env):
    expect_refusal(env, 488, fmts="18", attrs="a=rtpmap:18 G729/8000")
