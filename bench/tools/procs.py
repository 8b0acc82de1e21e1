"""Memory of a server: the sum over its process and every descendant (for
gunicorn, the master and all workers), read from /proc.

    python procs.py PID        prints {"rss_mb": ..., "pss_mb": ..., "hwm_mb": ..., "processes": n}
    python procs.py quiet PID  waits (at most 20 s) until the process tree and the machine are
                               quiet (wait_quiet); prints the seconds waited

RSS counts a page shared by two processes twice (what the issue asks for, and
what `ps` shows); PSS splits shared pages between their processes, so the sum
is the memory the whole tree really holds. HWM is each process's peak RSS.
"""

import json
import os
import sys
import time


def children_of():
    """{parent pid: [child pids]} for every process now."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                # The command name may hold spaces and parentheses: split after the last ')'.
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_of(pid):
    tree, out, todo = children_of(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid):
    rss = pss = hwm = n = 0
    for p in tree_of(pid):
        try:
            rss += status_kb(p, "VmRSS")
            hwm += status_kb(p, "VmHWM")
            pss += pss_kb(p)
            n += 1
        except OSError:  # exited meanwhile
            continue
    return {"rss_mb": rss / 1024, "pss_mb": pss / 1024, "hwm_mb": hwm / 1024, "processes": n}


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_times(pid):
    """(user, system) CPU time, in clock ticks, used so far by the process tree."""
    user = system = 0
    for p in tree_of(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return user, system


def cpu_ticks(pid):
    """CPU time (user + system, in clock ticks) used so far by the process tree."""
    return sum(cpu_times(pid))


def machine_ticks():
    """(all ticks, busy ticks) of every core so far, from /proc/stat. Busy is
    user, nice, system, irq and softirq: not idle or iowait, and not steal (time
    the host gave to other machines, which this one cannot wait away)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = (values + [0] * 7)[:7]
    return sum(values), user + nice + system + irq + softirq


def wait_quiet(pid, interval=0.2, busy_ticks=2, below=0.15, timeout=20):
    """Wait until, over one interval, the tree uses under ~10 % of a core and all
    cores together are under `below` busy; seconds waited.

    A server may still be working through requests a load left queued (a
    gunicorn sync worker answers every connection in its backlog, even those
    wrk has closed), and another server than the one about to be loaded may
    still be answering what its own load left (gunicorn's gevent workers keep
    answering for seconds after wrk has gone): the next load must not pay for
    either. Both are read over the same intervals, so a quiet machine costs
    one interval.
    """
    start = time.monotonic()
    before = cpu_ticks(pid)
    total, busy = machine_ticks()
    while time.monotonic() - start < timeout:
        time.sleep(interval)
        now = cpu_ticks(pid)
        total_now, busy_now = machine_ticks()
        spent = total_now - total
        machine_quiet = spent <= 0 or (busy_now - busy) / spent < below
        if now - before <= busy_ticks and machine_quiet:
            break
        before, total, busy = now, total_now, busy_now
    return time.monotonic() - start


if __name__ == "__main__":
    if sys.argv[1] == "quiet":
        print(f"{wait_quiet(int(sys.argv[2])):.1f}")
    else:
        print(json.dumps(memory(int(sys.argv[1]))))
