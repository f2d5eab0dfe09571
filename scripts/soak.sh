#!/usr/bin/env bash
# scripts/soak.sh [SECONDS] — mixed traffic against an ASan+UBSan callqd, then proof that nothing leaked
# and every call is accounted for. `make soak` runs it for 600 s; tests/integration/test_soak.py for 45 s.
#
# Builds build/asan/callqd (make B=build/asan OPT="-O1 -fsanitize=address,undefined ..."), starts it with
# the integration harness (fresh database, demo data, sipp phones), and for SECONDS runs:
#   agent phones 1001 (answers after 0.8 s), 1002 (rejects), 1003 (rings until cancelled), 1004 (answers
#   after 0.3 s), 1005 (answers after 2.5 s); support has connect_timeout=2, recovery=1, timeout=12;
#   callers into 6000 that hang up while waiting, while ringing, while talking, or stay to the queue timeout,
#   some sending audio (PCMU or PCMA, so bridges transcode), up to 8 at a time;
#   agent status changes (ready, away, pause, resume, logout, login) and operator call.hangup in a loop.
# Then: no call listed, no agent ringing or in recovery once recovery is over, SIGTERM exit status 0,
# no AddressSanitizer/UBSan/LeakSanitizer report in callqd's stderr, and in the journal every call.enter has
# exactly one ending (answer followed by exactly one end, abandon, timeout or transfer) and no refused call
# entered; and enough happened for all that to mean something: at least one caller per 3 s of traffic, each
# of them in the journal, at least one call in 20 answered (and at least 3), at least 2 s of talk per
# answered call on average, and at most 4 missed offers per call (a tight offer loop would show here). An
# empty journal or no call answered fails. Work dir build/soak/ (callqd.log, sipp logs, database). Exit 0
# when all of that holds.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${1:-600}
ASAN_OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
echo "soak: building build/asan/callqd (ASan + UBSan) and build/callqctl"
make --no-print-directory -j"$(nproc)" B=build/asan OPT="$ASAN_OPT" build/asan/callqd >build/soak-build.log 2>&1 ||
	{ tail -30 build/soak-build.log; exit 1; }
make --no-print-directory -j"$(nproc)" build/callqctl >>build/soak-build.log 2>&1 ||
	{ tail -30 build/soak-build.log; exit 1; }
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=0:abort_on_error=0:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0"
exec python3 - "$SECONDS_RUN" <<'PY'
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness  # noqa: E402
from harness import PT_PCMA, PT_PCMU, TestFailure, wait_for  # noqa: E402

harness.CALLQD = ROOT / "build" / "asan" / "callqd"
DURATION = float(sys.argv[1])
WORK = ROOT / "build" / "soak"
rng = random.Random(int(time.time()))
problems = []


def say(msg):
    print(f"soak: {msg}", flush=True)


