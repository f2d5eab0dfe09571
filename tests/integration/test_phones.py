"""Real phones as agents (issue 9): baresip over UDP, TCP and TLS with SRTP (issue 10), linphonec, baresip
registering through a Kamailio edge proxy, and blind transfer from baresip. Audio is checked by tone: the caller (sipp + python RTP) sends
CALLER_HZ, the phone's aufile sends PHONE_HZ; each side must hear the other's tone (Goertzel, phones.py)."""
import socket
import struct
import threading
import time

from harness import PT_PCMU, TestFailure, check, decode, received_samples, wait_for
from phones import Baresip, Kamailio, Linphonec, ToneSender, heard_tone, loud_blocks, tone_blocks, wait_tone

CALLER_HZ = 700
PHONE_HZ = 1100


# ---------------------------------------------------------------------------------------------- helpers

def login_by_phone(env, phone):
    """*50 dialed from the phone: answered, a prompt heard, callq hangs up; the agent is logged in and ready."""
    closed = phone.count("CALL_CLOSED")
    phone.dial("*50")
    phone.wait_event("CALL_ESTABLISHED", 15, count=phone.count("CALL_ESTABLISHED") + 1)
    phone.wait_event("CALL_CLOSED", 20, count=closed + 1)
    prompt = phone.heard()
    check(loud_blocks(prompt) >= 5, f"*50: the phone heard {loud_blocks(prompt)} loud 50 ms blocks of prompt")
    env.wait_agent(phone.login, logged_in="yes", ready="yes")


def phone_hears(phone, hz, what, timeout=10, blocks=10):
    """Waits until the phone's recording of its current call holds blocks x 50 ms of a sine at hz."""
    def heard():
        try:
            return phone.heard()
        except (TestFailure, OSError, struct.error):
            return []
    try:
        wait_for(lambda: tone_blocks(heard(), hz) >= blocks, timeout, "", interval=0.5)
    except TestFailure:
        samples = heard()
        raise TestFailure(f"{what}: the phone's recording holds {tone_blocks(samples, hz)} blocks of "
                          f"{hz} Hz ({loud_blocks(samples)} loud) in {len(samples) / 8000:.1f} s") from None


def answered_call(env, phone, established_before):
    """A caller (sipp, never hangs up itself) to 6000, answered by the phone; returns it with its tone running."""
    call = env.call("6000", scenario="caller_bye.xml", duration_ms=0)
    phone.wait_event("CALL_ESTABLISHED", 20, count=established_before + 1)
    call.sipp.wait_event("ANSWERED", 10)
    call.rtp.wait_packets(5, 10, what="RTP from callqd")
    call.tone = ToneSender(call.rtp, CALLER_HZ)
    env.add_cleanup(call.tone.stop)
    return call


def two_way_audio(env, phone, call):
    since = time.monotonic()
    wait_tone(call.rtp, PHONE_HZ, since, "caller hears the phone")
    phone_hears(phone, CALLER_HZ, "phone hears the caller")


def hold_and_resume(env, phone, call):
    """The phone holds: the caller hears the hold loop, not the phone; after resume the phone again."""
    phone.hold()
    held = time.monotonic()

    def hold_loop():
        samples = received_samples(call.rtp.received(held + 1.0), PT_PCMU)
        return loud_blocks(samples) >= 20 and tone_blocks(samples, PHONE_HZ) == 0
    try:
        wait_for(hold_loop, 15, "", interval=0.25)
    except TestFailure:
        samples = received_samples(call.rtp.received(held + 1.0), PT_PCMU)
        raise TestFailure(f"held: caller got {loud_blocks(samples)} loud blocks, "
                             f"{tone_blocks(samples, PHONE_HZ)} of the phone's tone") from None
    phone.resume()
    wait_tone(call.rtp, PHONE_HZ, time.monotonic(), "caller hears the phone after resume")


def phone_hangs_up(env, phone, call):
    """BYE from the phone ends both legs; the agent goes to recovery."""
    phone.hangup()
    call.sipp.wait_event("BYE", 10)
    call.sipp.expect_success(15)
    env.wait_agent(phone.login, activity="recovery", timeout=10)
    env.wait_stats("support", handled=1, waiting=0)


def agent_session(env, transport):
    env.ctl.ok("queue.set", "support", "recovery=30")
    phone = Baresip(env, "1001", tone_hz=PHONE_HZ, transport=transport)
    phone.wait_registered()
    login_by_phone(env, phone)
    call = answered_call(env, phone, phone.count("CALL_ESTABLISHED"))
    two_way_audio(env, phone, call)
    hold_and_resume(env, phone, call)
    phone_hangs_up(env, phone, call)
    return phone


# ---------------------------------------------------------------------------------------------- tests

def test_phones_baresip_udp(env):
    agent_session(env, "udp")


def test_phones_baresip_tcp(env):
    """The same over TCP: every SIP message between the phone and callq, in and out of dialogs, on TCP."""
    phone = agent_session(env, "tcp")
    trace = phone.sip_trace()
    check(any(m["first"].startswith("INVITE sip:1001") for m in trace), "no INVITE to the phone in its trace")
    udp = [f"{m['src']} -> {m['dst']}: {m['first']}" for m in trace if m["transport"] != "TCP"]
    check(not udp, "SIP over UDP in a TCP registration (callq's Contact lacks ;transport=tcp?):\n"
          + "\n".join(udp[:10]))


