"""Hostile SIP on loopback: a malformed-message corpus, an INVITE flood, registrar brute force.

Raw UDP from python sockets (RawSip below, also used by test_faults.py). After each attack callqd must still
answer `whoami`, list no call, and put a normal call through; every response must be one that makes sense
for what was sent (or none, for garbage it cannot even answer).
"""
import hashlib
import os
import random
import re
import socket
import time
import urllib.request

from harness import HOST, TELEPHONE_EVENT, check, wait_for

# ---------------------------------------------------------------------------------------------- raw SIP


def _rand(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def sdp_offer(port, fmts="0 8 101", ip=HOST, extra=TELEPHONE_EVENT):
    return (f"v=0\r\no=raw 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {fmts}\r\n{extra}\r\n")


class SipMessage:
    """A parsed SIP message: status (int) or method, headers (lower-case name -> list of values), body."""

    def __init__(self, data, source):
        self.raw, self.source = data, source
        text = data.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", self.first)
        self.status = int(m.group(1)) if m else None
        self.reason = m.group(2) if m else ""
        self.method = None if m else self.first.split(" ", 1)[0]
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())

    def header(self, name, default=""):
        values = self.headers.get(name.lower())
        return values[0] if values else default

    @property
    def call_id(self):
        return self.header("call-id") or self.header("i")

    @property
    def cseq_method(self):
        parts = self.header("cseq").split()
        return parts[1] if len(parts) > 1 else ""

    def __repr__(self):
        return f"<{self.first!r} Call-ID {self.call_id}>"


class RawSip:
    """One UDP socket speaking just enough SIP to attack callqd, place a call, or be a silent phone."""

    def __init__(self, env, ip=HOST):
        self.env = env
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((ip, 0))
        self.ip, self.port = self.sock.getsockname()
        self.server = (HOST, env.daemon.sip_port)
        self.backlog = []
        self.errors = []                    # what Env.diagnostics() looks at on RTP ports
        env.rtp_ports.append(self)          # closed by Env.close() with the RTP ports

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendto(data, self.server)

    def recv(self, timeout):
        """The next message (or None after timeout seconds); datagrams that do not parse are skipped."""
        if self.backlog:
            return self.backlog.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, source = self.sock.recvfrom(70000)
            except (socket.timeout, BlockingIOError):
                return None
            try:
                return SipMessage(data, source)
            except Exception:
                continue

    def collect(self, seconds):
        """Every message that arrives within seconds."""
        out, deadline = [], time.monotonic() + seconds
        while True:
            msg = self.recv(max(0.0, deadline - time.monotonic()))
            if msg is None:
                return out
            out.append(msg)

    def request(self, method, user, from_user="5551234", body="", call_id=None, cseq=1, extra=(),
                content_type="application/sdp", branch=None, to_tag=None):
        call_id = call_id or _rand(16)
        uri = f"sip:{user}@{self.server[0]}:{self.server[1]}"
        to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch=z9hG4bK{branch or _rand()};rport",
                 "Max-Forwards: 70",
                 f"From: \"Raw\" <sip:{from_user}@{self.ip}:{self.port}>;tag=raw{self.port}",
                 f"To: {to}",
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}",
                 f"Contact: <sip:{from_user}@{self.ip}:{self.port}>",
                 *extra]
        if body:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body.encode()) if isinstance(body, str) else len(body)}")
        return "\r\n".join(lines) + "\r\n\r\n" + body, call_id

    def final(self, call_id, timeout=3, method=None):
        """The first final response (>= 200) for call_id, answering requests (BYE, OPTIONS) with 200 on the
        way; None if none arrives. Other calls' messages are kept for later recv() calls."""
        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                msg = self.recv(max(0.0, deadline - time.monotonic()))
                if msg is None:
                    return None
                if msg.call_id != call_id:
                    kept.append(msg)
                    continue
                if msg.status is None:
                    self.reply(msg, 200, "OK")
                    continue
                if msg.status >= 200 and (method is None or msg.cseq_method == method):
                    return msg
        finally:
            self.backlog.extend(kept)

    def reply(self, req, status, reason, body=""):
        via = "\r\n".join(f"Via: {v}" for v in req.headers.get("via", []))
        to = req.header("to")
        if "tag=" not in to:
            to += f";tag=raw{self.port}"
        text = (f"SIP/2.0 {status} {reason}\r\n{via}\r\nFrom: {req.header('from')}\r\nTo: {to}\r\n"
                f"Call-ID: {req.call_id}\r\nCSeq: {req.header('cseq')}\r\n"
                f"Contact: <sip:raw@{self.ip}:{self.port}>\r\n")
        if body:
            text += "Content-Type: application/sdp\r\n"
        text += f"Content-Length: {len(body)}\r\n\r\n{body}"
        self.sock.sendto(text.encode(), req.source)

    def ack(self, invite_text, response):
        """ACK for a final response to the INVITE we sent as invite_text (same branch for non-2xx). Skipped
        when the INVITE was too broken to be acknowledged."""
        first_via = re.search(r"^Via: ([^\r\n]*)", invite_text, re.M)
        m = re.match(r"INVITE (\S+)", invite_text)
        cseq = response.header("cseq").split()
        if not first_via or not m or not cseq or not response.header("from"):
            return
        if response.status >= 300:
            via = first_via.group(1)
            ruri = m.group(1)
        else:
            via = f"SIP/2.0/UDP {self.ip}:{self.port};branch=z9hG4bK{_rand()};rport"
            contact = re.search(r"<([^>]+)>", response.header("contact") or "")
            ruri = contact.group(1) if contact else m.group(1)
        text = (f"ACK {ruri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\nFrom: {response.header('from')}\r\n"
                f"To: {response.header('to')}\r\nCall-ID: {response.call_id}\r\nCSeq: {cseq[0]} ACK\r\n"
                "Content-Length: 0\r\n\r\n")
        self.send(text)

    def bye(self, invite_text, response, cseq=2):
        contact = re.search(r"<([^>]+)>", response.header("contact") or "")
        from_ = response.header("from")
        text = (f"BYE {contact.group(1)} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.ip}:{self.port};branch=z9hG4bK{_rand()};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: {from_}\r\nTo: {response.header('to')}\r\n"
                f"Call-ID: {response.call_id}\r\nCSeq: {cseq} BYE\r\nContent-Length: 0\r\n\r\n")
        self.send(text)


