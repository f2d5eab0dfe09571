"""The short soak: scripts/soak.sh for 45 s (ASan+UBSan callqd, mixed traffic, accounting with minimum calls,
answers and talk time; `make soak` runs the long form). Its own daemon, phones and work directory (build/soak/); the harness's callqd idles meanwhile."""
import signal
import subprocess

from harness import ROOT, check

SOAK_SECONDS = 45


def test_soak_short(env):
    # The ASan build (about a minute the first time), the soak and the checks outlast run.py's per-test
    # alarm (60 s by default): give this one test its own.
    signal.alarm(SOAK_SECONDS + 420)
    out = ROOT / "build" / "soak.out"
    with open(out, "w") as f:
        p = subprocess.run([str(ROOT / "scripts" / "soak.sh"), str(SOAK_SECONDS)], cwd=ROOT, stdout=f,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=SOAK_SECONDS + 400)
    text = out.read_text(errors="replace")
    summary = [line for line in text.splitlines() if line.startswith("soak: ")]
    check(p.returncode == 0, f"scripts/soak.sh {SOAK_SECONDS} exited {p.returncode}:\n" + "\n".join(summary[-25:]))
    # soak.sh fails on an empty journal, no call answered, too little talk or too many misses: its verdict
    # and the accounting line it came from must both be there.
    check(summary and summary[-1] == "soak: PASS", f"scripts/soak.sh gave no verdict:\n" + "\n".join(summary[-25:]))
    check(any(line.startswith("soak: journal: ") for line in summary), "scripts/soak.sh printed no accounting")
