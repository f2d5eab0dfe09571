"""The product guide, row by row (issue 11), over real SIP: member priorities and their widening, skills-strict
as the guide reads it, unknown keys refused, timeout-if-empty for waiting calls, who sees agents' names in
`calls`, `matches` (plain value and regex), queue.list sorting by the viewer's own state, feature-code verbs,
several numbers (dids) into one queue, the Members tab, managers setting the recording flag, *54 / *55 / *56,
hold files that must exist, and escalated calls counted in the queue they join."""
import time

from harness import check, wait_for
from test_features import dial_feature
from test_permissions import as_member, outcome


def as_(env, login, line):
    """The reply to one request made as a demo member (control password pass<login>)."""
    return as_member(env, login, line, password=f"pass{login}")


def rows(reply):
    """The key=value rows of an as_member reply (its first line is the head)."""
    out = []
    for line in reply[1:]:
        row = {}
        for word in line.split():
            key, _, value = word.partition("=")
            row[key] = value.strip('"')
        out.append(row)
    return out


def ringing(phone):
    return phone.sipp.count("INVITE")


def member_row(env, queue, login):
    return next(r for r in env.ctl.ok("queue.members", queue).rows if r["login"] == login)


# ---------------------------------------------------------------------------------------------- priorities

def test_priorities(env):
    """1001 at level 2, 1002 at level 1: calls go to 1002 first; with 1002 busy, 1001 takes the next call at
    once (no priority_step) or only after priority_step seconds. Levels show in queue.members, persist across a
    restart, and an agent may lower its own level but not raise it."""
    env.ctl.ok("queue.set", "support", "recovery=0")
    env.ctl.ok("queue.assign", "support", "1001", "active=yes", "priority=2")
    check(member_row(env, "support", "1001")["priority"] == "2", "queue.members does not show priority=2")
    check(member_row(env, "support", "1002")["priority"] == "1", "the default priority is not 1")
    p1, p2 = env.phone("1001", answer_ms=200), env.phone("1002", answer_ms=200)
    env.make_ready("1001")
    env.make_ready("1002")

    first = env.call("6000", duration_ms=20000, from_user="5550001")
    p2.sipp.wait_event("ANSWERED", 10)
    check(ringing(p1) == 0, "1001 (level 2) was offered a call while 1002 (level 1) was free")
    second = env.call("6000", duration_ms=2000, from_user="5550002")
    p1.sipp.wait_event("ANSWERED", 10)       # no priority_step: level 2 at once
    second.sipp.expect_success(20)
    env.wait_agent("1001", activity="idle")

    env.ctl.ok("queue.set", "support", "priority_step=4")
    start = time.monotonic()
    third = env.call("6000", duration_ms=9000, from_user="5550003")   # hangs up 9 s after callqd answers
    p1.sipp.wait_event("ANSWERED", 15, count=2)
    waited = time.monotonic() - start
    check(waited >= 3.5, f"level 2 was offered the call after {waited:.1f} s, before priority_step=4")
    third.sipp.expect_success(20)
    first.sipp.kill()

    # An agent lowers its own priority (a larger number), never raises it.
    check(outcome(as_(env, "1001", "queue.priority support 1001 3")) == "ok", "1001 could not lower itself")
    check(outcome(as_(env, "1001", "queue.priority support 1001 1")) == "denied", "1001 raised itself")
    check(outcome(as_(env, "1001", "queue.priority support 1002 9")) == "denied", "1001 changed 1002")
    check(outcome(as_(env, "1100", "queue.priority support 1001 1")) == "ok", "the manager was refused")
    env.ctl.ok("queue.priority", "support", "1001", "5")
    env.ctl.err("invalid", "queue.priority", "support", "1001", "10")
    env.daemon.restart()
    check(member_row(env, "support", "1001")["priority"] == "5", "priority not kept across a restart")
    check(env.ctl.row("queue.show", "support")["priority_step"] == "4", "priority_step not kept")


# ---------------------------------------------------------------------------------------------- control rules

def test_unknown_keys_refused(env):
    env.ctl.err("usage", "queue.assign", "support", "1001", "prio=1")
    env.ctl.err("usage", "agent.login", "1001", "force=yes")
    env.ctl.err("usage", "calls", "support", "limt=3")
    env.ctl.err("invalid", "queue.set", "support", "timeot=30")
    check(member_row(env, "support", "1001")["priority"] == "1", "a refused request changed something")
    env.ctl.ok("queue.assign", "support", "1001", "active=yes", "priority=3")
    check(member_row(env, "support", "1001")["priority"] == "3", "priority= on queue.assign did nothing")


