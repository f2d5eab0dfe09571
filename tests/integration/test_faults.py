"""Faults: phones that stop answering or die, callers that vanish, SQLite busy, a full disk, SIGKILL, SIGTERM.

Each test breaks one thing and checks that callqd notices, ends what must end, and keeps serving.
"""
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time

from harness import PT_PCMU, Background, check, wait_for
from test_malformed import RawSip, alive, no_calls, normal_call_works, sdp_offer

# An agent phone's out-of-call scenario that takes the INVITE and never says anything: no 100, no 180, no
# final response, no answer to CANCEL. Written into the test's work directory (Sipp accepts a full path).
SILENT_AGENT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="agent-silent">
  <recv request="INVITE">
    <action>
      <log message="INVITE"/>
    </action>
  </recv>
  <pause milliseconds="60000"/>
</scenario>
"""


# What an INVITE that arrives while callqd drains gets: 503 with Retry-After. (nua_shutdown would answer
# 410 Gone, so sipua_shutdown only calls it once the legs have ended.)
DRAIN_REFUSALS = {503}


def set_conf(env, key, value):
    """Rewrites one key of callq.conf (takes effect at the next start)."""
    path = env.daemon.conf_path
    lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{key} =")]
    lines.append(f"{key} = {value}")
    path.write_text("\n".join(lines) + "\n")


class Talker:
    """Sends TONE from an RtpPort to callqd's address for that leg, 20 ms apart, until stopped. stop() fails
    the test if the sender failed or sent nothing: a check that RTP stopping ends a call means nothing if the
    RTP never flowed."""

    def __init__(self, port, seconds=30):
        self.port, self.stop_flag = port, threading.Event()
        self.worker = Background(self._run, seconds)

    def _run(self, seconds):
        dest = wait_for(lambda: self.port.received() and self.port.peer(), 10, "callqd's RTP")
        first = self.port.sent
        end = time.monotonic() + seconds
        while not self.stop_flag.is_set() and time.monotonic() < end:
            self.port.send_tone(dest, PT_PCMU, count=5)
        return self.port.sent - first

    def stop(self):
        self.stop_flag.set()
        sent = self.worker.join(2, f"the RTP sender of port {self.port.port}")
        check(sent >= 10, f"the RTP sender of port {self.port.port} sent {sent} packets")


def test_fault_agent_phone_silent(env):
    """1001's phone takes the INVITE and never answers anything: after connect_timeout the call goes to 1002;
    1001 is not left ringing and the miss is counted."""
    env.ctl.ok("queue.set", "support", "connect_timeout=2")
    scenario = env.workdir / "agent_silent.xml"
    scenario.write_text(SILENT_AGENT)
    silent = env.sipp("phone1001", "register.xml", service="1001", ooc=str(scenario),
                      keys=[("expires", 3600), ("rtpport", env.rtp_port().port)],
                      args=["-au", "1001", "-ap", "secret1001"], timeout_s=120)
    silent.wait_event("REGISTERED", 10)
    second = env.phone("1002", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=6000)
    silent.wait_event("INVITE", 10)
    offered = time.monotonic()
    env.wait_agent("1001", activity="ringing", timeout=3)
    env.make_ready("1002")
    second.sipp.wait_event("ANSWERED", 15)
    took = time.monotonic() - offered
    check(1.0 <= took <= 10, f"1002 answered {took:.1f} s after 1001 was offered, connect_timeout is 2 s")
    env.wait_agent("1001", activity="idle", timeout=5)
    call.sipp.expect_success(30)
    env.wait_stats("support", missed=1, handled=1, waiting=0)
    env.wait_agent("1001", activity="idle", timeout=5)
    check(env.ctl.row("agent.show", "1001").get("call", "0") in ("0", ""), "1001 still names a call")
    no_calls(env)


def test_fault_caller_vanishes(env):
    """A caller waiting in the queue disappears without BYE (its sipp killed, its RTP stops): with
    rtp_timeout=3 callqd hangs the call up within a few seconds and counts it abandoned."""
    set_conf(env, "rtp_timeout", 3)
    env.daemon.restart()
    call = env.call("6000", duration_ms=60000)
    call.rtp.wait_packets(10, 10, what="hold RTP packets")
    talker = Talker(call.rtp, seconds=2)
    wait_for(lambda: env.ctl.ok("calls", "support").rows, 5, "the call to be listed")
    wait_for(lambda: call.rtp.sent >= 50, 5, "1 s of the caller's RTP to be sent")
    call.sipp.kill()
    talker.stop()
    gone = time.monotonic()
    no_calls(env, timeout=10)
    took = time.monotonic() - gone
    check(took >= 1.0, f"the call vanished {took:.1f} s after its RTP stopped, rtp_timeout is 3 s")
    env.wait_stats("support", abandoned=1, waiting=0, handled=0)
    alive(env, "a vanished caller")


def test_fault_agent_phone_crashes_mid_call(env):
    """The agent's phone dies (kill -9) while bridged: its RTP stops, rtp_timeout (3 s) ends the call, the
    caller gets a BYE, and the agent ends idle or in recovery, never stuck on the call."""
    set_conf(env, "rtp_timeout", 3)
    env.daemon.restart()
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=60000)
    caller_talk = Talker(call.rtp, seconds=40)
    phone.sipp.wait_event("ANSWERED", 15)
    agent_talk = Talker(phone.rtp, seconds=40)
    env.wait_agent("1001", activity="oncall", timeout=5)
    wait_for(lambda: phone.rtp.sent >= 50, 5, "1 s of the agent's RTP to be sent")
    phone.sipp.proc.send_signal(signal.SIGKILL)
    phone.sipp.proc.wait()
    agent_talk.stop()
    crashed = time.monotonic()
    no_calls(env, timeout=10)
    took = time.monotonic() - crashed
    caller_talk.stop()
    check(took >= 1.0, f"the call ended {took:.1f} s after the phone died, rtp_timeout is 3 s")
    wait_for(lambda: any(d == "received" and t.startswith("BYE ") for d, t in call.sipp.messages()), 5,
             "the caller to receive a BYE")
    row = env.wait_row(10, "stats", "support", handled=1, waiting=0)
    agent = env.ctl.row("agent.show", "1001")
    check(agent.get("activity") in ("idle", "recovery"), f"1001 after its phone died: {agent}")
    check(row.get("busy") == "0", f"stats support still counts 1001 busy: {row}")
    alive(env, "an agent phone crash")


def test_fault_sqlite_busy(env):
    """Another process holds the database's write lock: a configuration verb answers ERR busy (nothing
    half-applied), callqd keeps running; once the lock is gone the same verb works."""
    db = env.workdir / "run" / "callq.db"
    holder = sqlite3.connect(str(db), timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        reply = env.ctl.run("queue.set", "support", "timeout=321")
        took = time.monotonic() - started
        check(reply.status == "ERR" and reply.code == "busy", f"queue.set while the db is locked: {reply!r}")
        check(took < 5, f"queue.set took {took:.1f} s to give up on a locked database")
        check(env.ctl.row("queue.show", "support").get("timeout") != "321",
              "the refused change is in force anyway")
        alive(env, "SQLITE_BUSY")
        reply = env.ctl.run("member.add", "1500", "name=Busy", "password=pw1500x", "role=agent")
        check(reply.status == "ERR" and reply.code == "busy", f"member.add while the db is locked: {reply!r}")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    env.ctl.ok("queue.set", "support", "timeout=321")
    check(env.ctl.row("queue.show", "support").get("timeout") == "321", "queue.set did not apply after unlock")
    env.ctl.ok("member.add", "1500", "name=Busy", "password=pw1500x", "role=agent")
    normal_call_works(env)


def recordings(env):
    return env.ctl.ok("recordings").rows


def test_fault_recordings_disk_full(env):
    """callqd may write no file past 256 KiB (RLIMIT_FSIZE with SIGXFSZ ignored: a write past the limit fails
    with EFBIG, the way a full disk fails with ENOSPC), so a recorded call's WAV (32 KB/s) runs out of room
    after about 8 s. That recording ends marked failed with the reason, while the call goes on to its normal
    end; callqd keeps serving, and the next recording, short enough to fit, is written in full."""
    limit = 256 * 1024
    env.daemon.file_size_limit = limit
    env.daemon.restart()
    env.ctl.ok("queue.set", "support", "record=yes")
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=12000)
    phone.sipp.wait_event("ANSWERED", 15)
    row = wait_for(lambda: next((r for r in recordings(env) if r.get("status") == "failed"), None), 15,
                   "the recording to fail")
    check(call.sipp.running() and env.ctl.ok("calls", "support").rows,
          f"the call ended with its recording: {env.ctl.ok('calls', 'support').rows}")
    check(row.get("error") == "File too large" and row.get("queue") == "support" and row.get("agent") == "1001",
          f"the failed recording's row: {row}")
    size = os.path.getsize(row["path"])
    check(limit // 2 <= size <= limit, f"the failed recording is {size} bytes, the limit is {limit}")
    call.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, waiting=0)
    alive(env, "a recording that ran out of room")
    log = env.daemon.log_path.read_text(errors="replace")
    check(re.search(r"recording \d+ failed: File too large", log),
          "callqd's log does not say the recording failed for lack of room")

    normal_call_works(env, "1002")
    rows = wait_for(lambda: (lambda rows: all(r.get("status") != "recording" for r in rows) and rows)(
        recordings(env)), 10, "the second recording to end")
    check(sorted((r.get("agent"), r.get("status")) for r in rows) == [("1001", "failed"), ("1002", "done")],
          f"after a failed recording the next one was not written: {rows}")
    second = next(r for r in rows if r.get("agent") == "1002")
    check(os.path.getsize(second["path"]) > 44, f"the second recording is empty: {second}")


def test_fault_sigkill_and_restart(env):
    """callqd dies by SIGKILL: after a restart the configuration, members, report history and the phone's
    registration are all there, and calls flow again."""
    env.ctl.ok("queue.create", "crash", "number=6042", "strategy=round-robin")
    env.ctl.ok("member.add", "1042", "name=Crash Test", "password=pw1042xyz", "role=agent")
    env.ctl.ok("queue.assign", "support", "1042", "active=yes")
    start = int(time.time()) - 1
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=1500)
    phone.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(20)
    env.wait_stats("support", handled=1, waiting=0)
    env.wait_journal("call.end", queue="support")      # the journal commits in batches: let the last one land
    proc = env.daemon.proc
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    env.daemon.start()
    row = env.ctl.row("member.show", "1001")
    check(row.get("contacts") == "1", f"1001's registration lost across SIGKILL: {row}")
    check(env.ctl.row("queue.show", "crash").get("number") == "6042", "queue crash lost")
    check(env.ctl.row("member.show", "1042").get("name") == "Crash Test", "member 1042 lost")
    members = [r.get("login") for r in env.ctl.ok("queue.members", "support").rows]
    check("1042" in members, f"1042's membership of support lost: {members}")
    rows = env.ctl.ok("report", "queue=support", f"from={start}", f"to={int(time.time()) + 1}", "format=rows").rows
    queue = next((r for r in rows if r.get("type") == "queue"), {})
    check(queue.get("handled") == "1", f"report history lost across SIGKILL: {rows}")
    env.make_ready("1001")
    call = env.call("6000", duration_ms=1500)
    phone.sipp.wait_event("ANSWERED", 15, count=2)
    call.sipp.expect_success(20)
    env.wait_stats("support", handled=2, waiting=0)     # stats come from the journal: the first call counts
    no_calls(env)


def test_fault_sigterm_drains(env):
    """SIGTERM with a call in progress: both legs get BYE, an INVITE arriving during the drain gets 503 with a
    Retry-After, and callqd exits with status 0."""
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    caller = RawSip(env)
    media = env.rtp_port()
    invite, cid = caller.request("INVITE", "6000", body=sdp_offer(media.port))
    caller.send(invite)
    ok = caller.final(cid, timeout=5)
    check(ok is not None and ok.status == 200, f"the raw caller's INVITE: {ok}")
    caller.ack(invite, ok)
    phone.sipp.wait_event("ANSWERED", 15)
    env.wait_agent("1001", activity="oncall", timeout=5)

    env.daemon.proc.send_signal(signal.SIGTERM)
    # callqd's BYE to the caller: hold our 200 back until a new INVITE has been tried.
    bye = None
    deadline = time.monotonic() + 5
    while bye is None and time.monotonic() < deadline:
        msg = caller.recv(0.5)
        if msg is not None and msg.method == "BYE":
            bye = msg
    check(bye is not None, "the caller got no BYE after SIGTERM")
    late = RawSip(env)
    text, late_cid = late.request("INVITE", "6000", body=sdp_offer(env.rtp_port().port))
    late.send(text)
    refused = late.final(late_cid, timeout=3)
    caller.reply(bye, 200, "OK")
    check(refused is not None and refused.status in DRAIN_REFUSALS, f"an INVITE during the drain got {refused}")
    retry = refused.header("retry-after")
    check(re.fullmatch(r"\d+( .*)?", retry) and int(retry.split()[0]) > 0,
          f"the drain's 503 has Retry-After {retry!r}")
    if refused is not None:
        late.ack(text, refused)
    phone.sipp.wait_event("BYE", 10)
    try:
        rc = env.daemon.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("callqd did not exit within 10 s of SIGTERM")
    check(rc == 0, f"callqd exited with status {rc} after SIGTERM")
