"""File descriptor limits: callqd raises RLIMIT_NOFILE at start, warns when the limit cannot cover the RTP port
range and max_calls, and does not spin when the control socket's accept() runs out of descriptors."""
import os
import socket
import subprocess
import time

from harness import CALLQD, Ctl, check, free_port, wait_for


def soft_hard_nofile(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return soft, hard
    raise AssertionError("no 'Max open files' line")


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_fd_limit_raised_to_hard_limit(env):
    pid = env.daemon.proc.pid
    soft, hard = soft_hard_nofile(pid)
    check(soft == hard, f"callqd's soft RLIMIT_NOFILE {soft} was not raised to the hard limit {hard}")
    check("file descriptors: limit" in env.daemon.log_path.read_text(), "no start-up line about the fd limit")


def test_fd_limit_warning_names_the_numbers(env):
    """A hard limit below what the port range needs: callqd says so with the numbers, and still serves."""
    work = env.workdir / "low"
    (work / "rec").mkdir(parents=True)
    sock = str(env.workdir / "low.sock")
    log_path = work / "callqd.log"
    cmd = ["prlimit", "--nofile=300:300", str(CALLQD), "-c", str(env.daemon.conf_path),
           "-o", f"sip_port={free_port(tcp_too=True)}", "-o", f"control={sock}",
           "-o", f"db={work / 'callq.db'}", "-o", f"recordings={work / 'rec'}",
           "-o", "rtp_port_min=40000", "-o", "rtp_port_max=40999", "-o", "max_calls=100",
           "-o", "http_port=0", "-o", f"queue_log={work / 'queue_log'}",
           "-o", f"sip_tls_port={free_port(tcp_too=True)}"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    env.add_cleanup(lambda: (proc.terminate(), proc.wait(5)))
    ctl = Ctl(sock)
    wait_for(lambda: os.path.exists(sock) and ctl.run("whoami").ok, 10, "the low-limit callqd to answer")
    text = log_path.read_text()
    # 500 even ports, but max_calls 100 needs only 200 legs: 2 * 200 + 100 + 128 + 256 = 884.
    want = ("file descriptor limit 300 (hard limit 300) is below the 884 needed: 2 for each of 200 RTP legs "
            "(ports 40000-40999, max_calls 100), 100 recordings, 128 control connections, 256 other")
    check(want in text, f"no warning {want!r} in the log:\n{text}")


def test_control_accept_out_of_fds_does_not_spin(env):
    """With every descriptor taken, pending control connections wait in the backlog; callqd stops polling the
    listening socket between tries instead of spinning on EMFILE, and answers again once fds are free."""
    pid = env.daemon.proc.pid
    limit = open_fds(pid) + 3
    subprocess.run(["prlimit", "--pid", str(pid), f"--nofile={limit}:{limit}"], check=True)
    clients = []
    try:
        for _ in range(30):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(env.daemon.socket_path)
            clients.append(s)
        wait_for(lambda: open_fds(pid) >= limit, 5, f"callqd to hold its limit of {limit} descriptors")
        warned = env.daemon.log_path.read_text().count("pausing accepts")
        before = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - before
        check(used < 0.3, f"callqd used {used:.2f} s of CPU in 2 s while out of descriptors: the accept loop spins")
        log = env.daemon.log_path.read_text()
        check("accept: Too many open files" in log and "pausing accepts" in log,
              "no warning that accept() ran out of descriptors")
        again = log.count("pausing accepts") - warned
        check(again <= 3, f"{again} out-of-descriptor warnings in 2 s: not rate limited")
    finally:
        for s in clients:
            s.close()
    wait_for(lambda: env.ctl.run("whoami").ok, 5, "callqd to answer once descriptors are free")