def test_skills_strict_guide(env):
    """Skills-strict needs an escalation; a call whose skill no *available* (logged in, ready, active) agent
    has escalates at once instead of waiting for 1001 to come back."""
    env.ctl.err("invalid", "queue.set", "support", "strategy=skills-strict")
    env.ctl.ok("queue.set", "sales", "escalation_queue=")
    env.ctl.ok("queue.set", "support", "strategy=skills-strict", "escalation_queue=sales")
    env.ctl.err("invalid", "queue.set", "support", "escalation_queue=")
    env.ctl.ok("skill.set", "es", "match=any", "rule=caller_number starts_with +34")
    env.ctl.ok("skill.assign", "1001", "es")
    env.ctl.ok("queue.unassign", "sales", "1001")
    p1, p2 = env.phone("1001", answer_ms=200), env.phone("1002", answer_ms=200)
    env.make_ready("1001")
    env.ctl.ok("agent.away", "1001", "reason=lunch")
    env.make_ready("1002")
    env.ctl.ok("agent.pause", "support", "1002")

    call = env.call("6000", duration_ms=2000, from_user="+34911000000")
    p2.sipp.wait_event("ANSWERED", 10)           # escalated to sales at once, where 1002 is ready
    check(ringing(p1) == 0, "1001 (away) was offered the call")
    call.sipp.expect_success(20)
    env.wait_stats("support", missed=1)
    env.wait_stats("sales", handled=1)


def test_timeout_if_empty_waiting_calls(env):
    """A call waits while 1001 is logged in but away; when 1001 logs out the queue is empty and the waiting
    call leaves for the escalation queue."""
    env.ctl.ok("queue.set", "sales", "escalation_queue=")
    env.ctl.ok("queue.set", "support", "timeout_if_empty=yes", "escalation_queue=sales")
    for login in ("1002", "1003"):
        env.ctl.ok("queue.unassign", "support", login)
    env.ctl.ok("queue.unassign", "sales", "1001")
    p2 = env.phone("1002", answer_ms=200)
    env.make_ready("1001")
    env.ctl.ok("agent.away", "1001")
    call = env.call("6000", duration_ms=2000, from_user="5550009")
    wait_for(lambda: env.ctl.ok("calls", "support").rows, 10, "the call to wait in support")
    env.make_ready("1002")
    check(ringing(p2) == 0, "1002 (not in support) was offered a support call")
    env.ctl.ok("agent.logout", "1001")
    p2.sipp.wait_event("ANSWERED", 10)
    call.sipp.expect_success(20)
    check(not env.ctl.ok("calls", "support").rows, "the call stayed in the empty queue")


def test_calls_show_agents(env):
    """An agent sees another agent's name in `calls` only where show_agents=yes."""
    env.phone("1001", mode="ring")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=20000, from_user="5550010")
    wait_for(lambda: any(r.get("agent") == "1001" for r in env.ctl.ok("calls", "support").rows), 10,
             "the call to ring 1001")
    seen = rows(as_(env, "1002", "calls support"))
    check(seen and all(r["agent"] == "" for r in seen), f"1002 saw another agent's name: {seen}")
    own = rows(as_(env, "1001", "calls support"))
    check(own and own[0]["agent"] == "1001", f"1001 did not see its own name: {own}")
    env.ctl.ok("queue.set", "support", "show_agents=yes")
    seen = rows(as_(env, "1002", "calls support"))
    check(seen and seen[0]["agent"] == "1001", f"with show_agents=yes 1002 did not see 1001: {seen}")
    call.sipp.kill()


def test_matches_plain_and_regex(env):
    """`matches` is an unanchored PCRE2 search: a plain value finds itself anywhere in the field (the guide's
    "ends with 5336"), a regex like ^\\+1585 anchors itself. Skills-loose routes each call to its agent, and a
    caller no skill matches (5337) to anyone."""
    env.ctl.ok("queue.set", "support", "strategy=skills-loose", "recovery=0")
    env.ctl.ok("skill.set", "ends", "match=any", "rule=caller_number matches 5336")
    env.ctl.ok("skill.set", "ny", "match=any", "rule=caller_number matches ^\\+1585")
    env.ctl.ok("skill.assign", "1003", "ends")
    env.ctl.ok("skill.assign", "1002", "ny")
    phones = {login: env.phone(login, answer_ms=200) for login in ("1001", "1002", "1003")}
    for login in phones:
        env.make_ready(login)
    for caller, want in (("+44207005336", "1003"), ("+15853611000", "1002"), ("+44207005337", None)):
        before = {login: ringing(p) for login, p in phones.items()}
        call = env.call("6000", duration_ms=1000, from_user=caller)
        who = wait_for(lambda: next((l for l, p in phones.items() if ringing(p) > before[l]), None), 10,
                       f"an agent to be offered {caller}")
        check(who == want or want is None, f"{caller} went to {who}, expected {want}")
        call.sipp.expect_success(20)
        env.wait_agent(who, activity="idle")


