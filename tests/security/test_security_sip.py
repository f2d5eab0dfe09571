"""Attacks on callqd's SIP side, as an outsider or an insider on loopback would try them (issue 10).

Raw UDP and TCP from python sockets (RawSip from test_malformed.py): digest replay and digest-uri reuse, forged
nonces from the phones' address, guesses between good REGISTERs, cached credentials after a restart, an INVITE
whose 200 is never ACKed, SDP aimed at a third party, legs beyond the caps, TCP connections when callqd is out
of descriptors, and a flood of refusals in the log. Each test checks what the fix changed: without it, each
of these attacks worked (README "Security").
"""
import hashlib
import os
import re
import socket
import subprocess
import time

from harness import HOST, check, wait_for
from test_limits import cpu_seconds, open_fds
from test_malformed import RawSip, _rand, sdp_offer

# ---------------------------------------------------------------------------------------------- digest helpers


def challenge_of(msg):
    """(realm, nonce, stale) of a 401 or 407."""
    text = msg.header("www-authenticate") or msg.header("proxy-authenticate")
    realm = re.search(r'realm="([^"]*)"', text).group(1)
    nonce = re.search(r'nonce="([^"]*)"', text).group(1)
    return realm, nonce, bool(re.search(r"stale=true", text, re.I))


def digest(user, password, realm, nonce, uri, method, nc=1, cnonce=None):
    cnonce = cnonce or _rand(8)
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    ncs = f"{nc:08x}"
    resp = hashlib.md5(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}", '
            f'algorithm=MD5, qop=auth, nc={ncs}, cnonce="{cnonce}"')


def register_text(raw, login, cseq, call_id, auth=None, expires=60):
    """A REGISTER for login to sip:HOST:PORT, as phones send it."""
    uri = f"sip:{raw.server[0]}:{raw.server[1]}"
    extra = [f"Expires: {expires}"] + ([f"Authorization: {auth}"] if auth else [])
    text, _ = raw.request("REGISTER", login, from_user=login, call_id=call_id, cseq=cseq, extra=extra)
    text = text.replace(f"REGISTER sip:{login}@{raw.server[0]}:{raw.server[1]}", f"REGISTER {uri}", 1)
    text = text.replace(f"To: <sip:{login}@{raw.server[0]}:{raw.server[1]}>",
                        f"To: <sip:{login}@{raw.server[0]}>", 1)
    return text, uri


class Registrar:
    """One phone's REGISTER dialog over a RawSip socket: challenge, answer, resend."""

    def __init__(self, raw, login, password):
        self.raw, self.login, self.password = raw, login, password
        self.call_id, self.cseq = _rand(16), 1

    def send(self, auth=None, expires=60):
        text, uri = register_text(self.raw, self.login, self.cseq, self.call_id, auth, expires)
        self.cseq += 1
        self.raw.send(text)
        reply = self.raw.final(self.call_id, timeout=3, method="REGISTER")
        check(reply is not None, f"no response to a REGISTER for {self.login}")
        return reply, text

    def challenge(self):
        reply, _ = self.send()
        check(reply.status == 401, f"REGISTER {self.login} without credentials: {reply.first}, expected 401")
        return challenge_of(reply)

    def register(self, password=None, nc=1):
        """Challenge, answer; (final response, the request text, the Authorization, nonce)."""
        realm, nonce, _ = self.challenge()
        uri = f"sip:{self.raw.server[0]}:{self.raw.server[1]}"
        auth = digest(self.login, password or self.password, realm, nonce, uri, "REGISTER", nc)
        reply, text = self.send(auth)
        return reply, text, auth, nonce


def contacts(env, login):
    return int(env.ctl.row("member.show", login).get("contacts", "-1"))


# ---------------------------------------------------------------------------------------------- digest

