#!/usr/bin/env bash
# Side-by-side benchmark of popd and Dovecot's POP3 (2.3), on the same
# machine, with the Go benchmarks of internal/server over the same kind of
# fixture (each server gets its own fresh copy).
#
#   bench/dovecot.sh [PORT] [big|bigonly]
#
# PORT (default 11110) is where Dovecot listens on 127.0.0.1. With "big",
# it then also times a 100,000-message maildrop (login + UIDL + QUIT,
# twice) in Dovecot and in popd (the popd binary, on PORT+1), then popd on
# the maildrop as Dovecot left it (migrated); "bigonly" skips the rest.
# DOVECOT_FAST=1 switches Dovecot to its high-performance mode (see
# lib.sh). bench/compare.sh runs it all against the popd binary and
# prints one table.
# Needs: apt-get install dovecot-pop3d. The system service need not run:
# this starts its own instance with its own config, and stops it.
set -euo pipefail
port=${1:-11110}
mode=${2:-}
. "$(dirname "$0")/lib.sh"

bench_tmp popd-dovecot
dir=$tmp/dovecot              # Dovecot's fixture
mkdir -p "$dir" "$tmp/popd"   # popd's fixture

dovecot_config "$tmp" "$dir" "$port" "${DOVECOT_FAST:-}"
bench() { # bench FIXTURE [ADDR]: write the fixture and warm up, then measure
	local run=(run_bench "$1" "${2:-}" -test.bench '^Benchmark(LoginQuit|LoginStatQuit|Retr|RetrSmall)$')
	"${run[@]}" -test.benchtime 1x >"$tmp/warmup.log" || { cat "$tmp/warmup.log"; return 1; }
	"${run[@]}" -test.benchtime 5s -test.count 3
}

bench_fixture "$dir"
dovecot_start "$tmp" "$port"
if [ "$mode" != bigonly ]; then
	echo "=== Dovecot $dovecot_version on 127.0.0.1:$port$( ((!dovecot_fast)) || echo " (high-performance mode)")"
	bench "$dir" "127.0.0.1:$port"
	echo "=== popd (in-process)"
	bench "$tmp/popd"
fi

[ "$mode" = big ] || [ "$mode" = bigonly ] || exit 0

# 100,000 messages of about 2 KB in a fresh maildrop for b0, the same for
# both servers; then login + UIDL + QUIT twice: the first session scans (and
# Dovecot indexes) it all, the second finds what the first left.
big_fixture "$dir" "$tmp/popd"
echo "=== 100,000 messages: Dovecot"
python3 "$bench/big.py" time "$port"
cd "$repo" && go build -o "$tmp/popd.bin" ./cmd/popd
popd_start "$tmp/popd.bin" "$tmp/popd/users" $((port + 1)) "$tmp/popd.log"
echo "=== 100,000 messages: popd"
python3 "$bench/big.py" time $((port + 1))

# Migrated: popd on the maildrop exactly as Dovecot left it (its
# dovecot-uidlist, the ,S=/,W= names), first and later sessions; compare
# with Dovecot's second session above. The UIDLs must be Dovecot's.
kill "$popd_pid" && wait "$popd_pid" 2>/dev/null || true
rm -rf "$tmp/popd/mail/b0"
cp -a "$dir/mail/b0" "$tmp/popd/mail/b0"
popd_start "$tmp/popd.bin" "$tmp/popd/users" $((port + 1)) "$tmp/popd.log"
echo "=== 100,000 messages migrated from Dovecot: popd"
python3 "$bench/big.py" time $((port + 1))