def test_queue_list_sort(env):
    """Sorting follows the viewer's own state in each queue; rows say it (mine=); an admin's queues it is not
    in come last."""
    env.ctl.ok("queue.create", "extra", "number=6002")
    env.ctl.ok("agent.pause", "sales", "1001")
    names = lambda reply: [r["name"] for r in rows(reply)]
    check(names(as_(env, "1001", "queue.list sort=paused")) == ["sales", "support"],
          "sort=paused does not put 1001's paused queue first")
    check(names(as_(env, "1001", "queue.list sort=active")) == ["support", "sales"],
          "sort=active does not put 1001's active queue first")
    mine = {r["name"]: r["mine"] for r in rows(as_(env, "1001", "queue.list"))}
    check(mine == {"support": "active", "sales": "paused"}, f"1001's own states: {mine}")
    env.ctl.ok("queue.assign", "extra", "1900", "active=no")
    check(names(as_(env, "1900", "queue.list sort=paused")) == ["extra", "support", "sales"],
          "an admin's paused queue is not first, or its other queues are not last")
    check(names(as_(env, "1900", "queue.list sort=active")) == ["extra", "support", "sales"],
          "an admin's queues it is not in do not come last")
    check(names(as_(env, "1900", "queue.list sort=all")) == ["support", "sales", "extra"],
          "sort=all is not creation order")


# ---------------------------------------------------------------------------------------------- features

def test_feature_verbs(env):
    """Feature codes change with verbs (admin only) and apply at once: *60 becomes `ready`, then goes away."""
    codes = {r["code"]: r["action"] for r in env.ctl.ok("feature.list").rows}
    check(codes.get("*50") == "login" and codes.get("*59") == "barge", f"feature.list: {codes}")
    check(outcome(as_(env, "1100", "feature.set *60 action=ready")) == "denied", "a manager set a code")
    env.ctl.err("invalid", "feature.set", "*60", "action=dance")
    env.ctl.err("exists", "feature.set", "6000", "action=ready")
    env.ctl.ok("feature.set", "*60", "action=ready")
    env.phone("1001")
    env.ctl.ok("agent.login", "1001")
    env.ctl.ok("agent.away", "1001")
    dial_feature(env, "*60")
    env.wait_agent("1001", ready="yes")
    env.ctl.ok("feature.del", "*60")
    env.ctl.err("notfound", "feature.del", "*60")
    check("*60" not in {r["code"] for r in env.ctl.ok("feature.list").rows}, "*60 still listed")


def test_pause_resume_extend_codes(env):
    """*54 pauses 1001 in all its queues, *55 resumes them, *56 extends recovery."""
    env.ctl.ok("queue.set", "support", "recovery=5", "recovery_extend=20")
    phone = env.phone("1001", answer_ms=200)
    env.make_ready("1001")
    dial_feature(env, "*54")
    wait_for(lambda: all(member_row(env, q, "1001")["active"] == "no" for q in ("support", "sales")), 5,
             "*54 to pause 1001 in both queues")
    dial_feature(env, "*55")
    wait_for(lambda: all(member_row(env, q, "1001")["active"] == "yes" for q in ("support", "sales")), 5,
             "*55 to resume 1001 in both queues")
    call = env.call("6000", duration_ms=1000, from_user="5550011")
    phone.sipp.wait_event("ANSWERED", 10)
    call.sipp.expect_success(20)
    env.wait_agent("1001", activity="recovery")
    dial_feature(env, "*56")
    left = int(env.ctl.row("agent.show", "1001")["recovery_left"])
    check(left > 10, f"*56 did not extend recovery: {left} s left")


# ---------------------------------------------------------------------------------------------- numbers, members

