"""Memory of idle logged-in POP3 sessions in a server.

    python3 idle.py write DIR N [USERS]
    python3 idle.py measure PID PORT N [NAME [LATER]]

"write" makes users i0..i{N-1} (password pw), each with a maildrop of 5
small messages in DIR/mail/USER, and appends their lines to USERS (by
default DIR/users). "measure" logs them all in on 127.0.0.1:PORT and keeps
them there: the PSS of the server's process tree (see proctree.py; PID is
popd, or Dovecot's master) before and after, per session; with LATER
(seconds), again that much later (it must stay flat). NAME names the
server in the report.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in bench/
import proctree

if sys.argv[1] == "write":
    tmp, n = sys.argv[2], int(sys.argv[3])
    users = sys.argv[4] if len(sys.argv) > 4 else f"{tmp}/users"
    with open(users, "a") as u:
        for i in range(n):
            u.write(f"i{i}:{{PLAIN}}pw::::{tmp}/home/i{i}::\n")
            md = f"{tmp}/mail/i{i}"
            for sub in ("tmp", "new", "cur"):
                os.makedirs(f"{md}/{sub}")
            for j in range(5):
                with open(f"{md}/cur/{1700000000 + j}.M{j}P1.idle:2,S", "w") as f:
                    f.write("Subject: idle\n\nhello\n")
    sys.exit()

pid, port, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
name = sys.argv[5] if len(sys.argv) > 5 else "popd"
later_s = int(sys.argv[6]) if len(sys.argv) > 6 else 0


def line(f):
    l = f.readline()
    assert l.startswith(b"+OK"), l


time.sleep(1)
before = proctree.pss(pid)
conns = []
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    line(f)
    s.sendall(f"USER i{i}\r\nPASS pw\r\n".encode())
    line(f)
    line(f)
    conns.append((s, f))
t1 = time.time()
time.sleep(2)
after = proctree.pss(pid)
print(f"{n} idle sessions logged in in {t1 - t0:.1f}s; {name} PSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB: "
      f"{(after - before) / n / 1024:.1f} KiB per idle session")
if later_s:
    time.sleep(later_s)
    later = proctree.pss(pid)
    print(f"{'a minute' if later_s == 60 else f'{later_s}s'} later: {later / 2**20:.1f} MiB "
          f"({(later - after) / later_s / 1024:+.1f} KiB/s)")
