"""Student code the sandbox tests run: a graded function that works, and functions that attack
the sandbox each in one way. Each attack test asserts two things: the attack fails (or is
contained), and the grader carries on with a clear status."""

from __future__ import annotations

from pathlib import Path

COURSE = Path(__file__).resolve().parents[2]


STUDENT = """\
# GRADED FUNCTION: double
def double(x):
    return x * 2, (x.sum(), [x.shape])
"""


ATTACKS = """\
import os, signal, subprocess, sys, threading, time
import numpy as np

def read(path):
    with open(path, "rb") as file:
        return file.read(100)

def write(path):
    with open(path, "w") as file:
        file.write("pwned")
    return "written"

def listdir(path):
    return sorted(os.listdir(path))

def busy(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "done"

def sleep(seconds):
    time.sleep(seconds)
    return "slept"

def spin_ignoring_signals():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass

def exit_hard(code):
    os._exit(code)

def exit_soft():
    raise SystemExit(4)

def kill(pid, sig=9):
    os.kill(pid, sig)
    return "sent"

def kill_parent():
    os.kill(os.getppid(), 9)
    return os.getppid()

def allocate(gigabytes):
    block = np.ones(int(gigabytes * 2**30) // 8)
    return block.nbytes

def flood(megabytes):
    line = "x" * 999 + "\\n"
    for _ in range(megabytes * 1000):
        print(line, end="")
    return "flooded"

def flood_fd(megabytes):
    os.write(1, b"y" * (megabytes << 20))
    return "flooded"

def fork():
    pid = os.fork()
    if pid == 0:
        time.sleep(1000)
        os._exit(0)
    return pid

def popen():
    return subprocess.Popen(["sleep", "1000"]).pid

def thread():
    threading.Thread(target=time.sleep, args=(1000,)).start()
    return "started"

def patch_the_world():
    np.allclose = lambda *a, **k: True
    np.testing.assert_allclose = lambda *a, **k: None
    time.perf_counter = lambda: 0.0
    return np.allclose(1, 2)

def fill_scratch(megabytes):
    block = b"z" * 2**20
    for index in range(megabytes):
        try:
            with open(f"fill{index}", "wb") as file:
                file.write(block)
        except OSError:
            return index
    return megabytes

def environment():
    return dict(os.environ)

def weird_result():
    class Secret:
        pass
    return [Secret(), np.array([None]), lambda: 1, (1, 2)]

def forge(text):
    fd = int(sys.argv[sys.argv.index("--replies") + 1])
    os.write(fd, text.encode())
    return "forged"

def leave_traces():
    write("trace.txt")
    import ctypes
    libc = ctypes.CDLL(None)
    return libc.shmget(1234, 4096, 0o1666)

def dig(depth):
    for _ in range(depth):
        os.mkdir("d")
        os.chdir("d")
    return depth

def find_traces():
    import ctypes
    libc = ctypes.CDLL(None)
    return [os.listdir("."), libc.shmget(1234, 4096, 0o666)]
"""