def test_dids(env):
    """support answers 6000 and its dids; a callee_number skill tells them apart."""
    env.ctl.ok("queue.set", "support", "dids=6010,6011", "strategy=skills-loose", "recovery=0")
    env.ctl.err("exists", "queue.set", "sales", "dids=6011")
    env.ctl.ok("skill.set", "line11", "match=any", "rule=callee_number matches ^6011$")
    env.ctl.ok("skill.assign", "1002", "line11")
    p1, p2 = env.phone("1001", answer_ms=200), env.phone("1002", answer_ms=200)
    env.make_ready("1001")
    env.make_ready("1002")
    call = env.call("6011", duration_ms=1000, from_user="5550012")
    p2.sipp.wait_event("ANSWERED", 10)
    check(ringing(p1) == 0, "a call to 6011 was offered to 1001, who lacks the line11 skill")
    call.sipp.expect_success(20)
    env.wait_agent("1002", activity="idle")
    call = env.call("6010", duration_ms=1000, from_user="5550013")
    wait_for(lambda: ringing(p1) or ringing(p2) > 1, 10, "a call to 6010 to be offered")
    call.sipp.expect_success(20)
    env.wait_stats("support", handled=2)


def test_members_tab(env):
    """member rows: session since login (kept across a restart), the member's queues, the handled/missed bar
    from the journal; a manager sets the recording flag of its queues' members, nothing else."""
    phone = env.phone("1001", answer_ms=200)
    env.make_ready("1001")
    row = env.ctl.row("member.show", "1001")
    check(row["queues"] == "support,sales", f"queues= {row['queues']!r}")
    call = env.call("6000", duration_ms=1000, from_user="5550014")
    phone.sipp.wait_event("ANSWERED", 10)
    call.sipp.expect_success(20)
    env.wait_row(10, "member.show", "1001", bar_handled=1, bar_missed=0)
    time.sleep(1.1)
    before = int(env.ctl.row("member.show", "1001")["session"])
    check(before >= 1, f"session={before} after more than a second logged in")
    env.daemon.restart()
    row = env.ctl.row("member.show", "1001")
    check(int(row["session"]) >= before, f"the session restarted: {row['session']} < {before}")
    check(row["bar_handled"] == "1", f"the bar lost its count across a restart: {row}")
    check(outcome(as_(env, "1100", "member.set 1001 record=yes")) == "ok", "the manager could not set record")
    check(env.ctl.row("member.show", "1001")["record"] == "yes", "record= not set")
    check(outcome(as_(env, "1100", "member.set 1001 name=X")) == "denied", "the manager renamed a member")
    check(outcome(as_(env, "1001", "member.set 1001 record=no")) == "denied", "an agent set record")
    env.ctl.ok("agent.logout", "1001")
    check(env.ctl.row("member.show", "1001")["session"] == "0", "a logged-out member has a session")


def test_hold_file_must_exist(env):
    """A hold loop naming a file the media folder does not have is refused; an imported one is accepted."""
    reply = env.ctl.err("invalid", "queue.set", "support", "hold=position,file:nope.wav,repeat")
    check("nope.wav" in reply.stdout, f"the error does not name the file: {reply!r}")
    env.ctl.ok("queue.set", "support", "hold=position,file:music.wav,repeat")
    check(env.ctl.row("queue.show", "support")["hold"] == "position,file:music.wav,repeat", "hold not set")


def test_escalated_call_counts_in_its_new_queue(env):
    """A call times out of support after 2 s into `spill`, where 1002 answers it about a second later: spill
    counts it offered and handled with its own wait (about 1 s, not 3); `calls` showed both waits."""
    env.ctl.ok("queue.create", "spill", "number=6003", "recovery=0")
    env.ctl.ok("queue.assign", "spill", "1002", "active=yes")
    env.ctl.ok("queue.set", "support", "timeout=2", "escalation_queue=spill")
    phone = env.phone("1002", answer_ms=100)
    call = env.call("6000", duration_ms=8000, from_user="5550020")
    wait_for(lambda: env.ctl.ok("calls", "spill").rows, 10, "the call to move to spill")
    time.sleep(1)
    row = env.ctl.ok("calls", "spill").rows[0]
    check(int(row["wait"]) >= int(row["queue_wait"]) + 2, f"calls does not tell the two waits apart: {row}")
    env.make_ready("1002")
    phone.sipp.wait_event("ANSWERED", 10)
    stats = env.wait_stats("spill", handled=1)
    check(int(stats["avg_wait"]) <= 2, f"spill's avg_wait {stats['avg_wait']} counts support's wait too")
    report = {r["name"]: r for r in env.ctl.ok("report", "queue=spill", "queue=support", "from=1").rows
              if r.get("type") == "queue"}
    check(report["spill"]["offered"] == "1", f"spill did not count the escalated call offered: {report}")
    check(report["support"]["missed"] == "1", f"support did not count the call missed: {report}")
    check(int(report["spill"]["avg_wait"]) <= 2, f"spill's reported wait counts support's: {report['spill']}")
    call.sipp.expect_success(20)
