"""Drives a command through a real pseudo-terminal (for tests/pty.test.ts).

Usage: python3 pty_session.py SPEC.json. The spec: {"argv": [...], "env": {...},
"cwd": "...", "prompt": "...", "steps": [...], "timeout": seconds,
"winsize": [rows, cols], "settle": seconds to wait before the last stty}. The command
runs in a new pty; each step is {"type": TEXT, "until": STR, "canonical": BOOL}
(if canonical, first wait until the terminal is in canonical mode with echo,
as a program reading lines sets it; type the text, then wait until the output
seen after it contains STR) or {"kill": SIGNAL}
(send the signal to the command). The command runs as a job-control shell
runs a foreground job: in a process group of its own that is the terminal's
foreground group, so the terminal's Ctrl-C, Ctrl-\ and Ctrl-Z reach it (and
not this driver). Prints one JSON
object: the transcript (latin-1), the exit status (or -signal), and the
terminal's `stty -g` before the command and after it ended.
(Named pty_session.py: a pty.py would shadow the pty module.)
"""
import fcntl, json, os, select, signal, struct, subprocess, sys, termios, time
import pty as ptymod

spec = json.load(open(sys.argv[1]))
timeout = spec.get("timeout", 60)
status_path = sys.argv[1] + ".status"

pid, fd = ptymod.fork()
if pid == 0:
    rows, cols = spec.get("winsize", [0, 0])
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    before = subprocess.run(["stty", "-g"], capture_output=True, text=True).stdout.strip()
    # Giving the terminal away and back from a background group would stop
    # us (SIGTTOU); the job gets the default action back before its exec.
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)

    def foreground_job():
        os.setpgid(0, 0)
        os.tcsetpgrp(0, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)

    p = subprocess.Popen(spec["argv"], env=spec["env"], cwd=spec.get("cwd", "/"), preexec_fn=foreground_job)
    with open(status_path + ".pid", "w") as f:
        f.write(str(p.pid))
    code = p.wait()
    os.tcsetpgrp(0, os.getpgrp())
    # A killed kvmos's watchdog restores the terminal just after it ends.
    time.sleep(spec.get("settle", 0))
    after = subprocess.run(["stty", "-g"], capture_output=True, text=True).stdout.strip()
    with open(status_path, "w") as f:
        json.dump({"status": code, "before": before, "after": after}, f)
    os._exit(0)

out = b""
deadline = time.time() + timeout


def read_until(marker, since):
    global out
    while marker is None or marker.encode() not in out[since:]:
        if time.time() > deadline:
            raise SystemExit(json.dumps({"error": f"timed out waiting for {marker!r}", "transcript": out.decode("latin-1")}))
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return
            if not d:
                return
            out += d


read_until(spec["prompt"], 0)
for step in spec["steps"]:
    if "kill" in step:
        cpid = int(open(status_path + ".pid").read())
        os.kill(cpid, getattr(signal, step["kill"]))
        continue
    if step.get("canonical"):
        # The master reports the terminal's (the slave's) modes.
        want = termios.ICANON | termios.ECHO
        while termios.tcgetattr(fd)[3] & want != want:
            if time.time() > deadline:
                raise SystemExit(json.dumps({"error": "timed out waiting for canonical mode", "transcript": out.decode("latin-1")}))
            time.sleep(0.01)
    at = len(out)
    os.write(fd, step["type"].encode())
    if step.get("until") is not None:
        read_until(step["until"], at)
read_until(None, 0)  # to the end (EOF when the session's child exits)
os.waitpid(pid, 0)
result = json.load(open(status_path))
for p in (status_path, status_path + ".pid"):
    os.unlink(p)
transcript = out.decode("latin-1")
print(json.dumps({"transcript": transcript, **result}))