def alive(env, what):
    """callqd still runs and answers on its control socket."""
    proc = env.daemon.proc
    check(proc.poll() is None, f"callqd exited ({proc.returncode}) after {what}")
    reply = env.ctl.run("whoami")
    check(reply.ok, f"callqd does not answer `whoami` after {what}: {reply!r}")


def no_calls(env, timeout=10):
    wait_for(lambda: env.ctl.ok("calls", "support").rows == [] and env.ctl.ok("calls", "sales").rows == [],
             timeout, "`calls support` and `calls sales` to be empty")


def normal_call_works(env, login="1001"):
    """A registered agent answers a trunk call to 6000; both sides see it end cleanly."""
    phone = env.phone(login, answer_ms=300)
    env.make_ready(login)
    before = int(env.ctl.row("stats", "support").get("handled", 0))
    call = env.call("6000", duration_ms=2500)
    phone.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(30)
    env.wait_stats("support", handled=before + 1, waiting=0)
    return phone


# ---------------------------------------------------------------------------------------------- corpus

HEAD = ("INVITE sip:6000@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{b};rport\r\nMax-Forwards: 70\r\n"
        "From: <sip:5551234@{me}>;tag=t{b}\r\nTo: <sip:6000@{srv}>\r\nCall-ID: {cid}\r\nCSeq: 1 INVITE\r\n"
        "Contact: <sip:5551234@{me}>\r\n")


