"""`make install`: the installed tree (as an unprivileged user, into DESTDIR), the configuration it writes, the
systemd unit (systemd-analyze verify), the man pages (groff and mandoc lint), and the installed callqd serving
callqctl from the installed configuration."""
import os
import re
import shutil
import signal
import subprocess

import harness
from harness import ROOT, Ctl, check, free_port, wait_for

NOBODY = 65534
PAGES = {"man1/callqctl.1", "man5/callq.conf.5", "man8/callqd.8"}


def missing_tool(name, package):
    """A tool this machine lacks: skipped where the runner can say so, else a failure naming the package."""
    message = f"{name} not found (scripts/deps.sh installs {package})"
    if hasattr(harness, "Skip"):
        raise harness.Skip(message)
    raise harness.TestFailure(message)


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)


def make(dest, *targets):
    """`make TARGETS DESTDIR=dest PREFIX=/usr`; as nobody when we are root, so a step that needs root fails."""
    cmd = ["make", "--no-print-directory", "-C", ROOT, *targets, f"DESTDIR={dest}", "PREFIX=/usr"]
    if os.geteuid() == 0:
        os.chown(dest, NOBODY, NOBODY)
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    p = run(cmd)
    check(p.returncode == 0, f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p.stdout


def install(env):
    """Builds as ourselves (a no-op after `make all`), then installs into a fresh DESTDIR under the work dir."""
    p = run(["make", "--no-print-directory", "-s", "-C", ROOT, "all"])
    check(p.returncode == 0, f"make all failed:\n{p.stderr[-2000:]}")
    dest = env.workdir / "dest"
    dest.mkdir()
    make(dest, "install")
    return dest


def conf_values(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_install_tree(env):
    dest = install(env)
    for binary in ("usr/sbin/callqd", "usr/bin/callqctl"):
        mode = (dest / binary).stat().st_mode & 0o777
        check(mode == 0o755, f"{binary} has mode {mode:o}, not 755")
    media = sorted(str(p.relative_to(harness.MEDIA)) for p in harness.MEDIA.rglob("*") if p.is_file())
    installed = sorted(str(p.relative_to(dest / "usr/share/callq/media"))
                       for p in (dest / "usr/share/callq/media").rglob("*") if p.is_file())
    check(media and installed == media, f"installed media {installed[:5]}... differ from media/ {media[:5]}...")
    for page in PAGES:
        check((dest / "usr/share/man" / page).is_file(), f"man page {page} not installed")

    sample = conf_values(ROOT / "etc/callq.conf")
    conf = conf_values(dest / "etc/callq/callq.conf")
    moved = {"db": "/var/lib/callq/callq.db", "control": "/run/callq/callq.sock",
             "recordings": "/var/lib/callq/recordings", "media": "/usr/share/callq/media", "seed_demo": "no",
             "queue_log": "/var/lib/callq/queue_log"}
    # TLS needs a certificate the installer cannot make up: off (commented out) until one is configured.
    del sample["sip_tls_dir"]
    check(conf == {**sample, **moved}, f"installed configuration {conf} is not the sample with {moved}")

    unit = (dest / "usr/lib/systemd/system/callqd.service").read_text()
    check(unit_settings(unit).get("ExecStart") == "/usr/sbin/callqd -c /etc/callq/callq.conf",
          f"unit ExecStart is {unit_settings(unit).get('ExecStart')!r}")
    sysusers = shutil.which("systemd-sysusers")
    if not sysusers:
        missing_tool("systemd-sysusers", "systemd")
    p = run([sysusers, f"--root={dest}", "--dry-run"])
    check(p.returncode == 0 and "Creating user 'callq'" in p.stdout + p.stderr,
          f"systemd-sysusers does not create user callq from the installed sysusers.d file:\n{p.stdout}{p.stderr}")

    # A second install keeps an edited configuration; uninstall leaves only it.
    with open(dest / "etc/callq/callq.conf", "a") as f:
        f.write("log_level = debug\n")
    make(dest, "install")
    check("log_level = debug" in (dest / "etc/callq/callq.conf").read_text(), "install overwrote the configuration")
    make(dest, "uninstall")
    left = files_under(dest)
    check(left == ["etc/callq/callq.conf"], f"uninstall left {left}")


def test_install_unit_verifies(env):
    """systemd-analyze verify on the installed unit, its ExecStart pointed at the DESTDIR binary and man looking
    into the DESTDIR pages (Documentation=); a unit with an unknown setting shows that the check can fail."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        missing_tool("systemd-analyze", "systemd")
    dest = install(env)
    unit = (dest / "usr/lib/systemd/system/callqd.service").read_text()
    s = unit_settings(unit)
    for key, want in {"Type": "simple", "User": "callq", "Group": "callq", "NoNewPrivileges": "yes",
                      "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                      "CapabilityBoundingSet": "", "StateDirectory": "callq", "RuntimeDirectory": "callq",
                      "Restart": "on-failure"}.items():
        check(s.get(key) == want, f"unit sets {key}={s.get(key)!r}, want {want!r}")
    families = set(s.get("RestrictAddressFamilies", "").split())
    check({"AF_UNIX", "AF_INET", "AF_INET6"} <= families, f"RestrictAddressFamilies={families}")

    checkdir = env.workdir / "verify"
    checkdir.mkdir()
    copy = checkdir / "callqd.service"
    copy.write_text(unit.replace("ExecStart=/usr/sbin/callqd", f"ExecStart={dest}/usr/sbin/callqd"))
    environ = {**os.environ, "MANPATH": str(dest / "usr/share/man")}
    p = run([analyze, "verify", copy], env=environ)
    out = (p.stdout + p.stderr).strip()
    check(p.returncode == 0 and "callqd" not in out, f"systemd-analyze verify exited {p.returncode}:\n{out}")

    broken = checkdir / "broken" / "callqd.service"
    broken.parent.mkdir()
    broken.write_text(copy.read_text().replace("[Service]\n", "[Service]\nNoSuchSetting=1\n"))
    p = run([analyze, "verify", broken], env=environ)
    check("NoSuchSetting" in p.stdout + p.stderr, f"systemd-analyze verify let an unknown setting pass:\n{p.stderr}")


def test_man_pages_lint(env):
    """The installed pages render without warnings (groff -ww, mandoc -T lint), and callq.conf(5) names every
    key src/core/conf.c accepts."""
    for tool, package in (("groff", "groff-base"), ("mandoc", "mandoc")):
        if not shutil.which(tool):
            missing_tool(tool, package)
    dest = install(env)
    for page in sorted(PAGES):
        path = dest / "usr/share/man" / page
        p = run(["groff", "-man", "-ww", "-z", path])
        check(p.returncode == 0 and not p.stderr.strip(), f"groff warns about {page}:\n{p.stderr}")
        p = run(["mandoc", "-T", "lint", "-W", "warning", path])
        check(p.returncode == 0 and not (p.stdout + p.stderr).strip(), f"mandoc lint on {page}:\n{p.stdout}{p.stderr}")
    keys = re.findall(r'!strcmp\(k, "([a-z_]+)"\)', (ROOT / "src/core/conf.c").read_text())
    check(len(keys) >= 10, f"could not read the configuration keys from src/core/conf.c: {keys}")
    page = (dest / "usr/share/man/man5/callq.conf.5").read_text()
    absent = [k for k in keys if not re.search(rf"^\.BR .*\b{k}\b", page, re.M)]
    check(not absent, f"callq.conf(5) does not describe {absent}")


def test_installed_callqd_serves(env):
    """The installed callqd, with the installed configuration and only its paths and port overridden, runs as an
    unprivileged user, needs no more descriptors than the unit's LimitNOFILE, has no demo data, answers the
    installed callqctl, and stops cleanly on SIGTERM."""
    dest = install(env)
    limit = unit_settings((dest / "usr/lib/systemd/system/callqd.service").read_text())["LimitNOFILE"]
    state = env.workdir / "state"
    (state / "run").mkdir(parents=True)
    sock = state / "run" / "callq.sock"
    cmd = [dest / "usr/sbin/callqd", "-c", dest / "etc/callq/callq.conf",
           "-o", f"sip_port={free_port(tcp_too=True)}", "-o", f"db={state / 'callq.db'}", "-o", f"control={sock}",
           "-o", f"recordings={state / 'recordings'}", "-o", f"media={dest / 'usr/share/callq/media'}",
           "-o", f"http_port={free_port(tcp_too=True)}", "-o", f"queue_log={state / 'queue_log'}"]
    if os.geteuid() == 0:
        for d in (state, state / "run"):
            os.chown(d, NOBODY, NOBODY)
        cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *cmd]
    log_path = env.workdir / "installed-callqd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    env.add_cleanup(lambda: (proc.kill(), proc.wait()))
    env.add_diagnostic(lambda: "installed callqd log:\n" + log_path.read_text(errors="replace")[-3000:])

    ctl = Ctl(str(sock))
    ctl_bin = dest / "usr/bin/callqctl"

    def callqctl(*args):
        return run([ctl_bin, "-s", sock, *args])

    def answers():
        check(proc.poll() is None, f"installed callqd exited with {proc.returncode}")
        return sock.exists() and callqctl("whoami").returncode == 0
    wait_for(answers, 10, "the installed callqd to answer on its control socket")
    p = callqctl("help")
    check(p.returncode == 0 and re.match(r"OK \d+ rows\n", p.stdout) and "verb=queue.create" in p.stdout,
          f"installed callqctl help: exit {p.returncode}:\n{p.stdout[:500]}{p.stderr}")
    check(ctl.run("queue.list").rows == [], "the installed configuration seeded demo queues")
    log = log_path.read_text()
    need = re.search(r"file descriptor.* (?:about|below the) (\d+) needed", log)
    check(need, f"callqd did not say how many descriptors it needs:\n{log}")
    check(int(need.group(1)) <= int(limit),
          f"the installed configuration needs {need.group(1)} descriptors, the unit's LimitNOFILE is {limit}")
    check(f"from {dest}/usr/share/callq/media" in log, f"no prompts loaded from the installed media:\n{log}")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(10) == 0, f"installed callqd exited {proc.returncode} on SIGTERM")
