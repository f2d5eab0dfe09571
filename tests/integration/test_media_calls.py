"""Media of issue 4 over real SIP and RTP: the hold loop's spoken position, recordings, voicemail, listen and
barge, the RTP timeout, and hold/unhold by re-INVITE."""
import math
import re
import struct
import time
import wave
from pathlib import Path

from harness import (MEDIA, PT_PCMU, Background, check, received_samples, tone_snr, ulaw_encode,
                     wait_for)
from test_routing import Source, send_dtmf, send_tone, tone_arrives

MIN_SNR_DB = 20


# ---------------------------------------------------------------------------------------------- helpers

def wav_samples(path):
    """(channels, rate, [samples per channel]) of a 16-bit PCM WAV."""
    with wave.open(str(path)) as w:
        check(w.getsampwidth() == 2, f"{path}: {8 * w.getsampwidth()}-bit samples, expected 16")
        channels, rate = w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    data = struct.unpack(f"<{len(frames) // 2}h", frames)
    return channels, rate, [list(data[c::channels]) for c in range(channels)]


def clip_pattern(name, at=0.5, length=800):
    """A regex for the u-law bytes callqd sends for 100 ms of a prompt of the media folder, starting at
    fraction `at` of it. Positive samples must match exactly; negative ones only in sign, because G.711
    encoders may round those differently (callqd negates before dropping the low bits, the reference after)."""
    _, _, (samples,) = wav_samples(MEDIA / name)
    start = max(0, min(int(len(samples) * at), len(samples) - length))
    parts = [re.escape(bytes([ulaw_encode(x)])) if x >= 0 else rb"[\x00-\x7f]"
             for x in samples[start:start + length]]
    return re.compile(b"".join(parts))


def ulaw_stream(packets):
    return b"".join(p.payload for p in sorted(packets, key=lambda p: p.arrival) if p.pt == PT_PCMU)


def contains_clip(stream, pattern):
    return pattern.search(stream) is not None


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def frame_rms(samples, size=160):
    return [rms(samples[i:i + size]) for i in range(0, len(samples) - size + 1, size)]


def tone_not_heard(receiver, since, what):
    snr = tone_snr(received_samples(receiver.received(since), PT_PCMU))
    check(snr < 10, f"{what}: the tone was heard (SNR {snr:.1f} dB)")


def send_tone_async(rtp, count):
    """send_tone on a thread; join it with finished(): the sender's failure fails the test."""
    return Background(send_tone, rtp, count)


def finished(sender, count, timeout, what):
    sent = sender.join(timeout, what)
    check(sent == count, f"{what} sent {sent} packets, expected {count}")


def recording_row(env, kind, timeout=10, **where):
    """The one `recordings` row of this kind, once its status is no longer `recording`."""
    def done():
        rows = [r for r in env.ctl.ok("recordings").rows if r.get("kind") == kind]
        return rows if rows and all(r.get("status") != "recording" for r in rows) else None
    rows = wait_for(done, timeout, f"a finished {kind} recording")
    check(len(rows) == 1, f"expected one {kind} recording: {rows}")
    row = rows[0]
    for key, value in where.items():
        check(row.get(key) == str(value), f"{kind} recording {key}={row.get(key)!r}, expected {value!r}: {row}")
    check(Path(row["path"]).is_file(), f"{kind} recording file {row['path']} does not exist")
    return row


def restart_with(env, **conf):
    """Restarts callqd with some config keys changed (the database is kept)."""
    complaint = env.daemon.stop()
    check(complaint is None, complaint)
    lines = env.daemon.conf_path.read_text().splitlines()
    for key, value in conf.items():
        lines = [f"{key} = {value}" if line.split("=")[0].strip() == key else line for line in lines]
    env.daemon.conf_path.write_text("\n".join(lines) + "\n")
    env.daemon.start()


# ---------------------------------------------------------------------------------------------- tests

