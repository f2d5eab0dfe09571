"""The web pages (src/web/pages/) in a real browser: headless Chromium driven by Selenium against callqd's own
HTTP server, with sipp callers and phones. Screenshots of every page land in build/screenshots/.

Needs Debian's chromium, chromium-driver and python3-selenium (scripts/deps.sh installs them).
"""
import sys
import time
from pathlib import Path

import harness
from harness import check

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = harness.ROOT / "build" / "screenshots"
# What works in a sandbox with no outside network: no GPU, no QUIC, nothing phoning home at start.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000"]
SEEN_WITHIN = 1.0   # a change on the wallboard after the engine made it, seconds


def _selenium():
    try:
        import selenium  # noqa: F401
    except ImportError:
        # python3 may be another interpreter than Debian's, where deps.sh installs python3-selenium.
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from selenium import webdriver
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        raise harness.TestFailure("selenium not found: scripts/deps.sh installs chromium, chromium-driver, "
                                  "python3-selenium")
    return webdriver, By, WebDriverWait, StaleElementReferenceException


class Browser:
    """One headless Chromium with a fresh profile, stopped at the end of the test."""

    def __init__(self, env, name):
        webdriver, self.By, self.Wait, self.Stale = _selenium()
        check(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
              "chromium or chromedriver missing: scripts/deps.sh installs chromium and chromium-driver")
        self.env, self.name = env, name
        self.downloads = env.workdir / f"{name}-downloads"
        self.downloads.mkdir()
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={env.workdir / (name + '-profile')}"]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = webdriver.chrome.service.Service(CHROMEDRIVER, log_path=str(env.workdir / f"{name}-driver.log"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.console_lines = []
        env.add_cleanup(self.quit)
        env.add_diagnostic(lambda: f"browser {self.name} console: {self.console_lines[-10:]}")
        self.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(self.downloads)})
        self.base = f"http://{harness.HOST}:{env.daemon.http_port}/"

    def quit(self):
        """Keeps the page's console messages and a last screenshot for the diagnostics, then stops the browser."""
        try:
            self.console_lines = [entry.get("message") for entry in self.driver.get_log("browser")]
            self.driver.save_screenshot(str(self.env.workdir / f"{self.name}-last.png"))
        finally:
            self.driver.quit()

    def wait(self, condition, timeout, what):
        """Waits until condition(driver) is truthy and returns it (WebDriverWait), else a TestFailure."""
        try:
            return self.Wait(self.driver, timeout, poll_frequency=0.05,
                             ignored_exceptions=(self.Stale,)).until(lambda d: condition(d))
        except Exception as e:
            if isinstance(e, harness.TestFailure):
                raise
            raise harness.TestFailure(f"{self.name}: timed out after {timeout:g}s waiting for {what}") from None

    def find(self, css):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    def visible(self, css):
        try:
            return [e for e in self.find(css) if e.is_displayed()]
        except self.Stale:
            return []

    def text(self, css):
        try:
            found = self.find(css)
            return found[0].text if found else None
        except self.Stale:
            return None

    def click(self, css, timeout=5):
        """Clicks the first visible match; a live part re-rendered under the click is looked up again."""
        def clicked(d):
            try:
                found = self.visible(css)
                return found and (found[0].click() or True)
            except self.Stale:
                return False
        self.wait(clicked, timeout, f"{css} to be clickable")

    def go(self, hash_):
        self.driver.get(self.base + "#/" + hash_)

    def login(self, login, password, shot=None):
        self.driver.get(self.base)
        self.wait(lambda d: self.visible("#login-form"), 10, "the login form")
        if shot:
            self.shot(shot)
        self.find("#login-form [name=login]")[0].send_keys(login)
        self.find("#login-form [name=password]")[0].send_keys(password)
        self.find("#login-form button[type=submit]")[0].click()
        self.wait(lambda d: self.visible("#top") and self.text("#who").startswith(login), 10, f"{login} logged in")
        self.wait(lambda d: self.find(".feed.on"), 10, "the event feed to connect")

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SHOTS / f"{name}.png"))

    def api(self, verb, body):
        """POSTs /api/VERB from the page, with the page's CSRF token; returns [HTTP status, JSON reply]."""
        return self.driver.execute_async_script("""
            const [verb, body, done] = arguments;
            fetch('/api/' + verb, {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('callq.csrf')},
                body: JSON.stringify(body)})
              .then(async r => done([r.status, await r.json().catch(() => null)]), e => done([0, String(e)]));""",
                                                verb, body)