def corpus(raw):
    """(name, datagram bytes, call-id or None, allowed response codes; None in the set = no response is fine)."""
    srv = f"{raw.server[0]}:{raw.server[1]}"
    me = f"{raw.ip}:{raw.port}"
    good_sdp = sdp_offer(4000)
    cases = []

    def head(**kw):
        cid = kw.pop("cid", None) or _rand(16)
        return HEAD.format(srv=srv, me=me, b=_rand(), cid=cid), cid

    def add(name, text, cid, allowed):
        cases.append((name, text.encode() if isinstance(text, str) else text, cid, set(allowed)))

    h, cid = head()
    add("truncated headers", h[:len(h) // 2], cid, {None, 400})
    h, cid = head()
    add("headers without the blank line", h, cid, {None, 400, 488})
    h, cid = head()
    add("huge Content-Length", h + "Content-Type: application/sdp\r\nContent-Length: 99999999\r\n\r\n" + good_sdp,
        cid, {None, 400, 413, 488, 513})
    h, cid = head()
    add("negative Content-Length", h + "Content-Length: -5\r\n\r\n", cid, {None, 400})
    h, cid = head()
    add("Content-Length shorter than the body", h + "Content-Type: application/sdp\r\nContent-Length: 20\r\n\r\n"
        + good_sdp, cid, {None, 400, 488})
    for label, via in (("empty Via", "Via: \r\n"), ("Via without host", "Via: SIP/2.0/UDP\r\n"),
                       ("Via with bad port", f"Via: SIP/2.0/UDP {raw.ip}:99999;branch=z9hG4bKx\r\n"),
                       ("Via of another transport", f"Via: SIP/2.0/FOO {me};branch=z9hG4bKx\r\n"),
                       ("Via garbage", "Via: \x01\x02\x03 ;;;==\r\n")):
        h, cid = head()
        h = re.sub(r"^Via: .*\r\n", via, h, flags=re.M)
        add(label, h + "Content-Length: 0\r\n\r\n", cid, {None, 400, 488})
    h, cid = head()
    add("missing Call-ID", re.sub(r"^Call-ID: .*\r\n", "", h, flags=re.M) + "Content-Length: 0\r\n\r\n", None,
        {None, 400})
    h, cid = head()
    add("missing CSeq", re.sub(r"^CSeq: .*\r\n", "", h, flags=re.M) + "Content-Length: 0\r\n\r\n", cid,
        {None, 400})
    h, cid = head()
    add("CSeq method differs", h.replace("CSeq: 1 INVITE", "CSeq: 1 BYE") + "Content-Length: 0\r\n\r\n", cid,
        {None, 400, 481})
    h, cid = head()
    add("missing From", re.sub(r"^From: .*\r\n", "", h, flags=re.M) + "Content-Length: 0\r\n\r\n", cid,
        {None, 400})
    h, cid = head()
    add("missing To", re.sub(r"^To: .*\r\n", "", h, flags=re.M) + "Content-Length: 0\r\n\r\n", cid, {None, 400})
    h, cid = head()
    add("empty Request-URI user", h.replace("INVITE sip:6000@", "INVITE sip:@", 1) + "Content-Length: 0\r\n\r\n",
        cid, {None, 400, 404, 416, 484})
    h, cid = head()
    add("SIP/3.0", h.replace(" SIP/2.0\r\n", " SIP/3.0\r\n", 1) + "Content-Length: 0\r\n\r\n", cid,
        {None, 400, 505})
    h, cid = head()
    add("unknown method", h.replace("INVITE sip:", "FROB sip:", 1).replace("CSeq: 1 INVITE", "CSeq: 1 FROB")
        + "Content-Length: 0\r\n\r\n", cid, {None, 400, 405, 501})
    h, cid = head()
    add("200 Vias", h + "".join(f"Via: SIP/2.0/UDP 10.0.0.{i % 250}:5060;branch=z9hG4bK{i}\r\n" for i in range(200))
        + "Content-Length: 0\r\n\r\n", cid, {None, 400, 488, 513})

    # Broken SDP at a real queue number: 488 (Not Acceptable Here) is the one sensible answer.
    bodies = {
        "no SDP at all": "",
        "SDP that is text": "hello, this is not SDP\r\n",
        "SDP v=0 only": "v=0\r\n",
        "SDP without m=": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
        "SDP with port 0": sdp_offer(0),
        "SDP G729 only": sdp_offer(4000, fmts="18", extra="a=rtpmap:18 G729/8000"),
        "SDP IPv6 only": sdp_offer(4000).replace("IN IP4 127.0.0.1", "IN IP6 ::1"),
        "SDP without c=": sdp_offer(4000).replace("c=IN IP4 127.0.0.1\r\n", ""),
        "SDP video only": sdp_offer(4000).replace("m=audio", "m=video"),
        "SDP with binary": sdp_offer(4000).replace("s=-", "s=\x01\x02\x7f\x00\x1b"),
        # Sofia-SIP 1.12.11 loops forever allocating on these (found by fuzz_sdp; refused by sdpneg.c now).
        "SDP Sofia loop (UDP 8 ,)": sdp_offer(4000).replace("RTP/AVP 0 8 101", "UDP 8 ,"),
        "SDP Sofia loop (tab)": sdp_offer(4000).replace("RTP/AVP 0 8 101", "UDP \t"),
        "SDP Sofia loop (slash)": sdp_offer(4000).replace("RTP/AVP 0 8 101", "UDP /"),
    }
    for label, body in bodies.items():
        h, cid = head()
        data = h + ("Content-Type: application/sdp\r\n" if body else "") + \
            f"Content-Length: {len(body.encode())}\r\n\r\n" + body
        add(label, data, cid, {488})

    rnd = random.Random(6)
    for i in range(20):
        add(f"binary garbage {i}", bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 1400))), None, {None})
    add("NULs", b"\0" * 512, None, {None})
    add("CRLF keep-alive", b"\r\n\r\n", None, {None})
    add("SIP-looking garbage", b"INVITE \xff\xfe sip:\x00 SIP/2.0\r\n\r\n", None, {None, 400})
    h, cid = head()
    big = h + "X-Pad: " + "a" * 64000 + "\r\nContent-Length: 0\r\n\r\n"
    add("oversized datagram (64 KB header)", big, cid, {None, 400, 413, 488, 513})
    add("response to nothing", f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {srv};branch=z9hG4bKnothing\r\n"
        f"From: <sip:a@{me}>;tag=1\r\nTo: <sip:b@{srv}>;tag=2\r\nCall-ID: nothing\r\nCSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n", None, {None})
    h, cid = head()
    add("BYE for no dialog", h.replace("INVITE sip:", "BYE sip:", 1).replace("CSeq: 1 INVITE", "CSeq: 2 BYE")
        + "Content-Length: 0\r\n\r\n", cid, {481, None})
    return cases


