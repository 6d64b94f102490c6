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
# DOVECOT_FAST=1 switches Dovecot to its high-performance mode (see below).
# Needs: apt-get install dovecot-pop3d. The system service need not run:
# this starts its own instance with its own config, and stops it.
set -euo pipefail
port=${1:-11110}
mode=${2:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$PATH:/usr/local/go/bin"

tmp=$(mktemp -d /tmp/popd-dovecot.XXXXXX)
chmod 755 "$tmp"              # Dovecot's auth process (user dovecot) reads users
dir=$tmp/dovecot              # Dovecot's fixture
mkdir -p "$dir" "$tmp/popd"   # popd's fixture
pids=()
cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if ((rc)); then
		for log in "$tmp"/*.log; do echo "--- $log:"; tail -20 "$log"; done >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Dovecot serves no mail as root ("userdb returned 0 as uid", whatever
# first_valid_uid says): as root, the maildrops go to nobody.
owner=$(id -un); ((EUID)) || owner=nobody
group=$(id -gn "$owner")
version=$(dovecot --version)
case $version in
2.3.*) cleartext='disable_plaintext_auth = no' ;;
*) cleartext='auth_allow_cleartext = yes' # 2.4; the rest below is 2.3 syntax
esac
# Everything not set here is Dovecot's default: login processes in
# "high-security" mode (a new pop3-login process per connection), a new pop3
# process per session, no auth cache. DOVECOT_FAST=1 appends Dovecot's
# "high-performance" mode instead: login and pop3 processes each serve many
# connections, two of each started in advance.
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
  args = scheme=PLAIN username_format=%u $dir/users
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
[ -z "${DOVECOT_FAST:-}" ] || cat >>"$tmp/dovecot.conf" <<EOF
service pop3-login {
  service_count = 0
  process_min_avail = 2
}
service pop3 {
  service_count = 0
  process_min_avail = 2
}
EOF

wait_port() { # wait_port PORT: until something accepts connections there
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}
bench() { # bench FIXTURE [ADDR]: write the fixture and warm up, then measure
	cd "$repo"
	local run=(env POPD_BENCH_DIR="$1" ${2:+POPD_BENCH_ADDR="$2"} go test -run '^$'
		-bench '^Benchmark(LoginQuit|LoginStatQuit|Retr|RetrSmall)$' ./internal/server/)
	"${run[@]}" -benchtime 1x >"$tmp/warmup.log" || { cat "$tmp/warmup.log"; return 1; }
	"${run[@]}" -benchtime 5s -count 3
}

# The fixture alone: nothing listens on port 1, so the benchmark fails
# right after writing it.
(cd "$repo" && POPD_BENCH_DIR="$dir" POPD_BENCH_ADDR=127.0.0.1:1 go test -run '^$' \
	-bench '^BenchmarkLoginStatQuit$' -benchtime 1x ./internal/server/ >"$tmp/fixture.log") ||
	[ -f "$dir/users" ] || { cat "$tmp/fixture.log"; exit 1; }
chown -R "$owner:$group" "$dir/mail"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "127.0.0.1:$port is in use" >&2
	exit 1
fi
dovecot -F -c "$tmp/dovecot.conf" &
pids+=($!)
wait_port "$port"
if [ "$mode" != bigonly ]; then
	echo "=== Dovecot $version on 127.0.0.1:$port${DOVECOT_FAST:+ (high-performance mode)}"
	bench "$dir" "127.0.0.1:$port"
	echo "=== popd (in-process)"
	bench "$tmp/popd"
fi

[ "$mode" = big ] || [ "$mode" = bigonly ] || exit 0

# 100,000 messages of about 2 KB in a fresh maildrop for b0, the same for
# both servers; then login + UIDL + QUIT twice: the first session scans (and
# Dovecot indexes) it all, the second finds what the first left.
cat >"$tmp/big.py" <<'EOF'
import hashlib, os, poplib, sys, time
if sys.argv[1] == "write":
    md = sys.argv[2]
    for sub in ("tmp", "new", "cur"):
        os.makedirs(f"{md}/{sub}", exist_ok=True)
    body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n" * 24
    for i in range(100000):
        t, s = 1700000000 + i, f"sender{i % 97}@example.org"
        msg = (f"Return-Path: <{s}>\n"
                    f"Received: from mx.example.org (mx.example.org [192.0.2.1])\n"
                    f"\tby mail.example.net with ESMTPS id {t:x}{i:05d}\n"
                    f"\tfor <b0@example.net>; Tue, 14 Nov 2023 22:13:20 +0000\n"
                    f"From: Sender {i % 97} <{s}>\nTo: b0@example.net\n"
                    f"Subject: Message number {i}\n"
                    f"Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                    f"Message-ID: <{t}.{i}@example.org>\nMIME-Version: 1.0\n"
                    f"Content-Type: text/plain; charset=utf-8\n\n{body}")
        # Named as Dovecot's LDA names them: ,S= size, ,W= size with CRLF.
        raw = msg.encode()
        size, vsize = len(raw), len(raw) + raw.count(b"\n")
        with open(f"{md}/new/{t}.M{i}P1.big,S={size},W={vsize}", "wb") as f:
            f.write(raw)
    sys.exit()
for run in ("first", "second"):
    t0 = time.perf_counter()
    p = poplib.POP3("127.0.0.1", int(sys.argv[2]), timeout=600)
    p.user("b0")
    p.pass_("pw")
    t1 = time.perf_counter()
    lines = p.uidl()[1]
    n = len(lines)
    t2 = time.perf_counter()
    p.quit()
    t3 = time.perf_counter()
    digest = hashlib.sha256(b"\n".join(lines)).hexdigest()[:12]
    print(f"  {run}: login {t1-t0:.3f}s, UIDL {t2-t1:.3f}s ({n} lines, sha256 {digest}), "
          f"QUIT {t3-t2:.3f}s, total {t3-t0:.3f}s")
EOF
[ -f "$tmp/popd/users" ] || { mkdir -p "$tmp/popd/mail" && cp "$dir/users" "$tmp/popd/users"; }
rm -rf "$dir/mail/b0" "$tmp/popd/mail/b0"
python3 "$tmp/big.py" write "$dir/mail/b0"
cp -a "$dir/mail/b0" "$tmp/popd/mail/b0"
chown -R "$owner:$group" "$dir/mail/b0" "$tmp/popd/mail"
echo "=== 100,000 messages: Dovecot"
python3 "$tmp/big.py" time "$port"
cd "$repo" && go build -o "$tmp/popd.bin" ./cmd/popd
as=(); ((EUID)) || as=(-user "$owner") # as Dovecot: not as root
"$tmp/popd.bin" "${as[@]}" -listen "127.0.0.1:$((port + 1))" -users "$tmp/popd/users" \
	-maildir "$tmp/popd/mail/%u" 2>"$tmp/popd.log" &
pids+=($!)
wait_port $((port + 1))
echo "=== 100,000 messages: popd"
python3 "$tmp/big.py" time $((port + 1))

# Migrated: popd on the maildrop exactly as Dovecot left it (its
# dovecot-uidlist, the ,S=/,W= names), first and later sessions; compare
# with Dovecot's second session above. The UIDLs must be Dovecot's.
kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
rm -rf "$tmp/popd/mail/b0"
cp -a "$dir/mail/b0" "$tmp/popd/mail/b0"
"$tmp/popd.bin" "${as[@]}" -listen "127.0.0.1:$((port + 1))" -users "$tmp/popd/users" \
	-maildir "$tmp/popd/mail/%u" 2>>"$tmp/popd.log" &
pids+=($!)
wait_port $((port + 1))
echo "=== 100,000 messages migrated from Dovecot: popd"
python3 "$tmp/big.py" time $((port + 1))
