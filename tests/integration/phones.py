"""Real phones and an edge proxy for the integration tests: baresip and linphonec as agent phones, Kamailio as
an edge proxy in front of callqd, and tone analysis (Goertzel) to check that audio really crosses a call.

Each process gets its own 127.x.y.z address (chosen at random, so tests never share one) and runs from a
directory under the test's work directory holding its configuration, its output and what it recorded. The
processes are registered with the Env (env.add_cleanup) so they are stopped even when the test fails.

    phone = Baresip(env, "1001", tone_hz=1100)          # starts, registers as 1001 over UDP
    phone.wait_registered()
    phone.dial("*50"); phone.wait_event("CALL_CLOSED")   # ctrl_tcp commands and events
    samples = phone.heard()                              # what it received in its last call (8 kHz PCM)
"""
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import wave

from harness import PT_PCMU, TestFailure, check, encode, received_samples, wait_for

RATE = 8000


# ---------------------------------------------------------------------------------------------- tones

def write_tone_wav(path, hz, seconds=60, amplitude=8000):
    """A mono 16-bit 8 kHz WAV of a sine at hz."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        period = [int(amplitude * math.sin(2 * math.pi * hz * n / RATE)) for n in range(RATE)]
        second = struct.pack(f"<{RATE}h", *period)
        w.writeframes(second * seconds)


def tone_share(samples, hz):
    """Share (0..1) of the energy of samples that lies in the Goertzel bin at hz."""
    n = len(samples)
    energy = sum(s * s for s in samples)
    if n == 0 or energy == 0:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return min(1.0, 2 * power / (n * energy))


def tone_blocks(samples, hz, block=400, share=0.6, loud=300):
    """Number of 50 ms blocks of samples that are loud and mostly a sine at hz."""
    count = 0
    for i in range(0, len(samples) - block + 1, block):
        chunk = samples[i:i + block]
        if math.sqrt(sum(s * s for s in chunk) / block) >= loud and tone_share(chunk, hz) >= share:
            count += 1
    return count


def loud_blocks(samples, block=400, loud=300):
    return sum(1 for i in range(0, len(samples) - block + 1, block)
               if math.sqrt(sum(s * s for s in samples[i:i + block]) / block) >= loud)


def heard_tone(rtp, hz, since, blocks=10):
    """The number of 50 ms blocks of tone hz (PCMU) that an RtpPort received since a monotonic time."""
    return tone_blocks(received_samples(rtp.received(since), PT_PCMU), hz) >= blocks


def wait_tone(rtp, hz, since, what, timeout=10, blocks=10):
    """Waits until rtp received at least blocks x 50 ms of tone hz since a monotonic time."""
    try:
        wait_for(lambda: heard_tone(rtp, hz, since, blocks), timeout, "", interval=0.25)
    except TestFailure:
        samples = received_samples(rtp.received(since), PT_PCMU)
        raise TestFailure(f"{what}: {hz} Hz not heard: {tone_blocks(samples, hz)} tone blocks, "
                          f"{loud_blocks(samples)} loud blocks in {len(samples) / RATE:.1f} s") from None


class ToneSender:
    """Sends a sine at hz as PCMU from an RtpPort to callqd (where its packets come from), 20 ms apart on
    absolute deadlines, from one SSRC, until stopped."""

    def __init__(self, rtp, hz, amplitude=8000):
        self.rtp, self.running = rtp, True
        period = RATE // math.gcd(RATE, hz)
        self.frames = []
        samples = [int(amplitude * math.sin(2 * math.pi * hz * n / RATE)) for n in range(period * 160)]
        for i in range(0, len(samples), 160):
            self.frames.append(encode(PT_PCMU, samples[i:i + 160]))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        dest = self.rtp.peer()
        ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
        start, i = time.monotonic(), 0
        while self.running:
            delay = start + i * 0.020 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            header = struct.pack("!BBHII", 0x80, PT_PCMU | (0x80 if i == 0 else 0), (seq + i) & 0xFFFF,
                                 (ts + 160 * i) & 0xFFFFFFFF, ssrc)
            try:
                self.rtp.sock.sendto(header + self.frames[i % len(self.frames)], dest)
            except OSError:
                return
            i += 1

    def stop(self):
        self.running = False
        self.thread.join(timeout=1)


def read_wav_samples(path):
    """Mono 16-bit samples of a WAV, reading up to the end of the file whatever its header says (a recording
    still being written has a stale data size, and linphonec's has 44 zero bytes where the header will be:
    taken as 16-bit mono). Multi-channel files give their first channel."""
    data = path.read_bytes()
    if len(data) >= 44 and data[:44] == bytes(44):
        body = data[44:len(data) - len(data) % 2]
        return list(struct.unpack(f"<{len(body) // 2}h", body))
    check(data[:4] == b"RIFF" and data[8:12] == b"WAVE", f"{path} is not a WAV file")
    pos, channels = 12, 1
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt ":
            channels = struct.unpack("<H", data[pos + 10:pos + 12])[0]
        if chunk == b"data":
            body = data[pos + 8:]
            body = body[:len(body) - len(body) % (2 * channels)]
            return list(struct.unpack(f"<{len(body) // 2}h", body))[::channels]
        pos += 8 + size + (size & 1)
    raise TestFailure(f"{path}: no data chunk")


# ---------------------------------------------------------------------------------------------- addresses

_used_ips = set()


def unique_ip():
    """A 127.x.y.z address no other phone or proxy of this run uses (random, so parallel runs differ too)."""
    while True:
        ip = f"127.{random.randrange(1, 255)}.{random.randrange(0, 256)}.{random.randrange(2, 255)}"
        if ip not in _used_ips:
            _used_ips.add(ip)
            return ip


def free_tcp_udp_port(ip):
    """A port free for both UDP and TCP on ip."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((ip, 0))
            port = s.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind((ip, port))
                return port
            except OSError:
                continue
    raise TestFailure(f"no free port on {ip}")