shutil.rmtree(WORK, ignore_errors=True)
WORK.mkdir(parents=True)
sockdir = Path(tempfile.mkdtemp(prefix="callq-soak-"))
env = harness.Env(WORK, sockdir)
counts = {"callers": 0, "ctl": 0, "ctl_err": 0, "talkers": 0}
try:
    env.daemon.start(timeout=60)
    ctl = env.ctl
    ctl.ok("queue.set", "support", "connect_timeout=2", "recovery=1", "timeout=12")
    for login in ("1004", "1005"):
        ctl.ok("member.add", login, f"name=Soak{login}", f"password=secret{login}", "role=agent")
        ctl.ok("queue.assign", "support", login, "active=yes")
    assigned = {r.get("login") for r in ctl.ok("queue.members", "support").rows}
    for login in ("1001", "1002", "1003"):
        if login not in assigned:
            ctl.ok("queue.assign", "support", login, "active=yes")
        ctl.ok("agent.resume", "support", login)
    phones = {}
    for login, mode, ms in (("1001", "answer", 800), ("1002", "reject", 500), ("1003", "ring", 0),
                            ("1004", "answer", 300), ("1005", "answer", 2500)):
        port = env.rtp_port()
        phones[login] = env.sipp(f"phone{login}", "register.xml", service=login, ooc=f"agent_{mode}.xml",
                                 keys=[("expires", 3600), ("rtpport", port.port)],
                                 args=["-au", login, "-ap", f"secret{login}", "-d", ms],
                                 timeout_s=int(DURATION) + 600)
    for login, sipp in phones.items():
        sipp.wait_event("REGISTERED", 15)
        env.make_ready(login)
    say(f"5 agents registered and ready; traffic for {DURATION:g} s")

    stop = threading.Event()
    callers = []
    lock = threading.Lock()

    def talk(port, pt, seconds):
        try:
            dest = wait_for(lambda: port.received() and port.peer(), 10, "RTP")
        except TestFailure:
            return                                        # hung up before callqd's RTP reached it
        end = time.monotonic() + seconds
        while time.monotonic() < end and not stop.is_set():
            port.send_tone(dest, pt, count=10)

    def traffic():
        while not stop.is_set():
            with lock:
                live = [c for c in callers if c.sipp.running()]
            if len(live) < 8:
                kind = rng.random()
                if kind < 0.2:
                    dur = rng.randint(300, 1500)          # hangs up while waiting or ringing
                elif kind < 0.85:
                    dur = rng.randint(2000, 9000)         # talks, or abandons if nobody is free
                else:
                    dur = 20000                           # stays to the queue timeout (12 s) if not answered
                fmts = "8 101" if rng.random() < 0.3 else "0 8 101"
                call = env.call("6000", duration_ms=dur, fmts=fmts)
                counts["callers"] += 1
                if rng.random() < 0.4:
                    counts["talkers"] += 1
                    threading.Thread(target=talk, daemon=True,
                                     args=(call.rtp, PT_PCMA if fmts.startswith("8") else PT_PCMU,
                                           dur / 1000)).start()
                with lock:
                    callers.append(call)
            time.sleep(rng.uniform(0.15, 0.6))

    def status_changes():
        verbs = [("agent.ready",), ("agent.away", "reason=soak"), ("agent.pause", "support"),
                 ("agent.resume", "support"), ("agent.logout",), ("agent.login",), ("agent.ready",),
                 ("agent.resume", "support"), ("agent.ready",), ("agent.login",)]
        while not stop.is_set():
            login = rng.choice(list(phones))
            verb = rng.choice(verbs)
            if verb[0] in ("agent.pause", "agent.resume"):
                r = ctl.run(verb[0], verb[1], login)
            else:
                r = ctl.run(*verb[:1], login, *verb[1:])
            counts["ctl"] += 1
            counts["ctl_err"] += r.status != "OK"
            if rng.random() < 0.05:
                rows = ctl.run("calls", "support").rows
                if rows:
                    ctl.run("call.hangup", rng.choice(rows).get("id", "0"))
                    counts["ctl"] += 1
            ctl.run("stats", "support")
            time.sleep(rng.uniform(0.5, 2.0))

    threads = [threading.Thread(target=traffic, daemon=True), threading.Thread(target=status_changes,
                                                                                 daemon=True)]
    for t in threads:
        t.start()
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        time.sleep(min(10, max(0.1, end - time.monotonic())))
        if env.daemon.proc.poll() is not None:
            problems.append(f"callqd exited ({env.daemon.proc.returncode}) during the soak")
            break
        st = ctl.run("stats", "support").rows
        say(f"{counts['callers']} callers so far; stats {st[0] if st else '?'}")
    stop.set()
    for t in threads:
        t.join(timeout=15)

    if not problems:
        # Every agent back to ready, so nothing is left waiting for a status change; the callers finish.
        for login in phones:
            env.make_ready(login)
            ctl.ok("agent.resume", "support", login)
        deadline = time.monotonic() + 60
        for c in callers:
            try:
                c.sipp.wait(max(1, deadline - time.monotonic()))
            except TestFailure:
                c.sipp.kill()
        try:
            wait_for(lambda: ctl.ok("calls", "support").rows == [], 30, "`calls support` to be empty")
        except TestFailure as e:
            problems.append(f"{e}: {ctl.run('calls', 'support').stdout.strip()}")
        time.sleep(3)                                     # past recovery=1 s
        for login in phones:
            row = ctl.row("agent.show", login)
            if row.get("activity") != "idle":
                problems.append(f"agent {login} left {row.get('activity')} after the soak: {row}")
        stats = ctl.row("stats", "support")
        if stats.get("waiting") != "0" or stats.get("busy") != "0":
            problems.append(f"stats support after the soak: {stats}")
        say(f"final stats support: {stats}")
