#!/usr/bin/env bash
# popd against Dovecot 2.3's POP3, side by side on this machine, every
# workload in one table with ratios and the CPU each side used:
#
#   bench/compare.sh
#
# Both servers run as their own processes on 127.0.0.1: Dovecot on PORT,
# configured and started as bench/dovecot.sh does (in its high-performance
# mode unless DOVECOT_FAST=0), and the popd binary on PORT+1. Each has its
# own fresh copy of the fixture. The Go benchmarks of internal/server drive
# both (POPD_BENCH_ADDR, POPD_BENCH_DIR), from a test binary built once;
# the runs alternate between the servers. For every run, the CPU (user +
# system) used by the server's whole process tree (see proctree.py) and by
# the benchmark process is divided by the run's wall time: cores used.
#
# Environment:
#   BENCH_TIME   -benchtime of each run (default 5s)
#   BENCH_COUNT  runs per workload and server; the table shows the median
#                and the range (default 3)
#   IDLE_N       idle logged-in sessions for the memory row (default 1000)
#   SKIP_BIG=1   skip the 100,000-message maildrop rows (its fixture takes
#                about a minute to write)
#   PORT         Dovecot's port; popd's is PORT+1 (default 11110)
#   DOVECOT_FAST 0 for Dovecot's default (high-security) mode (default 1)
#   LOG          where the raw output goes (default /tmp/popd-compare-*.log)
#   PIN=1        servers on CPU 0, load generator on CPU 1 (taskset): each
#                server gets one whole core, and the load generator can't
#                take it
set -euo pipefail
. "$(dirname "$0")/lib.sh"
benchtime=${BENCH_TIME:-5s}
count=${BENCH_COUNT:-3}
idle_n=${IDLE_N:-1000}
port=${PORT:-11110}
log=${LOG:-/tmp/popd-compare-$(date +%Y%m%d-%H%M%S).log}
dport=$port pport=$((port + 1))
: >"$log"
echo "raw output: $log"

# Room for the idle sessions: popd holds 5 descriptors per session; each
# of Dovecot's is a pop3 process of its own.
maxconn=$((idle_n + 100 > 1000 ? idle_n + 100 : 1000))
need=$((idle_n * 6 + 2000)) hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || ((need <= hard)) || { echo "IDLE_N=$idle_n needs ulimit -Hn $need (it is $hard)" >&2; exit 2; }
[ "$(ulimit -n)" = unlimited ] || (($(ulimit -n) >= need)) || ulimit -n "$need"

bench_tmp popd-compare
dir=$tmp/dovecot pdir=$tmp/popd # the fixtures
mkdir -p "$dir" "$pdir"
(cd "$repo" && go build -o "$tmp/popd.bin" ./cmd/popd && go test -c -o "$tmp/server.test" ./internal/server/)
gotest=("$tmp/server.test")

# What the workloads are, from the benchmarks themselves.
const() { sed -n "s/^\t$1 *= *\(.*\)/\1/p" "$repo/internal/server/bench_test.go"; }
small_n=$(const benchSmallMsgs) small_kb=$(($(const benchSmallSize) / 1024))
large_n=$(const benchMsgs) large_kb=$(($(const benchMsgSize) / 1024))

# The fixtures, and users i0..i{IDLE_N-1} for the idle sessions in a
# users file of their own (all-users): the benchmarks rewrite theirs.
for d in "$dir" "$pdir"; do
	bench_fixture "$d"
	cp "$d/users" "$d/all-users"
	python3 "$bench/idle.py" write "$d" "$idle_n" "$d/all-users"
	chown -R "$owner:$group" "$d/mail"
