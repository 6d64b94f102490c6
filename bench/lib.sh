# Shared by the bench/*.sh scripts (sourced, not run): the repository, the
# owner of the fixtures, Dovecot's configuration and start, popd's start,
# the benchmarks' fixture, the 100,000-message maildrop.
# shellcheck shell=bash

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$bench")
export PATH="$PATH:/usr/local/go/bin"

# Dovecot serves no mail as root ("userdb returned 0 as uid", whatever
# first_valid_uid says): as root, the maildrops go to nobody, and popd
# runs as nobody too, as Dovecot's mail processes do.
owner=$(id -un)
((EUID)) || owner=nobody
group=$(id -gn "$owner")
popd_as=()
((EUID)) || popd_as=(-user "$owner")

# The Go benchmarks of internal/server, run in its directory with -test.*
# flags: by `go test` (which builds first), or by a test binary built once
# (gotest=(BINARY)).
gotest=(go test .)
# With PIN=1 the servers run on CPU 0 and the load generator on CPU 1
# (taskset), so that neither takes the other's core: throughput is then
# what one core of server does.
server_cpu=()
loadgen_cpu=()
if [ "${PIN:-0}" = 1 ]; then
	server_cpu=(taskset -c 0)
	loadgen_cpu=(taskset -c 1 env GOMAXPROCS=2) # still 16 clients
fi
run_bench() { # run_bench DIR ADDR FLAG...: DIR and ADDR as POPD_BENCH_DIR/ADDR
	local dir=$1 addr=$2
	shift 2
	(cd "$repo/internal/server" &&
		env POPD_BENCH_DIR="$dir" ${addr:+POPD_BENCH_ADDR="$addr"} "${loadgen_cpu[@]}" "${gotest[@]}" -test.run '^$' "$@")
}

# bench_fixture DIR: write the benchmarks' fixture (users file, Maildirs)
# alone: nothing listens on port 1, so the benchmark fails right after
# writing it.
bench_fixture() {
	run_bench "$1" 127.0.0.1:1 -test.bench '^BenchmarkLoginStatQuit$' -test.benchtime 1x \
		>"$1.fixture.log" 2>&1 || [ -f "$1/users" ] || { cat "$1.fixture.log" >&2; return 1; }
	chown -R "$owner:$group" "$1/mail"
}

# bench_tmp NAME: a fresh directory in tmp, and pids=(); at exit, the
# processes in pids are stopped and the directory removed, after the ends
# of its logs on failure.
bench_tmp() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}
bench_cleanup() {
	local rc=$? p log
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if ((rc)); then
		for log in "$tmp"/*.log; do echo "--- $log:"; tail -20 "$log"; done >&2
	fi
	rm -rf "$tmp"
}

wait_port() { # wait_port PORT: until something accepts connections there
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}

port_free() { # port_free PORT: fail if something listens there already
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		echo "127.0.0.1:$1 is in use" >&2
		return 1
	fi
}

# dovecot_config TMP DIR PORT FAST [USERS]: write TMP/dovecot.conf, for
# Dovecot 2.3 serving the fixture in DIR (users in USERS, by default
# DIR/users) on 127.0.0.1:PORT, its run and state directories and its log
# in TMP. Sets dovecot_version, and dovecot_fast to 1 or 0.
#
# Everything not set here is Dovecot's default: login processes in
# "high-security" mode (a new pop3-login process per connection), a new
# pop3 process per session, no auth cache. FAST (anything but "" or 0)
# appends Dovecot's "high-performance" mode instead: login and pop3
# processes each serve many connections, two of each started in advance.
dovecot_config() {
	local tmp=$1 dir=$2 port=$3 fast=$4 users=${5:-$2/users} cleartext
	chmod 755 "$tmp" # Dovecot's auth process (user dovecot) reads the users
	dovecot_version=$(dovecot --version)
	case $dovecot_version in
	2.3.*) cleartext='disable_plaintext_auth = no' ;;
	*) cleartext='auth_allow_cleartext = yes' # 2.4; the rest below is 2.3 syntax
	esac
	cat >"$tmp/dovecot.conf" <<EOF
base_dir = $tmp/run
state_dir = $tmp/state
log_path = $tmp/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
$cleartext
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $users
}
userdb {
  driver = static
  args = uid=$owner gid=$group home=$dir/home/%u
}
mail_location = maildir:$dir/mail/%u
service pop3-login {
  inet_listener pop3 {
    port = $port
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
	dovecot_fast=1
	[ -n "$fast" ] && [ "$fast" != 0 ] || dovecot_fast=0
	((dovecot_fast)) || return 0
	cat >>"$tmp/dovecot.conf" <<EOF
service pop3-login {
  service_count = 0
  process_min_avail = 2
}
service pop3 {
  service_count = 0
  process_min_avail = 2
}
EOF
}

# dovecot_start TMP PORT: start Dovecot's master with TMP/dovecot.conf in
# the foreground of a background job; its PID in dovecot_pid and pids.
dovecot_start() {
	port_free "$2"
	"${server_cpu[@]}" dovecot -F -c "$1/dovecot.conf" &
	dovecot_pid=$!
	pids+=("$dovecot_pid")
	wait_port "$2"
}

# popd_start BINARY USERS PORT LOG [FLAG...]: start the popd binary on a
# fixture (users file USERS, maildrops in its directory's mail/USER), on
# 127.0.0.1:PORT, logging to LOG (appended); its PID in popd_pid and pids.
popd_start() {
	local bin=$1 users=$2 port=$3 log=$4
	shift 4
	port_free "$port"
	local state
	state=$(dirname "$users")/state
	mkdir -p "$state"
	chown "$owner:$group" "$state"
	"${server_cpu[@]}" "$bin" "${popd_as[@]}" -listen "127.0.0.1:$port" -users "$users" \
		-maildir "$(dirname "$users")/mail/%u" -state-dir "$state" "$@" 2>>"$log" &
	popd_pid=$!
	pids+=("$popd_pid")
	wait_port "$port"
}

# big_fixture DIR1 DIR2: replace user b0's maildrop in both fixtures with
# the same 100,000 messages of about 2 KB (see big.py).
big_fixture() {
	[ -f "$2/users" ] || { mkdir -p "$2/mail" && cp "$1/users" "$2/users"; }
	rm -rf "$1/mail/b0" "$2/mail/b0"
	python3 "$bench/big.py" write "$1/mail/b0"
	cp -a "$1/mail/b0" "$2/mail/b0"
	chown -R "$owner:$group" "$1/mail/b0" "$2/mail"
}
