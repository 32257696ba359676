"""The sandbox that runs untrusted student code: the grader's side, and what runs inside.

`Sandbox` starts `worker.py` as a zygote process (numpy imported once) and asks it
for one forked session per graded function; `Session.call` runs a function on
inputs the grader chooses and returns plain data (see wire.py: nothing is ever
unpickled or eval'd here) together with the CPU time the session child used,
measured from outside through its process CPU clock.

Layers, each a kernel mechanism. A missing layer is reported with a
`SandboxWarning` naming the protection lost, and the others still apply:

1. bubblewrap (when `bwrap` is on PATH): new user, pid, net, ipc, uts and cgroup
   namespaces; no nested user namespaces; the zygote's init is pid 1, so killing it
   (or the zygote) tears down every process in the sandbox; dies with the grader; a
   read-only root holding only what sessions need (the interpreter, its stdlib,
   numpy, the shared libraries they load, /etc/ld.so.cache) and a private copy of
   worker.py/wire.py/landlock.py, all from a copy in RAM (tmpfs, built once per
   process: see runtime_tree.py), so no session can pass data to a later one through
   the page cache of a disk file; a size-limited tmpfs scratch dir is the only
   writable place. The course folder does not exist in there.
   The zygote keeps CAP_SYS_ADMIN and CAP_SETPCAP of the sandbox's own user namespace
   (nothing outside it) so that each session gets fresh mount and IPC namespaces, a
   fresh tmpfs scratch and the same pid as every other, and no loopback; the session
   child then drops every capability for good (bounding and ambient sets, locked
   securebits) before any student code runs (worker.py says how).
   Missing: no filesystem, pid or network isolation (Landlock still limits files),
   scratch is a host directory wiped between sessions, and the dedicated uid is only
   used if the Python installation is reachable by other users (it is not under a
   0700 /root).
2. a dedicated uid (61000 + slot, claimed with an flock'ed file in /tmp) when the
   grader runs as root: RLIMIT_NPROC is enforced (it is not for root), root-only
   files are unreadable, and close() can kill every process of that uid. bwrap then
   runs unprivileged as that uid; the Python installation, which may sit under a
   root-only directory such as /root, is bind-mounted to a reachable staging path
   in a private mount namespace first. Missing (grader not root): processes run
   as the grader's own user.
3. rlimits set before exec: address space, CPU seconds (a backstop behind the
   grader's own CPU budget), processes (4 = bwrap + the zygote's init + zygote + one
   session, as measured), file size, open files, no core dumps. Each session child also sets
   RLIMIT_NPROC to 0: it can neither fork nor start threads. The kernel ignores
   RLIMIT_NPROC for root, so this holds unless student code runs as root (bwrap
   missing and the Python installation unreachable for the dedicated uid).
4. Landlock, in each session child (worker.py): read-only access to the Python and
   system dirs, read-write to scratch only, no TCP, and no signals or abstract unix
   sockets outside its domain, plus PR_SET_NO_NEW_PRIVS; the zygote is
   non-dumpable so it cannot be ptraced or have its memory read. Missing (no
   Landlock in the kernel): only layers 1-3 confine files and signals.

A session holds the reference versions of the other functions, so nothing may pass
from one session to the next, counters included (worker.py says how): each session
gets fresh namespaces and scratch (or, without them, scratch is emptied and IPC
objects deleted after it); extended attributes, kernel keyrings and the shared pipes'
state are restored; and the zygote, whose memory every session inherits, never reads a
request or a session's output itself. Every request carries a random id its reply must
echo, so replies forged ahead of time (outside the measured call) are rejected as
"protocol" errors. The grader decodes every reply with size, depth, item and time
limits, trusts none of its fields beyond their type and length, and never blocks on a
pipe without a deadline.

The modules, grader side: sandbox.py (the Sandbox's lifecycle), session.py (Session,
CallResult, Status), zygote.py (a running zygote: requests, replies and exit reports),
channel.py (the pipes), launch.py (layers, bwrap's argv, environment, rlimits, staging
mounts), runtime_tree.py and elf.py (the RAM copy of what sessions run on), uid_slots.py and
procfs.py (dedicated uids, processes and CPU clocks seen from outside), errors.py. Shipped
into the sandbox and run there: worker.py, with wire.py (also the grader's decoder) and
landlock.py (also used for the staging mounts).
"""

from autograder.sandbox.errors import SandboxError, SandboxWarning
from autograder.sandbox.sandbox import Sandbox
from autograder.sandbox.session import CallResult, Session, SessionLoadError, Status

__all__ = ["CallResult", "Sandbox", "SandboxError", "SandboxWarning", "Session", "SessionLoadError", "Status"]