done
dovecot_config "$tmp" "$dir" "$dport" "${DOVECOT_FAST:-1}" "$dir/all-users"
cat >>"$tmp/dovecot.conf" <<EOF
# Room for the idle sessions (capacity only): one pop3 process each, and
# their connections to the log, anvil and stats processes.
default_client_limit = $((maxconn + 100))
service pop3 {
  process_limit = $maxconn
}
EOF
dovecot_start "$tmp" "$dport"
start_popd() {
	popd_start "$tmp/popd.bin" "$pdir/all-users" "$pport" "$tmp/popd.log" \
		-max-connections "$maxconn" -max-connections-per-ip "$maxconn"
}
start_popd
stop() { # stop PID PORT: until it has ended and the port is free
	kill "$1" && wait "$1" 2>/dev/null || true
	for _ in $(seq 100); do port_free "$2" 2>/dev/null && return; sleep 0.1; done
	port_free "$2"
}
mode="high-performance mode"
((dovecot_fast)) || mode="default, high-security mode"
{
	echo "Dovecot $dovecot_version ($mode) on 127.0.0.1:$dport (master PID $dovecot_pid)"
	echo "popd binary on 127.0.0.1:$pport (PID $popd_pid)"
	echo "$(nproc) cores: $(sed -n 's/^model name\t: //p' /proc/cpuinfo | sort -u); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "BENCH_TIME=$benchtime BENCH_COUNT=$count IDLE_N=$idle_n SKIP_BIG=${SKIP_BIG:-} PIN=${PIN:-0}"
} | tee -a "$log"

results=$tmp/results # lines: ROW SERVER FIELD VALUE
result() { echo "$*" >>"$results"; }
calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
server_pid() { if [ "$1" = popd ]; then echo "$popd_pid"; else echo "$dovecot_pid"; fi; }
server_dir() { if [ "$1" = popd ]; then echo "$pdir"; else echo "$dir"; fi; }
server_addr() { if [ "$1" = popd ]; then echo "127.0.0.1:$pport"; else echo "127.0.0.1:$dport"; fi; }

# measure BENCHMARK SERVER: one run of BenchmarkBENCHMARK, its result
# line and the CPU used, server's and load generator's, in cores; for
# RetrSmall, also the server's CPU per message: its cores ÷ messages/s
# (sessions/s × messages per session).
measure() {
	local b=$1 s=$2 pid before after out line
	pid=$(server_pid "$s")
	local gotest=(/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$tmp/server.test")
	before=$(python3 "$bench/proctree.py" snap "$pid")
	out=$(run_bench "$(server_dir "$s")" "$(server_addr "$s")" -test.bench "^Benchmark$b\$" \
		-test.benchtime "$benchtime" -test.count 1 2>&1) || { echo "$out" >&2; return 1; }
	after=$(python3 "$bench/proctree.py" snap "$pid")
	line=$(grep -E "^Benchmark$b(-[0-9]+)?[[:space:]]" <<<"$out") || { echo "$out" >&2; return 1; }
	read -r cpu0 busy0 t0 <<<"$before"
	read -r cpu1 busy1 t1 <<<"$after"
	read -r wall user sys < <(tail -1 "$tmp/time")
	local scores lcores other
	scores=$(calc "($cpu1 - $cpu0) / ($t1 - $t0)")
	lcores=$(calc "$wall > 0 ? ($user + $sys) / $wall : 0")
	other=$(calc "($busy1 - $busy0) / ($t1 - $t0) - $scores - $lcores")
	printf '%-8s %s\n         server %s cores, loadgen %s cores, other %s cores\n' \
		"$s" "$line" "$scores" "$lcores" "$other" >>"$log"
	result "$b $s scores $scores"
	result "$b $s lcores $lcores"
	result "$b $s other $other"
	awk -v b="$b" -v s="$s" -v c="$scores" -v n="$small_n" '{
		for (i = 3; i < NF; i++) {
			if ($(i+1) == "sessions/s") { print b, s, "rate", $i; if (b ~ /^RetrSmall/) print b, s, "usmsg", c / ($i * n) * 1e6 }
			if ($(i+1) == "MB/s") print b, s, "mbs", $i
		}
	}' <<<"$line" >>"$results"
}

