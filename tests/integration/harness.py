"""Fixtures for callq's integration tests: a fresh callqd per test, callqctl, sipp peers, RTP sockets, G.711.

Every test gets an Env (see run.py). The Env owns a work directory, the daemon, and every sipp process and
socket it hands out; Env.close() kills and closes them all, whatever happened.
"""
import math
import os
import random
import re
import resource
import shlex
import signal
import socket
import sqlite3
import struct
import subprocess
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CALLQD = ROOT / "build" / "callqd"
CALLQCTL = ROOT / "build" / "callqctl"
MEDIA = ROOT / "media"
SIPP = "sipp"
HOST = "127.0.0.1"

TELEPHONE_EVENT = "a=rtpmap:101 telephone-event/8000"


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    """Raised by a test that cannot run on this machine. run.py prints it as SKIP and counts it as skipped, never
    as passed. allowed=True is only for what this machine can never offer (a hardware or kernel limit); any
    other skip (a missing package: scripts/deps.sh installs it) makes run.py, and so `make check`, fail."""

    def __init__(self, reason, allowed=False):
        super().__init__(reason)
        self.reason, self.allowed = reason, allowed


# Checks the running test has made: every check() and every wait_for() that saw its condition, on the test's
# own thread (a helper thread's checks are not the test's). run.py resets it and fails a test that made none.
checks_made = 0


def _count_check():
    global checks_made
    if threading.current_thread() is threading.main_thread():
        checks_made += 1


def check(condition, message):
    _count_check()
    if not condition:
        raise TestFailure(message)


def _require(condition, message):
    """A precondition of the harness itself (a binary exists, a packet parses): fails like check() but is not
    one of the test's checks."""
    if not condition:
        raise TestFailure(message)


def wait_for(probe, timeout, what, interval=0.1):
    """Polls probe() until it returns something truthy and returns that; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            _count_check()
            return last
        if time.monotonic() >= deadline:
            raise TestFailure(f"timed out after {timeout:g}s waiting for {what} (last seen: {last!r})")
        time.sleep(interval)


def _bindable(ip, port, kind):
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((ip, port))
            return True
        except OSError:
            return False


def _outside_ephemeral(lo, hi):
    """The parts [a, b) of [lo, hi) that the kernel never picks for a socket bound to port 0
    (/proc/sys/net/ipv4/ip_local_port_range), so nothing but an explicit bind can take a port there."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        eph_lo, eph_hi = (int(x) for x in f.read().split())
    return [(a, b) for a, b in ((lo, min(hi, eph_lo)), (max(lo, eph_hi + 1), hi)) if b > a]


# free_port hands out ports from 15000-19999 and 60000-65535, outside the ephemeral range: below the RTP
# windows (rtp_window, 20000 up) and the bench scripts' RTP ranges (10000 up), and never twice in one run.
_FREE_PORT_SPANS = ((15000, 20000), (60000, 65536))
_handed_out = set()


def free_port(ip=HOST, tcp_too=False, plus=()):
    """A port for a process the test starts (callqd, sipp) to bind: free for UDP on ip (and TCP, and port+k
    for each k in plus). It lies outside the ephemeral range, so no socket bound to port 0 (ours, sipp's, or
    another program's) can take it between this check and the child's bind, and it is never handed out twice."""
    spans = [span for lo, hi in _FREE_PORT_SPANS for span in _outside_ephemeral(lo, hi)]
    _require(spans, "no port range outside the ephemeral range for free_port")
    weights = [b - a for a, b in spans]
    for _ in range(500):
        a, b = random.choices(spans, weights)[0]
        port = random.randrange(a, b)
        ports = [port] + [port + k for k in plus]
        if any(p >= b or p in _handed_out for p in ports):
            continue
        if tcp_too and not _bindable(ip, port, socket.SOCK_STREAM):
            continue
        if all(_bindable(ip, p, socket.SOCK_DGRAM) for p in ports):
            _handed_out.update(ports)
            return port
    raise TestFailure(f"no free port on {ip} in {spans}")