def _wait_call(env, queue, timeout=10, **expected):
    """The row of a call in `calls QUEUE` that has every expected key, polled at 20 Hz."""
    def probe():
        for row in env.ctl.ok("calls", queue).rows:
            if all(row.get(k) == str(v) for k, v in expected.items()):
                return row
        return None
    return harness.wait_for(probe, timeout, f"a call in {queue} with {expected}", interval=0.05)


def _call_row(b, queue, call):
    return f"section.queue[data-queue={queue}] tr[data-call='{call}']"


def test_web_manager_wallboard_bump_answer(env):
    phone = env.phone("1100")
    b = Browser(env, "manager")
    b.login("1100", "pass1100", shot="login")
    b.wait(lambda d: b.find("section.queue[data-queue=support] .counters") and
           b.find("section.queue[data-queue=sales] .counters"), 5, "both queues on the wallboard")

    first = env.call("6000", duration_ms=30000, from_user="15551230001")
    row = _wait_call(env, "support", caller_number="15551230001")
    b.wait(lambda d: b.find(_call_row(b, "support", row["call"])), SEEN_WITHIN, "the call on the wallboard")
    b.wait(lambda d: b.text("section.queue[data-queue=support] [data-counter=waiting] .num") == "1", SEEN_WITHIN,
           "calls in queue = 1")
    second = env.call("6000", duration_ms=30000, from_user="004930123456")
    bumped = _wait_call(env, "support", caller_number="004930123456")
    b.wait(lambda d: b.find(_call_row(b, "support", bumped["call"])), SEEN_WITHIN, "the second call on the wallboard")
    check(not b.find("button.bump"), "the wallboard has no manager buttons")
    first_wait = b.text(_call_row(b, "support", row["call"]) + " td.wait")
    b.wait(lambda d: b.text(_call_row(b, "support", row["call"]) + " td.wait") != first_wait, 2.5,
           "the wait time to tick")
    b.shot("wallboard")

    # Bump: the second call becomes the next one offered.
    b.click("#nav a[data-view=queues]")
    b.click(_call_row(b, "support", bumped["call"]) + " button.bump")
    env.wait_row(5, "calls", "support", "limit=1", call=bumped["call"])
    b.wait(lambda d: b.find(f"section.queue[data-queue=support] tbody tr:first-child[data-call='{bumped['call']}']"),
           SEEN_WITHIN + 1, "the bumped call first in the page")

    # Answer: the other call rings the manager's own phone.
    b.click(_call_row(b, "support", row["call"]) + " button.answer")
    phone.sipp.wait_event("INVITE", 5)
    _wait_call(env, "support", call=row["call"], agent="1100")

    # An agent takes the bumped call; the manager listens in from the agents' table.
    agent_phone = env.phone("1001", answer_ms=300)
    env.make_ready("1001")
    agent_phone.sipp.wait_event("INVITE", 5)
    _wait_call(env, "support", call=bumped["call"], agent="1001", state="talking")
    listen = "section.queue[data-queue=support] tr[data-member='1001'] button.spy[data-mode=listen]"
    b.wait(lambda d: b.find(listen) and b.find("tr[data-member='1001'] .state.busy"), SEEN_WITHIN + 1,
           "1001 on call with Listen / Whisper / Barge")
    b.shot("queue")
    b.click(listen)
    phone.sipp.wait_event("INVITE", 5, count=2)

    b.click("button[data-act='queue.pause']")
    env.wait_row(5, "queue.show", "support", paused="yes")
    b.click("button[data-act='queue.resume']")
    env.wait_row(5, "queue.show", "support", paused="no")
    for c in (first, second):
        check(c.sipp.running(), f"caller {c.sipp.name} still on the line")

    env.ctl.ok("queue.unassign", "sales", "1003")
    b.click("nav.tabs a[href='#/queue/sales']")
    b.wait(lambda d: b.find(".queue-live[data-queue=sales] section.queue"), 5, "the sales queue view")
    b.find("#assign [name=login]")[0].send_keys("1003")
    b.click("#assign button[type=submit]")
    harness.wait_for(lambda: any(r["login"] == "1003" and r["queue_role"] == "agent"
                                 for r in env.ctl.ok("queue.members", "sales").rows), 5, "1003 assigned to sales")
    b.wait(lambda d: b.find("section.queue[data-queue=sales] tr[data-member='1003']"), SEEN_WITHIN + 1,
           "1003 listed in sales")


