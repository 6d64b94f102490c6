#!/usr/bin/env bash
# What a POP3 session costs this machine before any server's own work:
# internal/server's benchmarks against popd and against bench/floor, the
# least a server can do, on the same fixture, one after the other:
#
#   bench/floor.sh
#
#   floor tcp    accept, greeting, "+OK" to every line, close: the TCP and
#                the goroutine of a session, nothing else
#   floor files  the same, and at PASS the lock file created with O_EXCL
#                and new/ and cur/ listed, at QUIT the lock removed; RETR
#                sends the file as it is on disk (open, read, close, one
#                write: no conversion, no dot-stuffing)
#   popd         the real thing
#
# For each, the server's CPU (user + system, /proc) per session, and per
# message for RETR of 200 messages of 6 KB; the load generator's next to
# it. Servers on CPU 0 and the load generator on CPU 1 (as PIN=1 in
# compare.sh), so that the two do not take each other's core.
#
# Environment: BENCH_TIME (default 5s), BENCH_COUNT (3; the median is
# shown), PORT (default 11120).
set -euo pipefail
PIN=1
. "$(dirname "$0")/lib.sh"
benchtime=${BENCH_TIME:-5s}
count=${BENCH_COUNT:-3}
port=${PORT:-11120}
bench_tmp popd-floor
fx=$tmp/fixture
mkdir -p "$fx"
chmod 755 "$tmp" "$fx" # popd runs as nobody when this runs as root
(cd "$repo" && go build -o "$tmp/popd.bin" ./cmd/popd && go build -o "$tmp/floor" ./bench/floor &&
	go test -c -o "$tmp/server.test" ./internal/server/)
gotest=("$tmp/server.test")
bench_fixture "$fx"
small_n=$(sed -n 's/^\tbenchSmallMsgs *= *\(.*\)/\1/p' "$repo/internal/server/bench_test.go")

start() { # start KIND: the server on port, its pid in spid
	case $1 in
	popd)
		popd_start "$tmp/popd.bin" "$fx/users" "$port" "$tmp/popd.log" -max-connections 1000 -max-connections-per-ip 1000
		spid=$popd_pid
		;;
	tcp | files)
		local md=()
		[ "$1" = tcp ] || md=(-maildirs "$fx/mail")
		"${server_cpu[@]}" "$tmp/floor" -listen "127.0.0.1:$port" "${md[@]}" >"$tmp/floor.out" 2>>"$tmp/floor.log" &
		spid=$!
		pids+=("$spid")
		wait_port "$port"
		;;
	esac
}
stop() {
	kill "$spid" && wait "$spid" 2>/dev/null || true
	for _ in $(seq 100); do port_free "$port" 2>/dev/null && return; sleep 0.1; done
}
results=$tmp/results
# measure BENCHMARK KIND: one run against the server started; a line in
# results: BENCHMARK KIND rate server-cores loadgen-cores µs-per-unit.
measure() {
	local b=$1 kind=$2 c0 c1 out line wall user sys
	local gotest=(/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$tmp/server.test")
	c0=$(python3 "$bench/proctree.py" snap "$spid")
	out=$(run_bench "$fx" "127.0.0.1:$port" -test.bench "^Benchmark$b\$" -test.benchtime "$benchtime" -test.count 1 2>&1) ||
		{ echo "$out" >&2; return 1; }
	c1=$(python3 "$bench/proctree.py" snap "$spid")
	line=$(grep -E "^Benchmark$b(-[0-9]+)?[[:space:]]" <<<"$out")
	read -r wall user sys < <(tail -1 "$tmp/time")
	awk -v b="$b" -v k="$kind" -v s0="$c0" -v s1="$c1" -v w="$wall" -v u="$user" -v sy="$sys" -v n="$small_n" -v line="$line" 'BEGIN {
		split(s0, a); split(s1, z); split(line, f)
		cores = (z[1] - a[1]) / (z[3] - a[3])
		for (i = 3; i < length(f); i++) if (f[i+1] == "sessions/s") rate = f[i]
		per = b ~ /^RetrSmall/ ? n : 1
		printf "%s %s %s %.3f %.3f %.2f\n", b, k, rate, cores, (u + sy) / w, cores / (rate * per) * 1e6
	}' >>"$results"
}

for kind in tcp files popd; do
	start "$kind"
	benches=(LoginQuit LoginStatQuit)
	[ "$kind" = tcp ] || benches+=(RetrSmall RetrSmallPipelined)
	run_bench "$fx" "127.0.0.1:$port" -test.bench "^Benchmark($(IFS='|'; echo "${benches[*]}"))\$" -test.benchtime 64x >"$tmp/warmup.log" 2>&1 ||
		{ tail -20 "$tmp/warmup.log" "$tmp"/popd.log >&2; exit 1; }
	for b in "${benches[@]}"; do
		for ((i = 1; i <= count; i++)); do measure "$b" "$kind"; done
	done
	stop
done

python3 - "$results" "$small_n" <<'PY'
import statistics, sys
rows = {}
for l in open(sys.argv[1]):
    b, k, rate, cores, lcores, us = l.split()
    rows.setdefault((b, k), []).append((float(us), float(rate), float(cores), float(lcores)))
unit = {"LoginQuit": "µs/session", "LoginStatQuit": "µs/session",
        "RetrSmall": "µs/message", "RetrSmallPipelined": "µs/message"}
print("| workload | server | rate (sessions/s) | server cores | loadgen cores | server CPU |")
print("|---|---|--:|--:|--:|--:|")
for b in unit:
    for k, name in (("tcp", "floor: TCP only"), ("files", "floor: TCP + lock + listing (+ read/write)"), ("popd", "popd")):
        v = rows.get((b, k))
        if not v:
            continue
        us, rate, cores, lc = (statistics.median(x) for x in zip(*v))
        lo, hi = min(x[0] for x in v), max(x[0] for x in v)
        print(f"| {b} | {name} | {rate:,.0f} | {cores:.2f} | {lc:.2f} | {us:.1f} {unit[b]} ({lo:.1f}–{hi:.1f}) |")
PY