def port_range(ip, size=20):
    """An even range of size ports on ip above the kernel's ephemeral ports (or below), all free for UDP."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        eph_lo, eph_hi = (int(x) for x in f.read().split())
    spans = [(s, e) for s, e in ((10000, eph_lo), (eph_hi + 1, 65000)) if e - s > 10 * size]
    for _ in range(100):
        a, b = random.choice(spans)
        lo = random.randrange(a, b - size) & ~1
        free = True
        for port in range(lo, lo + size):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((ip, port))
                except OSError:
                    free = False
                    break
        if free:
            return lo, lo + size - 1
    raise TestFailure(f"no free port range on {ip}")


# ---------------------------------------------------------------------------------------------- processes

_STATUS = re.compile(r"^\s*\[\d+:\d\d:\d\d\] audio=")


class Process:
    """A child process in its own session, its output in a file; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, env, name, cmd, cwd, stdin=subprocess.DEVNULL, extra_env=None):
        self.name = name
        self.out_path = cwd / f"{name}.out"
        with open(self.out_path, "wb") as out:
            out.write(f"{' '.join(map(str, cmd))}\n".encode())
            out.flush()
            self.proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, stdin=stdin, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         env={**os.environ, **(extra_env or {})})
        env.add_cleanup(self.stop)
        env.add_diagnostic(self.diagnostic)

    def running(self):
        return self.proc.poll() is None

    def output(self):
        return self.out_path.read_text(errors="replace") if self.out_path.exists() else ""

    def stop(self, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def diagnostic(self):
        lines = [line for line in self.output().replace("\r", "\n").splitlines()
                 if line.strip() and not _STATUS.match(line)]
        tail = "\n".join(lines[-15:])
        return f"{self.name} (exit {self.proc.returncode}), output {self.out_path}, last lines:\n{tail}"


def wait_contacts(env, login, count=1, timeout=15):
    """Waits until callqd holds at least count registered contacts for login."""
    env.wait_row(timeout, "member.show", login, contacts=count)


# ---------------------------------------------------------------------------------------------- baresip

_TRACE = re.compile(r"^(UDP|TCP|TLS) (\S+) -> (\S+)\n(.*?)(?=\x1b\[;m|\Z)", re.M | re.S)


class Baresip:
    """baresip 1.0 as the phone of member login: registers with callqd (or through proxy, a Kamailio), answers
    automatically, sends a sine of tone_hz as its microphone (aufile), records what it hears (sndfile module:
    rec/dump-*-dec.wav per call) and takes commands over ctrl_tcp (netstrings of JSON)."""

    def __init__(self, env, login, tone_hz=1100, transport="udp", proxy=None, answer="auto"):
        check(shutil.which("baresip"), "baresip not found (scripts/deps.sh installs baresip-core)")
        self.env, self.login, self.tone_hz, self.transport = env, login, tone_hz, transport
        # Over TLS: callqd's TLS port, its self-signed certificate trusted (sip_cafile), SRTP.
        self.server = env.daemon.tls_address if transport == "tls" else env.daemon.address
        self.ip = unique_ip()
        self.sip_port = free_tcp_udp_port(self.ip)
        self.ctrl_port = free_tcp_udp_port(self.ip)
        self.rtp_lo, self.rtp_hi = port_range(self.ip)
        self.dir = env.workdir / f"baresip{login}"
        self.rec = self.dir / "rec"
        self.rec.mkdir(parents=True)
        self.events, self.responses = [], {}
        self.cond = threading.Condition()
        self.sock = None
        self.token = 0
        write_tone_wav(self.dir / "tone.wav", tone_hz)
        (self.dir / "config").write_text("\n".join([
            "# written by tests/integration/phones.py",
            "poll_method epoll",
            f"sip_listen {self.ip}:{self.sip_port}",
            f"net_interface {self.ip}",
            f"rtp_ports {self.rtp_lo}-{self.rtp_hi}",
            "rtp_timeout 0",
            "audio_player alsa,null",
            "audio_alert alsa,null",
            f"audio_source aufile,{self.dir / 'tone.wav'}",
            "module_path /usr/lib/baresip/modules",
            *([f"sip_cafile {env.daemon.tls_dir / 'cafile.pem'}", "module srtp.so"]
              if transport == "tls" else []),
            "module alsa.so",
            "module g711.so",
            "module aufile.so",
            "module sndfile.so",
            f"snd_path {self.rec}",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {self.ip}:{self.ctrl_port}",
            "",
        ]))
        params = f";transport={transport}" if transport in ("tcp", "tls") else ""
        extra = f';outbound="{proxy}"' if proxy else ""
        if transport == "tls":
            extra += ";mediaenc=srtp-mand"     # SDES keys, RTP/SAVP: SRTP or no call
        (self.dir / "accounts").write_text(
            f"<sip:{login}@{self.server}{params}>;auth_pass=secret{login};regint=600;"
            f"answermode={answer};audio_codecs=pcmu,pcma{extra}\n")
        self.process = Process(env, f"baresip{login}", ["baresip", "-s", "-f", self.dir], self.dir)
        env.add_cleanup(self._close_ctrl)
        self._connect()

    # -- ctrl_tcp

    def _connect(self, timeout=10):
        def connected():
            check(self.process.running(), f"baresip {self.login} exited while starting")
            try:
                self.sock = socket.create_connection((self.ip, self.ctrl_port), timeout=1)
                return True
            except OSError:
                return False
        wait_for(connected, timeout, f"baresip {self.login}'s ctrl_tcp port", interval=0.1)
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:
                head, colon, rest = buf.partition(b":")
                if not colon or not head.isdigit() or len(rest) < int(head) + 1:
                    break
                body, buf = rest[:int(head)], rest[int(head) + 1:]
                try:
                    message = json.loads(body)
                except ValueError:
                    continue
                with self.cond:
                    if message.get("event"):
                        self.events.append(message)
                    elif message.get("response"):
                        self.responses[message.get("token")] = message
                    self.cond.notify_all()

    def _close_ctrl(self):
        if self.sock:
            self.sock.close()

    def command(self, command, params="", timeout=10):
        """Sends one ctrl_tcp command and returns its response's data; fails unless the response says ok."""
        self.token += 1
        token = f"t{self.token}"
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")
        with self.cond:
            got = self.cond.wait_for(lambda: token in self.responses, timeout)
        check(got, f"baresip {self.login}: no response to {command} {params} within {timeout} s")
        response = self.responses[token]
        check(response.get("ok"), f"baresip {self.login}: {command} {params} failed: {response}")
        return response.get("data", "")

    def dial(self, number):
        """Calls number at callqd (the account's server)."""
        params = ";transport=tls" if self.transport == "tls" else ""
        return self.command("dial", f"sip:{number}@{self.server}{params}")

    def hangup(self):
        return self.command("hangup")

    def hold(self):
        return self.command("hold")

    def resume(self):
        return self.command("resume")

    def transfer(self, target):
        """Blind transfer of the current call (REFER) to target, a number at callqd or a full SIP URI."""
        uri = target if target.startswith("sip:") else f"sip:{target}@{self.env.daemon.address}"
        return self.command("transfer", uri)

    def sndcode(self, digits):
        """Keys digits in the current call (one command per digit)."""
        for digit in digits:
            self.command("sndcode", digit)

    def count(self, event_type):
        with self.cond:
            return sum(1 for e in self.events if e.get("type") == event_type)

    def wait_event(self, event_type, timeout=15, count=1):
        """Waits until baresip has reported event_type (CALL_ESTABLISHED, CALL_CLOSED, ...) count times."""
        with self.cond:
            got = self.cond.wait_for(
                lambda: sum(1 for e in self.events if e.get("type") == event_type) >= count, timeout)
            seen = [e.get("type") for e in self.events]
        check(got, f"baresip {self.login}: no {event_type} x{count} within {timeout:g} s (events: {seen})")

    def last_event(self, event_type):
        with self.cond:
            return next((e for e in reversed(self.events) if e.get("type") == event_type), None)

    # -- registration and audio

    def wait_registered(self, timeout=15):
        """Waits until baresip reports a 200 to its REGISTER and callqd lists a contact for the login."""
        mark = f"{{0/{self.transport.upper()}/v4}} 200 OK"
        wait_for(lambda: self._alive() and mark in self.process.output(), timeout,
                 f"baresip {self.login} to log '{mark}'")
        wait_contacts(self.env, self.login, 1, timeout)

    def _alive(self):
        check(self.process.running(), f"baresip {self.login} exited ({self.process.proc.returncode})")
        return True

    def sip_trace(self):
        """Every SIP message baresip sent or received (its -s trace): dicts with transport, src, dst (ip:port),
        first (the request or status line) and text."""
        out = []
        for m in _TRACE.finditer(self.process.output()):
            text = m.group(4).replace("\r", "")
            out.append({"transport": m.group(1), "src": m.group(2), "dst": m.group(3),
                        "first": text.partition("\n")[0], "text": text})
        return out

    def recordings(self):
        """The decoded-audio recordings of this phone's calls, oldest first."""
        return sorted(self.rec.glob("dump-*-dec.wav"))

    def heard(self, index=-1):
        """The samples of what the phone heard in a call (the last one by default)."""
        files = self.recordings()
        check(files, f"baresip {self.login} recorded no call in {self.rec}")
        return read_wav_samples(files[index])


# ---------------------------------------------------------------------------------------------- linphonec

class Linphonec:
    """linphonec 5.1 as the phone of member login, driven through its console on stdin: auto-answers (-a), plays
    a sine of tone_hz into calls and records what it hears (`soundcard use files`, `play`, `record`). Its
    SIP port is set from the console (`ports sip N`): linphonec 5.1 ignores [sip] sip_port in its rc file."""

    def __init__(self, env, login, tone_hz=1300, transport="udp"):
        check(shutil.which("linphonec"), "linphonec not found (scripts/deps.sh installs linphone-cli)")
        self.env, self.login, self.transport = env, login, transport
        self.ip = unique_ip()
        self.sip_port = free_tcp_udp_port(self.ip)
        rtp_lo, rtp_hi = port_range(self.ip)
        self.dir = env.workdir / f"linphonec{login}"
        (self.dir / ".local" / "share" / "linphone").mkdir(parents=True)
        self.record_path = self.dir / "heard.wav"
        write_tone_wav(self.dir / "tone.wav", tone_hz)
        proxy = f"<sip:{env.daemon.address};transport={transport}>"
        (self.dir / "linphonerc").write_text("\n".join([
            "[sip]",
            f"bind_address={self.ip}",
            f"contact=sip:{login}@{self.ip}",
            "default_proxy=0",
            "register_only_when_network_is_up=0",
            "auto_net_state_mon=0",
            "guess_hostname=0",
            "ping_with_options=0",
            "inc_timeout=30",
            "[rtp]",
            f"audio_rtp_port={rtp_lo}-{rtp_hi}",
            f"bind_address={self.ip}",
            "[sound]",
            "echocancellation=0",
            "[video]",
            "enabled=0",
            "[proxy_0]",
            f"reg_proxy={proxy}",
            f"reg_identity=sip:{login}@{env.daemon.address}",
            "reg_expires=600",
            "reg_sendregister=1",
            "[auth_info_0]",
            f"username={login}",
            f"passwd=secret{login}",
            "realm=callq",
            "",
        ]))
        self.process = Process(env, f"linphonec{login}", ["linphonec", "-c", self.dir / "linphonerc", "-a", "-d", "5", "-l", self.dir / "linphonec.log"],
                               self.dir, stdin=subprocess.PIPE, extra_env={"HOME": str(self.dir)})
        env.add_cleanup(self._quit)
        for command in (f"ports sip {self.sip_port}", "soundcard use files", f"play {self.dir / 'tone.wav'}",
                        f"record {self.record_path}"):
            self.command(command)

    def command(self, line):
        """Types one line at linphonec's prompt."""
        check(self.process.running(), f"linphonec {self.login} exited ({self.process.proc.returncode})")
        self.process.proc.stdin.write((line + "\n").encode())
        self.process.proc.stdin.flush()

    def _quit(self):
        if self.process.running():
            try:
                self.command("quit")
                self.process.proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired, TestFailure):
                pass

    def wait_registered(self, timeout=15):
        wait_contacts(self.env, self.login, 1, timeout)

    def heard(self):
        check(self.record_path.exists(), f"linphonec {self.login} recorded nothing at {self.record_path}")
        return read_wav_samples(self.record_path)


