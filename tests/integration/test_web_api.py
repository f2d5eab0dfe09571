"""HTTP inside callqd: login and CSRF, the JSON API with the control socket's permissions, Server-Sent Events,
Prometheus /metrics against `stats`, the queue_log file, logout and sessions ended by demotion, HTTPS."""
import http.client
import json
import os
import re
import sqlite3
import ssl
import subprocess
import threading
import time

from harness import HOST, TestFailure, check, wait_for
from test_media_calls import recording_row


class Web:
    """A browser stand-in: keeps the session cookie and the CSRF token."""

    def __init__(self, env, tls_context=None):
        self.port = env.daemon.http_port
        self.tls = tls_context
        self.cookie = None
        self.csrf = None

    def connect(self, timeout=10):
        if self.tls:
            return http.client.HTTPSConnection(HOST, self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def request(self, method, path, body=None, csrf=True, headers=None):
        conn = self.connect()
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        return resp.status, resp.getheaders(), raw

    def post(self, path, body=None, csrf=True):
        status, headers, raw = self.request("POST", path, body if body is not None else {}, csrf)
        try:
            return status, json.loads(raw)
        except ValueError:
            raise TestFailure(f"POST {path}: not JSON ({status}): {raw[:200]!r}") from None

    def login(self, login, password):
        status, headers, raw = self.request("POST", "/api/login", {"login": login, "password": password})
        reply = json.loads(raw)
        if status == 200:
            cookie = [v for k, v in headers if k.lower() == "set-cookie"]
            check(cookie, f"login gave no cookie: {headers}")
            self.cookie = cookie[0].split(";")[0]
            self.cookie_attrs = cookie[0]
            self.csrf = reply.get("csrf")
        return status, reply

    def verb(self, verb, *args, **kv):
        body = dict(kv)
        if args:
            body["args"] = list(args)
        return self.post(f"/api/{verb}", body)


def logged_in(env, login):
    web = Web(env)
    status, reply = web.login(login, f"pass{login}")
    check(status == 200 and reply.get("ok") is True and reply.get("csrf"), f"login {login}: {status} {reply}")
    return web


def expect_error(result, status, code, what):
    got_status, reply = result
    check(got_status == status and reply.get("ok") is False and reply.get("error", {}).get("code") == code,
          f"{what}: expected {status} {code}, got {got_status} {reply}")


def test_web_login_csrf_permissions(env):
    web = Web(env)
    expect_error(web.login("1100", "wrong"), 403, "denied", "wrong password")
    expect_error(web.post("/api/whoami"), 401, "denied", "no session")
    web = logged_in(env, "1100")
    check("HttpOnly" in web.cookie_attrs and "SameSite=Strict" in web.cookie_attrs and
          "Secure" not in web.cookie_attrs, f"cookie attributes over plain HTTP: {web.cookie_attrs}")
    expect_error(web.post("/api/whoami", csrf=False), 403, "denied", "missing CSRF token")
    status, reply = web.post("/api/whoami")
    check(status == 200 and reply["rows"] == [{"login": "1100", "role": "manager"}], f"whoami: {status} {reply}")
    status, reply = web.verb("queue.set", "support", timeout=300)
    check(status == 200 and reply.get("ok") is True, f"manager queue.set: {status} {reply}")
    check(env.ctl.row("queue.show", "support").get("timeout") == "300", "queue.set over HTTP did not apply")
    expect_error(web.verb("queue.create", "q9", number="6900"), 403, "denied", "manager queue.create")
    expect_error(web.verb("queue.show", "nope"), 404, "notfound", "unknown queue")
    expect_error(web.verb("queue.set", "support", timeout="abc"), 400, "invalid", "bad value")
    expect_error(web.verb("subscribe"), 400, "usage", "subscribe via /api")

    agent = logged_in(env, "1001")
    expect_error(agent.verb("queue.set", "support", timeout=100), 403, "denied", "agent calling a manager verb")
    expect_error(agent.verb("agent.ready", "1002"), 403, "denied", "agent changing another agent")
    status, reply = agent.verb("agent.login")
    check(status == 200 and reply.get("ok") is True, f"agent.login over HTTP: {status} {reply}")
    check(env.ctl.row("agent.show", "1001").get("logged_in") == "yes", "agent.login over HTTP did not apply")


def test_web_logout_and_demotion(env):
    web = logged_in(env, "1100")
    status, reply = web.post("/api/logout")
    check(status == 200 and reply.get("ok") is True, f"logout: {status} {reply}")
    expect_error(web.post("/api/whoami"), 401, "denied", "after logout")

    web = logged_in(env, "1100")
    stream = EventStream(web)
    env.add_cleanup(stream.close)
    env.ctl.ok("member.set", "1100", "role=agent")
    expect_error(web.post("/api/whoami"), 401, "denied", "after demotion")
    wait_for(lambda: stream.ended, 5, "the event stream of a demoted member to end")


class EventStream:
    """GET /api/events on its own connection, read by a thread: (arrival time, event, data) triples."""

    def __init__(self, web, query=""):
        self.events = []
        self.ended = False
        self.conn = web.connect(timeout=60)
        self.conn.request("GET", "/api/events" + query, headers={"Cookie": web.cookie})
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise TestFailure(f"/api/events: {self.resp.status} {self.resp.read()[:200]!r}")
        ctype = self.resp.getheader("Content-Type", "")
        check(ctype.startswith("text/event-stream"), f"/api/events Content-Type {ctype}")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        name, data = None, None
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                elif line == "" and name:
                    self.events.append((time.time(), name, data))
                    name, data = None, None
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass
        self.ended = True

    def wait(self, name, timeout, **match):
        def found():
            return [e for e in self.events if e[1] == name and all(e[2].get(k) == v for k, v in match.items())]
        wait_for(lambda: found(), timeout, f"event {name} {match} on /api/events (got {[e[1] for e in self.events]})")
        return found()[0]

    def close(self):
        self.conn.close()


def parse_prometheus(text):
    """{(name, frozenset(labels)): value}; checks every line is a comment or a sample."""
    samples = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            check(not line or re.match(r"^# (HELP|TYPE) \S+ ", line), f"bad comment line: {line!r}")
            continue
        m = sample.match(line)
        check(m, f"bad sample line: {line!r}")
        labels = frozenset(label.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def metric(samples, name, **labels):
    key = (name, frozenset(labels.items()))
    check(key in samples, f"/metrics lacks {name}{labels}")
    return samples[key]


def test_web_call_events_metrics_queue_log(env):
    web = logged_in(env, "1100")
    stream = EventStream(web, "?queue=support")
    env.add_cleanup(stream.close)
    phone = env.phone("1001", answer_ms=500)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=3000)
    arrival, _, data = stream.wait("call.enter", 10, queue="support")
    check(arrival - int(data["time"]) / 1000 < 1.0,
          f"call.enter reached /api/events {arrival - int(data['time']) / 1000:.2f} s after it happened")
    callid = data["call"]
    phone.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(30)
    stream.wait("call.answer", 10, queue="support", member="1001")
    stream.wait("call.end", 10, queue="support")
    env.wait_stats("support", handled=1, waiting=0)

    status, reply = web.verb("stats", "support")
    ctl_row = env.ctl.row("stats", "support")
    check(status == 200 and reply["rows"] == [ctl_row], f"/api/stats {reply} differs from callqctl stats {ctl_row}")

    status, _, raw = web.request("GET", "/metrics")
    check(status == 200, f"/metrics: {status}")
    samples = parse_prometheus(raw.decode())
    for name, key in (("callq_queue_handled_total", "handled"), ("callq_queue_abandoned_total", "abandoned"),
                      ("callq_queue_missed_total", "missed"), ("callq_queue_waiting", "waiting")):
        check(metric(samples, name, queue="support") == float(ctl_row[key]),
              f"{name} = {metric(samples, name, queue='support')}, stats says {key}={ctl_row[key]}")
    check(metric(samples, "callq_queue_wait_seconds_count", queue="support") == 1, "wait histogram count")
    check(metric(samples, "callq_queue_wait_seconds_bucket", queue="support", le="+Inf") == 1, "+Inf bucket")
    check(metric(samples, "callq_queue_agents", queue="support", state="ready") == float(ctl_row["ready"]),
          "ready agents")
    check(metric(samples, "callq_queue_handled_total", queue="sales") == 0, "sales handled")

    def logged():
        return env.daemon.queue_log.exists() and "COMPLETE" in env.daemon.queue_log.read_text()
    wait_for(logged, 5, "queue_log to get the call's COMPLETE line")
    lines = [line.split("|") for line in env.daemon.queue_log.read_text().splitlines()]
    mine = {f[4]: f for f in lines if len(f) > 4 and f[1].endswith("." + callid)}
    for verb in ("ENTERQUEUE", "CONNECT", "COMPLETECALLER"):
        check(verb in mine, f"queue_log has no {verb} for call {callid}: {lines}")
    check(mine["ENTERQUEUE"][2] == "support" and mine["ENTERQUEUE"][3] == "NONE", f"ENTERQUEUE {mine['ENTERQUEUE']}")
    check(mine["CONNECT"][3] == "1001" and mine["COMPLETECALLER"][3] == "1001", f"agent fields: {mine}")
    check(int(mine["COMPLETECALLER"][6]) >= 1, f"COMPLETECALLER talk time: {mine['COMPLETECALLER']}")
    check(any(f[4] == "AGENTLOGIN" and f[3] == "1001" for f in lines), "queue_log has no AGENTLOGIN for 1001")


def get_json(web, path):
    status, headers, raw = web.request("GET", path)
    try:
        return status, json.loads(raw)
    except ValueError:
        raise TestFailure(f"GET {path}: not JSON ({status}): {raw[:200]!r}") from None


def test_web_recording_download(env):
    """GET /api/recording: the queue's manager downloads the WAV file the row names, byte for byte; the agent
    who took the call may too; an agent of another queue gets 403, a missing id 404; a row naming a file
    outside the recordings folder, or a symbolic link inside it, is refused even for an admin."""
    env.ctl.ok("queue.set", "support", "record=yes")
    env.ctl.ok("queue.unassign", "support", "1003")       # 1003 now works sales only
    phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", duration_ms=4000)
    phone.sipp.wait_event("ANSWERED", 10)
    call.sipp.expect_success(20)
    row = recording_row(env, "call", status="done", queue="support", agent="1001")
    on_disk = open(row["path"], "rb").read()
    url = f"/api/recording?id={row['id']}"

    manager = logged_in(env, "1100")
    status, headers, raw = manager.request("GET", url + "&download=1")
    h = {k.lower(): v for k, v in headers}
    check(status == 200 and h.get("content-type") == "audio/wav", f"manager download: {status} {h}")
    check(h.get("content-disposition", "").startswith("attachment;"), f"download disposition: {h}")
    check(raw[:4] == b"RIFF" and raw[8:12] == b"WAVE" and raw[12:16] == b"fmt ", f"not a WAV header: {raw[:16]!r}")
    check(len(raw) == len(on_disk) == int(h.get("content-length", -1)) and raw == on_disk,
          f"downloaded {len(raw)} bytes, the file has {len(on_disk)}")
    status, headers, raw = manager.request("GET", url)
    h = {k.lower(): v for k, v in headers}
    check(status == 200 and h.get("content-disposition", "").startswith("inline;") and raw == on_disk,
          f"play (inline): {status} {h}")

    status, _, raw = logged_in(env, "1001").request("GET", url)
    check(status == 200 and raw == on_disk, f"the call's own agent: {status}")
    for login in ("1003", "1002"):      # another queue's agent; an agent of the queue who did not take the call
        status, reply = get_json(logged_in(env, login), url)
        check(status == 403 and reply.get("error", {}).get("code") == "denied", f"{login}: {status} {reply}")
    status, reply = get_json(manager, "/api/recording?id=999999")
    check(status == 404 and reply.get("error", {}).get("code") == "notfound", f"missing id: {status} {reply}")
    status, reply = get_json(manager, "/api/recording?id=abc")
    check(status == 400, f"bad id: {status} {reply}")
    status, reply = get_json(Web(env), url)
    check(status == 401, f"no session: {status} {reply}")

    # Rows that name what must not be served: a file outside the folder, a symbolic link inside it.
    folder = os.path.dirname(row["path"])
    outside = env.workdir / "outside.wav"
    outside.write_bytes(on_disk)
    link = os.path.join(folder, "call-link.wav")
    os.symlink(outside, link)
    db = sqlite3.connect(str(env.workdir / "run" / "callq.db"), timeout=5)
    try:
        ids = []
        for path in (str(outside), link, os.path.join(folder, "..", "outside.wav")):
            cur = db.execute("INSERT INTO recordings (kind, call, run, queue, member, path, started_ms, status) "
                             "VALUES ('call', 1, 1, 'support', '1001', ?, 1, 'done')", (path,))
            ids.append(cur.lastrowid)
        db.commit()
    finally:
        db.close()
    admin = logged_in(env, "1900")
    for rid in ids:
        status, reply = get_json(admin, f"/api/recording?id={rid}")
        check(status == 403 and reply.get("error", {}).get("code") == "denied", f"row {rid}: {status} {reply}")


def queue_log_lines(env, verb, count=1):
    def found():
        if not env.daemon.queue_log.exists():
            return None
        lines = [line.split("|") for line in env.daemon.queue_log.read_text().splitlines()]
        hits = [f for f in lines if len(f) > 4 and f[4] == verb]
        return hits if len(hits) >= count else None
    return wait_for(found, 5, f"{count} {verb} line(s) in queue_log")


def test_web_queue_log_who_ended(env):
    """The agent hangs up: COMPLETEAGENT; the caller hangs up: COMPLETECALLER; assigning and unassigning
    a member write ADDMEMBER / REMOVEMEMBER, pausing and resuming PAUSE / UNPAUSE."""
    phone = env.phone("1001", mode="bye", answer_ms=300)
    env.make_ready("1001")
    call = env.call("6000", scenario="caller_bye.xml")
    phone.sipp.wait_event("HUNGUP", 15)
    call.sipp.expect_success(15)
    agent_end = queue_log_lines(env, "COMPLETEAGENT")
    check(agent_end[0][2] == "support" and agent_end[0][3] == "1001", f"COMPLETEAGENT {agent_end}")
    check("COMPLETECALLER" not in env.daemon.queue_log.read_text(), "the agent's hang-up also wrote COMPLETECALLER")

    env.ctl.ok("agent.logout", "1001")
    env.wait_agent("1001", logged_in="no")
    phone = env.phone("1002", answer_ms=300)
    env.make_ready("1002")
    call = env.call("6000", duration_ms=2000)
    phone.sipp.wait_event("ANSWERED", 15)
    call.sipp.expect_success(20)
    caller_end = queue_log_lines(env, "COMPLETECALLER")
    check(caller_end[0][3] == "1002" and int(caller_end[0][6]) >= 1, f"COMPLETECALLER {caller_end}")
    check(len(queue_log_lines(env, "COMPLETEAGENT")) == 1, "the caller's hang-up wrote COMPLETEAGENT")

    env.ctl.ok("queue.unassign", "sales", "1003")
    env.ctl.ok("queue.assign", "sales", "1003", "active=yes")
    env.ctl.ok("queue.assign", "sales", "1003", "active=yes")    # already a member: no second ADDMEMBER
    env.ctl.ok("agent.pause", "sales", "1002")
    env.ctl.ok("agent.resume", "sales", "1002")
    removed = queue_log_lines(env, "REMOVEMEMBER")
    added = queue_log_lines(env, "ADDMEMBER")
    check([f[1:4] for f in removed] == [["NONE", "sales", "1003"]], f"REMOVEMEMBER {removed}")
    check([f[1:] for f in added] == [["NONE", "sales", "1003", "ADDMEMBER", ""]], f"ADDMEMBER {added}")
    pause, unpause = queue_log_lines(env, "PAUSE"), queue_log_lines(env, "UNPAUSE")
    check(pause[-1][2:] == ["sales", "1002", "PAUSE", ""] and unpause[-1][2:] == ["sales", "1002", "UNPAUSE", ""],
          f"PAUSE {pause} UNPAUSE {unpause}")


def test_web_static_and_metrics_token(env):
    web = Web(env)
    status, headers, raw = web.request("GET", "/")
    ctype = dict((k.lower(), v) for k, v in headers).get("content-type", "")
    check(status == 200 and ctype.startswith("text/html") and b"<html" in raw.lower(), f"GET /: {status} {ctype}")
    status, _, _ = web.request("GET", "/no/such/file.js")
    check(status == 404, f"GET of a missing file: {status}")
    status, _, _ = web.request("GET", "/api/whoami")
    check(status == 405, f"GET on the API: {status}")

    conf = env.daemon.conf_path
    conf.write_text(conf.read_text() + "metrics_token = s3cret-token\n")
    env.daemon.restart()
    status, _, _ = web.request("GET", "/metrics")
    check(status == 401, f"/metrics without the token: {status}")
    status, _, raw = web.request("GET", "/metrics", headers={"Authorization": "Bearer s3cret-token"})
    check(status == 200 and b"callq_queue_waiting{queue=\"support\"} 0" in raw, f"/metrics with the token: {status}")


def test_web_https(env):
    cert, key = env.workdir / "http.crt", env.workdir / "http.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    conf = env.daemon.conf_path
    conf.write_text(conf.read_text() + f"http_cert = {cert}\nhttp_key = {key}\n")
    env.daemon.restart()
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    web = Web(env, ctx)
    status, reply = web.login("1001", "pass1001")
    check(status == 200 and reply.get("ok") is True, f"login over HTTPS: {status} {reply}")
    check("; Secure" in web.cookie_attrs, f"cookie over HTTPS lacks Secure: {web.cookie_attrs}")
    status, reply = web.post("/api/whoami")
    check(status == 200 and reply["rows"][0]["login"] == "1001", f"whoami over HTTPS: {status} {reply}")
    plain = Web(env)
    try:
        plain.request("GET", "/")
        raise TestFailure("plain HTTP answered on the HTTPS port")
    except (http.client.HTTPException, OSError):
        pass