def test_malformed_sip_corpus(env):
    raw = RawSip(env)
    problems = []
    cases = corpus(raw)
    known = {cid for _, _, cid, _ in cases if cid}
    for name, data, cid, allowed in cases:
        raw.backlog.clear()
        try:
            raw.send(data)
        except OSError as e:               # EMSGSIZE for what does not fit a datagram: nothing to test
            if len(data) < 65000:
                problems.append(f"{name}: cannot send ({e})")
            continue
        got = None
        if cid is not None:
            got = raw.final(cid, timeout=2.5 if None not in allowed else 1.0)
            if got is not None and got.status >= 300 and got.cseq_method == "INVITE":
                raw.ack(data.decode("utf-8", "replace"), got)
        else:
            for msg in raw.collect(0.3):
                # Retransmissions of earlier final responses are not answers to this datagram.
                if msg.status is not None and msg.status >= 200 and msg.call_id not in known:
                    got = msg
                    break
        code = got.status if got else None
        if code not in allowed:
            problems.append(f"{name}: got {got.first if got else 'no response'}, expected one of "
                            f"{sorted(allowed, key=lambda c: (c is None, c or 0))}")
        alive(env, f"sending {name!r}")
    check(not problems, "unexpected responses:\n  " + "\n  ".join(problems))
    no_calls(env)
    # A valid offer with 2,000 payload types (PCMU and PCMA among them) is a call like any other.
    text, cid = raw.request("INVITE", "6000", body=sdp_offer(4000, " ".join(str(i % 128) for i in range(2000)), extra=""))
    raw.send(text)
    got = raw.final(cid, timeout=3)
    check(got is not None and got.status == 200, f"INVITE with 2,000 payload types: {got}")
    raw.ack(text, got)
    wait_for(lambda: len(env.ctl.ok("calls", "support").rows) == 1, 5, "the call to be listed")
    raw.bye(text, got)
    check(raw.final(cid, timeout=3, method="BYE") is not None, "no response to our BYE")
    no_calls(env)
    log = env.daemon.log_path.read_text(errors="replace")
    check("ERROR: AddressSanitizer" not in log and "runtime error:" not in log, "sanitizer report in callqd's log")
    normal_call_works(env)
    no_calls(env)


