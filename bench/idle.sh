#!/usr/bin/env bash
# Memory of idle logged-in sessions in the popd binary: N sessions (default
# 10,000) log in and stay; popd's PSS (from /proc/PID/smaps_rollup) before
# and after, per session, and again a minute later (it must stay flat).
#
#   bench/idle.sh [N]
set -euo pipefail
n=${1:-10000}
. "$(dirname "$0")/lib.sh"
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
python3 "$bench/idle.py" write "$tmp" "$n"
as=(); ((EUID)) || as=(-allow-root)
"$tmp/popd" "${as[@]}" -listen 127.0.0.1:0 -users "$tmp/users" -maildir "$tmp/mail/%u" \
	-control "$tmp/control.sock" -max-connections $((n + 100)) -max-connections-per-ip $((n + 100)) \
	-log-level warn 2>"$tmp/popd.log" &
pid=$!
for _ in $(seq 100); do [ -S "$tmp/control.sock" ] && break; sleep 0.1; done
port=$(ss -ltnp | awk -v p="pid=$pid," '$0 ~ p {split($4, a, ":"); print a[length(a)]; exit}')
python3 "$bench/idle.py" measure "$pid" "$port" "$n" popd 60