def test_hold_announces_position(env):
    """support's hold loop starts with `position`: the first caller hears 'you are caller number' + '1', the
    second 'you are caller number' + '2', exactly the prompt files, and then neither is silent."""
    first = env.call("6000", duration_ms=9000, from_user="5550001")
    first.rtp.wait_packets(1, 10, what="hold RTP packets")
    wait_for(lambda: len(env.ctl.ok("calls", "support").rows) == 1, 5, "the first call to be listed")
    second = env.call("6000", duration_ms=9000, from_user="5550002")
    for call in (first, second):
        call.rtp.wait_packets(150, 10, what="3 s of hold RTP")
    intro, one, two = (clip_pattern(f"en/{n}.wav") for n in ("caller-number", "1", "2"))
    streams = {n: ulaw_stream(c.rtp.received()[:150]) for n, c in (("first", first), ("second", second))}
    for name, stream in streams.items():
        check(contains_clip(stream, intro), f"the {name} caller's first 3 s lack 'you are caller number'")
    check(contains_clip(streams["first"], one) and not contains_clip(streams["first"], two),
          "the first caller did not hear position 1 (or heard 2)")
    check(contains_clip(streams["second"], two) and not contains_clip(streams["second"], one),
          "the second caller did not hear position 2 (or heard 1)")
    check(streams["first"] != streams["second"], "both callers got the same hold audio")
    for name, call in (("first", first), ("second", second)):
        loud = [r for r in frame_rms(received_samples(call.rtp.received()[:150], PT_PCMU)) if r > 300]
        check(len(loud) >= 40, f"the {name} caller's first 3 s are nearly silent ({len(loud)} loud frames)")
    first.sipp.expect_success(20)
    second.sipp.expect_success(20)


def test_recording(env):
    env.ctl.ok("queue.set", "support", "record=yes")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=6000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    tone_arrives(call.rtp, phone.rtp, "caller -> agent")
    tone_arrives(phone.rtp, call.rtp, "agent -> caller")
    ident = env.ctl.ok("calls", "support").rows[0]["call"]
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)

    row = recording_row(env, "call", status="done", queue="support", agent="1001", call=ident)
    check(int(row["duration"]) >= 3, f"recording duration {row['duration']} s, the call talked ~5 s")
    channels, rate, (left, right) = wav_samples(row["path"])
    check(channels == 2 and rate == 8000, f"recording is {channels} channel(s) at {rate} Hz, expected stereo 8 kHz")
    lf, rf = frame_rms(left), frame_rms(right)
    i, j = lf.index(max(lf)), rf.index(max(rf))
    check(lf[i] > 2000 and rf[j] > 2000, f"recording peaks: left {lf[i]:.0f}, right {rf[j]:.0f} RMS")
    check(rf[i] < lf[i] / 10, f"while the caller spoke the agent channel was loud too ({rf[i]:.0f} vs {lf[i]:.0f})")
    check(lf[j] < rf[j] / 10, f"while the agent spoke the caller channel was loud too ({lf[j]:.0f} vs {rf[j]:.0f})")
    check(tone_snr(left[max(0, 160 * i - 800):160 * i + 800]) >= MIN_SNR_DB, "the caller's tone is not in the left channel")
    check(tone_snr(right[max(0, 160 * j - 800):160 * j + 800]) >= MIN_SNR_DB, "the agent's tone is not in the right channel")


def test_voicemail(env):
    env.ctl.ok("queue.set", "support", "timeout=2", "escalation_dest=voicemail:1001")
    call = env.call("6000", duration_ms=9000)
    prompt, tail = clip_pattern("en/leave-message.wav"), clip_pattern("en/leave-message.wav", at=0.9)
    wait_for(lambda: contains_clip(ulaw_stream(call.rtp.received()), tail), 10,
             "the end of the leave-a-message prompt")
    check(contains_clip(ulaw_stream(call.rtp.received()), prompt), "the caller did not hear the whole prompt")
    time.sleep(0.3)
    send_tone(call.rtp, 100)
    call.sipp.expect_success(20)

    row = recording_row(env, "voicemail", status="done", agent="1001")
    channels, rate, (samples,) = wav_samples(row["path"])
    check(channels == 1 and rate == 8000, f"voicemail is {channels} channel(s) at {rate} Hz, expected mono 8 kHz")
    check(1.5 <= len(samples) / rate <= 6, f"voicemail holds {len(samples) / rate:.1f} s, the caller spoke 2 s")
    check(tone_snr(samples) >= MIN_SNR_DB, "the caller's tone is not in the voicemail")
    env.wait_stats("support", waiting=0, handled=0, abandoned=0)