def test_digest_replay_refused(env):
    """A sniffed REGISTER replayed (same Authorization, same nc) from another port three times: each is answered
    401 stale=true, never 200, and the replayer's Contact is never bound. A higher nc on the same nonce, computed
    with the password, is still accepted (phones reuse nonces)."""
    phone = Registrar(RawSip(env), "1001", "secret1001")
    reply, text, auth, nonce = phone.register()
    check(reply.status == 200, f"the phone's own REGISTER got {reply.first}")
    check(contacts(env, "1001") == 1, "1001 not registered by its own REGISTER")
    replayer = RawSip(env)
    for attempt in range(3):
        # the sniffed request, resent from elsewhere: new Via/Contact, the same credentials
        sniffed = Registrar(replayer, "1001", "")
        sniffed.cseq = 10 + attempt
        got, _ = sniffed.send(auth)
        check(got.status == 401 and challenge_of(got)[2],
              f"replay {attempt + 1} got {got.first}, expected 401 with stale=true")
    check(contacts(env, "1001") == 1, f"the replayer's Contact was bound: {contacts(env, '1001')} contacts")
    realm = challenge_of(got)[0]
    uri = f"sip:{phone.raw.server[0]}:{phone.raw.server[1]}"
    again, _ = phone.send(digest("1001", "secret1001", realm, nonce, uri, "REGISTER", nc=2))
    check(again.status == 200, f"the phone's next REGISTER with nc=2 on its nonce got {again.first}")


def invite_text(raw, dialed, from_user, auth=None, media_ip=HOST, port=4000, call_id=None):
    extra = [f"Proxy-Authorization: {auth}"] if auth else []
    return raw.request("INVITE", dialed, from_user=from_user, body=sdp_offer(port, ip=media_ip), extra=extra,
                       call_id=call_id)


def test_digest_uri_must_match_request_uri(env):
    """Proxy-Authorization computed for INVITE sip:6000 (a queue call) is refused on INVITE sip:*50 (log in):
    403, and the member is not logged in. The same credentials on the call they were made for work."""
    env.phone("1001")
    raw = RawSip(env)
    text, cid = invite_text(raw, "6000", "1001")
    raw.send(text)
    first = raw.final(cid)
    check(first is not None and first.status == 407, f"member INVITE without credentials: {first}")
    raw.ack(text, first)
    realm, nonce, _ = challenge_of(first)
    uri_6000 = f"sip:6000@{raw.server[0]}:{raw.server[1]}"
    auth = digest("1001", "secret1001", realm, nonce, uri_6000, "INVITE")
    text, cid = invite_text(raw, "*50", "1001", auth=auth)
    raw.send(text)
    reply = raw.final(cid)
    check(reply is not None and reply.status == 403,
          f"INVITE *50 with credentials for sip:6000 got {reply}, expected 403")
    raw.ack(text, reply)
    check(env.ctl.row("agent.show", "1001").get("logged_in") == "no", "*50 ran with credentials for 6000")
    text, cid = invite_text(raw, "6000", "1001", auth=auth)
    raw.send(text)
    reply = raw.final(cid)
    check(reply is not None and reply.status == 200,
          f"INVITE 6000 with its own credentials got {reply}, expected 200")
    raw.ack(text, reply)
    raw.bye(text, reply)


def test_forged_nonces_do_not_lock_out_phones(env):
    """Twenty REGISTERs for 1001 with a forged nonce from the phones' address are answered 401 stale=true (no
    403, no strike); then the real phones behind that address register: 1001 and 1002 both get 200."""
    attacker = RawSip(env)
    uri = f"sip:{attacker.server[0]}:{attacker.server[1]}"
    reg = Registrar(attacker, "1001", "")
    for i in range(20):
        forged = f"{int(time.time()):x}-{os.urandom(8).hex()}-{os.urandom(16).hex()}"
        reply, _ = reg.send(digest("1001", "guess%d" % i, "callq", forged, uri, "REGISTER"))
        check(reply.status == 401 and challenge_of(reply)[2],
              f"forged nonce {i + 1}: {reply.first}, expected 401 with stale=true")
    for login in ("1001", "1002"):
        reply, _, _, _ = Registrar(RawSip(env), login, f"secret{login}").register()
        check(reply.status == 200, f"the legitimate phone {login} got {reply.first} after the forged nonces")


