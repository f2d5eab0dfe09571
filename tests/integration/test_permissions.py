"""Permissions: the verb x role table of the README, walked verb by verb, and the control passwords.

Four identities authenticate with `auth` (callqctl reading request lines from stdin): agent 1001, manager 1100
(manages support and sales), manager 2100 (manages only `other`) and admin 1900. Each row of the table names a
request, the set-up to run first as the local administrator (the test's own uid), and what each identity must
get: "ok", "denied", or another ERR code that shows the request got past the permission check.
"""
import sqlite3
import subprocess
import time

from harness import CALLQCTL, check

AGENT, MANAGER, OTHER, ADMIN = "1001", "1100", "2100", "1900"
ROLES = (AGENT, MANAGER, OTHER, ADMIN)
PASSWORDS = {AGENT: "pass1001", MANAGER: "pass1100", OTHER: "pw2100", ADMIN: "pass1900"}


def session(env, lines):
    """Sends request lines on one connection; returns the list of replies, each a list of lines."""
    p = subprocess.run([str(CALLQCTL), "-s", env.daemon.socket_path], input="".join(f"{l}\n" for l in lines),
                       capture_output=True, text=True, timeout=20)
    out = p.stdout.splitlines()
    replies = []
    while out:
        head = out.pop(0)
        count = 0
        if head.startswith("OK ") and head.endswith((" rows", " row")) and head.split()[1].isdigit():
            count = int(head.split()[1])
        replies.append([head] + out[:count])
        del out[:count]
    check(len(replies) == len(lines), f"expected {len(lines)} replies to {lines}, got {p.stdout!r}")
    return replies


def as_member(env, login, line, password=None):
    """The reply (its lines) to one request made after `auth login password`."""
    auth, reply = session(env, [f'auth {login} "{password or PASSWORDS[login]}"', line])
    check(auth[0].startswith(f"OK {login} "), f"auth {login}: {auth}")
    return reply


def outcome(reply):
    head = reply[0]
    return "ok" if head == "OK" or head.startswith("OK ") else head.split()[1]


def setup_identities(env):
    """Queue `other` managed by 2100 with agent 2001 in it; a second support agent 1002 stays as the target."""
    env.ctl.ok("member.add", OTHER, "name=Other Manager", "password=sip2100",
               f"control_password={PASSWORDS[OTHER]}", "role=manager")
    env.ctl.ok("member.add", "2001", "name=Other Agent", "password=pw2001", "role=agent")
    env.ctl.ok("queue.create", "other", "number=6900")
    env.ctl.ok("queue.assign", "other", OTHER, "role=manager")
    env.ctl.ok("queue.assign", "other", "2001")
    env.ctl.ok("skill.set", "french", "match=any", "rule=caller_number starts_with +33")


def set_up(env, cmd):
    """A set-up request as the local administrator: OK, or ERR exists when an earlier identity's set-up (that
    identity was denied the request undoing it) left the state in place already."""
    reply = env.ctl.run(*cmd)
    check(reply.ok or reply.code == "exists", f"set-up {' '.join(cmd)} failed: {reply!r}")


def walk(env, table):
    failures = []
    for line, setup, expect in table:
        for role, want in zip(ROLES, expect):
            for cmd in setup:
                set_up(env, cmd)
            got = outcome(as_member(env, role, line.format(role=role)))
            if got != want:
                failures.append(f"{line!r} as {role}: got {got}, expected {want}")
    check(not failures, "permission table violated:\n  " + "\n  ".join(failures))


D = "denied"

# (request, set-up as local admin before each identity, expected for agent, manager, other manager, admin)
QUEUE_TABLE = [
    ("help", [], ("ok", "ok", "ok", "ok")),
    ("whoami", [], ("ok", "ok", "ok", "ok")),
    ("queue.list", [], ("ok", "ok", "ok", "ok")),
    ("queue.show support", [], ("ok", "ok", D, "ok")),
    ("queue.create q{role} number=7{role}", [], (D, D, D, "ok")),
    ("queue.set support timeout=601", [], (D, "ok", D, "ok")),
    ("queue.pause support", [], (D, "ok", D, "ok")),
    ("queue.resume support", [], (D, "ok", D, "ok")),
    ("queue.delete tmpq", [("queue.create", "tmpq", "number=6990")], (D, D, D, "ok")),
    ("queue.assign support 2001", [], (D, "ok", D, "ok")),
    ("queue.unassign support 2001", [("queue.assign", "support", "2001")], (D, "ok", D, "ok")),
    ("queue.members support", [], ("ok", "ok", D, "ok")),
    ("calls support", [], ("ok", "ok", D, "ok")),
    ("stats support", [], ("ok", "ok", D, "ok")),
]

