#!/usr/bin/env bash
# Memory of idle logged-in sessions in the popd binary: N sessions (default
# 10,000) log in and stay; popd's PSS (from /proc/PID/smaps_rollup) before
# and after, per session, and again a minute later (it must stay flat).
#
#   bench/idle.sh [N]
set -euo pipefail
n=${1:-10000}
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"
tmp=$(mktemp -d /tmp/popd-idle.XXXXXX)
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'tail -5 "$tmp/popd.log" >&2' ERR
# popd holds 5 descriptors per session (connection, maildir, new/, cur/,
# lock): the hard limit caps n.
need=$((n * 6 + 1000)) hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || ((need <= hard)) || { echo "ulimit -Hn is $hard: at most $(((hard - 1000) / 6)) sessions" >&2; exit 2; }
ulimit -n "$need"
cd "$repo" && go build -o "$tmp/popd" ./cmd/popd
python3 - "$tmp" "$n" <<'PY'
import os, sys
tmp, n = sys.argv[1], int(sys.argv[2])
with open(f"{tmp}/users", "w") as u:
    for i in range(n):
        u.write(f"i{i}:{{PLAIN}}pw::::{tmp}/home/i{i}::\n")
        md = f"{tmp}/mail/i{i}"
        for sub in ("tmp", "new", "cur"):
            os.makedirs(f"{md}/{sub}")
        for j in range(5):
            with open(f"{md}/cur/{1700000000 + j}.M{j}P1.idle:2,S", "w") as f:
                f.write("Subject: idle\n\nhello\n")
PY
as=(); ((EUID)) || as=(-allow-root)
"$tmp/popd" "${as[@]}" -listen 127.0.0.1:0 -users "$tmp/users" -maildir "$tmp/mail/%u" \
	-control "$tmp/control.sock" -max-connections $((n + 100)) -max-connections-per-ip $((n + 100)) \
	-log-level warn 2>"$tmp/popd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/control.sock" ] && break; sleep 0.1; done
port=$(ss -ltnp | awk -v p="pid=$pid," '$0 ~ p {split($4, a, ":"); print a[length(a)]; exit}')
python3 - "$pid" "$port" "$n" <<'PY'
import socket, sys, time
pid, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def pss():
    for l in open(f"/proc/{pid}/smaps_rollup"):
        if l.startswith("Pss:"):
            return int(l.split()[1]) * 1024
def line(f):
    l = f.readline()
    assert l.startswith(b"+OK"), l
time.sleep(1)
before = pss()
conns = []
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    line(f)
    s.sendall(f"USER i{i}\r\nPASS pw\r\n".encode())
    line(f); line(f)
    conns.append((s, f))
t1 = time.time()
time.sleep(2)
after = pss()
print(f"{n} idle sessions logged in in {t1 - t0:.1f}s; popd PSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB: "
      f"{(after - before) / n / 1024:.1f} KiB per idle session")
time.sleep(60)
later = pss()
print(f"a minute later: {later / 2**20:.1f} MiB ({(later - after) / 60 / 1024:+.1f} KiB/s)")
PY
