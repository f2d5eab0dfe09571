"""How real phones reach callq and are reached: NAT (the REGISTER's source, not its Contact), the phone's own
TCP connection, Path through an edge proxy, offerless re-INVITEs (RFC 4028 refreshes), requests outside a
dialog, IPv6, CRLF keep-alives.

The phones here are small SIP user agents on plain sockets (Peer below), so a test controls exactly which
address a message comes from and sees exactly which socket callq's requests arrive on."""
import hashlib
import random
import re
import socket
import sqlite3
import ssl
import time

from harness import HOST, TELEPHONE_EVENT, TestFailure, check, free_port, wait_for


def _md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Msg:
    """One SIP message: first line, headers (name lowercased -> list of values), body."""

    def __init__(self, raw):
        head, _, self.body = raw.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())
        self.raw = raw

    def h(self, name, default=""):
        values = self.headers.get(name.lower())
        return values[0] if values else default

    @property
    def status(self):
        m = re.match(r"SIP/2.0 (\d{3})", self.first)
        return int(m.group(1)) if m else None

    @property
    def method(self):
        return None if self.status else self.first.split(" ")[0]

    @property
    def ruri(self):
        return self.first.split(" ")[1]


class Peer:
    """A SIP endpoint on one socket (UDP, or one TCP connection to callq), speaking from `ip`."""

    def __init__(self, env, transport="udp", ip=HOST, family=socket.AF_INET, server=None):
        self.env, self.transport, self.ip, self.family = env, transport, ip, family
        self.server = server or (HOST, env.daemon.tls_port if transport == "tls" else env.daemon.sip_port)
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(family, kind)
        self.sock.bind((ip, 0))
        if transport != "udp":
            self.sock.connect(self.server)
        if transport == "tls":
            # callqd's self-signed certificate, verified (name 127.0.0.1) like a careful phone would.
            ctx = ssl.create_default_context(cafile=str(env.daemon.tls_dir / "cafile.pem"))
            self.sock = ctx.wrap_socket(self.sock, server_hostname=HOST)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.buffer = b""
        self.inbox = []
        self.cseq = 0
        self.call_id = f"{random.getrandbits(64):x}@test"
        self.tag = f"{random.getrandbits(32):x}"

    @property
    def hostport(self):
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def send(self, text, to=None):
        data = text.encode()
        if self.transport != "udp":
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, to or self.server)

    def _read(self):
        try:
            if self.transport != "udp":
                chunk = self.sock.recv(65536)
                check(chunk, "callq closed the TCP connection")
                self.buffer += chunk
            else:
                chunk, _ = self.sock.recvfrom(65536)
                self.buffer += chunk
                self._frame(datagram=True)
                return
        except socket.timeout:
            return
        self._frame(datagram=False)

    def _frame(self, datagram):
        while self.buffer:
            if datagram:
                self.inbox.append(self.buffer.decode(errors="replace"))
                self.buffer = b""
                return
            stripped = self.buffer.lstrip(b"\r\n")
            if stripped != self.buffer:
                self.inbox.append(self.buffer[:len(self.buffer) - len(stripped)].decode())
                self.buffer = stripped
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            m = re.search(rb"^(?:content-length|l)\s*:\s*(\d+)", self.buffer[:end], re.I | re.M)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buffer) < total:
                return
            self.inbox.append(self.buffer[:total].decode(errors="replace"))
            self.buffer = self.buffer[total:]

    def recv(self, what, match, timeout=10):
        """The first message (Msg) received that match(msg) accepts; earlier ones are dropped."""
        def probe():
            self._read()
            while self.inbox:
                raw = self.inbox.pop(0)
                if raw.strip("\r\n") == "":
                    continue
                msg = Msg(raw)
                if match(msg):
                    return msg
            return None
        return wait_for(probe, timeout, what, interval=0)

    def raw_bytes(self, timeout):
        """Bytes that arrive within timeout (TCP: the pong of a CRLF ping)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read()
            if self.inbox:
                return self.inbox.pop(0)
        return ""

    def via(self, host=None):
        return f"SIP/2.0/{self.transport.upper()} {host or self.hostport};branch=z9hG4bK{random.getrandbits(48):x};rport"

    def request(self, method, ruri, headers=(), body="", to_tag="", via_host=None, cseq=None, call_id=None,
                to=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        lines = [f"{method} {ruri} SIP/2.0", f"Via: {self.via(via_host)}", "Max-Forwards: 70",
                 f"From: <sip:{self.user}@{self.hostport}>;tag={self.tag}",
                 f"To: <{to or ruri}>" + (f";tag={to_tag}" if to_tag else ""),
                 f"Call-ID: {call_id or self.call_id}", f"CSeq: {cseq} {method}", *headers]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        text = "\r\n".join(lines) + "\r\n\r\n" + body
        self.send(text)
        return cseq

    user = "5551234"

    def response(self, req, code, reason, headers=(), body="", to_tag=None):
        to = req.h("to")
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        lines = [f"SIP/2.0 {code} {reason}", *(f"Via: {v}" for v in req.headers.get("via", [])),
                 f"From: {req.h('from')}", f"To: {to}", f"Call-ID: {req.h('call-id')}",
                 f"CSeq: {req.h('cseq')}", *headers]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.send("\r\n".join(lines) + "\r\n\r\n" + body)

    def final(self, cseq, method, timeout=10):
        return self.recv(f"final response to {method}",
                         lambda m: m.status and m.status >= 200 and m.h("cseq") == f"{cseq} {method}", timeout)

    def register(self, login, contact, extra=(), expires=3600, registrar=None):
        """REGISTER with digest auth (password secret<login>); returns the 200."""
        self.user = login
        ruri = f"sip:{registrar or self.env.daemon.address}"
        aor = f"sip:{login}@{registrar or self.env.daemon.address}"
        aor_headers = [f"Contact: {contact};expires={expires}", *extra]
        self.tag = f"{random.getrandbits(32):x}"
        cseq = self.request("REGISTER", ruri, aor_headers, to=aor)
        first = self.final(cseq, "REGISTER")
        check(first.status == 401, f"REGISTER: expected 401, got {first.first}")
        chal = dict(re.findall(r'(\w+)="?([^",]*)"?', first.h("www-authenticate")))
        ha1 = _md5(f"{login}:{chal['realm']}:secret{login}")
        cnonce = f"{random.getrandbits(32):x}"
        resp = _md5(f"{ha1}:{chal['nonce']}:00000001:{cnonce}:auth:{_md5('REGISTER:' + ruri)}")
        auth = (f'Authorization: Digest username="{login}", realm="{chal["realm"]}", nonce="{chal["nonce"]}", '
                f'uri="{ruri}", response="{resp}", algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}"'
                + (f', opaque="{chal["opaque"]}"' if "opaque" in chal else ""))
        cseq = self.request("REGISTER", ruri, [*aor_headers, auth], to=aor)
        ok = self.final(cseq, "REGISTER")
        check(ok.status == 200, f"REGISTER with credentials: {ok.first}")
        return ok

    def close(self):
        self.sock.close()


def sdp(ip, port, direction="sendrecv"):
    fam = "IP6" if ":" in ip else "IP4"
    return (f"v=0\r\no=- 1 1 IN {fam} {ip}\r\ns=-\r\nc=IN {fam} {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n{TELEPHONE_EVENT}\r\n"
            f"a=fmtp:101 0-15\r\na={direction}\r\n")


def unused_port(ip=HOST):
    """A port where nothing listens (the 'private' port a phone behind NAT names in its Contact)."""
    if ":" not in ip:
        return free_port(ip)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def answer_offer(phone, rtp_port, contact):
    """Waits for callq's INVITE on the phone's socket, answers it 200 with SDP, waits for the ACK there."""
    invite = phone.recv("callq's INVITE (offer)", lambda m: m.method == "INVITE", 20)
    tag = f"{random.getrandbits(32):x}"
    phone.response(invite, 180, "Ringing", to_tag=tag)
    phone.response(invite, 200, "OK", [f"Contact: {contact}"], sdp(phone.ip, rtp_port), to_tag=tag)
    ack = phone.recv("ACK for our 200", lambda m: m.method == "ACK", 10)
    return invite, ack


def test_nat_offer_reaches_register_source(env):
    phone = Peer(env)
    private = unused_port()
    contact = f"<sip:1001@{HOST}:{private}>"
    # Behind NAT: Via and Contact name the private address; callq sees the packets come from phone.port.
    ok = phone.register("1001", contact)
    check(re.search(rf"sip:1001@{re.escape(HOST)}:{private}", ok.h("contact")), f"200 lacks our Contact: {ok.raw}")
    env.make_ready("1001")
    rtp = env.rtp_port()
    call = env.call("6000", duration_ms=4000)
    invite, _ = answer_offer(phone, rtp.port, contact)
    check(invite.ruri == f"sip:1001@{HOST}:{private}", f"Request-URI is not the Contact: {invite.first}")
    call.sipp.expect_success(30)
    bye = phone.recv("BYE after the caller hung up", lambda m: m.method == "BYE", 15)
    phone.response(bye, 200, "OK")
    log = env.daemon.log_path.read_text()
    check(re.search(rf"REGISTER 1001 from {re.escape(HOST)} port {phone.port} over udp", log),
          "the REGISTER's source is not logged")


def test_tcp_phone_keeps_its_connection(env):
    phone = Peer(env, "tcp")
    private = unused_port()
    contact = f"<sip:1001@{HOST}:{private};transport=tcp>"
    phone.register("1001", contact)
    env.make_ready("1001")
    rtp = env.rtp_port()
    call = env.call("6000", duration_ms=4000)
    invite, ack = answer_offer(phone, rtp.port, contact)
    check("SIP/2.0/TCP" in invite.h("via"), f"INVITE's Via is not TCP: {invite.h('via')}")
    check(re.search(r"transport=tcp", invite.h("contact"), re.I),
          f"callq's Contact does not name TCP: {invite.h('contact')}")
    check("SIP/2.0/TCP" in ack.h("via"), f"ACK did not come over TCP: {ack.h('via')}")
    call.sipp.expect_success(30)
    bye = phone.recv("BYE over the phone's TCP connection", lambda m: m.method == "BYE", 15)
    phone.response(bye, 200, "OK")
    # A CRLF keep-alive ping on the connection gets a pong (RFC 5626 4.4.1).
    phone.send("\r\n\r\n")
    pong = phone.raw_bytes(3)
    check(pong.startswith("\r\n"), f"no CRLF pong to a CRLF ping: {pong!r}")


def test_path_routes_offer_through_edge_proxy(env):
    phone = Peer(env)
    proxy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    proxy.bind(("127.0.0.5", 0))
    proxy.settimeout(15)
    proxy_port = proxy.getsockname()[1]
    try:
        contact = f"<sip:1001@{HOST}:{unused_port()}>"
        path = f"<sip:127.0.0.5:{proxy_port};lr>"
        ok = phone.register("1001", contact, [f"Path: {path}", "Supported: path"])
        check(f"127.0.0.5:{proxy_port}" in ok.h("path"), f"200 to REGISTER does not echo the Path: {ok.raw}")
        env.make_ready("1001")
        call = env.call("6000", duration_ms=3000)
        data, _ = proxy.recvfrom(65536)
        invite = Msg(data.decode())
        check(invite.method == "INVITE", f"the proxy got {invite.first}")
        check(invite.ruri.startswith("sip:1001@"), f"Request-URI is not the Contact: {invite.first}")
        check(f"127.0.0.5:{proxy_port};lr" in invite.h("route"), f"no Route from the Path: {invite.raw}")
        # The proxy answers for the phone: busy. The call goes on waiting.
        lines = ["SIP/2.0 486 Busy Here", *(f"Via: {v}" for v in invite.headers["via"]),
                 f"From: {invite.h('from')}", f"To: {invite.h('to')};tag=p1", f"Call-ID: {invite.h('call-id')}",
                 f"CSeq: {invite.h('cseq')}", "Content-Length: 0"]
        via = invite.h("via")
        m = re.search(r"SIP/2.0/UDP ([^;]+)", via)
        host, _, port = m.group(1).rpartition(":")
        proxy.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), (host.strip("[]"), int(port)))
        call.sipp.expect_success(30)
    finally:
        proxy.close()


def test_offerless_reinvite_gets_offer_and_ack_answer_applied(env):
    caller = Peer(env)
    rtp_a, rtp_b = env.rtp_port(), env.rtp_port()
    ruri = f"sip:6000@{env.daemon.address}"
    contact = [f"Contact: <sip:5551234@{caller.hostport}>"]
    cseq = caller.request("INVITE", ruri, contact, sdp(HOST, rtp_a.port))
    ok = caller.final(cseq, "INVITE")
    check(ok.status == 200, f"INVITE to the queue: {ok.first}")
    to_tag = re.search(r"tag=([^;>]+)", ok.h("to")).group(1)
    target = re.search(r"<([^>]+)>", ok.h("contact")).group(1)
    caller.request("ACK", target, to_tag=to_tag, cseq=cseq)
    rtp_a.wait_packets(5, 10, "hold music on the first address")
    # A session refresh without SDP: callq must offer, and take our answer from the ACK.
    cseq = caller.request("INVITE", target, contact, to_tag=to_tag)
    ok = caller.final(cseq, "INVITE")
    check(ok.status == 200, f"offerless re-INVITE: {ok.first}")
    check(re.search(r"^m=audio \d+ RTP/AVP", ok.body, re.M), f"200 to an offerless re-INVITE has no offer: {ok.raw!r}")
    check(re.search(r"^a=sendrecv", ok.body, re.M), f"the offer is not sendrecv: {ok.body!r}")
    caller.request("ACK", target, to_tag=to_tag, cseq=cseq, body=sdp(HOST, rtp_b.port))
    since = time.monotonic()
    wait_for(lambda: len(rtp_b.received(since)) >= 5, 10, "hold music at the address of the ACK's answer")
    caller.request("BYE", target, to_tag=to_tag)


def test_out_of_dialog_requests_refused(env):
    peer = Peer(env)
    ruri = f"sip:1001@{env.daemon.address}"
    expected = {"MESSAGE": 405, "SUBSCRIBE": 405, "NOTIFY": 405, "PUBLISH": 405, "REFER": 403, "INFO": 481,
                "OPTIONS": 200, "BYE": 481}
    for method, code in expected.items():
        extra = {"REFER": [f"Refer-To: <sip:6000@{env.daemon.address}>"], "SUBSCRIBE": ["Event: presence"],
                 "NOTIFY": ["Event: presence", "Subscription-State: active"],
                 "PUBLISH": ["Event: presence"], "MESSAGE": []}.get(method, [])
        peer.call_id = f"{random.getrandbits(64):x}@test"
        cseq = peer.request(method, ruri, extra)
        got = peer.final(cseq, method)
        check(got.status == code, f"{method} outside a dialog: {got.first}, expected {code}")
        if code == 405:
            check("INVITE" in got.h("allow") and "MESSAGE" not in got.h("allow"),
                  f"405 to {method} without a fitting Allow: {got.h('allow')!r}")


def test_crlf_keepalives_are_quiet(env):
    phone = Peer(env)
    before = env.daemon.log_path.read_text().count("\n")
    for _ in range(3):
        phone.send("\r\n\r\n")
        phone.send("\r\n")
    tcp = Peer(env, "tcp")
    tcp.send("\r\n\r\n")
    pong = tcp.raw_bytes(3)
    check(pong.startswith("\r\n"), f"no pong to a TCP CRLF ping: {pong!r}")
    # The daemon still works, and a request after the pings is answered on the same socket.
    cseq = phone.request("OPTIONS", f"sip:{env.daemon.address}")
    check(phone.final(cseq, "OPTIONS").status == 200, "OPTIONS after keep-alives")
    lines = env.daemon.log_path.read_text().splitlines()[before:]
    noisy = [line for line in lines if "sofia" in line or "garbage" in line]
    check(not noisy, f"keep-alives were logged: {noisy}")


def _ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6_register_and_call(env):
    check(_ipv6_available(), "no IPv6 loopback on this machine")
    daemon = env.daemon
    complaint = daemon.stop()
    check(complaint is None, complaint)
    with sqlite3.connect(daemon.workdir / "run" / "callq.db") as db:
        db.execute("INSERT INTO trunk_acl (cidr) VALUES ('::1/128')")
    port = unused_port("::1")
    conf = daemon.conf_path.read_text()
    conf = re.sub(r"^sip_listen = .*$", "sip_listen = ::1", conf, flags=re.M)
    conf = re.sub(r"^sip_port = .*$", f"sip_port = {port}", conf, flags=re.M)
    conf = re.sub(r"^rtp_ip = .*$", "rtp_ip = ::1", conf, flags=re.M)
    daemon.conf_path.write_text(conf)
    daemon.sip_port = port
    daemon.start()
    server = ("::1", port)
    phone = Peer(env, ip="::1", family=socket.AF_INET6, server=server)
    phone.register("1001", f"<sip:1001@[::1]:{unused_port('::1')}>", registrar=f"[::1]:{port}")
    check(re.search(r"REGISTER 1001 from ::1 port \d+ over udp", daemon.log_path.read_text()),
          "the IPv6 source is not logged")
    check(env.ctl.row("member.show", "1001").get("contacts") == "1", "IPv6 phone not registered")
    # A trunk call from [::1] (trunk ACL ::1/128) enters the queue and hears the hold loop over IPv6.
    caller = Peer(env, ip="::1", family=socket.AF_INET6, server=server)
    rtp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    rtp.bind(("::1", 0))
    rtp.settimeout(10)
    try:
        cseq = caller.request("INVITE", f"sip:6000@[::1]:{port}", [f"Contact: <sip:5551234@{caller.hostport}>"],
                              sdp("::1", rtp.getsockname()[1]))
        ok = caller.final(cseq, "INVITE")
        check(ok.status == 200, f"INVITE over IPv6: {ok.first}")
        check(re.search(r"^c=IN IP6 ::1", ok.body, re.M), f"answer lacks c=IN IP6 ::1: {ok.body!r}")
        to_tag = re.search(r"tag=([^;>]+)", ok.h("to")).group(1)
        target = re.search(r"<([^>]+)>", ok.h("contact")).group(1)
        caller.request("ACK", target, to_tag=to_tag, cseq=cseq)
        data, source = rtp.recvfrom(2048)
        check(len(data) > 12 and source[0] == "::1", f"no RTP over IPv6 (got {len(data)} bytes from {source})")
        caller.request("BYE", target, to_tag=to_tag)
    finally:
        rtp.close()


def test_record_route_respected(env):
    """An INVITE that came through an edge proxy (Record-Route): callq's BYE goes back through the proxy."""
    caller = Peer(env)
    proxy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    proxy.bind(("127.0.0.5", 0))
    proxy.settimeout(10)
    rr = f"<sip:127.0.0.5:{proxy.getsockname()[1]};lr>"
    try:
        rtp = env.rtp_port()
        cseq = caller.request("INVITE", f"sip:6000@{env.daemon.address}",
                              [f"Record-Route: {rr}", f"Contact: <sip:5551234@{caller.hostport}>"],
                              sdp(HOST, rtp.port))
        ok = caller.final(cseq, "INVITE")
        check(ok.status == 200, f"INVITE: {ok.first}")
        check(rr in ok.h("record-route"), f"200 does not echo the Record-Route: {ok.raw}")
        # Stopping callq ends the call: the BYE must go to the proxy, not to the caller's Contact.
        env.daemon.proc.send_signal(15)
        data, _ = proxy.recvfrom(65536)
        bye = Msg(data.decode())
        check(bye.method == "BYE", f"the proxy got {bye.first}")
        check(bye.ruri == f"sip:5551234@{caller.hostport}", f"BYE's Request-URI is not the Contact: {bye.first}")
    finally:
        proxy.close()