MEMBER_TABLE = [
    ("member.add 3{role} name=x password=pw role=agent", [], (D, D, D, "ok")),
    ("member.set 1002 name=Renamed", [], (D, D, D, "ok")),
    ("member.del tmpm", [("member.add", "tmpm", "password=pw", "role=agent")], (D, D, D, "ok")),
    ("member.list", [], (D, "ok", "ok", "ok")),
    ("member.show 1002", [], (D, "ok", D, "ok")),
    ("member.show", [], ("ok", "ok", "ok", "ok")),
    ("agent.login 1002", [], (D, "ok", D, "ok")),
    ("agent.away 1002 reason=lunch", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.ready 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.pause support 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.resume support 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.pause all 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.resume all 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.pause other 2001", [("agent.login", "2001")], (D, D, "ok", "ok")),
    ("agent.extend 1002", [], (D, "invalid", D, "invalid")),
    ("agent.show 1002", [], (D, "ok", D, "ok")),
    ("agent.logout 1002", [("agent.login", "1002")], (D, "ok", D, "ok")),
    ("agent.login", [], ("ok", "ok", "ok", "ok")),
    ("agent.extend", [], ("invalid", "invalid", "invalid", "invalid")),
    ("agent.show", [], ("ok", "ok", "ok", "ok")),
    ("agent.logout", [], ("ok", "ok", "ok", "ok")),
]

SKILL_TABLE = [
    ('skill.set s{role} match=all rule="callee_number starts_with 6"', [], (D, "ok", "ok", "ok")),
    ("skill.list", [], (D, "ok", "ok", "ok")),
    ("skill.assign 1002 french", [], (D, "ok", D, "ok")),
    ("skill.unassign 1002 french", [("skill.assign", "1002", "french")], (D, "ok", D, "ok")),
    ("skill.assign 2001 french", [], (D, D, "ok", "ok")),
    ("skill.del tmps", [("skill.set", "tmps", "match=all", "rule=caller_name matches x")], (D, D, D, "ok")),
]


def test_permissions_queues(env):
    setup_identities(env)
    walk(env, QUEUE_TABLE)


def test_permissions_members_agents(env):
    setup_identities(env)
    walk(env, MEMBER_TABLE)


def test_permissions_skills(env):
    setup_identities(env)
    walk(env, SKILL_TABLE)


def waiting_calls(env, count):
    def seen():
        rows = env.ctl.ok("calls", "support").rows
        return len(rows) >= count and rows
    from harness import wait_for
    return wait_for(seen, 15, f"{count} calls waiting in support")


def test_permissions_calls(env):
    """call.bump, call.answer and call.hangup on real waiting calls (nobody is logged in to take them)."""
    setup_identities(env)
    env.call("6000", duration_ms=40000)
    env.call("6000", duration_ms=40000, from_user="5551235")
    first, second = (row["call"] for row in waiting_calls(env, 2)[:2])
    walk(env, [
        (f"call.bump {second}", [], (D, "ok", D, "ok")),
        # 1002 has no phone registered: past the permission check, the request is refused as invalid.
        (f"call.answer {second} 1002", [], (D, "invalid", D, "invalid")),
        (f"call.answer {second} 2001", [], (D, D, D, "invalid")),
    ])
    check(outcome(as_member(env, AGENT, f"call.hangup {first}")) == D, "an agent hung up a call")
    check(outcome(as_member(env, OTHER, f"call.hangup {first}")) == D, "another queue's manager hung up a call")
    check(outcome(as_member(env, MANAGER, f"call.hangup {first}")) == "ok", "the manager could not hang up")
    check(outcome(as_member(env, ADMIN, f"call.hangup {second}")) == "ok", "the admin could not hang up")


def rows_of(reply):
    from harness import parse_row
    return [parse_row(line) for line in reply[1:]]


def test_what_each_role_sees(env):
    setup_identities(env)
    env.ctl.ok("skill.assign", "2001", "french")
    env.ctl.ok("skill.assign", "1002", "french")
    queues = lambda who: sorted(r["name"] for r in rows_of(as_member(env, who, "queue.list")))
    check(queues(AGENT) == ["sales", "support"], f"agent's queue.list: {queues(AGENT)}")
    check(queues(OTHER) == ["other"], f"other manager's queue.list: {queues(OTHER)}")
    check(queues(ADMIN) == ["other", "sales", "support"], f"admin's queue.list: {queues(ADMIN)}")

    members = lambda who: sorted(r["login"] for r in rows_of(as_member(env, who, "queue.members support")))
    check(members(AGENT) == [AGENT], f"an agent sees others without show_agents: {members(AGENT)}")
    check(members(MANAGER) == ["1001", "1002", "1003", "1100"], f"manager's queue.members: {members(MANAGER)}")
    env.ctl.ok("queue.set", "support", "show_agents=yes")
    check(members(AGENT) == ["1001", "1002", "1003", "1100"], f"show_agents=yes: {members(AGENT)}")

    listed = lambda who: sorted(r["login"] for r in rows_of(as_member(env, who, "member.list")))
    check(listed(OTHER) == ["2001", OTHER], f"other manager's member.list: {listed(OTHER)}")
    check("2001" not in listed(MANAGER), f"manager sees a member of a queue not theirs: {listed(MANAGER)}")

    holders = lambda who: rows_of(as_member(env, who, "skill.list"))[0]["members"]
    check(holders(OTHER) == "2001", f"other manager's skill.list members: {holders(OTHER)}")
    check(holders(ADMIN) == "1002,2001", f"admin's skill.list members: {holders(ADMIN)}")


def test_passwords_hashed_and_checked(env):
    env.ctl.ok("member.add", "2002", "name=New", "password=sip first", 'control_password=first pw', "role=agent")
    env.ctl.ok("member.add", "2003", "name=No Control", "password=sip2003", "role=agent")
    db = env.workdir / "run" / "callq.db"
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT login, password_hash FROM members WHERE password_hash != ''"))
    check("2003" not in stored, "a member added without control_password has a control password")
    for login, value in stored.items():
        check(value.startswith("pbkdf2-sha256$") and "pass" not in value and "first" not in value,
              f"{login}'s control password is not stored as a salted hash: {value!r}")
        iterations = int(value.split("$")[1])
        check(iterations >= 50000, f"{login}: {iterations} iterations")
    check(len(set(stored.values())) == len(stored), "two members share a hash: no salt?")

    check(outcome(as_member(env, "2002", "whoami", "first pw")) == "ok", "new member's password refused")
    sip, _ = session(env, ['auth 2002 "sip first"', "whoami"])
    check(sip[0].startswith("ERR denied"), f"the SIP password opened the control socket: {sip}")
    nopw, _ = session(env, ["auth 2003 sip2003", "whoami"])
    check(nopw[0].startswith("ERR denied"), f"a member without a control password authenticated: {nopw}")
    env.ctl.ok("member.set", "2002", "control_password=second")
    auth, _ = session(env, ['auth 2002 "first pw"', "whoami"])
    check(auth[0].startswith("ERR denied"), f"old password still accepted: {auth}")
    check(outcome(as_member(env, "2002", "whoami", "second")) == "ok", "changed password refused")
    env.ctl.ok("member.set", "2002", "password=new sip")
    check(outcome(as_member(env, "2002", "whoami", "second")) == "ok", "a new SIP password changed the control one")
    env.daemon.restart()
    check(outcome(as_member(env, "2002", "whoami", "second")) == "ok", "password lost by a restart")


def test_failed_auth_slowed_and_logged(env):
    replies = session(env, ["auth 1001 wrong1", "auth 1001 wrong2", "auth 1001 wrong3", "auth 1001 pass1001",
                            "whoami"])
    heads = [r[0] for r in replies]
    check(all(h == "ERR denied bad login or password" for h in heads[:3]), f"failed auths: {heads}")
    check(heads[3] == "ERR denied too many attempts, retry in 2 s", f"4th auth after 3 failures: {heads[3]}")
    check("role=admin" in replies[4][1], f"a refused auth changed the identity: {replies[4]}")
    log = env.daemon.log_path.read_text(errors="replace")
    check(log.count("failed auth for '1001'") == 3, f"failed auths not logged:\n{env.daemon.log_tail()}")
    check(not any(f"wrong{n}" in log for n in (1, 2, 3)), "a password reached the log")

    # The wait ends: here a connection waits it out, then authenticates (another login: 1001 has had
    # its three free failures across connections).
    p = subprocess.Popen([str(CALLQCTL), "-s", env.daemon.socket_path], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    for n in range(3):
        p.stdin.write(f"auth 1002 bad{n}\n")
    p.stdin.flush()
    # The 2 s wait starts at the third refusal: read the refusals first, so the sleep cannot start early.
    refusals = [p.stdout.readline().rstrip("\n") for _ in range(3)]
    check(all(r == "ERR denied bad login or password" for r in refusals), f"failed auths: {refusals}")
    time.sleep(2.5)
    out, _ = p.communicate("auth 1002 pass1002\nwhoami\n", timeout=10)
    lines = refusals + out.splitlines()
    check(lines[3] == "OK 1002 agent", f"auth after the wait: {lines}")
    check(outcome(as_member(env, AGENT, "whoami")) == "ok", "a fresh connection was refused")
    unknown, _ = session(env, ["auth 9999 secret", "whoami"])
    check(unknown[0] == "ERR denied bad login or password", f"unknown login: {unknown}")