def rtp_window(size=2000):
    """A random even port range [lo, lo+size) inside 20000-60000 that avoids the kernel's ephemeral ports,
    so callqd's RTP ports never collide with the sockets the tests and sipp bind to port 0."""
    spans = [(a, b) for a, b in _outside_ephemeral(20000, 60000) if b - a >= size]
    _require(spans, "no room for an RTP port window outside the ephemeral port range")
    a, b = random.choice(spans)
    lo = random.randrange(a, b - size + 1) & ~1
    return lo, lo + size - 1


# ---------------------------------------------------------------------------------------------- G.711

def ulaw_encode(sample):
    pcm = max(-32768, min(32767, sample)) >> 2
    if pcm < 0:
        mask = 0x7F
        pcm = -pcm
    else:
        mask = 0xFF
    pcm = min(pcm, 8159) + 0x21
    seg = next((i for i, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)) if pcm <= end), 8)
    if seg == 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_decode(byte):
    byte = ~byte & 0xFF
    magnitude = ((((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 7)) - 0x84
    return -magnitude if byte & 0x80 else magnitude


def alaw_encode(sample):
    pcm = max(-32768, min(32767, sample)) >> 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = next((i for i, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)) if pcm <= end), 8)
    if seg == 8:
        return 0x7F ^ mask
    value = (seg << 4) | ((pcm >> 1 if seg < 2 else pcm >> seg) & 0x0F)
    return value ^ mask


def alaw_decode(byte):
    byte ^= 0x55
    value = (byte & 0x0F) << 4
    seg = (byte & 0x70) >> 4
    if seg == 0:
        value += 8
    elif seg == 1:
        value += 0x108
    else:
        value = (value + 0x108) << (seg - 1)
    return value if byte & 0x80 else -value


PT_PCMU, PT_PCMA = 0, 8
ENCODERS = {PT_PCMU: ulaw_encode, PT_PCMA: alaw_encode}
DECODERS = {PT_PCMU: ulaw_decode, PT_PCMA: alaw_decode}

# 20 ms test signal: 350 Hz + 450 Hz, exactly periodic in 160 samples so every packet carries the same audio.
TONE = [int(6000 * math.sin(2 * math.pi * 7 * n / 160) + 4000 * math.sin(2 * math.pi * 9 * n / 160 + 1.0))
        for n in range(160)]


def encode(pt, samples):
    return bytes(ENCODERS[pt](s) for s in samples)


def decode(pt, payload):
    return [DECODERS[pt](b) for b in payload]


def tone_snr(samples, window=320, step=40):
    """Best signal-to-noise ratio (dB) of any window of samples against TONE at any phase; -inf if none fits.
    Tolerates repacketization, G.711 requantization and transcoding."""
    best = float("-inf")
    signal_power = sum(TONE[k % 160] ** 2 for k in range(window))
    for start in range(0, len(samples) - window + 1, step):
        head = samples[start:start + 8]
        for phase in range(160):
            if sum(abs(head[k] - TONE[(phase + k) % 160]) for k in range(8)) > 8 * 800:
                continue
            noise = sum((samples[start + k] - TONE[(phase + k) % 160]) ** 2 for k in range(window))
            best = max(best, float("inf") if noise == 0 else 10 * math.log10(signal_power / noise))
    return best


# ---------------------------------------------------------------------------------------------- RTP

class RtpPacket:
    __slots__ = ("arrival", "source", "pt", "marker", "seq", "ts", "ssrc", "payload")

    def __init__(self, arrival, source, data):
        self.arrival, self.source = arrival, source
        first, second, self.seq, self.ts, self.ssrc = struct.unpack("!BBHII", data[:12])
        _require(first >> 6 == 2, f"RTP version {first >> 6} from {source}")
        header = 12 + 4 * (first & 0x0F)
        if first & 0x10:
            header += 4 + 4 * struct.unpack("!H", data[header + 2:header + 4])[0]
        end = len(data) - (data[-1] if first & 0x20 else 0)
        self.pt, self.marker, self.payload = second & 0x7F, bool(second & 0x80), data[header:end]