def test_web_agent_panel(env):
    env.ctl.ok("queue.set", "support", "record=yes", "recovery=8", "recovery_extend=20")
    phone = env.phone("1001", answer_ms=2500)
    b = Browser(env, "agent")
    b.login("1001", "pass1001")
    check(not b.visible("#nav a[data-view=queues]"), "an agent sees no Queues tab")

    b.click("#nav a[data-view=agent]")
    b.click(".agent-panel button.login-btn")
    b.click(".agent-panel button.ready-btn")
    env.wait_agent("1001", 5, logged_in="yes", ready="yes")
    b.wait(lambda d: b.text(".agent-live .state") == "ready", 2, "the panel to say ready")
    b.wait(lambda d: b.find("[data-queue-row=support] .state.ok"), 2, "support active in the panel")

    call = env.call("6000", duration_ms=4000, from_user="004930123456")
    phone.sipp.wait_event("INVITE", 10)
    b.wait(lambda d: "004930123456" in (b.text(".current-call .caller") or ""), 3, "the offered call in the panel")
    check("DE" in b.text(".current-call .caller"), f"the caller's country: {b.text('.current-call')!r}")
    b.shot("agent-call")
    b.wait(lambda d: b.find(".recovery .extend-btn"), 15, "recovery with Extend after the call")
    call.sipp.expect_success(10)
    before = int(env.ctl.row("agent.show", "1001")["recovery_left"])
    b.click(".recovery .extend-btn")
    harness.wait_for(lambda: int(env.ctl.row("agent.show", "1001")["recovery_left"]) > before, 3, "recovery extended")
    b.shot("agent-recovery")

    b.click("[data-queue-row=sales] button[data-act='agent.pause']")
    env.wait_row(5, "agent.show", "1001", logged_in="yes")
    harness.wait_for(lambda: any(r["login"] == "1001" and r["active"] == "no"
                                 for r in env.ctl.ok("queue.members", "sales").rows), 5, "1001 paused in sales")

    b.go("wall")
    b.wait(lambda d: b.find("section.queue[data-queue=support] .counters"), 5, "the agent's wallboard")
    b.go("queue/support")
    b.wait(lambda d: b.find("section.queue[data-queue=support]"), 5, "the queue page for an agent")
    check(not b.find("button.answer, button.bump, button.spy, button[data-act='queue.pause'], #assign"),
          "an agent's pages show no manager buttons")
    status, reply = b.api("call.bump", {"args": ["1"]})
    check(status == 403 and reply and reply.get("ok") is False and reply["error"]["code"] == "denied",
          f"call.bump from an agent: HTTP {status} {reply}")
    status, reply = b.api("queue.pause", {"args": ["support"]})
    check(status == 403, f"queue.pause from an agent: HTTP {status} {reply}")

    harness.wait_for(lambda: [r for r in env.ctl.ok("recordings", "agent=1001").rows if r["status"] == "done"],
                     5, "the call's recording, done")
    b.go("recordings")
    b.wait(lambda d: b.find("table.recordings tr[data-recording] audio"), 5, "the agent's recording with a play control")
    # The play control loads the file: its metadata is read (readyState >= HAVE_METADATA) and a fetch of its
    # src gets the WAV file.
    b.driver.execute_script("document.querySelector('table.recordings audio').load()")
    b.wait(lambda d: d.execute_script("const a = document.querySelector('table.recordings audio');"
                                      "return a.error ? -1 : a.readyState") >= 1, 5, "the audio element to load")
    check(b.driver.execute_script("return document.querySelector('table.recordings audio').duration") >= 1,
          "the recording plays for less than a second")
    status, ctype, head = b.driver.execute_async_script("""
        const done = arguments[0], a = document.querySelector('table.recordings audio');
        fetch(a.src, {credentials: 'same-origin'})
          .then(async r => done([r.status, r.headers.get('content-type'),
                                 Array.from(new Uint8Array(await r.arrayBuffer()).slice(0, 4))]),
                e => done([0, String(e), []]));""")
    check(status == 200 and ctype == "audio/wav" and bytes(head) == b"RIFF", f"GET of the audio src: {status} {ctype}")
    link = b.find("table.recordings a[download]")[0].get_attribute("href")
    check(link.endswith("&download=1"), f"the Download link {link}")
    b.shot("recordings")
    b.go("activity")
    b.wait(lambda d: b.find("table.activity td"), 5, "the activity log")
    b.shot("activity")


