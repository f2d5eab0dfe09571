#!/usr/bin/env python3
"""Checks the sipp scenarios without callqd: each one the tests use runs against a sipp stand-in for callqd
(scenarios/peers/), once where it must complete and, where it matters, once where it must fail.

    python3 tests/integration/selftest.py

Traces go to build/integration/selftest/. The last line is `selftest: N passed, M failed`.
"""
import hashlib
import re
import shutil
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST, ROOT, Sipp, TestFailure, _bindable, check, free_port, wait_for  # noqa: E402

WORKDIR = ROOT / "build" / "integration" / "selftest"


class Bench:
    """Starts sipps in WORKDIR and kills them all at the end."""

    def __init__(self, name):
        self.name = name
        self.sipps = []

    def peer(self, scenario, service="callqd", keys=(), args=()):
        return self.sipp(f"{self.name}-peer", f"peers/{scenario}", "127.0.0.1:9", service, keys, args)

    def sipp(self, name, scenario, remote, service, keys=(), args=(), ooc=None):
        s = Sipp(WORKDIR, name, scenario, remote, service, keys=keys, args=args, ooc=ooc, timeout_s=20)
        self.sipps.append(s)
        # The next sipp may send to this one at once: wait until it has bound its SIP port.
        wait_for(lambda: not s.running() or not _bindable(HOST, s.port, socket.SOCK_DGRAM), 5,
                 f"sipp {name} to bind port {s.port}")
        return s

    def close(self):
        for s in self.sipps:
            s.kill()


def registrar(bench, password="secret1001", expires=3600):
    return bench.peer("registrar.xml", keys=[("user", "1001"), ("password", password), ("expires", expires)])


def phone(bench, registrar_peer, mode, password="secret1001"):
    return bench.sipp(f"{bench.name}-phone", "register.xml", f"{HOST}:{registrar_peer.port}", "1001",
                      keys=[("expires", 3600), ("rtpport", free_port())], args=["-au", "1001", "-ap", password, "-d", 500],
                      ooc=f"agent_{mode}.xml")


def offer_to(bench, phone_sipp):
    offer = bench.sipp(f"{bench.name}-offer", "peers/offer.xml", f"{HOST}:{phone_sipp.port}", "1001")
    offer.expect_success(20)


def caller(bench, peer, scenario, service="6000", from_user="5551234", auth=None):
    args = ["-d", 300]
    if auth:
        args += ["-au", auth[0], "-ap", auth[1], "-auth_uri", f"{service}@{HOST}:{peer.port}"]
    return bench.sipp(f"{bench.name}-caller", scenario, f"{HOST}:{peer.port}", service,
                      keys=[("rtpport", free_port()), ("fmts", "0 8 101"), ("attrs", "a=rtpmap:101 telephone-event/8000"),
                            ("from_user", from_user)], args=args)


def check_answer(bench):
    reg = registrar(bench)
    p = phone(bench, reg, "answer")
    p.wait_event("REGISTERED", 10)
    reg.expect_success(10)
    offer_to(bench, p)
    p.wait_event("BYE", 5)
    check(p.events() == ["REGISTERED", "INVITE", "ANSWERED", "BYE"], f"events {p.events()}")


def check_reject(bench):
    reg = registrar(bench)
    p = phone(bench, reg, "reject")
    p.wait_event("REGISTERED", 10)
    offer_to(bench, p)
    p.wait_event("REJECTED", 5)


def check_ring(bench):
    reg = registrar(bench)
    p = phone(bench, reg, "ring")
    p.wait_event("REGISTERED", 10)
    offer_to(bench, p)
    p.wait_event("CANCEL", 5)


def check_register_wrong_password_never_registers(bench):
    reg = registrar(bench)
    p = phone(bench, reg, "answer", password="wrong")
    reg.expect_success(10)
    p.wait(20)
    check("REGISTERED" not in p.events(), "registered with a wrong password")


def check_register_denied(bench):
    reg = registrar(bench)
    s = bench.sipp(f"{bench.name}-register", "register_denied.xml", f"{HOST}:{reg.port}", "1001",
                   args=["-au", "1001", "-ap", "wrong"])
    s.expect_success(20)
    check(s.responses("REGISTER") == [401, 403], f"REGISTER responses {s.responses('REGISTER')}")


def check_register_denied_fails_on_200(bench):
    reg = registrar(bench)
    s = bench.sipp(f"{bench.name}-register", "register_denied.xml", f"{HOST}:{reg.port}", "1001",
                   args=["-au", "1001", "-ap", "secret1001"])
    check(s.wait(20) != 0, "register_denied.xml completed although the REGISTER was accepted")


def check_caller(bench):
    peer = bench.peer("queue.xml")
    c = caller(bench, peer, "caller.xml")
    c.expect_success(20)
    peer.expect_success(10)
    check("telephone-event" in c.answer_sdp(), f"answer SDP {c.answer_sdp()!r}")


def check_refusals(bench):
    for status in (403, 404, 407, 488):
        peer = bench.peer("refuse.xml")
        c = caller(bench, peer, "call_rejected.xml", service=str(status))
        c.expect_success(20)
        peer.expect_success(10)
        check(c.final_response()[0] == status, f"final response {c.final_response()[0]}, expected {status}")


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def digest_matches(request, password):
    """Whether the request's Proxy-Authorization is a valid RFC 2617 qop=auth MD5 digest for password,
    computed over the request's own method and Request-URI."""
    method, uri = request.split()[:2]
    header = re.search(r"^Proxy-Authorization:\s*Digest\s+(.*)$", request, re.M | re.I)
    check(header, f"no Proxy-Authorization in:\n{request}")
    params = {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', header.group(1))}
    ha1 = md5(f"{params['username']}:{params['realm']}:{password}")
    ha2 = md5(f"{method}:{params['uri']}")
    expected = md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}")
    return params["uri"] == uri and params["response"] == expected


def authenticated_invite(sipp):
    invites = [text for direction, text in sipp.messages() if direction == "sent" and text.startswith("INVITE ")]
    check(len(invites) == 2, f"{len(invites)} INVITEs sent, expected 2")
    return invites[1]


def check_feature(bench):
    peer = bench.peer("feature.xml")
    c = caller(bench, peer, "feature.xml", service="*50", from_user="1001", auth=("1001", "secret1001"))
    c.expect_success(20)
    peer.expect_success(10)
    check(c.responses() == [407, 200], f"INVITE responses {c.responses()}")
    check(digest_matches(authenticated_invite(c), "secret1001"), "sipp's digest does not verify")


def check_feature_wrong_password_does_not_verify(bench):
    peer = bench.peer("feature.xml")
    c = caller(bench, peer, "feature.xml", service="*50", from_user="1001", auth=("1001", "wrong"))
    c.expect_success(20)
    check(not digest_matches(authenticated_invite(c), "secret1001"), "a wrong password's digest verifies")


CHECKS = [check_answer, check_reject, check_ring, check_register_wrong_password_never_registers,
          check_register_denied, check_register_denied_fails_on_200, check_caller, check_refusals, check_feature,
          check_feature_wrong_password_does_not_verify]


def main():
    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    passed = failed = 0
    for fn in CHECKS:
        name = fn.__name__.removeprefix("check_")
        bench = Bench(name)
        start = time.monotonic()
        try:
            fn(bench)
            passed += 1
            print(f"PASS {name} ({time.monotonic() - start:.1f}s)", flush=True)
        except TestFailure as e:
            failed += 1
            print(f"FAIL {name}: {e}", flush=True)
        finally:
            bench.close()
    print(f"selftest: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