def test_alternating_guesses_still_slowed(env):
    """An insider with 1002's password alternates 4 wrong guesses for 1001 with 1 good REGISTER as 1002: the good
    REGISTERs do not reset the count for 1001, which is shut out (403 Too Many Failed Attempts) in the second
    round, while 1002 and 1003 from the same address still register."""
    raw = RawSip(env)
    guesser = Registrar(raw, "1001", "")
    own = Registrar(raw, "1002", "secret1002")
    shut_out = None
    for rnd in range(3):
        for i in range(4):
            reply, _ = guesser.send()
            if reply.status == 403 and "Too Many" in reply.reason:
                shut_out = (rnd, i)
                break
            realm, nonce, _ = challenge_of(reply)
            uri = f"sip:{raw.server[0]}:{raw.server[1]}"
            reply, _ = guesser.send(digest("1001", f"guess{rnd}{i}", realm, nonce, uri, "REGISTER"))
            check(reply.status == 403, f"a wrong guess got {reply.first}")
        if shut_out:
            break
        reply, _, _, _ = own.register()
        check(reply.status == 200, f"the insider's own REGISTER got {reply.first}")
    check(shut_out is not None and shut_out[0] == 1,
          f"guesses for 1001 between good REGISTERs were never shut out ({shut_out})")
    for login in ("1002", "1003"):
        reply, _, _, _ = Registrar(raw, login, f"secret{login}").register()
        check(reply.status == 200, f"{login} from the guesser's address got {reply.first}")


def test_restart_makes_cached_credentials_stale(env):
    """A phone registers, callqd restarts, the phone refreshes with its cached nonce (nc=2): 401 stale=true,
    six times in a row, never 403 and never a shut-out; answering the fresh nonce registers it."""
    phone = Registrar(RawSip(env), "1001", "secret1001")
    reply, _, _, nonce = phone.register()
    check(reply.status == 200, f"first REGISTER: {reply.first}")
    env.daemon.restart()
    uri = f"sip:{phone.raw.server[0]}:{phone.raw.server[1]}"
    for nc in range(2, 8):
        reply, _ = phone.send(digest("1001", "secret1001", "callq", nonce, uri, "REGISTER", nc=nc))
        check(reply.status == 401 and challenge_of(reply)[2],
              f"cached credentials after a restart (nc={nc}) got {reply.first}, expected 401 stale=true")
    realm, fresh, _ = challenge_of(reply)
    reply, _ = phone.send(digest("1001", "secret1001", realm, fresh, uri, "REGISTER"))
    check(reply.status == 200, f"the answer to the fresh nonce got {reply.first}")


# ---------------------------------------------------------------------------------------------- admission

def test_ghost_invite_never_enters_queue(env):
    """A trunk INVITE whose 200 is never ACKed (a spoofed source never sees the 200): the caller leg lives until
    nua gives up (timer H, 32 s: a BYE), and in all that time `calls support` never lists it. An INVITE that
    is ACKed enters the queue as usual."""
    raw = RawSip(env)
    text, cid = invite_text(raw, "6000", "5550001")
    raw.send(text)
    ok = raw.final(cid)
    check(ok is not None and ok.status == 200, f"the ghost INVITE got {ok}")
    deadline = time.monotonic() + 40
    bye = None
    while time.monotonic() < deadline and bye is None:
        rows = env.ctl.ok("calls", "support").rows
        check(rows == [], f"the unACKed call is in the queue: {rows}")
        for msg in raw.collect(0.5):
            if msg.method == "BYE" and msg.call_id == cid:
                bye = msg
                raw.reply(msg, 200, "OK")
    check(bye is not None, "no BYE for the unACKed call within 40 s")
    check(env.ctl.ok("calls", "support").rows == [], "the unACKed call is listed after its BYE")
    acked = RawSip(env)
    text, cid = invite_text(acked, "6000", "5550002")
    acked.send(text)
    ok = acked.final(cid)
    check(ok is not None and ok.status == 200, f"the real INVITE got {ok}")
    acked.ack(text, ok)
    wait_for(lambda: [r.get("caller_number") for r in env.ctl.ok("calls", "support").rows] == ["5550002"], 5,
             "the ACKed call to enter support")
    acked.bye(text, ok)