def _savp_sdp(ip, port, crypto=True, profile="RTP/SAVP"):
    key = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n"
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} {profile} 0 101\r\na=rtpmap:0 PCMU/8000\r\n{TELEPHONE_EVENT}\r\n"
            f"a=fmtp:101 0-15\r\na=sendrecv\r\n" + (key if crypto else ""))


def test_tls_register_and_srtp_offer(env):
    """A phone over TLS (python's ssl, verifying callqd's self-signed certificate): its REGISTER is kept with
    transport tls, the offer comes over its own TLS connection with RTP/SAVP and our SDES key, our Contact
    names TLS and the TLS port, and ACK and BYE come over the same connection."""
    phone = Peer(env, "tls")
    contact = f"<sip:1001@{HOST}:{unused_port()};transport=tls>"
    phone.register("1001", contact, registrar=env.daemon.tls_address)
    with sqlite3.connect(env.workdir / "run" / "callq.db") as db:
        rows = db.execute("SELECT r.transport, r.src_port FROM registrations r JOIN members m ON m.id = r.member_id "
                          "WHERE m.login = '1001'").fetchall()
    check(rows == [("tls", phone.port)], f"registration kept as {rows}, not tls from port {phone.port}")
    env.make_ready("1001")
    rtp = env.rtp_port()
    call = env.call("6000", duration_ms=4000)
    invite = phone.recv("callq's INVITE over TLS", lambda m: m.method == "INVITE", 20)
    check("SIP/2.0/TLS" in invite.h("via"), f"INVITE's Via is not TLS: {invite.h('via')}")
    check(f":{env.daemon.tls_port};transport=tls" in invite.h("contact"),
          f"callq's Contact does not name its TLS port: {invite.h('contact')}")
    check(re.search(r"m=audio \d+ RTP/SAVP ", invite.body), "offer over TLS is not RTP/SAVP")
    keys = re.findall(r"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/]{40})\r\n", invite.body)
    check(len(keys) == 1, f"offer has no SDES key of ours: {invite.body!r}")
    check(keys[0] not in env.daemon.log_path.read_text(), "the SRTP key reached callqd's log")
    tag = f"{random.getrandbits(32):x}"
    phone.response(invite, 200, "OK", [f"Contact: {contact}"], _savp_sdp(HOST, rtp.port), to_tag=tag)
    ack = phone.recv("ACK over TLS", lambda m: m.method == "ACK", 10)
    check("SIP/2.0/TLS" in ack.h("via"), f"ACK did not come over TLS: {ack.h('via')}")
    call.sipp.expect_success(30)
    bye = phone.recv("BYE over the phone's TLS connection", lambda m: m.method == "BYE", 15)
    phone.response(bye, 200, "OK")


