"""Guide behaviour that unit tests covered alone, now over real SIP and RTP (issue 11): least-calls and
least-offers routing, the wait announcement heard, *58 whisper heard by the agent only, *59 barge, the `spy`
verb, group: and uri: destinations, a member's own phone calling a queue, per-member recording, SIP over TCP,
media.import then the new file heard, and `callqctl top` driven in tmux."""
import shutil
import subprocess
import time
import wave

from harness import CALLQCTL, MEDIA, PT_PCMU, TONE, check, received_samples, tone_snr, wait_for
from test_media_calls import (clip_pattern, contains_clip, recording_row, restart_with, tone_not_heard,
                              ulaw_stream)
from test_routing import send_tone, tone_arrives

MIN_SNR_DB = 20


def offered(phone):
    return phone.sipp.count("INVITE")


def first_offered(phones, before, what):
    return wait_for(lambda: next((l for l, p in phones.items() if offered(p) > before[l]), None), 10, what)


def counts(phones):
    return {login: offered(p) for login, p in phones.items()}


# ---------------------------------------------------------------------------------------------- routing

def answer_one(env, phones, number, caller):
    """One short call; returns the agent it went to, once that agent is idle again."""
    before = counts(phones)
    call = env.call(number, duration_ms=800, from_user=caller)
    who = first_offered(phones, before, f"an agent to be offered {caller}")
    call.sipp.expect_success(20)
    env.wait_agent(who, activity="idle")
    return who


def test_least_calls_over_sip(env):
    """Least calls handled this session: whoever took the first call does not get the second; after one each,
    the agent who logs in again (count reset) gets the next."""
    env.ctl.ok("queue.set", "support", "strategy=least-calls", "recovery=0")
    phones = {login: env.phone(login, answer_ms=200) for login in ("1001", "1002")}
    for login in phones:
        env.make_ready(login)
    first = answer_one(env, phones, "6000", "5550101")
    second = answer_one(env, phones, "6000", "5550102")
    check(second != first, f"both calls went to {first}: least-calls ignored the handled count")
    env.ctl.ok("agent.logout", first)
    env.make_ready(first)                      # a new session: its count is 0 again
    third = answer_one(env, phones, "6000", "5550103")
    check(third == first, f"after {first} logged in again the call went to {third}")


def test_least_offers_over_sip(env):
    """Least offers this session: a rejected offer counts, so the agent who rejected gets fewer next."""
    env.ctl.ok("queue.set", "support", "strategy=least-offers", "recovery=0", "retry_rejected=1")
    rejecter = env.phone("1001", mode="reject", answer_ms=100)
    taker = env.phone("1002", answer_ms=200)
    phones = {"1001": rejecter, "1002": taker}
    env.make_ready("1001")
    env.make_ready("1002")
    call = env.call("6000", duration_ms=800, from_user="5550111")
    taker.sipp.wait_event("ANSWERED", 15)       # 1001 first (tie: assignment order), rejects, then 1002
    call.sipp.expect_success(20)
    check(offered(rejecter) == 1, f"1001 was offered {offered(rejecter)} times, expected once")
    env.wait_agent("1002", activity="idle")
    time.sleep(1.2)                            # 1001's retry rest is over: both 1 offer, 1001 first again
    before = counts(phones)
    call = env.call("6000", duration_ms=800, from_user="5550112")
    who = first_offered(phones, before, "the second call to be offered")
    check(who == "1001", f"with one offer each the tie went to {who}, expected 1001 (assignment order)")
    taker.sipp.wait_event("ANSWERED", 15, count=2)
    call.sipp.expect_success(20)
    row = env.ctl.row("agent.show", "1001")
    check(row["session_offers"] == "2", f"1001 session_offers={row['session_offers']}, expected 2")


def test_member_phone_calls_queue(env):
    """A registered member (1003, digest-authenticated) dials the queue number and is routed like a caller."""
    phone = env.phone("1001", answer_ms=200)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=3000, scenario="caller_auth.xml", from_user="1003",
                    auth=("1003", "secret1003"))
    phone.sipp.wait_event("ANSWERED", 10)
    tone_arrives(call.rtp, phone.rtp, "member 1003 -> agent 1001")
    call.sipp.expect_success(20)
    codes = call.sipp.responses()
    check(407 in codes and codes[-1] == 200, f"member call: INVITE responses {codes}")
    env.wait_stats("support", handled=1)