def test_invite_flood(env):
    """2,000 INVITEs in about 2 s from one source: half to an unknown number, half to 6000 with an SDP nobody
    can answer. Each gets 404 or 488 (503 only for a few, under overload); nothing enters a queue; callqd
    stays up. A valid INVITE sent from another source in the middle of the flood is answered 200 like any
    call, and a normal call goes through afterwards: a daemon that refused everything would fail here."""
    raw = RawSip(env)
    legit, legit_media = RawSip(env), env.rtp_port()
    bad_sdp = sdp_offer(4000, fmts="18", extra="a=rtpmap:18 G729/8000")
    sent = {}
    codes = {}
    wrong = []

    def drain(wait):
        for msg in raw.collect(wait):
            if msg.status is None:
                if msg.method not in ("ACK",):
                    raw.reply(msg, 200, "OK")
                continue
            if msg.status < 200 or msg.call_id not in sent:
                continue
            kind, text = sent[msg.call_id]
            if msg.call_id not in codes:
                codes[msg.call_id] = msg.status
                want = {404, 503} if kind == "unknown" else {488, 503}
                if msg.status not in want:
                    wrong.append(f"{kind}: {msg.first}")
            raw.ack(text, msg)

    legit_text, legit_cid = legit.request("INVITE", "6000", from_user="5550777", body=sdp_offer(legit_media.port))
    start = time.monotonic()
    for i in range(2000):
        if i % 2:
            text, cid = raw.request("INVITE", f"79{i:05d}", body=sdp_offer(4000))
            sent[cid] = ("unknown", text)
        else:
            text, cid = raw.request("INVITE", "6000", body=bad_sdp)
            sent[cid] = ("bad-sdp", text)
        raw.send(text)
        if i == 1000:
            legit.send(legit_text)
        if i % 50 == 49:
            drain(0.0)
            ahead = start + (i + 1) * 0.001 - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    took = time.monotonic() - start
    answer = legit.final(legit_cid, timeout=10)
    check(answer is not None and answer.status == 200,
          f"a valid INVITE sent during the flood got {answer}, expected 200 like any call")
    legit.ack(legit_text, answer)
    deadline = time.monotonic() + 15
    while len(codes) < len(sent) and time.monotonic() < deadline:
        drain(0.5)
    check(not wrong, f"{len(wrong)} unexpected responses, e.g. {wrong[:5]}")
    answered = len(codes)
    check(answered >= 0.95 * len(sent), f"only {answered} of {len(sent)} flood INVITEs got a final response "
                                       f"within 15 s (sent in {took:.1f} s)")
    overloaded = sum(1 for c in codes.values() if c == 503)
    check(overloaded <= 0.1 * len(sent), f"{overloaded} of {len(sent)} flood INVITEs got 503 instead of their "
                                         "404 or 488")
    alive(env, "the INVITE flood")
    rows = env.ctl.ok("calls", "support").rows
    check([r.get("caller_number") for r in rows] == ["5550777"],
          f"calls support after the flood: only the valid call should be there: {rows}")
    legit.bye(legit_text, answer)
    check(legit.final(legit_cid, timeout=3, method="BYE") is not None, "no response to the valid call's BYE")
    no_calls(env)
    env.wait_stats("support", waiting=0, abandoned=1)
    normal_call_works(env)
    no_calls(env)


# ---------------------------------------------------------------------------------------------- brute force

def _digest(user, password, realm, nonce, uri, qop, method="REGISTER"):
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    cnonce, nc = _rand(8), "00000001"
    if qop:
        resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}", '
                f'algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"'), resp
    resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}", '
            f'algorithm=MD5'), resp


def _sip_counters(env):
    """callq_sip_*_total from /metrics."""
    with urllib.request.urlopen(f"http://{HOST}:{env.daemon.http_port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^callq_sip_(\w+)_total (\d+)$", text, re.M)}


