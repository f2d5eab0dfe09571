"""Outbound gateways and the trunk ACL verbs (issue 9), against sipp standing in for a SIP provider on its own
loopback address: registration with digest auth and refresh, backoff after refusals, a call escalated to
gateway:NAME/NUMBER (and to a uri: on the gateway's host) answering the provider's 407, acl.add / acl.del
without a restart, and who may use these verbs."""
import hashlib
import re
import socket
import time

from harness import _bindable, check, wait_for
from test_calls import expect_refusal
from test_permissions import as_member
from test_routing import tone_arrives

PROVIDER_IP = "127.0.0.5"


def provider(env, scenario, name="provider", keys=(), args=()):
    """A sipp provider, listening before this returns (else the first REGISTER meets a closed port)."""
    prov = env.sipp(name, scenario, service="gw", ip=PROVIDER_IP, keys=keys, args=args)
    wait_for(lambda: not _bindable(PROVIDER_IP, prov.port, socket.SOCK_DGRAM), 5, f"sipp {name} to listen")
    return prov


def register_ticks(prov):
    """sipp clock ticks (ms) of each REGISTER the refusing provider logged."""
    return [int(e.split()[1]) for e in prov.events() if e.startswith("REGISTER ")]


def test_gateway_registers_and_refreshes(env):
    prov = provider(env, "provider_register.xml", keys=[("expires", 10)])
    env.ctl.ok("gateway.add", "trunk1", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=gwsecret", "register=yes", "expires=10")
    row = env.wait_row(10, "gateway.show", "trunk1", state="registered")
    check(row["failures"] == "0" and row["password"] == "(set)", f"gateway row: {row}")
    listing = env.ctl.ok("gateway.list")
    check(len(listing.rows) == 1 and "gwsecret" not in listing.stdout, f"gateway.list: {listing!r}")
    check(prov.count("REGISTER") == 2, f"provider saw {prov.events()}")
    register = next(t for d, t in prov.messages() if d == "received" and t.startswith("REGISTER"))
    check(re.search(r"^From:.*sip:gwuser@127\.0\.0\.5", register, re.M | re.I), f"REGISTER From: {register}")
    # nua refreshes the 10 s registration before it expires; the refresh passes the challenge on its own.
    prov.wait_event("REFRESHED", 12)
    check(env.ctl.row("gateway.show", "trunk1")["state"] == "registered", "not registered after the refresh")
    env.ctl.ok("gateway.del", "trunk1")
    check(env.ctl.ok("gateway.list").rows == [], "gateway.del left a gateway")
    env.ctl.err("notfound", "gateway.show", "trunk1")


def test_gateway_wrong_password_fails_once(env):
    """One digest answer per challenge: a refused answer is a failure, not a loop of REGISTERs."""
    prov = provider(env, "provider_register.xml", keys=[("expires", 60)])
    env.ctl.ok("gateway.add", "trunk1", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=wrong", "register=yes")
    prov.wait_event("BADAUTH", 10)
    row = env.wait_row(5, "gateway.show", "trunk1", state="failed", failures=1)
    check("403" in row["reason"] and 0 < int(row["retry_in"]) <= 5, f"gateway row: {row}")
    check(prov.count("REGISTER") == 2, f"REGISTERs after a wrong password: {prov.events()}")


def test_gateway_backoff_against_refusing_provider(env):
    """A provider that answers every REGISTER with 403: attempts at 0, 5 s, 15 s ... so a 12 s window
    after the first holds exactly two."""
    prov = provider(env, "provider_refuse.xml", args=["-m", "50"])
    env.ctl.ok("gateway.add", "refuser", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=gwsecret", "register=yes")
    wait_for(lambda: register_ticks(prov), 10, "the first REGISTER")
    first = time.monotonic()
    row = env.wait_row(5, "gateway.show", "refuser", state="failed")
    check("403" in row["reason"] and int(row["next_retry"]) > time.time(), f"gateway row: {row}")
    time.sleep(max(0.0, first + 12 - time.monotonic()))   # a rate is measured over a window
    ticks = register_ticks(prov)
    check(len(ticks) == 2, f"{len(ticks)} REGISTERs in the first 12 s (backoff allows 2): {ticks}")
    check(ticks[1] - ticks[0] >= 4500, f"second REGISTER {ticks[1] - ticks[0]} ms after the first")
    row = env.ctl.row("gateway.show", "refuser")
    check(row["state"] == "failed" and row["failures"] == "2" and int(row["retry_in"]) > 0,
          f"after two refusals: {row}")


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def check_digest(invite, header, method, username, password):
    """The digest in `header` of this request is right for username/password (RFC 2617, qop=auth)."""
    m = re.search(rf"^{header}:\s*Digest (.*)$", invite, re.M | re.I)
    check(m, f"no {header} in: {invite}")
    p = dict((k.lower(), v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', m.group(1)))
    check(p.get("username") == username and p.get("qop") == "auth", f"{header}: {p}")
    ha1 = md5(f"{username}:{p['realm']}:{password}")
    ha2 = md5(f"{method}:{p['uri']}")
    want = md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
    check(p.get("response") == want, f"{header}: wrong digest response {p}")


def call_through(env, dest, prov, prov_rtp, number):
    env.ctl.ok("queue.set", "support", "timeout_if_empty=yes", f"escalation_dest={dest}")
    call = env.call("6000", duration_ms=6000)
    prov.wait_event("ANSWERED", 10)
    tone_arrives(call.rtp, prov_rtp, "caller -> provider")
    tone_arrives(prov_rtp, call.rtp, "provider -> caller")
    call.sipp.expect_success(20)
    prov.wait_event("BYE", 10)
    invites = [t for d, t in prov.messages() if d == "received" and t.startswith("INVITE")]
    check(len(invites) == 2, f"provider got {len(invites)} INVITEs, expected 2 (challenged, then answered)")
    check(invites[0].startswith(f"INVITE sip:{number}@{PROVIDER_IP}:{prov.port}"), f"INVITE: {invites[0]}")
    check(re.search(rf"^From:.*sip:gwuser@{re.escape(PROVIDER_IP)}", invites[0], re.M | re.I),
          f"From of the INVITE: {invites[0]}")
    check_digest(invites[1], "Proxy-Authorization", "INVITE", "gwuser", "gwsecret")


def test_call_through_gateway(env):
    env.ctl.err("invalid", "queue.set", "support", "escalation_dest=gateway:nowhere/15551234")
    env.ctl.err("invalid", "queue.set", "support", "escalation_dest=gateway:out/12ab")
    prov_rtp = env.rtp_port(PROVIDER_IP)
    prov = provider(env, "provider_call.xml", keys=[("rtpport", prov_rtp.port)])
    env.ctl.ok("gateway.add", "out", f"uri=sip:{PROVIDER_IP}:{prov.port}", "username=gwuser",
               "password=gwsecret")
    call_through(env, "gateway:out/15551234", prov, prov_rtp, "15551234")

    # A uri: destination on the gateway's host goes out with the gateway's From and credentials.
    prov_rtp2 = env.rtp_port(PROVIDER_IP)
    prov2 = provider(env, "provider_call.xml", name="provider2", keys=[("rtpport", prov_rtp2.port)])
    env.ctl.ok("gateway.set", "out", f"uri=sip:{PROVIDER_IP}:{prov2.port}")
    call_through(env, f"uri:sip:15550000@{PROVIDER_IP}:{prov2.port}", prov2, prov_rtp2, "15550000")

    # Gateways are kept in SQLite.
    env.daemon.restart()
    row = env.ctl.row("gateway.show", "out")
    check(row["uri"] == f"sip:{PROVIDER_IP}:{prov2.port}" and row["username"] == "gwuser", f"after restart: {row}")


def test_acl_verbs_apply_at_once(env):
    expect_refusal(env, 403, ip="127.0.0.7")
    env.ctl.ok("acl.add", "127.0.0.7/32")
    env.ctl.err("exists", "acl.add", "127.0.0.7/32")
    env.ctl.err("invalid", "acl.add", "127.0.0.300/32")
    check([r["cidr"] for r in env.ctl.ok("acl.list").rows] == ["127.0.0.1/32", "127.0.0.7/32"],
          f"acl.list: {env.ctl.ok('acl.list')!r}")
    call = env.call("6000", duration_ms=500, ip="127.0.0.7")
    call.sipp.expect_success(20)
    env.ctl.ok("acl.del", "127.0.0.7/32")
    env.ctl.err("notfound", "acl.del", "127.0.0.7/32")
    expect_refusal(env, 403, ip="127.0.0.7")


def test_gateway_and_acl_verbs_are_admin_only(env):
    env.ctl.ok("gateway.add", "out", "uri=sip:127.0.0.5", "username=u", "password=p")
    env.ctl.err("invalid", "gateway.add", "bad", "uri=sip:user@127.0.0.5")
    env.ctl.err("invalid", "gateway.add", "bad", "uri=sip:127.0.0.5", "register=yes")
    env.ctl.err("invalid", "gateway.set", "out", "password=a:b")
    env.ctl.err("exists", "gateway.add", "out", "uri=sip:127.0.0.5")
    for login in ("1001", "1100"):
        for line in ("gateway.list", "gateway.show out", "gateway.add x uri=sip:127.0.0.9",
                     "gateway.set out register=no", "gateway.del out", "acl.list", "acl.add 10.0.0.0/8",
                     "acl.del 127.0.0.1/32"):
            reply = as_member(env, login, line)
            check(reply[0].startswith("ERR denied"), f"{login}: {line} -> {reply}")
    reply = as_member(env, "1900", "gateway.show out")
    check(reply[0] == "OK 1 rows" and "password=(set)" in reply[1] and "=p " not in reply[1], f"admin: {reply}")