class Background:
    """fn(*args) on a thread of its own. join() fails the test if fn raised or is still running, and returns
    what fn returned: a helper thread's failure is never swallowed."""

    def __init__(self, fn, *args):
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.thread.start()

    def _run(self, fn, args):
        try:
            self.result = fn(*args)
        except BaseException:
            self.error = traceback.format_exc().rstrip()

    def join(self, timeout, what):
        self.thread.join(timeout)
        check(not self.thread.is_alive(), f"{what}: still running after {timeout:g}s")
        check(self.error is None, f"{what} failed:\n{self.error}")
        return self.result


class RtpPort:
    """A UDP socket standing in for a phone's media port: records every RTP packet that arrives and sends
    paced streams, always from the same port (so callqd's symmetric RTP sees one address per leg)."""

    def __init__(self, ip=HOST):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.packets = []
        self.errors = []
        self.sent = 0                   # packets send_tone has sent from this port
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while self.running:
            try:
                data, source = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            try:
                packet = RtpPacket(now, source, data)
            except (TestFailure, struct.error, IndexError) as e:
                with self.lock:
                    self.errors.append(f"{source}: bad RTP packet ({e})")
                continue
            with self.lock:
                self.packets.append(packet)

    def received(self, since=0.0):
        with self.lock:
            return [p for p in self.packets if p.arrival >= since]

    def wait_packets(self, count, timeout, what="RTP packets"):
        """Waits until count packets have arrived; returns all of them."""
        return wait_for(lambda: len(self.received()) >= count and self.received(),
                        timeout, f"{count} {what} on port {self.port}")

    def peer(self, timeout=2):
        """callqd's address for this leg: where its packets come from. A leg just answered may not have
        had its first packet yet (callq sends at its next 20 ms tick): waits for one."""
        packets = wait_for(self.received, timeout,
                           f"RTP on port {self.port}, to tell callqd's address", interval=0.02)
        return packets[-1].source

    def send_tone(self, dest, pt, count=50):
        """Sends count packets of TONE encoded with pt, paced 20 ms apart on absolute deadlines."""
        payload = encode(pt, TONE)
        ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
        start = time.monotonic()
        for i in range(count):
            delay = start + i * 0.020 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            header = struct.pack("!BBHII", 0x80, pt | (0x80 if i == 0 else 0), (seq + i) & 0xFFFF,
                                 (ts + 160 * i) & 0xFFFFFFFF, ssrc)
            self.sock.sendto(header + payload, dest)
            self.sent += 1

    def close(self):
        self.running = False
        self.sock.close()
        self.thread.join(timeout=1)


