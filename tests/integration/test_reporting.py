"""Reporting from the journal: the event stream of real calls, `report` CSV against a known schedule, `activity`,
who may subscribe, and reports that come out the same after callqd restarts."""
import csv
import io
import socket
import subprocess
import threading
import time

from harness import CALLQCTL, check, parse_row, wait_for


class Subscriber:
    """A raw control connection that sent its requests (by default `subscribe QUEUE...`) and collects every line
    it receives."""

    def __init__(self, socket_path, *queues, requests=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(socket_path)
        requests = requests or [" ".join(("subscribe",) + queues)]
        self.sock.sendall("".join(r + "\n" for r in requests).encode())
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_for(lambda: len(self.received()) >= len(requests), 5, f"replies to {requests}")

    def _read(self):
        pending = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            pending += data
            *complete, pending = pending.split(b"\n")
            with self.lock:
                self.lines += [line.decode() for line in complete]

    def received(self):
        with self.lock:
            return list(self.lines)

    def events(self):
        """(name, fields) of each EVENT line so far."""
        out = []
        for line in self.received():
            if line.startswith("EVENT "):
                name, _, rest = line[6:].partition(" ")
                out.append((name, parse_row(rest)))
        return out

    def close(self):
        self.sock.close()


def report_csv(env, *args):
    reply = env.ctl.ok("report", *args, "format=csv")
    lines = reply.stdout.splitlines()[1:]
    return lines, list(csv.DictReader(io.StringIO("\n".join(lines))))


def seconds(row, key):
    return int(row[key])


def check_between(row, key, low, high):
    check(low <= seconds(row, key) <= high, f"{row['type']} {row['name']}: {key}={row[key]}, expected {low}..{high}")


def test_report_events_and_restart(env):
    """Schedule: 1001 logs in; call A rings 1001 for 1 s and talks about 4 s (the caller hangs up 5 s after its
    own answer); 1001 is in recovery (5 s) while call B waits and hangs up after 1.5 s. Then the CSV report, the
    event order of call A, the activity log, and a restart."""
    start = int(time.time()) - 1
    sub = Subscriber(env.daemon.socket_path, "support")
    check(sub.received()[0] == "OK subscribed", f"subscribe support: {sub.received()}")
    phone = env.phone("1001", answer_ms=1000)
    env.make_ready("1001")

    call_a = env.call("6000", duration_ms=5000)
    phone.sipp.wait_event("ANSWERED", 15)
    call_a.sipp.expect_success(30)
    phone.sipp.wait_event("BYE", 10)
    env.wait_stats("support", handled=1, waiting=0)
    env.wait_agent("1001", activity="recovery")

    call_b = env.call("6000", duration_ms=1500)
    call_b.sipp.expect_success(20)
    env.wait_stats("support", abandoned=1, waiting=0)
    env.wait_agent("1001", activity="idle", timeout=10)
    # The journal commits in batches: wait for the last event of the schedule, then for the clock to pass the
    # second it happened in, since the report's `to` is a whole second and excludes itself.
    last = env.wait_journal("agent.recovery_end", member="1001")[-1]
    wait_for(lambda: time.time() >= last["t_ms"] // 1000 + 1, 3, "the clock to pass the last event's second")
    end = int(time.time())

    # The event stream: one call's life in order.
    events = sub.events()
    first_call = next((f["call"] for name, f in events if name == "call.enter"), None)
    check(first_call, f"no call.enter event: {sub.received()}")
    life = [name for name, f in events if f.get("call") == first_call]
    check(life == ["call.enter", "call.offer", "call.answer", "call.end"],
          f"events of call {first_call}: {life}")
    answer = next(f for name, f in events if name == "call.answer")
    check(answer["queue"] == "support" and answer["member"] == "1001" and int(answer["value"]) >= 900,
          f"call.answer fields: {answer}")
    check(all(int(f["time"]) // 1000 >= start for _, f in events), "an event time is before the test began")
    check(any(name == "agent.recovery_start" for name, _ in events), f"no recovery events: {events}")
    sub.close()

    args = ["queue=support", "agent=1001", "agent=1002", f"from={start}", f"to={end}"]
    lines, rows = report_csv(env, *args)
    check(lines[0] == "type,name,offered,handled,missed,abandoned,avg_wait,max_wait,avg_talk,avg_recovery,"
                      "occupancy,logged_in,away,callbacks_requested,callbacks_attempted,callbacks_reached,"
                      "callbacks_failed", f"CSV header: {lines[0]}")
    check([(r["type"], r["name"]) for r in rows] == [("queue", "support"), ("agent", "1001"), ("agent", "1002")],
          f"CSV rows: {lines}")
    queue, agent, idle = rows
    check((queue["offered"], queue["handled"], queue["missed"], queue["abandoned"]) == ("2", "1", "0", "1"),
          f"queue counters: {queue}")
    check((agent["offered"], agent["handled"], agent["missed"], agent["abandoned"]) == ("1", "1", "0", ""),
          f"agent counters: {agent}")
    check_between(queue, "avg_wait", 0, 2)
    check_between(queue, "max_wait", 0, 2)
    check_between(agent, "avg_talk", 3, 5)
    check_between(agent, "avg_recovery", 4, 6)
    check_between(agent, "logged_in", end - start - 30, end - start)
    check(float(agent["occupancy"]) > 0, f"agent occupancy: {agent}")
    check(idle["offered"] == "0" and idle["logged_in"] == "0", f"1002 did nothing: {idle}")

    # The activity log names what 1001 did.
    whats = [r["what"] for r in env.ctl.ok("activity", "support").rows if r.get("member") == "1001"]
    for what in ("login", "offer", "answered", "ended", "recovery", "recovery_end"):
        check(what in whats, f"activity support lacks {what}: {whats}")

    before = env.ctl.ok("report", *args, "format=csv").stdout
    plain = env.ctl.ok("report", *args).stdout
    env.daemon.restart()
    check(env.ctl.ok("report", *args, "format=csv").stdout == before, "the CSV report changed across a restart")
    check(env.ctl.ok("report", *args).stdout == plain, "the report changed across a restart")


def ctl_session(env, *lines):
    """Sends several requests on one connection (so `auth` holds); returns callqctl's output lines."""
    p = subprocess.run([str(CALLQCTL), "-s", env.daemon.socket_path], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, timeout=10)
    return p.stdout.splitlines()


def test_report_permissions_and_arguments(env):
    env.ctl.ok("queue.create", "solo", "number=6010")
    sub = Subscriber(env.daemon.socket_path,
                     requests=["auth 1001 pass1001", "subscribe solo", "subscribe support"])
    replies = sub.received()
    sub.close()
    check(replies[0].startswith("OK"), f"auth: {replies}")
    check(replies[1].startswith("ERR denied"), f"an agent subscribed to a queue it is not in: {replies}")
    check(replies[2] == "OK subscribed", f"subscribe support: {replies}")

    out = ctl_session(env, "auth 1001 pass1001", "report agent=1002 from=1", "report queue=support from=1",
                      "report agent=1001 from=1", "activity solo")
    check(out[0].startswith("OK"), f"auth: {out}")
    check(out[1].startswith("ERR denied") and out[2].startswith("ERR denied"), f"agent reports: {out}")
    check(out[3] == "OK 1 rows" and out[4].startswith("type=agent name=1001 "), f"own report: {out}")
    check(out[5].startswith("ERR denied"), f"activity of a foreign queue: {out}")

    env.ctl.err("usage", "report", "queue=support")
    env.ctl.err("invalid", "report", "queue=support", "from=yesterday")
    env.ctl.err("invalid", "report", "queue=support", "from=2030-01-01T00:00")   # in the future
    env.ctl.err("invalid", "report", "queue=support", "from=1", "format=xml")
    env.ctl.err("notfound", "report", "queue=nosuch", "from=1")
    env.ctl.err("invalid", "activity", "support", "window=0")
    rows = env.ctl.ok("report", "from=2020-01-01T00:00Z").rows
    check([r["name"] for r in rows if r["type"] == "queue"] == ["support", "sales", "solo"],
          f"report with no subjects lists every queue: {rows}")
