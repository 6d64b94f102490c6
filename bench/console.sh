#!/usr/bin/env bash
# What the console costs: the real popadm dashboard, headless in tmux at
# 160×48 on the Sessions page, watching a popd that holds many sessions.
#
#   bench/console.sh idle [N]   N idle sessions (default 10,000)
#   bench/console.sh busy [N]   N logged-in sessions each sending a command
#                               (NOOP, STAT, RETR 1, LIST in turn) every
#                               500 ms (default 1,000)
#
# The sessions come from bench/consoleload, a process of its own (its
# descriptors do not count against popd's). popd holds 5 descriptors per
# logged-in session and 1 per session in AUTHORIZATION: under the hard
# limit (ulimit -Hn), as many sessions as fit are logged in and the rest
# stay in AUTHORIZATION (the report says how many of each).
#
# Measured over SECS seconds (default 20): popd's CPU without a console,
# then with the console attached: popd's and popadm's CPU (utime + stime
# from /proc/PID/stat, as % of one core), and the bytes popadm read a
# second (rchar from /proc/PID/io: its control connections, nearly all of
# it; the terminal sends it nothing).
#
# Environment: POPD, POPADM: the binaries to measure (default: built from
# this tree); SECS; PORT (default 12110).
set -euo pipefail
mode=${1:-idle}
case $mode in
idle) n=${2:-10000} ;;
busy) n=${2:-1000} ;;
*) echo "usage: $0 idle|busy [N]" >&2; exit 2 ;;
esac
secs=${SECS:-20}
port=${PORT:-12110}
. "$(dirname "$0")/lib.sh"
bench_tmp popd-console
port_free "$port"

if [ -z "${POPD:-}" ] || [ -z "${POPADM:-}" ]; then
	(cd "$repo" && go build -o "$tmp/popd" ./cmd/popd && go build -o "$tmp/popadm" ./cmd/popadm)
fi
popd_bin=${POPD:-$tmp/popd} popadm_bin=${POPADM:-$tmp/popadm}
(cd "$repo" && go build -o "$tmp/consoleload" ./bench/consoleload)

# As many logged in as popd's descriptors allow (5 each, 1 for the rest).
hard=$(ulimit -Hn)
[ "$hard" != unlimited ] || hard=1000000
ulimit -n "$hard"
login=$(((hard - 300 - n) / 4))
((login > n)) && login=$n
((login >= 0)) || { echo "ulimit -Hn $hard: too few descriptors for $n sessions" >&2; exit 2; }
[ "$mode" = idle ] || ((login == n)) || { echo "busy: $n logged-in sessions need ulimit -Hn $((n * 5 + 300))" >&2; exit 2; }
python3 "$bench/idle.py" write "$tmp" "$login"
mkdir -p "$tmp/state"

as=()
((EUID)) || as=(-allow-root)
"$popd_bin" "${as[@]}" -listen "127.0.0.1:$port" -users "$tmp/users" -maildir "$tmp/mail/%u" \
	-control "$tmp/control.sock" -state-dir "$tmp/state" \
	-max-connections $((n + 100)) -max-connections-per-ip $((n + 100)) \
	-login-timeout 1h -idle-timeout 1h -log-level warn 2>"$tmp/popd.log" &
popd_pid=$!
pids+=("$popd_pid")
wait_port "$port"

busy=()
[ "$mode" = busy ] && busy=(-busy 500ms)
"$tmp/consoleload" -addr "127.0.0.1:$port" -n "$n" -login "$login" "${busy[@]}" >"$tmp/load.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
	grep -q '^ready' "$tmp/load.log" && break
	kill -0 "${pids[-1]}" 2>/dev/null || { cat "$tmp/load.log" >&2; exit 1; }
	sleep 0.2
done
grep -q '^ready' "$tmp/load.log" || { echo "the sessions did not open in time" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime, in clock ticks
rchar() { awk '/^rchar/ {print $2}' "/proc/$1/io"; }
hz=$(getconf CLK_TCK)
pct() { awk -v t="$1" -v hz="$hz" -v s="$secs" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }

sleep 3 # the sessions settle (the busy ones start within 500 ms)
a=$(ticks "$popd_pid")
sleep "$secs"
popd_alone=$(pct $(($(ticks "$popd_pid") - a)))

tmux_sock=popd-console-$$
cleanup_tmux() { tmux -L "$tmux_sock" kill-server 2>/dev/null || true; }
trap 'cleanup_tmux; bench_cleanup' EXIT
TERM=xterm-256color tmux -L "$tmux_sock" -f /dev/null new-session -d -x 160 -y 48 \
	"exec env TERM=xterm-256color $popadm_bin -control $tmp/control.sock"
ui_pid=$(tmux -L "$tmux_sock" display -p '#{pane_pid}')
# Connected, and the Sessions page lists them all ("10000 sessions").
for _ in $(seq 300); do
	tmux -L "$tmux_sock" capture-pane -p | grep -q "\b$n sessions" && break
	sleep 0.1
done
tmux -L "$tmux_sock" capture-pane -p | grep -q "\b$n sessions" || { tmux -L "$tmux_sock" capture-pane -p >&2; echo "the console does not show $n sessions" >&2; exit 1; }
sleep 5 # past the start: its first lists, the history
a=$(ticks "$popd_pid") b=$(ticks "$ui_pid") r=$(rchar "$ui_pid")
sleep "$secs"
popd_with=$(pct $(($(ticks "$popd_pid") - a)))
ui=$(pct $(($(ticks "$ui_pid") - b)))
bps=$((($(rchar "$ui_pid") - r) / secs))
[ -z "${SCREEN:-}" ] || tmux -L "$tmux_sock" capture-pane -p

what="$n sessions"
if [ "$mode" = idle ]; then
	what="$n idle sessions ($login logged in, $((n - login)) in AUTHORIZATION)"
else
	what="$n busy sessions (a command each every 500 ms)"
fi
echo "$what, ${secs}s:"
printf '  console reads    %s bytes/s\n' "$bps"
printf '  popd CPU         %s%% of a core without a console, %s%% with it\n' "$popd_alone" "$popd_with"
printf '  popadm CPU       %s%% of a core\n' "$ui"
