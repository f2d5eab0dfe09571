"""Skills over the control socket (define, list, assign, survive a restart, bad patterns refused with PCRE2's
words), and the references between queues that queue.create/set/delete check: escalation targets, destinations
and escalation loops."""
from harness import check


def skill_rows(env):
    return {row["name"]: row for row in env.ctl.ok("skill.list").rows}


def test_skill_bad_regex(env):
    reply = env.ctl.err("invalid", "skill.set", "broken", "match=all", "rule=caller_number matches ^(+1")
    check("PCRE2" in reply.text and "offset" in reply.text, f"no PCRE2 error text and offset: {reply!r}")
    check("broken" not in skill_rows(env), "a refused skill was defined anyway")
    env.ctl.err("invalid", "skill.set", "bad", "match=all", "rule=caller_colour starts_with 1")
    env.ctl.err("invalid", "skill.set", "bad", "match=all", "rule=caller_number sounds_like 1")
    env.ctl.err("usage", "skill.set", "bad", "match=some", "rule=caller_number starts_with 1")
    env.ctl.err("usage", "skill.set", "bad", "match=all")
    # A refused redefinition leaves the old one in force.
    env.ctl.ok("skill.set", "kept", "match=all", "rule=caller_number starts_with +1")
    env.ctl.err("invalid", "skill.set", "kept", "match=any", "rule=caller_name matches (")
    kept = skill_rows(env)["kept"]
    check(kept["match"] == "all" and kept["rule1"] == "caller_number starts_with +1", f"kept: {kept}")


def test_skills_list_assign_and_restart(env):
    env.ctl.ok("skill.set", "spanish", "match=any", "rule=caller_number starts_with +34",
               "rule=caller_name matches ^Se(ñ|n)or ")
    env.ctl.ok("skill.set", "vip", "match=all", "rule=caller_number matches 5336$")
    env.ctl.ok("skill.assign", "1001", "spanish")
    env.ctl.ok("skill.assign", "1002", "spanish")
    env.ctl.ok("skill.assign", "1002", "vip")
    env.ctl.err("notfound", "skill.assign", "1001", "klingon")
    env.ctl.err("notfound", "skill.assign", "9999", "vip")
    env.ctl.err("notfound", "skill.unassign", "1001", "vip")

    def expect_state():
        rows = env.ctl.ok("skill.list").rows
        check([r["name"] for r in rows] == ["spanish", "vip"], f"skill.list order: {rows}")
        spanish, vip = rows
        check(spanish["match"] == "any" and spanish["rules"] == "2"
              and spanish["rule1"] == "caller_number starts_with +34"
              and spanish["rule2"] == "caller_name matches ^Se(ñ|n)or ", f"spanish: {spanish}")
        check(spanish["members"] == "1001,1002", f"spanish members: {spanish}")
        check(vip["match"] == "all" and vip["members"] == "1002", f"vip: {vip}")
        check(env.ctl.row("member.show", "1002")["skills"] == "spanish,vip", "member.show skills")

    expect_state()
    env.daemon.restart()
    expect_state()

    env.ctl.ok("skill.unassign", "1002", "vip")
    env.ctl.ok("skill.set", "vip", "match=any", "rule=callee_number starts_with 6000")
    env.ctl.ok("skill.del", "spanish")
    env.ctl.err("notfound", "skill.del", "spanish")
    env.daemon.restart()
    rows = env.ctl.ok("skill.list").rows
    check(len(rows) == 1 and rows[0]["name"] == "vip" and rows[0]["members"] == ""
          and rows[0]["match"] == "any" and rows[0]["rule1"] == "callee_number starts_with 6000",
          f"after unassign, redefine, delete and restart: {rows}")
    check(env.ctl.row("member.show", "1001")["skills"] == "", "a deleted skill is still held")


def test_queue_references_checked(env):
    # The demo's sales escalates to support: support escalating to sales would loop.
    reply = env.ctl.err("invalid", "queue.set", "support", "escalation_queue=sales")
    check("escalation loop: support -> sales -> support" in reply.text, f"loop message: {reply!r}")
    reply = env.ctl.err("invalid", "queue.set", "support", "escalation_dest=queue:sales")
    check("escalation loop" in reply.text, f"loop through escalation_dest: {reply!r}")
    env.ctl.err("invalid", "queue.set", "support", "escalation_queue=nowhere")
    env.ctl.err("invalid", "queue.create", "q9", "number=6909", "escalation_queue=nowhere")
    env.ctl.err("invalid", "queue.set", "support", "escalation_dest=queue:nowhere")
    env.ctl.err("invalid", "queue.set", "support", "zero_out=member:9999")
    env.ctl.err("invalid", "queue.set", "support", "zero_out=voicemail:9999")
    env.ctl.err("invalid", "queue.set", "support", "escalation_dest=group:1001+9999")
    check(env.ctl.row("queue.show", "support")["escalation_dest"] == "", "a refused queue.set changed support")

    env.ctl.ok("queue.set", "support", "zero_out=voicemail:1001", "escalation_dest=group:1001+1002")
    env.ctl.ok("queue.create", "night", "number=6950", "escalation_queue=support", "zero_out=queue:sales")
    reply = env.ctl.err("busy", "queue.delete", "support")
    check("sales" in reply.text or "night" in reply.text, f"queue.delete names no referrer: {reply!r}")
    env.ctl.ok("queue.set", "sales", "escalation_queue=")
    reply = env.ctl.err("busy", "queue.delete", "support")
    check("night" in reply.text and "escalation_queue" in reply.text, f"queue.delete support: {reply!r}")
    reply = env.ctl.err("busy", "queue.delete", "sales")
    check("night" in reply.text and "zero_out" in reply.text, f"queue.delete sales: {reply!r}")
    env.ctl.ok("queue.delete", "night")
    env.ctl.ok("queue.delete", "sales")
    env.ctl.ok("queue.delete", "support")