def test_group_and_uri_destinations(env):
    """escalation_dest=group:1002+1003 rings both phones; uri:sip:… rings that address."""
    env.ctl.ok("queue.set", "support", "timeout=1", "escalation_dest=group:1002+1003")
    p2, p3 = env.phone("1002", mode="ring"), env.phone("1003", answer_ms=300)
    call = env.call("6000", duration_ms=2000, from_user="5550121")
    wait_for(lambda: offered(p2) and offered(p3), 10, "the group's two phones to ring")
    p3.sipp.wait_event("ANSWERED", 10)
    tone_arrives(call.rtp, p3.rtp, "caller -> group member 1003")
    call.sipp.expect_success(20)

    target = env.sipp("uritarget", "register.xml", service="1002", ooc="agent_answer.xml",
                      keys=[("expires", 0), ("rtpport", p2.rtp.port)],
                      args=["-au", "1002", "-ap", "secret1002", "-d", 300])
    env.ctl.ok("queue.set", "support", f"escalation_dest=uri:sip:overflow@127.0.0.1:{target.port}")
    call = env.call("6000", duration_ms=1500, from_user="5550122")
    target.wait_event("INVITE", 10)
    call.sipp.expect_success(20)


def test_per_member_recording(env):
    """record=yes on the member records its calls in a queue that does not record."""
    env.ctl.ok("member.set", "1001", "record=yes")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=3000)
    phone.sipp.wait_event("ANSWERED", 10)
    tone_arrives(call.rtp, phone.rtp, "caller -> agent")
    call.sipp.expect_success(20)
    recording_row(env, "call", status="done", queue="support", agent="1001")


def test_sip_over_tcp(env):
    """A caller over TCP (sipp -t t1) reaches the queue and an agent."""
    phone = env.phone("1001", answer_ms=200)
    env.make_ready("1001")
    rtp = env.rtp_port()
    call = env.sipp("tcpcaller", "caller.xml", service="6000",
                    keys=[("rtpport", rtp.port), ("fmts", "0 8 101"),
                          ("attrs", "a=rtpmap:101 telephone-event/8000"), ("from_user", "5550131")],
                    args=["-t", "t1", "-d", 2500])
    phone.sipp.wait_event("ANSWERED", 10)
    tone_arrives(rtp, phone.rtp, "TCP caller -> agent")
    call.expect_success(20)
    env.wait_stats("support", handled=1)


# ---------------------------------------------------------------------------------------------- supervision

def supervised_call(env):
    phone = env.phone("1001", answer_ms=300)
    env.phone("1100")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=15000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    phone.rtp.wait_packets(1, 5)
    return phone, call


def test_whisper_code_agent_only(env):
    """*581001: the manager hears both sides; the agent hears the manager, the caller does not."""
    phone, call = supervised_call(env)
    spy = env.call("*581001", scenario="feature.xml", from_user="1100", auth=("1100", "secret1100"),
                   duration_ms=0)
    spy.rtp.wait_packets(10, 10, what="RTP to the whispering manager")
    tone_arrives(call.rtp, spy.rtp, "caller -> whispering manager")
    tone_arrives(phone.rtp, spy.rtp, "agent -> whispering manager")
    since = time.monotonic()
    tone_arrives(spy.rtp, phone.rtp, "whisper: manager -> agent")
    tone_not_heard(call.rtp, since, "whisper: manager -> caller")
    tone_arrives(call.rtp, phone.rtp, "caller -> agent during the whisper")
    call.sipp.expect_success(30)