def test_register_brute_force(env):
    """10 REGISTERs for 1001 with a wrong password from one source: the first 5 are challenged and refused
    with 403 (the README promises 5 bad digests before the shut-out), then the source is shut out for 1 s
    (403 Too Many Failed Attempts, no challenge); the log says so and never holds the password or the
    digest responses; /metrics counts the refusals, the shut-out and the 403s while shut out."""
    before = _sip_counters(env)
    raw = RawSip(env)
    password = f"Wr0ngPass-{_rand(6)}"
    uri = f"sip:{raw.server[0]}:{raw.server[1]}"
    history, responses_sent = [], []
    call_id = _rand(16)
    cseq = 1
    fifth_refused = None
    for attempt in range(10):
        text, _ = raw.request("REGISTER", "1001", from_user="1001", call_id=call_id, cseq=cseq,
                              extra=["Expires: 60"])
        text = text.replace(f"REGISTER sip:1001@{raw.server[0]}:{raw.server[1]}", f"REGISTER {uri}", 1)
        cseq += 1
        sent = time.monotonic()
        raw.send(text)
        first = raw.final(call_id, timeout=3, method="REGISTER")
        check(first is not None, f"attempt {attempt + 1}: no response to REGISTER")
        if first.status == 401:
            chal = first.header("www-authenticate")
            realm = re.search(r'realm="([^"]*)"', chal).group(1)
            nonce = re.search(r'nonce="([^"]*)"', chal).group(1)
            auth, resp = _digest("1001", password, realm, nonce, uri, "qop" in chal)
            responses_sent.append(resp)
            text, _ = raw.request("REGISTER", "1001", from_user="1001", call_id=call_id, cseq=cseq,
                                  extra=["Expires: 60", f"Authorization: {auth}"])
            text = text.replace(f"REGISTER sip:1001@{raw.server[0]}:{raw.server[1]}", f"REGISTER {uri}", 1)
            cseq += 1
            raw.send(text)
            second = raw.final(call_id, timeout=3, method="REGISTER")
            check(second is not None, f"attempt {attempt + 1}: no response to the REGISTER with credentials")
            history.append((401, second.status, second.reason, sent))
            if len(history) == 5:
                fifth_refused = time.monotonic()
        else:
            history.append((first.status, None, first.reason, sent))
    shown = [h[:3] for h in history]
    check(all(h[0] == 401 and h[1] == 403 for h in history[:5]),
          f"the first 5 attempts were not each challenged and refused with 403: {shown}")
    check(history[5][:2] == (403, None) and "Too Many" in history[5][2],
          f"the 6th attempt, right after 5 bad digests, was not refused at once with 403 Too Many Failed "
          f"Attempts: {shown}")
    # The shut-out lasts 1 s: what was sent within it is refused at once; later ones may be challenged again.
    within = [h for h in history[5:] if h[3] < fifth_refused + 0.9]
    check(all(h[:2] == (403, None) and "Too Many" in h[2] for h in within),
          f"attempts within the 1 s shut-out were not refused at once: {shown}")
    check(all(h[0] in (401, 403) and h[1] in (403, None) for h in history), f"unexpected answers: {shown}")
    after = _sip_counters(env)
    grew = {k: after.get(k, 0) - before.get(k, 0) for k in ("refused", "shut_out", "guarded")}
    bad_digests = sum(1 for h in history if h[0] == 401)
    at_once = sum(1 for h in history if h[1] is None)
    check(grew == {"refused": bad_digests, "shut_out": grew["shut_out"], "guarded": at_once}
          and grew["shut_out"] >= 1,
          f"/metrics: {grew} for {bad_digests} bad digests and {at_once} refused at once")
    # A password on the control socket, wrong too: refused, never logged.
    reply = env.ctl.run("auth", "1001", password)
    check(reply.status == "ERR", f"auth with a wrong password: {reply!r}")
    row = env.ctl.row("member.show", "1001")
    check(row.get("contacts") == "0", f"1001 registered by a wrong password: {row}")
    time.sleep(0.5)
    log = env.daemon.log_path.read_text(errors="replace")
    check(re.search(r"too many failed attempts", log, re.I), "callqd's log does not mention the shut-out source")
    check(password not in log, "the wrong password appears in callqd's log")
    leaked = [r for r in responses_sent if r in log]
    check(not leaked, "digest responses appear in callqd's log")
    alive(env, "the brute force")