class WireTap:
    """The UDP payloads sent to ports lo..hi on loopback, as they are on the wire (an AF_PACKET socket: needs
    root or CAP_NET_RAW, which the test machine has). Each appears twice (out of and into lo)."""

    def __init__(self, env, lo, hi):
        self.lo, self.hi, self.payloads, self.stop = lo, hi, [], False
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        env.add_cleanup(self.close)

    def _run(self):
        while not self.stop:
            try:
                frame = self.sock.recv(65536)
            except OSError:
                continue
            ip = frame[14:]      # loopback frames carry an all-zero Ethernet header
            udp = ip[(ip[0] & 15) * 4:] if len(ip) >= 28 and ip[0] >> 4 == 4 and ip[9] == 17 else b""
            if len(udp) >= 8 and self.lo <= struct.unpack("!H", udp[2:4])[0] <= self.hi:
                self.payloads.append(udp[8:])

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def test_phones_baresip_tls_srtp(env):
    """baresip registers over TLS (trusting callqd's self-signed certificate) with SDES SRTP mandatory: the
    registration is kept as TLS, *50 and a queue call reach it over its TLS connection with RTP/SAVP and our
    key, audio flows both ways, and on the wire the agent leg's RTP is SRTP, not the caller's plain PCMU."""
    env.ctl.ok("queue.set", "support", "recovery=30")
    phone = Baresip(env, "1001", tone_hz=PHONE_HZ, transport="tls")
    phone.wait_registered()
    check("REGISTER 1001 from" in env.daemon.log_tail(200) and " over tls: " in env.daemon.log_tail(200),
          "callqd did not log a REGISTER of 1001 over tls")
    login_by_phone(env, phone)
    tap = WireTap(env, phone.rtp_lo, phone.rtp_hi)
    call = answered_call(env, phone, phone.count("CALL_ESTABLISHED"))
    invite = next((m for m in reversed(phone.sip_trace())
                   if m["first"].startswith("INVITE ") and "*50" not in m["first"]), None)
    check(invite and invite["transport"] == "TLS", f"callq's INVITE did not come over TLS: {invite and invite['first']}")
    check("RTP/SAVP" in invite["text"] and "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in invite["text"],
          "callq's offer over TLS is not RTP/SAVP with an SDES key")
    check(";transport=tls" in invite["text"].split("\nContact:")[1].partition("\n")[0],
          "our Contact on a TLS dialog does not say ;transport=tls")
    two_way_audio(env, phone, call)
    rtp = [p for p in tap.payloads if len(p) > 12 and p[0] >> 6 == 2 and p[1] & 0x7F == PT_PCMU]
    check(len(rtp) >= 100, f"only {len(rtp)} RTP packets to the phone seen on the wire")
    sizes = {len(p) for p in rtp}
    check(sizes == {12 + 160 + 10}, f"RTP to the phone is not 20 ms PCMU with an 80-bit SRTP tag: sizes {sizes}")
    wire = [s for p in rtp for s in decode(PT_PCMU, p[12:172])]
    check(tone_blocks(wire, CALLER_HZ) == 0,
          "the caller's tone is readable as plain PCMU on the agent leg: not encrypted")
    phone_hears(phone, CALLER_HZ, "phone hears the caller (after decryption)")
    phone_hangs_up(env, phone, call)


def test_phones_kamailio_edge(env):
    """baresip registers through Kamailio; callq's INVITE to the agent follows the Path back through it."""
    proxy = Kamailio(env)
    phone = Baresip(env, "1001", tone_hz=PHONE_HZ, proxy=proxy.uri())
    phone.wait_registered()
    check(proxy.seen(r"in: REGISTER "), "the REGISTER did not go through Kamailio")
    env.make_ready("1001")
    call = answered_call(env, phone, 0)
    invites = [m for m in phone.sip_trace() if m["first"].startswith("INVITE sip:1001")]
    check(invites and all(m["src"].startswith(proxy.ip + ":") for m in invites),
          f"callq's INVITE to the phone did not come through Kamailio ({proxy.address}): "
          f"{[(m['src'], m['first']) for m in invites]}")
    two_way_audio(env, phone, call)
    phone_hangs_up(env, phone, call)


def test_phones_blind_transfer(env):
    """The baresip agent answers and blind-transfers the caller (REFER) to agent 1002's baresip."""
    first = Baresip(env, "1001", tone_hz=PHONE_HZ)
    second = Baresip(env, "1002", tone_hz=1500)
    first.wait_registered()
    second.wait_registered()
    env.make_ready("1001")
    call = answered_call(env, first, 0)
    two_way_audio(env, first, call)
    first.transfer("1002")
    second.wait_event("CALL_ESTABLISHED", 20)
    first.wait_event("CALL_CLOSED", 15)
    wait_tone(call.rtp, 1500, time.monotonic(), "caller hears the transfer target")
    later = time.monotonic()
    wait_for(lambda: len(call.rtp.received(later)) >= 50, 10, "1 s more of RTP to the caller")
    check(not heard_tone(call.rtp, PHONE_HZ, later, blocks=2), "caller still hears the first agent after the transfer")
    second.hangup()
    call.sipp.wait_event("BYE", 10)


def test_phones_linphonec(env):
    """linphonec as agent 1002: registers, auto-answers a caller, audio both ways."""
    phone = Linphonec(env, "1002", tone_hz=1300)
    phone.wait_registered()
    env.make_ready("1002")
    call = env.call("6000", scenario="caller_bye.xml", duration_ms=0)
    call.sipp.wait_event("ANSWERED", 20)
    call.rtp.wait_packets(5, 10, what="RTP from callqd")
    call.tone = ToneSender(call.rtp, CALLER_HZ)
    env.add_cleanup(call.tone.stop)
    env.wait_agent("1002", activity="oncall")
    wait_tone(call.rtp, 1300, time.monotonic(), "caller hears linphonec")
    phone_hears(phone, CALLER_HZ, "linphonec hears the caller")
    phone.command("terminate")
    call.sipp.wait_event("BYE", 10)