# ---------------------------------------------------------------------------------------------- Kamailio

KAMAILIO_CFG = """#!KAMAILIO
# written by tests/integration/phones.py: an edge proxy in front of callqd
debug=2
log_stderror=yes
children=2
tcp_children=2
disable_tcp=no
auto_aliases=no
listen=udp:{ip}:{port}
listen=tcp:{ip}:{port}
alias="{ip}:{port}"

loadmodule "kex.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "path.so"
loadmodule "pv.so"
loadmodule "xlog.so"

modparam("rr", "enable_full_lr", 1)
modparam("rr", "append_fromtag", 1)
modparam("path", "use_received", 1)

request_route {{
    xlog("L_INFO", "in: $rm $ru from $si:$sp/$pr\\n");
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            route(RELAY);
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            route(RELAY);
        }}
        exit;
    }}
    if (is_method("REGISTER")) {{
        add_path_received();
        $du = "sip:{callq}";
        route(RELAY);
    }}
    if (is_method("INVITE|SUBSCRIBE|REFER")) {{
        record_route();
    }}
    if (loose_route()) {{
        route(RELAY);
    }}
    if ($du == $null && $rd == "{ip}") {{
        $du = "sip:{callq}";
    }}
    route(RELAY);
}}

route[RELAY] {{
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}
"""