def test_spy_listen_then_barge(env):
    phone = env.phone("1001", answer_ms=300)
    env.phone("1100")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=15000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    phone.rtp.wait_packets(1, 5)
    spy = env.call("*571001", scenario="feature.xml", from_user="1100", auth=("1100", "secret1100"),
                   duration_ms=0)
    spy.rtp.wait_packets(10, 10, what="RTP to the listening manager")

    tone_arrives(call.rtp, spy.rtp, "caller -> listening manager")
    tone_arrives(phone.rtp, spy.rtp, "agent -> listening manager")
    since = time.monotonic()
    send_tone(spy.rtp)
    time.sleep(0.5)
    tone_not_heard(call.rtp, since, "listen mode: manager -> caller")
    tone_not_heard(phone.rtp, since, "listen mode: manager -> agent")

    send_dtmf(spy.rtp, "6")
    time.sleep(0.3)
    tone_arrives(spy.rtp, call.rtp, "barge: manager -> caller")
    tone_arrives(spy.rtp, phone.rtp, "barge: manager -> agent")
    tone_arrives(call.rtp, spy.rtp, "barge: caller -> manager")

    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    spy.sipp.expect_success(15)
    codes = spy.sipp.responses()
    check(407 in codes and codes[-1] == 200, f"*571001: INVITE responses {codes}")


def test_rtp_timeout(env):
    """With rtp_timeout=3 a caller that sends no RTP is hung up after ~3 s and counts abandoned; one that
    keeps sending stays."""
    restart_with(env, rtp_timeout=3)
    silent = env.call("6000", scenario="caller_bye.xml", from_user="5550001")
    talking = env.call("6000", duration_ms=7000, from_user="5550002")
    silent.sipp.wait_event("ANSWERED", 10)
    start = time.monotonic()
    talking.rtp.wait_packets(1, 10, what="hold RTP")
    sender = send_tone_async(talking.rtp, 325)
    silent.sipp.expect_success(15)
    took = time.monotonic() - start
    check(silent.sipp.count("BYE") == 1, f"the silent caller saw no BYE: {silent.sipp.events()}")
    check(2.0 <= took <= 9, f"the silent caller was hung up {took:.1f} s after the answer (rtp_timeout=3)")
    env.wait_stats("support", abandoned=1, waiting=1)
    check(talking.sipp.running(), "the caller that sends RTP was hung up too")
    finished(sender, 325, 10, "the talking caller's RTP sender")
    talking.sipp.expect_success(20)
    check(not any(d == "received" and t.startswith("BYE ") for d, t in talking.sipp.messages()),
          "callqd hung up the caller that sent RTP")
    env.wait_stats("support", abandoned=2, waiting=0)


def test_reinvite_hold(env):
    """The agent's phone holds (a=sendonly) and resumes (a=sendrecv) by re-INVITE: meanwhile the caller hears
    the hold loop, not the agent; afterwards they talk again."""
    phone = env.phone("1001", mode="hold", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=14000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    tone_arrives(phone.rtp, call.rtp, "before hold: agent -> caller")

    phone.sipp.wait_event("HOLD", 8)
    held = time.monotonic()
    sender = send_tone_async(phone.rtp, 50)
    since = time.monotonic()
    send_tone(call.rtp)
    finished(sender, 50, 5, "the held agent's RTP sender")
    check(phone.sipp.count("UNHOLD") == 0, "the agent resumed before the hold could be checked")
    during = call.rtp.received(held)
    tone_not_heard(call.rtp, held, "on hold: agent -> caller")
    tone_not_heard(phone.rtp, since, "on hold: caller -> agent")
    loud = [r for r in frame_rms(received_samples(during, PT_PCMU)) if r > 300]
    check(len(during) >= 40 and len(loud) >= 10,
          f"the held caller got {len(during)} packets, {len(loud)} of them audible: no hold loop")

    phone.sipp.wait_event("UNHOLD", 8)
    tone_arrives(phone.rtp, call.rtp, "after unhold: agent -> caller")
    tone_arrives(call.rtp, phone.rtp, "after unhold: caller -> agent")
    call.sipp.expect_success(20)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, waiting=0)


def test_new_rtp_source_heard(env):
    """A phone may restart its RTP stream with a new SSRC and sequence numbers (after a re-INVITE, or DTMF
    from another source): the new source must be heard at once even if its sequence numbers are lower."""
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=8000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    source = Source.of(phone.rtp)
    source.seq = 60000
    tone_arrives(phone.rtp, call.rtp, "agent -> caller, first source")
    source.ssrc, source.seq, source.ts = source.ssrc ^ 0x5A5A5A5A, 40000, source.ts - 8000000
    tone_arrives(phone.rtp, call.rtp, "agent -> caller, new SSRC with lower sequence numbers")
    call.sipp.expect_success(20)