finally:
    for s in env.sipps:
        s.kill()
    for p in env.rtp_ports:
        p.close()
    proc = env.daemon.proc
    rc = None
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problems.append("callqd did not exit within 60 s of SIGTERM (ASan build)")
    elif proc is not None:
        rc = proc.returncode
    shutil.rmtree(sockdir, ignore_errors=True)

if rc not in (0, None):
    problems.append(f"callqd exited with status {rc} after SIGTERM (LeakSanitizer exits 23 on a leak)")
log = env.daemon.log_path.read_text(errors="replace")
for pattern in (r"ERROR: AddressSanitizer", r"ERROR: LeakSanitizer", r"runtime error:", r"SUMMARY: \w+Sanitizer"):
    for m in re.finditer(pattern, log):
        line_start = log.rfind("\n", 0, m.start()) + 1
        problems.append("sanitizer: " + log[line_start:log.find("\n", m.end())].strip())
        break

# Accounting from the journal: each entered call has exactly one ending.
db = sqlite3.connect(str(WORK / "run" / "callq.db"))
events = {}
for run, call, event in db.execute("SELECT run, call, event FROM journal WHERE call IS NOT NULL ORDER BY id"):
    events.setdefault((run, call), []).append(event)
endings = {"call.answer", "call.abandon", "call.timeout", "call.transfer"}
tally = {}
for key, evs in events.items():
    if "call.refused" in evs:
        tally["refused"] = tally.get("refused", 0) + 1
        if "call.enter" in evs:
            problems.append(f"call {key[1]}: refused and entered: {evs}")
        continue
    if evs.count("call.enter") != 1:
        problems.append(f"call {key[1]}: {evs.count('call.enter')} call.enter events: {evs}")
        continue
    ends = [e for e in evs if e in endings]
    if len(ends) != 1:
        problems.append(f"call {key[1]}: {len(ends)} endings: {evs}")
        continue
    if ends[0] == "call.answer":
        after = evs[evs.index("call.answer"):]
        if after.count("call.end") != 1 or evs.count("call.end") != 1:
            problems.append(f"call {key[1]}: answered but {evs.count('call.end')} call.end: {evs}")
            continue
    tally[ends[0]] = tally.get(ends[0], 0) + 1
answered = tally.get("call.answer", 0)
talk_s = sum(v or 0 for (v,) in db.execute("SELECT value FROM journal WHERE event = 'call.end'")) / 1000
misses = db.execute("SELECT count(*) FROM journal WHERE event = 'call.miss'").fetchone()[0]
say(f"journal: {len(events)} calls; endings {tally}; {answered} answered, {talk_s:.0f} s of talk, {misses} missed "
    f"offers; {counts['callers']} callers ({counts['talkers']} sending audio), {counts['ctl']} status changes "
    f"({counts['ctl_err']} refused)")
# Enough traffic for the accounting to mean something: an empty journal or no answer is a failure.
if counts["callers"] < DURATION / 3:
    problems.append(f"only {counts['callers']} callers in {DURATION:g} s, expected at least {DURATION / 3:.0f}")
if len(events) < counts["callers"]:
    problems.append(f"{counts['callers']} callers but only {len(events)} calls in the journal")
if answered < max(3, len(events) / 20):
    problems.append(f"only {answered} of {len(events)} calls answered")
if talk_s < 2 * answered:
    problems.append(f"{talk_s:.1f} s of talk over {answered} answered calls, expected at least 2 s each")
if misses > 4 * len(events):
    problems.append(f"{misses} missed offers for {len(events)} calls: more than 4 per call")
if len(problems) > 20:
    problems = problems[:20] + [f"... and {len(problems) - 20} more"]
for p in problems:
    say(f"PROBLEM: {p}")
say("PASS" if not problems else f"FAIL ({len(problems)} problems); logs in {WORK}")
sys.exit(1 if problems else 0)
PY
