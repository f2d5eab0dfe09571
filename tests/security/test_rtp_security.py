"""Nobody hijacks a call's audio (issue 10): a stranger on another address sweeping every RTP port of callqd
with new-SSRC audio and forged RFC 4733 digits gets nothing back, is not heard, and cannot push a waiting
caller out of the queue; a leg whose SDP says it will not send is still hung up after rtp_quiet_timeout."""
import random
import socket
import struct
import threading
import time

from harness import PT_PCMU, check, ulaw_encode, wait_for
from test_faults import set_conf
from test_routing import DTMF_PT, call_id, calls, tone_arrives, zero_out_setup

STRANGER = "127.0.0.9"
WINDOW = 200                     # callqd's RTP ports in these tests: 100 even ports to sweep
LOUD = bytes(ulaw_encode(int(12000 * (1 if (i // 10) % 2 else -1))) for i in range(160))
DTMF_EVENTS = {"#": 11, "0": 0}


class Sweeper:
    """From STRANGER, every `period` s: one PCMU packet with a fresh SSRC and one RFC 4733 event ('#' and '0'
    in turn, each a new event) to every even port of [lo, hi]; counts whatever comes back."""

    def __init__(self, lo, hi, period=0.005):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((STRANGER, 0))
        self.sock.settimeout(0.05)
        self.ports = range(lo + (lo & 1), hi + 1, 2)
        self.period, self.sweeps, self.received = period, 0, 0
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._send, self._receive)]
        for t in self.threads:
            t.start()

    def _send(self):
        seq, ts = random.getrandbits(16), random.getrandbits(32)
        while not self.stop_flag.is_set():
            ssrc = random.getrandbits(32)
            digit = "#0"[self.sweeps % 2]
            audio = struct.pack("!BBHII", 0x80, 0x80 | PT_PCMU, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + LOUD
            event = struct.pack("!BBHII", 0x80, 0x80 | DTMF_PT, (seq + 1) & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            event += struct.pack("!BBH", DTMF_EVENTS[digit], 10, 160)
            for port in self.ports:
                try:
                    self.sock.sendto(audio, ("127.0.0.1", port))
                    self.sock.sendto(event, ("127.0.0.1", port))
                except OSError:
                    pass                 # ICMP port unreachable from an unused port, reported on a later send
            seq, ts = seq + 2, ts + 1600
            self.sweeps += 1
            time.sleep(self.period)

    def _receive(self):
        while not self.stop_flag.is_set():
            try:
                self.sock.recvfrom(4096)
                self.received += 1
            except socket.timeout:
                continue
            except OSError:
                continue                 # ICMP errors surface here too

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(2)
        time.sleep(0.3)
        self.sock.settimeout(0)
        try:
            while True:
                self.sock.recvfrom(4096)
                self.received += 1
        except OSError:
            pass
        self.sock.close()


def small_window(env, **conf):
    """Restarts callqd with WINDOW ports from the harness's RTP window and the given keys; (lo, hi)."""
    lo = env.daemon.rtp_min
    for key, value in dict(conf, rtp_port_max=lo + WINDOW - 1).items():
        set_conf(env, key, value)
    env.daemon.restart()
    return lo, lo + WINDOW - 1


def dropped_lines(env):
    return [line for line in env.daemon.log_path.read_text(errors="replace").splitlines()
            if f"dropping RTP from {STRANGER}" in line]


def test_rtp_sweep_cannot_hijack(env):
    """A bridged call keeps its audio both ways, a waiting caller stays queued and the zero-out member is not
    rung, while a stranger sweeps every RTP port with new-SSRC audio and forged '#0' for several seconds; the
    stranger gets not one packet, and each leg logs the drop once."""
    lo, hi = small_window(env)
    zero_phone = zero_out_setup(env)
    agent = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    talking = env.call("6000", duration_ms=30000, from_user="5550001")
    agent.sipp.wait_event("ANSWERED", 10)
    talking.rtp.wait_packets(1, 5)
    waiting = env.call("6000", duration_ms=30000, from_user="5550002")
    call_id(env, "support", "5550002")
    waiting.rtp.wait_packets(10, 10, what="hold RTP packets")

    sweeper = Sweeper(lo, hi)
    env.add_cleanup(sweeper.stop)
    since = time.monotonic()
    try:
        tone_arrives(talking.rtp, agent.rtp, "caller -> agent during the sweep")
        tone_arrives(agent.rtp, talking.rtp, "agent -> caller during the sweep")
        time.sleep(max(0.0, 4.0 - (time.monotonic() - since)))
    finally:
        sweeper.stop()
    took = time.monotonic() - since
    check(sweeper.sweeps >= 100, f"only {sweeper.sweeps} sweeps in {took:.1f} s")

    check(sweeper.received == 0, f"the stranger received {sweeper.received} packets from callqd")
    expected = took / 0.020
    for name, port in (("caller", talking.rtp), ("agent", agent.rtp), ("waiting caller", waiting.rtp)):
        got = len(port.received(since))
        check(got >= 0.8 * expected, f"the {name} got {got} packets in {took:.1f} s (about {expected:.0f} sent)")
    check(zero_phone.sipp.count("INVITE") == 0, "a forged #0 sent the waiting caller to the zero-out member")
    time.sleep(0.5)
    queued = [r.get("caller_number") for r in calls(env, "support")]
    check("5550002" in queued, f"the waiting caller left the queue: {queued}")
    legs = dropped_lines(env)
    check(len(legs) >= 3, f"expected a drop line for each of the 3 legs, got {len(legs)}: {legs}")
    tone_arrives(talking.rtp, agent.rtp, "caller -> agent after the sweep")


def test_quiet_leg_hung_up(env):
    """A caller whose SDP says recvonly (it will never send) is hung up after rtp_quiet_timeout (3 s) though
    rtp_timeout is 60 s, and counts abandoned."""
    small_window(env, rtp_quiet_timeout=3)
    quiet = env.call("6000", scenario="caller_bye.xml", attrs="a=recvonly", from_user="5550003")
    quiet.sipp.wait_event("ANSWERED", 10)
    start = time.monotonic()
    quiet.sipp.expect_success(15)
    took = time.monotonic() - start
    check(quiet.sipp.count("BYE") == 1, f"the quiet caller saw no BYE: {quiet.sipp.events()}")
    check(2.5 <= took <= 6, f"the quiet caller was hung up {took:.1f} s after the answer (rtp_quiet_timeout=3)")
    env.wait_stats("support", abandoned=1, waiting=0)
    wait_for(lambda: not calls(env, "support"), 5, "the quiet call to leave `calls support`")