class Kamailio:
    """Kamailio 5.6 as an edge proxy on its own address: REGISTERs get a Path (with the received address),
    dialog-forming requests a Record-Route, everything from phones goes on to callqd, and requests from callqd
    follow their Route back to the phone."""

    def __init__(self, env):
        check(shutil.which("kamailio") or os.path.exists("/usr/sbin/kamailio"),
              "kamailio not found (scripts/deps.sh installs kamailio)")
        self.env = env
        self.ip = unique_ip()
        self.port = free_tcp_udp_port(self.ip)
        self.dir = env.workdir / "kamailio"
        self.dir.mkdir()
        self.cfg = self.dir / "kamailio.cfg"
        self.cfg.write_text(KAMAILIO_CFG.format(ip=self.ip, port=self.port, callq=env.daemon.address))
        binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
        check_cfg = subprocess.run([binary, "-c", "-f", self.cfg], capture_output=True, text=True, timeout=20)
        check(check_cfg.returncode == 0, f"kamailio rejects {self.cfg}:\n{check_cfg.stderr[-2000:]}")
        self.process = Process(env, "kamailio", [binary, "-f", self.cfg, "-DD", "-E", "-m", "32", "-M", "4",
                                                 "-Y", self.dir], self.dir)
        wait_for(self._listening, 10, f"kamailio to listen on {self.address}")

    def _listening(self):
        check(self.process.running(), "kamailio exited while starting")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex((self.ip, self.port)) == 0

    @property
    def address(self):
        return f"{self.ip}:{self.port}"

    def uri(self, transport="udp"):
        return f"sip:{self.address};transport={transport}"

    def seen(self, pattern):
        """Lines of Kamailio's log (its 'in:' lines name every request it handled) matching a regex."""
        return [line for line in self.process.output().splitlines() if re.search(pattern, line)]