def test_secure_member_and_trunk(env):
    """secure=yes: that member's REGISTER over UDP gets 403, over TLS 200. trunk_secure: a trunk INVITE over
    UDP gets 403; over TLS without SRTP 488; RTP/SAVP without a crypto we know is 488 anyway."""
    env.ctl.ok("member.set", "1002", "secure=yes")
    check(env.ctl.row("member.show", "1002").get("secure") == "yes", "member.show does not say secure=yes")
    udp = Peer(env, "udp")
    try:
        udp.register("1002", f"<sip:1002@{udp.hostport}>")
        outcome = "200"
    except TestFailure as e:     # register() checks for a 200
        outcome = str(e)
    check("403" in outcome, f"secure member's REGISTER over UDP: {outcome}")
    Peer(env, "tls").register("1002", f"<sip:1002@{HOST}:5999;transport=tls>", registrar=env.daemon.tls_address)

    savp = Peer(env, "udp")
    cseq = savp.request("INVITE", f"sip:6000@{env.daemon.address}", [f"Contact: <sip:5551234@{savp.hostport}>"],
                        _savp_sdp(HOST, 40000, crypto=False))
    check(savp.final(cseq, "INVITE").status == 488, "RTP/SAVP without crypto was not refused with 488")

    with open(env.daemon.conf_path, "a") as f:
        f.write("trunk_secure = yes\n")
    env.daemon.restart()
    plain = Peer(env, "udp")
    cseq = plain.request("INVITE", f"sip:6000@{env.daemon.address}", [f"Contact: <sip:5551234@{plain.hostport}>"],
                         sdp(HOST, 40000))
    check(plain.final(cseq, "INVITE").status == 403, "trunk_secure: INVITE over UDP not refused with 403")
    tls = Peer(env, "tls")
    cseq = tls.request("INVITE", f"sip:6000@{env.daemon.tls_address}", [f"Contact: <sip:5551234@{tls.hostport}>"],
                       sdp(HOST, 40000))
    check(tls.final(cseq, "INVITE").status == 488, "trunk_secure: INVITE over TLS without SRTP not refused")
