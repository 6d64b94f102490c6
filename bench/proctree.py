"""What a server costs, counted over its whole process tree: the process
and all its descendants (Dovecot's master and its anvil, log, config,
auth, pop3-login and pop3 processes; popd alone).

    python3 proctree.py cpu PID    CPU seconds (user + system) so far
    python3 proctree.py pss PID    PSS in bytes now
    python3 proctree.py snap PID   CPU seconds of the tree, busy CPU seconds
                                   of the whole machine, and the time

CPU counts the children that have ended too: a process's cutime and
cstime hold those of the children it has waited for (Dovecot's master
reaps its short-lived pop3-login and pop3 processes), so the difference
of two readings is all the CPU the tree used in between.
"""
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def _stats():
    """{pid: fields after the command name} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:  # gone meanwhile
            continue
        out[int(d)] = s[s.rindex(")") + 2:].split()
    return out


def tree(root, stats=None):
    """The PIDs of root and its descendants, with their stat fields."""
    stats = stats if stats is not None else _stats()
    children = {}
    for pid, f in stats.items():
        children.setdefault(int(f[1]), []).append(pid)
    todo, out = [root], {}
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid]
            todo.extend(children.get(pid, ()))
    return out


def cpu(root):
    """CPU seconds of the tree: utime + stime + cutime + cstime."""
    return sum(sum(int(x) for x in f[11:15]) for f in tree(root).values()) / TICK


def pss(root):
    """Proportional set size of the tree, in bytes."""
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except PermissionError:
            print(f"proctree: cannot read the memory of process {pid} (run as root)", file=sys.stderr)
        except OSError:  # gone meanwhile
            pass
    return total


def machine():
    """CPU seconds all the machine's cores have been busy (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / TICK  # all but idle and iowait


if __name__ == "__main__":
    what, pid = sys.argv[1], int(sys.argv[2])
    if what == "snap":  # for bench/compare.sh: tree CPU, machine CPU, time
        print(f"{cpu(pid):.3f} {machine():.3f} {time.time():.6f}")
    else:
        print({"cpu": cpu, "pss": pss}[what](pid))