def stream_report(packets):
    """Facts about a received stream: payload types, payload sizes, sequence continuity, median spacing (ms)."""
    gaps = sorted(b.arrival - a.arrival for a, b in zip(packets, packets[1:]))
    in_order = sum(1 for a, b in zip(packets, packets[1:]) if (b.seq - a.seq) & 0xFFFF == 1)
    return {
        "count": len(packets),
        "pts": sorted({p.pt for p in packets}),
        "sizes": sorted({len(p.payload) for p in packets}),
        "seq_ok": in_order / max(1, len(packets) - 1),
        "median_ms": 1000 * gaps[len(gaps) // 2] if gaps else None,
    }


def received_samples(packets, pt):
    """Decoded audio of the packets with payload type pt, in sequence order."""
    samples = []
    for p in sorted((p for p in packets if p.pt == pt), key=lambda p: p.arrival):
        samples.extend(decode(pt, p.payload))
    return samples


# ---------------------------------------------------------------------------------------------- callqctl

_KV = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_row(line):
    row = {}
    for key, value in _KV.findall(line):
        if value.startswith('"'):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        row[key] = value
    return row


class Reply:
    def __init__(self, args, exit_code, stdout, stderr):
        self.args, self.exit_code, self.stdout, self.stderr = args, exit_code, stdout, stderr
        lines = stdout.splitlines()
        first = lines[0] if lines else ""
        self.status, _, rest = first.partition(" ")
        self.code, self.text, self.rows = "", rest, []
        if self.status == "ERR":
            self.code, _, self.text = rest.partition(" ")
        m = re.fullmatch(r"(\d+) rows?", rest)
        if self.status == "OK" and m:
            self.rows = [parse_row(line) for line in lines[1:1 + int(m.group(1))]]

    @property
    def ok(self):
        return self.status == "OK" and self.exit_code == 0

    def __repr__(self):
        return f"callqctl {' '.join(self.args)} -> exit {self.exit_code}: {self.stdout.strip()!r} {self.stderr.strip()!r}"


class Ctl:
    def __init__(self, socket_path):
        self.socket_path = socket_path

    def run(self, *args):
        args = [str(a) for a in args]
        _require(CALLQCTL.exists(), f"{CALLQCTL.relative_to(ROOT)} not found: run `make` first")
        try:
            p = subprocess.run([str(CALLQCTL), "-s", self.socket_path, *args], capture_output=True, text=True,
                               timeout=10, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"callqctl {' '.join(args)} did not return within 10 s")
        return Reply(args, p.returncode, p.stdout, p.stderr)

    def ok(self, *args):
        reply = self.run(*args)
        check(reply.ok, f"expected OK: {reply!r}")
        return reply

    def row(self, *args):
        reply = self.ok(*args)
        check(len(reply.rows) == 1, f"expected one row: {reply!r}")
        return reply.rows[0]

    def err(self, code, *args):
        reply = self.run(*args)
        check(reply.status == "ERR" and reply.code == code and reply.exit_code == 1,
              f"expected ERR {code} and exit 1: {reply!r}")
        return reply


# ---------------------------------------------------------------------------------------------- callqd

TLS_DIR = ROOT / "build" / "test-tls"


def tls_dir():
    """A self-signed certificate for 127.0.0.1 (scripts/tls-cert.sh), made once and shared by every test:
    agent.pem (key + certificate) for callqd, cafile.pem for the clients that must trust it."""
    if not (TLS_DIR / "cafile.pem").exists():
        # Made aside and renamed into place, so test runs in parallel never read half a file.
        tmp = TLS_DIR.with_name(f"{TLS_DIR.name}.{os.getpid()}")
        subprocess.run([str(ROOT / "scripts" / "tls-cert.sh"), str(tmp), HOST], check=True,
                       stdout=subprocess.DEVNULL)
        try:
            os.rename(tmp, TLS_DIR)
        except OSError:          # another run was first: use its certificate
            subprocess.run(["rm", "-rf", str(tmp)], check=True)
    return TLS_DIR


class Daemon:
    def __init__(self, workdir, socket_path):
        self.workdir = workdir
        self.socket_path = socket_path
        self.log_path = workdir / "callqd.log"
        self.conf_path = workdir / "callq.conf"
        self.sip_port = free_port(tcp_too=True)
        self.http_port = free_port(tcp_too=True)
        self.tls_port = free_port(tcp_too=True)
        self.tls_dir = tls_dir()
        self.queue_log = workdir / "run" / "queue_log"
        self.rtp_min, self.rtp_max = rtp_window()
        self.file_size_limit = None     # bytes: RLIMIT_FSIZE for callqd, SIGXFSZ ignored (writes fail EFBIG)
        self.proc = None
        self.ctl = Ctl(socket_path)
        (workdir / "run" / "recordings").mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text("\n".join([
            "# written by tests/integration/harness.py",
            f"sip_listen = {HOST}",
            f"sip_port = {self.sip_port}",
            f"sip_tls_port = {self.tls_port}",
            f"sip_tls_dir = {self.tls_dir}",
            f"rtp_ip = {HOST}",
            f"rtp_port_min = {self.rtp_min}",
            f"rtp_port_max = {self.rtp_max}",
            f"db = {workdir / 'run' / 'callq.db'}",
            f"control = {socket_path}",
            f"recordings = {workdir / 'run' / 'recordings'}",
            f"media = {MEDIA}",
            "log_level = info",
            "seed_demo = yes",
            "rtp_timeout = 60",
            f"http_listen = {HOST}",
            f"http_port = {self.http_port}",
            f"queue_log = {self.queue_log}",
            "",
        ]))

    @property
    def address(self):
        return f"{HOST}:{self.sip_port}"

    @property
    def tls_address(self):
        return f"{HOST}:{self.tls_port}"

    def start(self, timeout=10):
        _require(CALLQD.exists(), f"{CALLQD.relative_to(ROOT)} not found: run `make` first")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(CALLQD), "-c", str(self.conf_path)], cwd=self.workdir,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=self._limits if self.file_size_limit else None)

        def ready():
            check(self.proc.poll() is None, f"callqd exited with {self.proc.returncode} while starting")
            if not os.path.exists(self.socket_path):
                return False
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(self.socket_path)
                except OSError:
                    return False
            return self.ctl.run("whoami").ok

        wait_for(ready, timeout, "callqd to answer `whoami` on its control socket", interval=0.1)

    def _limits(self):
        """In the child before exec: a write past file_size_limit fails with EFBIG instead of killing callqd."""
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_size_limit, self.file_size_limit))

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Returns a complaint if the exit was not clean, else None."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self._exit_complaint()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "callqd did not exit within 5 s of SIGTERM (killed)"
        return self._exit_complaint()

    def _exit_complaint(self):
        rc = self.proc.returncode
        return None if rc in (0, -signal.SIGTERM) else f"callqd exited with status {rc}"

    def restart(self):
        complaint = self.stop()
        check(complaint is None, complaint)
        self.start()

    def log_tail(self, lines=40):
        if not self.log_path.exists():
            return "(no callqd log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# ---------------------------------------------------------------------------------------------- sipp