def test_barge_code(env):
    """*591001: everyone hears everyone."""
    phone, call = supervised_call(env)
    spy = env.call("*591001", scenario="feature.xml", from_user="1100", auth=("1100", "secret1100"),
                   duration_ms=0)
    spy.rtp.wait_packets(10, 10, what="RTP to the barging manager")
    tone_arrives(spy.rtp, call.rtp, "barge: manager -> caller")
    tone_arrives(spy.rtp, phone.rtp, "barge: manager -> agent")
    tone_arrives(call.rtp, spy.rtp, "barge: caller -> manager")
    call.sipp.expect_success(30)


def test_spy_verb(env):
    """`spy 1001 mode=listen 1100` rings 1100's phone; answered, it hears the call and is not heard."""
    phone = env.phone("1001", answer_ms=300)
    manager = env.phone("1100", answer_ms=200)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=15000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(1, 5)
    env.ctl.ok("spy", "1001", "mode=listen", "1100")
    manager.sipp.wait_event("ANSWERED", 10)
    tone_arrives(call.rtp, manager.rtp, "caller -> listening manager")
    tone_arrives(phone.rtp, manager.rtp, "agent -> listening manager")
    since = time.monotonic()
    send_tone(manager.rtp)
    time.sleep(0.5)
    tone_not_heard(call.rtp, since, "listen: manager -> caller")
    call.sipp.expect_success(30)


# ---------------------------------------------------------------------------------------------- media, top

def test_wait_announcement_heard(env):
    """hold=wait,…: a waiting caller hears 'your estimated wait time is' and 'less than a minute' (the last
    answered call waited about a second)."""
    phone = env.phone("1001", answer_ms=200)
    env.make_ready("1001")
    first = env.call("6000", duration_ms=800, from_user="5550141")
    phone.sipp.wait_event("ANSWERED", 10)
    first.sipp.expect_success(20)
    env.ctl.ok("agent.logout", "1001")
    env.ctl.ok("queue.set", "support", "hold=wait,pause:1,repeat")
    call = env.call("6000", duration_ms=9000, from_user="5550142")
    intro, less = clip_pattern("en/wait-is.wav"), clip_pattern("en/less-than-minute.wav")
    wait_for(lambda: contains_clip(ulaw_stream(call.rtp.received()), less), 10,
             "'less than a minute' in the hold audio")
    check(contains_clip(ulaw_stream(call.rtp.received()), intro), "'your estimated wait time is' not heard")
    call.sipp.kill()


def test_media_import_heard(env):
    """media.import converts a 16 kHz file into the media folder; a hold loop naming it plays it."""
    media = env.daemon.workdir / "media"
    shutil.copytree(MEDIA, media)
    restart_with(env, media=media)
    source = env.daemon.workdir / "tone16k.wav"
    with wave.open(str(source), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        samples = [TONE[(n // 2) % len(TONE)] for n in range(16000 * 3)]   # the test tone, each sample twice
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
    env.ctl.ok("media.import", str(source), "imported.wav")
    check((media / "imported.wav").is_file(), "media.import wrote no file")
    env.ctl.ok("queue.set", "support", "hold=file:imported.wav,repeat")
    call = env.call("6000", duration_ms=3000)
    call.rtp.wait_packets(100, 10, what="2 s of hold RTP")
    snr = tone_snr(received_samples(call.rtp.received()[10:100], PT_PCMU))
    check(snr >= MIN_SNR_DB, f"the imported tone is not what the caller hears (SNR {snr:.1f} dB)")
    call.sipp.expect_success(20)


def test_callqctl_top_in_tmux(env):
    """`callqctl top` in a real terminal (tmux): the screen shows the queues and follows a login."""
    session = f"callqtop{env.daemon.sip_port}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50",
                    f"{CALLQCTL} -s {env.daemon.socket_path} top"], check=True)
    env.add_cleanup(lambda: subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True))

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                              text=True).stdout
    env.add_diagnostic(lambda: "tmux screen:\n" + screen())
    wait_for(lambda: "support" in screen() and "sales" in screen(), 10, "top to show both queues")
    env.ctl.ok("agent.login", "1002")
    wait_for(lambda: any("1002" in line and "ready" in line.lower() for line in screen().splitlines()), 10,
             "top to show 1002 logged in")
    subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    wait_for(lambda: subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0,
             5, "top to quit on q")