# Warm up (Dovecot indexes the maildrops and moves new/ to cur/ in the
# first session of each), then the runs, alternating between the servers.
for s in popd dovecot; do
	echo "=== warm-up: $s" >>"$log"
	run_bench "$(server_dir "$s")" "$(server_addr "$s")" -test.benchtime 64x \
		-test.bench '^Benchmark(LoginQuit|LoginStatQuit|Retr|RetrSmall|RetrSmallPipelined)$' >>"$log" 2>&1
done
for b in LoginQuit LoginStatQuit RetrSmall RetrSmallPipelined Retr; do
	echo "=== $b, -benchtime $benchtime" | tee -a "$log"
	for ((i = 1; i <= count; i++)); do
		for s in popd dovecot; do measure "$b" "$s"; done
	done
done

# Memory per idle logged-in session: bench/idle.sh's measurement, of the
# whole process tree (Dovecot: all its processes), in fresh servers (a Go
# heap that has served the benchmarks shrinks meanwhile; Dovecot's idle
# pop3 processes from them end after a minute).
echo "=== $idle_n idle sessions" | tee -a "$log"
stop "$popd_pid" "$pport"
stop "$dovecot_pid" "$dport"
dovecot_start "$tmp" "$dport"
start_popd
echo "(restarted: Dovecot master PID $dovecot_pid, popd PID $popd_pid)" >>"$log"
for s in popd dovecot; do
	out=$(python3 "$bench/idle.py" measure "$(server_pid "$s")" "$(server_addr "$s" | cut -d: -f2)" "$idle_n" "$s")
	echo "$out" >>"$log"
	result "idle $s kib $(sed -n 's/.*: \([-0-9.]*\) KiB per idle session/\1/p' <<<"$out")"
done

# The 100,000-message maildrop (bench/big.py), b0's in both fixtures:
# four sessions; the second, right after the first, may wait for the
# moves of its QUIT; the third and fourth come 2 s after the one before
# (see big.py), and the fourth is the later session. popd stops while the fixture
# is written (it would watch every delivery) and rests before the session.
if [ -z "${SKIP_BIG:-}" ] || [ "$SKIP_BIG" = 0 ]; then
	echo "=== 100,000 messages (writing the maildrop)" | tee -a "$log"
	stop "$popd_pid" "$pport"
	big_fixture "$dir" "$pdir"
	start_popd
	sleep 2
	for s in dovecot popd; do
		out=$(python3 "$bench/big.py" time "$(server_addr "$s" | cut -d: -f2)" 4 "$(server_pid "$s")" 2)
		printf '%s\n%s\n' "$s" "$out" >>"$log"
		awk -v s="$s" '$1 == "first:" || $1 == "fourth:" {
			row = $1 == "first:" ? "big1" : "big4"
			for (i = 1; i <= NF; i++) {
				if ($i == "total") t = $(i+1) + 0
				if ($i == "server") sc = $(i+2) + 0
				if ($i == "client") cc = $(i+2) + 0
			}
			print row, s, "secs", t; print row, s, "scores", sc / t; print row, s, "lcores", cc / t
		}' <<<"$out" >>"$results"
	done
fi

python3 - "$results" "${dovecot_version%% *}, $mode" "$count" "$benchtime" "$idle_n" "$small_n" "$small_kb" "$large_n" "$large_kb" \
	<<'PY' | tee -a "$log"
import os, statistics, sys
path, mode, count, benchtime, idle_n, small_n, small_kb, large_n, large_kb = sys.argv[1:]
vals = {}
for l in open(path):
    row, server, field, value = l.split()
    vals.setdefault((row, server, field), []).append(float(value))

def fmt(v):
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) >= 1 else f"{v:.2g}"