def test_third_party_media_address_refused(env):
    """SDP naming an address no phone can have (multicast, broadcast, "this network", reserved) is refused with
    488; nothing enters the queue. A unicast third party named by a trunk INVITE gets no RTP until the ACK
    (a spoofed INVITE never sees its 200, so it never sends one): 127.0.0.5 stands for the third party here.
    A re-INVITE moving the media to a multicast group is refused too."""
    raw = RawSip(env)
    for ip in ("224.0.0.1", "239.255.255.250", "255.255.255.255", "0.1.2.3", "240.0.0.1"):
        text, cid = invite_text(raw, "6000", "5550003", media_ip=ip)
        raw.send(text)
        reply = raw.final(cid)
        check(reply is not None and reply.status == 488, f"INVITE with c={ip} got {reply}, expected 488")
        raw.ack(text, reply)
    check(env.ctl.ok("calls", "support").rows == [], "a refused INVITE entered the queue")
    victim = env.rtp_port("127.0.0.5")
    text, cid = invite_text(raw, "6000", "5550004", media_ip="127.0.0.5", port=victim.port)
    raw.send(text)
    ok = raw.final(cid)
    check(ok is not None and ok.status == 200, f"INVITE with c=127.0.0.5 from {HOST} got {ok}")
    time.sleep(1.5)
    check(not victim.received(), f"{len(victim.received())} RTP packets reached c= before the ACK")
    raw.ack(text, ok)
    victim.wait_packets(10, 5, "hold music once the call is ACKed")
    contact = re.search(r"<([^>]+)>", ok.header("contact")).group(1)
    body = sdp_offer(4002, ip="224.0.0.7")
    reinvite = (f"INVITE {contact} SIP/2.0\r\nVia: SIP/2.0/UDP {raw.ip}:{raw.port};branch=z9hG4bK{_rand()};rport"
                f"\r\nMax-Forwards: 70\r\nFrom: {ok.header('from')}\r\nTo: {ok.header('to')}\r\n"
                f"Call-ID: {cid}\r\nCSeq: 2 INVITE\r\nContact: <sip:5550004@{raw.ip}:{raw.port}>\r\n"
                f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    raw.send(reinvite)
    reply = raw.final(cid, method="INVITE")
    while reply is not None and reply.header("cseq").split()[0] != "2":
        reply = raw.final(cid, method="INVITE")   # a 200 to the INVITE, resent before our ACK
    check(reply is not None and reply.status == 488, f"re-INVITE to c=224.0.0.7 got {reply}, expected 488")
    raw.ack(reinvite, reply)
    raw.bye(text, ok, cseq=3)


def restart_with(env, **settings):
    with open(env.daemon.conf_path, "a") as f:
        for key, value in settings.items():
            f.write(f"{key} = {value}\n")
    env.daemon.restart()


def test_legs_beyond_caps_refused(env):
    """max_calls_per_source=2: the third call from one address gets 503 with Retry-After; once the two end,
    calls get through again. max_calls_per_member=1: a member's second leg (two queue calls from 1001's
    phone) gets 486."""
    restart_with(env, max_calls_per_source=2, max_calls_per_member=1)
    raw = RawSip(env)
    up = []
    for n in range(3):
        text, cid = invite_text(raw, "6000", f"555010{n}")
        raw.send(text)
        reply = raw.final(cid)
        check(reply is not None, f"no answer to call {n + 1}")
        raw.ack(text, reply)
        if n < 2:
            check(reply.status == 200, f"call {n + 1} of 2 allowed got {reply.first}")
            up.append((text, reply))
        else:
            check(reply.status == 503 and reply.header("retry-after"),
                  f"the third call from one source got {reply.first} {reply.headers}, expected 503 + Retry-After")
    for text, reply in up:
        raw.bye(text, reply)
    wait_for(lambda: env.ctl.ok("calls", "support").rows == [], 10, "the two calls to end")
    text, cid = invite_text(raw, "6000", "5550109")
    raw.send(text)
    reply = raw.final(cid)
    check(reply is not None and reply.status == 200, f"a call after the two ended got {reply}")
    raw.ack(text, reply)
    raw.bye(text, reply)
    # A member: the first leg is allowed, the second refused.
    env.phone("1001")
    member = RawSip(env)
    legs = []
    for n, dialed in enumerate(("6000", "6000")):
        text, cid = invite_text(member, dialed, "1001")
        member.send(text)
        first = member.final(cid)
        member.ack(text, first)
        realm, nonce, _ = challenge_of(first)
        uri = f"sip:{dialed}@{member.server[0]}:{member.server[1]}"
        text, cid = invite_text(member, dialed, "1001",
                                auth=digest("1001", "secret1001", realm, nonce, uri, "INVITE"))
        member.send(text)
        reply = member.final(cid)
        check(reply is not None, f"no answer to the member's leg {n + 1}")
        member.ack(text, reply)
        legs.append((text, reply))
    check(legs[0][1].status == 200, f"the member's first leg got {legs[0][1].first}")
    check(legs[1][1].status == 486, f"the member's second leg got {legs[1][1].first}, expected 486")
    member.bye(*legs[0])


# ---------------------------------------------------------------------------------------------- exhaustion

def test_sip_tcp_accept_out_of_fds_does_not_spin(env):
    """With callqd at its descriptor limit, 30 TCP connections to the SIP port: callqd does not spin on the
    listening socket (CPU under 0.3 s in 2 s; the accept loop spun at 1.48 s before), says so in the log, and
    serves TCP again once descriptors are free."""
    pid = env.daemon.proc.pid
    limit = open_fds(pid) + 3
    subprocess.run(["prlimit", "--pid", str(pid), f"--nofile={limit}:{limit}"], check=True)
    clients = []
    try:
        for _ in range(30):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect((HOST, env.daemon.sip_port))
            clients.append(s)
        wait_for(lambda: open_fds(pid) >= limit, 5, f"callqd to hold its limit of {limit} descriptors")
        time.sleep(0.3)
        before = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - before
        check(used < 0.3, f"callqd used {used:.2f} s of CPU in 2 s while out of descriptors: the accept loop spins")
        wait_for(lambda: "incoming TCP connection(s) closed on arrival" in env.daemon.log_path.read_text(), 5,
                 "a log line about connections closed for want of descriptors")
    finally:
        for s in clients:
            s.close()

    def options_over_tcp():
        with socket.create_connection((HOST, env.daemon.sip_port), timeout=2) as s:
            me = s.getsockname()
            s.sendall((f"OPTIONS sip:{HOST}:{env.daemon.sip_port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/TCP {me[0]}:{me[1]};branch=z9hG4bK{_rand()}\r\nMax-Forwards: 70\r\n"
                       f"From: <sip:probe@{me[0]}>;tag=p\r\nTo: <sip:{HOST}>\r\nCall-ID: {_rand()}\r\n"
                       "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode())
            try:
                return s.recv(4096).startswith(b"SIP/2.0 200")
            except OSError:
                return False
    wait_for(options_over_tcp, 10, "an OPTIONS over TCP to be answered once descriptors are free")


def test_refusal_log_lines_rate_limited(env):
    """200 INVITEs with a multicast c= (488 each) in about a second: at most 5 log lines for them in a 10 s
    window, then one summary line with the count of the rest."""
    raw = RawSip(env)
    for n in range(200):
        text, cid = invite_text(raw, "6000", "5550200", media_ip="224.0.0.9")
        raw.send(text)
        if n % 20 == 19:
            for msg in raw.collect(0.05):
                if msg.status and msg.status >= 200:
                    raw.ack(text, msg)
    wait_for(lambda: "more refused requests not logged" in env.daemon.log_path.read_text(), 15,
             "a summary line for the refusals not logged")
    log = env.daemon.log_path.read_text()
    lines = log.count("media address 224.0.0.9 is not one a phone can have")
    check(lines <= 10, f"{lines} log lines for 200 refused INVITEs: not rate limited")
    m = re.search(r"(\d+) more refused requests not logged", log)
    check(m and int(m.group(1)) >= 150, f"summary line does not count the rest: {m and m.group(0)}")