def test_web_report_csv(env):
    env.phone("1001")
    env.make_ready("1001")
    env.call("6000", duration_ms=1500).sipp.expect_success(15)
    env.call("6001", duration_ms=1000, from_user="33140000000")
    b = Browser(env, "report")
    b.login("1100", "pass1100")
    b.go("report")
    b.wait(lambda d: b.find("#report-form [name=queue]"), 5, "the report form")
    now = time.time()
    b.driver.execute_script("""
        const f = document.getElementById('report-form'), p = n => String(n).padStart(2, '0');
        const local = t => { const d = new Date(t * 1000);
          return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`; };
        f.from.value = local(arguments[0]); f.to.value = local(arguments[1]);""", int(now) - 3600, int(now) - 1)
    b.click("#report-run")
    b.wait(lambda d: b.find(".report svg.chart rect") and b.find(".report-table tbody tr"), 10, "the report and chart")
    b.shot("report")
    report = b.find(".report")[0]
    start, end = report.get_attribute("data-from"), report.get_attribute("data-to")
    check(start == str(int(now) - 3600) and end == str(int(now) - 1), f"report period {start}..{end}")
    subjects = [f"{i.get_attribute('name')}={i.get_attribute('value')}"
                for i in b.find("#report-form input[type=checkbox]:checked")]
    check("queue=support" in subjects and "agent=1001" in subjects, f"report subjects {subjects}")

    b.click("#report-csv")
    path = b.downloads / f"callq-report-{start}-{end}.csv"
    harness.wait_for(lambda: path.exists() and path.stat().st_size > 0, 10, f"{path.name} downloaded")
    reply = env.ctl.ok("report", *subjects, f"from={start}", f"to={end}", "format=csv")
    expected = reply.stdout.split("\n", 1)[1]
    got = path.read_bytes().decode()
    check(got == expected, f"the downloaded CSV differs from callqctl's:\n{got!r}\n{expected!r}")
    lines = got.splitlines()
    check(len(lines) == 1 + len(subjects) and lines[1].split(",")[1] == "support",
          f"CSV header and one record per subject: {lines}")

    b.click("#logout")
    b.wait(lambda d: b.visible("#login-form") and not b.visible("#top"), 5, "the login form after logging out")
    status, reply = b.api("whoami", {})
    check(status in (401, 403) or (status == 200 and reply["rows"][0]["role"] == "none"),
          f"whoami after logout: HTTP {status} {reply}")