def cell(row, server, field, spread=True):
    v = vals.get((row, server, field))
    if not v:
        return "–", None
    m = statistics.median(v)
    if spread and len(v) > 1:
        return f"{fmt(m)} ({fmt(min(v))}–{fmt(max(v))})", m
    return fmt(m), m

rows = [
    ("1. login+QUIT, sessions/s ↑", "LoginQuit", "rate", True),
    ("2. login+STAT+QUIT, sessions/s ↑", "LoginStatQuit", "rate", True),
    (f"3. RETR {small_n}×{small_kb} KB per session, MB/s ↑", "RetrSmall", "mbs", True),
    (f"3. RETR {small_n}×{small_kb} KB: server CPU per message, µs ↓", "RetrSmall", "usmsg", False),
    (f"3b. same, client pipelining the RETRs, MB/s ↑", "RetrSmallPipelined", "mbs", True),
    (f"3b. same pipelined: server CPU per message, µs ↓", "RetrSmallPipelined", "usmsg", False),
    (f"4. RETR {large_n}×{large_kb} KB per session, MB/s ↑", "Retr", "mbs", True),
    (f"5. memory per idle logged-in session, KiB ↓ (N={idle_n})", "idle", "kib", False),
    ("6. 100,000 messages: first login+UIDL+QUIT, s ↓", "big1", "secs", False),
    ("7. 100,000 messages: later login+UIDL+QUIT (4th session), s ↓", "big4", "secs", False),
]
print()
runs = f"median (min–max) of {count} runs" if count != "1" else "1 run"
print(f"popd vs Dovecot {mode}; -benchtime {benchtime}, {runs}")
print()
print("| workload | popd | Dovecot | ratio popd/Dovecot | popd CPU (cores) | Dovecot CPU (cores) | loadgen CPU (cores) with popd / Dovecot |")
print("|---|--:|--:|--:|--:|--:|--:|")
for label, row, field, spread in rows:
    if not any(k[0] == row for k in vals):
        continue
    (p, pm), (d, dm) = cell(row, "popd", field, spread), cell(row, "dovecot", field, spread)
    ratio = f"{pm / dm:.2f}×" if pm is not None and dm else "–"
    cpu = [cell(row, s, "scores", False)[0] for s in ("popd", "dovecot")]
    load = "–" if field in ("usmsg", "kib") else " / ".join(cell(row, s, "lcores", False)[0] for s in ("popd", "dovecot"))
    if field in ("usmsg", "kib"):
        cpu = ["–", "–"]
    print(f"| {label} | {p} | {d} | {ratio} | {cpu[0]} | {cpu[1]} | {load} |")
other = [v for (row, s, f), vs in vals.items() if f == "other" for v in vs]
print()
print("↑ higher is better, ↓ lower. CPU columns: CPU time (user + system) ÷ wall time of the run, median:")
print("the server's whole process tree (Dovecot: master, login, pop3, auth… including the processes")
print("that ended), and the load generator (the Go benchmark; for rows 6-7, the Python client).")
print(f"Server CPU per message: server cores ÷ messages/s ({small_n} × sessions/s).")
print(f"This machine has {os.cpu_count()} cores: when server + loadgen come near that, the machine is the")
print("bottleneck, and the server CPU per unit of work tells more than the throughput.")
if other and statistics.median(other) > 0.1:
    print(f"Other processes used {statistics.median(other):.2f} cores during the runs (median): the numbers are noisy.")
PY
# What the servers had to say (they log at their default levels).
if warn=$(grep -hiE 'warn|error|fatal|panic' "$tmp/dovecot.log" "$tmp/popd.log" |
	grep -vE 'passwords may cross unencrypted connections|master: Warning: Killed with signal 15'); then
	printf '=== warnings and errors in the servers logs\n%s\n' "$warn" >>"$log"
	echo "$(wc -l <<<"$warn") warnings or errors in the servers' logs: see $log"
fi
echo "raw output: $log"
