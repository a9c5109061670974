"""Processes: which one runs something (to tell later whether it still does), and child
processes that end with their parent.

A process is named by its pid, its host and the time it started: a pid alone is given
to another process once the first one has ended. On Linux the start time comes from
/proc; elsewhere it is unknown and the pid alone is checked.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

_PROC = Path("/proc")
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# The boot time the kernel reports (/proc/stat's btime) can move by a second when the
# clock is adjusted, so start times read at different moments may differ by that much.
# A pid given to another process within that time of the first one's start is not
# a case to guard against.
START_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    host: str
    started_at: datetime | None  # None: unknown (not on Linux)


def this_process() -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(pid, host_name(), start_time(pid))


def host_name() -> str:
    return socket.gethostname()


def start_time(pid: int) -> datetime | None:
    """When the process `pid` of this host started (aware, UTC), or None if there is no
    such process or the system does not say."""
    stat = _stat(pid)
    boot = _boot_time()
    if stat is None or boot is None:
        return None
    ticks = stat[2]
    return boot + timedelta(seconds=ticks / os.sysconf("SC_CLK_TCK"))


def is_alive(pid: int, started_at: datetime | None) -> bool:
    """Whether the process `pid` of this host, started at `started_at` (if known), still
    runs. A zombie (ended, not yet collected by its parent) has ended; a process with
    the same pid started at another time is another process."""
    if pid <= 0:
        return False
    if not _PROC.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # someone else's process
        return True
    stat = _stat(pid)
    if stat is None or stat[0] in ("Z", "X"):
        return False
    if started_at is None:
        return True
    now_started = start_time(pid)
    return now_started is None or abs(now_started - started_at) <= START_TOLERANCE


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> None:
    """Have the kernel send `signum` to this process when its parent ends (Linux's
    parent-death signal), and end now if the parent, `parent_pid`, has already ended.

    For a child process to call first thing (a pool's worker initializer, a
    subprocess's preexec_fn): the parent may have been killed before the signal was
    asked for, hence the check after asking. The signal is sent when the thread that
    started the child ends: start children from a thread that lives as long as the
    process (the main one).
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
    if os.getppid() != parent_pid:
        os._exit(1)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start in clock ticks after boot) from /proc, or None."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may itself hold spaces and parentheses.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _boot_time() -> datetime | None:
    try:
        text = (_PROC / "stat").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            return datetime.fromtimestamp(int(line.split()[1]), tz=UTC)
    return None