def test_web_callbacks(env):
    """A queue's manager sees its pending callbacks on the queue page (not on the wallboard) and moves one to a
    place, places one now and cancels one with the row's buttons; `callback.list` shows each result. An agent's
    session may neither list nor cancel them."""
    from test_callback import callbacks_on, take_callback
    from test_gateway import provider
    from test_routing import call_id
    from test_web_api import logged_in
    prov = provider(env, "provider_busy.xml", args=["-m", "10"])
    callbacks_on(env, prov)
    env.call("6000", duration_ms=60000, from_user="5550001")
    one = call_id(env, "support", "5550001")
    ids = []
    for number in ("5550002", "5550003"):
        caller = env.call("6000", duration_ms=6000, from_user=number)
        ids.append(call_id(env, "support", number))
        take_callback(env, caller, number)
        caller.sipp.expect_success(20)
    two, three = ids

    def listed():
        return {r["id"]: r["position"] for r in env.ctl.ok("callback.list", "support").rows}
    check(listed() == {two: "2", three: "3"}, f"callback.list before: {listed()}")

    b = Browser(env, "callbacks")
    b.login("1100", "pass1100")
    b.wait(lambda d: b.find("section.queue[data-queue=support] .counters"), 5, "support on the wallboard")
    check(not b.find("table.callbacks") and not b.find("button.cb-move"), "the wallboard shows callback controls")
    b.go("queue/support")

    def row(call):
        return f"section.queue[data-queue=support] tr[data-callback='{call}']"
    b.wait(lambda d: b.find(row(two)) and b.find(row(three)), 5, "both callbacks on the queue page")
    check(b.text(row(two) + " td:nth-child(2)") == "5550002", f"number of {two}: {b.text(row(two))}")
    b.shot("callbacks")

    # Move: the last callback to place 1 of the whole line (ahead of the live caller).
    def typed(d):
        found = b.visible(row(three) + " input.cb-pos")
        return found and (found[0].clear() or found[0].send_keys("1") or True)
    b.wait(typed, 5, "the position field of the third caller's callback")
    b.click(row(three) + " button.cb-move")
    harness.wait_for(lambda: listed() == {three: "1", two: "3"}, 5, "callback.move to place 1")
    check(env.ctl.ok("calls", "support").rows[1]["call"] == one, "the live caller is not second after the move")
    b.wait(lambda d: b.find(f"table.callbacks tbody tr:first-child[data-callback='{three}']") and
           b.text(row(three) + " td:first-child") == "1", SEEN_WITHIN + 1, "the moved callback first on the page")

    # Now: the other callback becomes the next one offered.
    b.click(row(two) + " button.cb-now")
    harness.wait_for(lambda: listed().get(two) == "1", 5, "callback.now puts it first")
    env.wait_journal("call.bump", call=int(two), reason="callback.now")

    # Cancel: given up with reason cancelled, gone from the page.
    b.click(row(three) + " button.cb-cancel")
    harness.wait_for(lambda: three not in listed(), 5, "callback.cancel")
    env.wait_journal("callback.failed", call=int(three), reason="cancelled")
    b.wait(lambda d: not b.find(row(three)) and b.find(row(two)), SEEN_WITHIN + 1, "the cancelled callback gone")
    env.wait_stats("support", callbacks_requested=2, callbacks_failed=1)

    agent = logged_in(env, "1001")
    status, reply = agent.verb("callback.list", "support")
    check(status == 403 and reply["error"]["code"] == "denied", f"an agent's callback.list: {status} {reply}")
    status, reply = agent.verb("callback.cancel", two)
    check(status == 403 and reply["error"]["code"] == "denied", f"an agent's callback.cancel: {status} {reply}")
    check(listed() == {two: "1"}, f"callback.list after the agent's tries: {listed()}")
    check(prov.count("INVITE") == 0, f"the provider was called: {prov.events()}")