def parse_messages(path):
    """sipp's -trace_msg file as a list of (direction, message text); direction is 'sent' or 'received'."""
    if not path.exists():
        return []
    out = []
    for block in re.split(r"^-{20,} .*$", path.read_text(errors="replace"), flags=re.M):
        head, _, body = block.strip("\n").partition("\n")
        if "message sent" in head:
            out.append(("sent", body.strip().replace("\r", "")))
        elif "message received" in head:
            out.append(("received", body.strip().replace("\r", "")))
    return out


class Sipp:
    """One sipp process (-m 1) with its message, error and <log> traces in the test's work directory."""

    def __init__(self, workdir, name, scenario, remote, service, keys=(), args=(), ip=HOST, ooc=None,
                 timeout_s=45):
        self.name = name
        self.port = free_port(ip)
        self.messages_path = workdir / f"{name}.messages.log"
        self.errors_path = workdir / f"{name}.errors.log"
        self.events_path = workdir / f"{name}.events.log"
        self.out_path = workdir / f"{name}.out"
        cmd = [SIPP, remote, "-sf", str(SCENARIOS / scenario), "-i", ip, "-p", str(self.port), "-s", service,
               "-m", "1", "-nostdin", "-cp", str(free_port("0.0.0.0")), "-mp", str(free_port(ip, plus=(2,))),
               "-timeout", f"{timeout_s}s", "-timeout_error",
               "-trace_msg", "-message_file", str(self.messages_path),
               "-trace_err", "-error_file", str(self.errors_path),
               "-trace_logs", "-log_file", str(self.events_path)]
        if ooc:
            cmd += ["-oocsf", str(SCENARIOS / ooc)]
        for key, value in keys:
            cmd += ["-key", key, str(value)]
        cmd += [str(a) for a in args]
        with open(self.out_path, "wb") as out:
            out.write(f"{shlex.join(cmd)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"sipp {self.name} still running after {timeout:g}s")

    def expect_success(self, timeout=40):
        rc = self.wait(timeout)
        check(rc == 0, f"sipp {self.name} exited with {rc} (0 = scenario completed); {self.error_summary()}")

    def running(self):
        return self.proc.poll() is None

    def events(self):
        if not self.events_path.exists():
            return []
        return [line.strip() for line in self.events_path.read_text(errors="replace").splitlines() if line.strip()]

    def count(self, event):
        return self.events().count(event)

    def wait_event(self, event, timeout, count=1):
        def seen():
            check(self.running() or self.count(event) >= count,
                  f"sipp {self.name} exited ({self.proc.returncode}) before logging {event}; {self.error_summary()}")
            return self.count(event) >= count
        wait_for(seen, timeout, f"{self.name} to log {event} x{count} (events: {self.events()})")

    def messages(self):
        return parse_messages(self.messages_path)

    def responses(self, method="INVITE"):
        """Status codes received for requests of this method, in order."""
        codes = []
        for direction, text in self.messages():
            m = re.match(r"SIP/2.0 (\d{3})", text)
            if direction == "received" and m and re.search(rf"^CSeq:\s*\d+\s+{method}\s*$", text, re.M | re.I):
                codes.append(int(m.group(1)))
        return codes

    def final_response(self, method="INVITE"):
        """(status code, message text) of the last final response received for method."""
        for direction, text in reversed(self.messages()):
            m = re.match(r"SIP/2.0 ([2-6]\d\d)", text)
            if direction == "received" and m and re.search(rf"^CSeq:\s*\d+\s+{method}\s*$", text, re.M | re.I):
                return int(m.group(1)), text
        raise TestFailure(f"sipp {self.name} received no final response to {method}")

    def answer_sdp(self):
        """The SDP body of the 200 OK received for the INVITE."""
        for direction, text in self.messages():
            if (direction == "received" and text.startswith("SIP/2.0 200")
                    and re.search(r"^CSeq:\s*\d+\s+INVITE", text, re.M | re.I)):
                return text.partition("\n\n")[2]
        raise TestFailure(f"sipp {self.name} received no 200 OK to its INVITE")

    def error_summary(self, lines=15):
        noise = ("out-of-call", "The following events occurred:")
        text = self.errors_path.read_text(errors="replace") if self.errors_path.exists() else ""
        kept = [line for line in text.splitlines() if line.strip() and not any(n in line for n in noise)]
        return f"error log tail: {kept[-lines:]}" if kept else "no sipp errors logged"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------- the test context

class Phone:
    """An agent's phone: one sipp that REGISTERs in its main scenario and answers callqd's INVITEs through an
    out-of-call scenario (mode 'answer' after answer_ms, 'reject' with 486 after answer_ms, or 'ring' until
    cancelled), with its SDP pointing at a python RtpPort."""

    def __init__(self, env, login, password, mode="answer", answer_ms=1000, expires=3600):
        self.login = login
        self.rtp = env.rtp_port()
        self.sipp = env.sipp(f"phone{login}", "register.xml", service=login, ooc=f"agent_{mode}.xml",
                             keys=[("expires", expires), ("rtpport", self.rtp.port)],
                             args=["-au", login, "-ap", password, "-d", answer_ms], timeout_s=120)

    def wait_registered(self, timeout=10):
        self.sipp.wait_event("REGISTERED", timeout)


class Call:
    """A caller on the trunk: sipp with caller.xml (or another caller-side scenario) and its RtpPort."""

    def __init__(self, env, number, scenario, duration_ms, fmts, attrs, from_user, ip, auth):
        self.rtp = env.rtp_port(ip)
        args = ["-d", duration_ms]
        if auth:
            args += ["-au", auth[0], "-ap", auth[1], "-auth_uri", f"{number}@{env.daemon.address}"]
        self.sipp = env.sipp(f"call{number.strip('*')}-{len(env.sipps)}", scenario, service=number, ip=ip,
                             keys=[("rtpport", self.rtp.port), ("fmts", fmts), ("attrs", attrs),
                                   ("from_user", from_user)], args=args)


class Env:
    def __init__(self, workdir, socket_dir):
        self.workdir = workdir
        self.daemon = Daemon(workdir, str(socket_dir / "ctl.sock"))
        self.ctl = self.daemon.ctl
        self.sipps = []
        self.rtp_ports = []
        self.cleanups = []
        self.diagnostic_hooks = []

    def start(self):
        self.daemon.start()

    def add_cleanup(self, fn):
        """fn() runs at close (last added first), before the sipps are killed and callqd stops; its errors are
        ignored. Processes a test starts itself (real phones, proxies) stop this way even when the test fails."""
        self.cleanups.append(fn)

    def add_diagnostic(self, fn):
        """fn() returns text added to the diagnostics printed when the test fails."""
        self.diagnostic_hooks.append(fn)

    def rtp_port(self, ip=HOST):
        port = RtpPort(ip)
        self.rtp_ports.append(port)
        return port

    def sipp(self, name, scenario, service, **kw):
        s = Sipp(self.workdir, name, scenario, self.daemon.address, service, **kw)
        self.sipps.append(s)
        return s

    def phone(self, login, mode="answer", answer_ms=1000, expires=3600):
        """An agent phone for login (password secret<login>), registered before this returns."""
        p = Phone(self, login, f"secret{login}", mode, answer_ms, expires)
        p.wait_registered()
        return p

    def call(self, number="6000", duration_ms=10000, scenario="caller.xml", fmts="0 8 101",
             attrs=TELEPHONE_EVENT, from_user="5551234", ip=HOST, auth=None):
        return Call(self, number, scenario, duration_ms, fmts, attrs, from_user, ip, auth)

    def make_ready(self, login):
        self.ctl.ok("agent.login", login)
        if self.ctl.row("agent.show", login).get("ready") != "yes":
            self.ctl.ok("agent.ready", login)
        agent = self.ctl.row("agent.show", login)
        check(agent.get("logged_in") == "yes" and agent.get("ready") == "yes",
              f"agent {login} not logged in and ready: {agent}")

    def wait_row(self, timeout, *args, **expected):
        """Polls a one-row callqctl command until every expected key has the expected value; returns the row."""
        last = {}

        def matches():
            nonlocal last
            last = self.ctl.row(*args)
            return all(last.get(k) == str(v) for k, v in expected.items())
        try:
            wait_for(matches, timeout, "", interval=0.2)
        except TestFailure:
            raise TestFailure(f"timed out after {timeout:g}s waiting for `{' '.join(map(str, args))}` to show "
                              f"{expected}; last row: {last}") from None
        return last

    def journal(self, event=None, **where):
        """callqd's journal rows committed so far (dicts, oldest first), of this event and these column values."""
        db = sqlite3.connect(str(self.workdir / "run" / "callq.db"), timeout=5)
        db.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in db.execute("SELECT * FROM journal ORDER BY id")]
        finally:
            db.close()
        return [r for r in rows if (event is None or r["event"] == event)
                and all(str(r.get(k)) == str(v) for k, v in where.items())]

    def wait_journal(self, event, timeout=10, count=1, **where):
        """Waits until the journal (committed in batches) holds count rows of event with these column values;
        returns them."""
        return wait_for(lambda: len(self.journal(event, **where)) >= count and self.journal(event, **where),
                        timeout, f"{count} {event} {where} in callqd's journal")

    def wait_stats(self, queue, timeout=15, **expected):
        return self.wait_row(timeout, "stats", queue, **expected)

    def wait_agent(self, login, timeout=15, **expected):
        return self.wait_row(timeout, "agent.show", login, **expected)

    def close(self):
        """Runs the cleanups, kills every sipp, closes every socket, stops callqd. Returns a complaint about
        callqd's exit, or None."""
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                pass
        for s in self.sipps:
            s.kill()
        for port in self.rtp_ports:
            port.close()
        return self.daemon.stop()

    def diagnostics(self):
        proc = self.daemon.proc
        state = "never started" if proc is None else f"exit status {proc.returncode}"
        parts = [f"work dir: {self.workdir}", f"callqd ({state}) log, last 40 lines:", self.daemon.log_tail(40)]
        for s in self.sipps:
            parts.append(f"sipp {s.name}: exit {s.proc.returncode}, events {s.events()}, {s.error_summary(8)}")
        for port in self.rtp_ports:
            if port.errors:
                parts.append(f"rtp port {port.port}: {port.errors[:3]}")
        for fn in self.diagnostic_hooks:
            parts.append(fn())
        return "\n".join(parts)
