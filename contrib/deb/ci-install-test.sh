#!/usr/bin/env bash
# Install the Debian package on this machine, use it as systemd would, and
# purge it: what .ci/run does as root after the tests.
#
#   build.sh → dpkg -i → what postinst made (vmail, /var/vmail,
#   /var/lib/popd/users) → popd -version, popd -check, popadm version, the
#   man pages → popd run as the unit runs it (its ExecStart, as root with
#   only the unit's capabilities, no_new_privs, UMask, $NOTIFY_SOCKET) →
#   READY=1, the switch to vmail, popadm user add through the socket, a
#   delivery fetched and deleted over POP3, a SIGHUP reload, SIGTERM →
#   dpkg -i again (an upgrade keeps the users) → dpkg --purge: binaries,
#   /etc/popd and /var/lib/popd gone, the mail kept.
#
# It needs systemd's unit only as a file: no systemd running (a container
# is fine). It refuses to run where popd is installed or /etc/popd or
# /var/lib/popd exist, and leaves the machine as it found it, but for the
# vmail user, which a purge keeps on purpose.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
	echo "ci-install-test: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i)"
for tool in dpkg-deb setpriv python3 man; do
	command -v $tool >/dev/null || fail "needs $tool"
done
if dpkg-query -W -f='${Status}' popd 2>/dev/null | grep -q installed; then
	fail "popd is installed here; not testing over it"
fi
for d in /etc/popd /var/lib/popd; do
	[ ! -e $d ] || fail "$d exists; not testing over it"
done
had_vmail_dir=false
[ -e /var/vmail ] && had_vmail_dir=true
had_run_dir=false
[ -e /run/popd ] && had_run_dir=true
# A socket left there is replaced by popd if stale; a live one is another
# popd, which popadm below would talk to.
if [ -S /run/popd/control.sock ] && python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' /run/popd/control.sock 2>/dev/null; then
	fail "a popd answers on /run/popd/control.sock; not testing beside it"
fi

work=$(mktemp -d)
chmod 0711 "$work" # popd, as vmail, reaches the notification socket in it
pid=
notify_pid=
cleanup() {
	local status=$?
	if [ "$status" != 0 ] && [ -s "$work/popd.log" ]; then
		echo "--- popd's log:" >&2
		tail -n 30 "$work/popd.log" >&2
	fi
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$notify_pid" ] || kill "$notify_pid" 2>/dev/null || true
	if dpkg-query -W -f='${Status}' popd 2>/dev/null | grep -q installed; then
		dpkg --purge popd >/dev/null 2>&1 || true
	fi
	$had_vmail_dir || rm -rf /var/vmail
	# popd, no longer root, cannot remove its socket from root's /run/popd
	# (under systemd, RuntimeDirectory= goes at the stop).
	if $had_run_dir; then rm -f /run/popd/control.sock; else rm -rf /run/popd; fi
	rm -rf "$work"
}
trap cleanup EXIT

step() { echo "--- $*"; }

step "build and install"
deb=$(bash contrib/deb/build.sh "$work")
version=$(dpkg-deb -f "$deb" Version)
dpkg -i "$deb"

step "what postinst made"
id vmail >/dev/null || fail "no vmail user"
check_stat() { # path owner:group mode
	local got
	got=$(stat -c '%U:%G %a' "$1")
	[ "$got" = "$2 $3" ] || fail "$1 is $got, want $2 $3"
}
check_stat /var/lib/popd vmail:vmail 750
check_stat /var/lib/popd/users vmail:vmail 640
check_stat /etc/popd/popd.conf root:root 644
check_stat /etc/popd root:root 755
$had_vmail_dir || check_stat /var/vmail vmail:vmail 750
[ ! -s /var/lib/popd/users ] || fail "the new users file is not empty"

step "the binaries and the man pages"
/usr/sbin/popd -version | grep -F " $version " || fail "popd -version does not say $version"
POPD_CONTROL=$work/none.sock /usr/sbin/popadm version | grep -F " $version " ||
	fail "popadm version does not say $version"
/usr/sbin/popd -check -config /etc/popd/popd.conf >/dev/null
for page in popd.8 popadm.8 popd.conf.5; do
	sec=${page##*.}
	name=${page%.*}
	if [ -e "/usr/share/man/man$sec/$page.gz" ]; then
		[ "$(man -w "$sec" "$name")" = "/usr/share/man/man$sec/$page.gz" ] || fail "man -w $sec $name"
		MANWIDTH=80 man --warnings "$sec" "$name" >/dev/null 2>"$work/man.err"
		[ ! -s "$work/man.err" ] || fail "man $sec $name: $(cat "$work/man.err")"
	elif grep -rqs 'path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d; then
		echo "(dpkg excludes /usr/share/man here: $page not installed, not read)"
	else
		fail "$page is not installed"
	fi
done

step "popd as the unit runs it"
unit=/lib/systemd/system/popd.service
exec_start=$(sed -n 's/^ExecStart=//p' $unit)
umask_=$(sed -n 's/^UMask=//p' $unit)
# CapabilityBoundingSet=CAP_A CAP_B → setpriv's -all,+a,+b
caps=$(sed -n 's/^CapabilityBoundingSet=//p' $unit | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' | paste -sd, -)
[ -n "$exec_start" ] && [ -n "$caps" ] && [ -n "$umask_" ] || fail "cannot read ExecStart, CapabilityBoundingSet, UMask in $unit"
# The notification socket systemd would listen on (systemd's is 0777 too:
# popd notifies after it has become vmail).
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$work/notify" >"$work/notify.log" &
notify_pid=$!
wait_for() { # file pattern [count]: up to 20 s
	local n
	for _ in $(seq 200); do
		n=$(grep -c -- "$2" "$1" 2>/dev/null || true)
		[ "${n:-0}" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	fail "no $2 in $1 after 20 s: $(cat "$1")"
}
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.1; done
# $exec_start unquoted: the unit's command line, split as systemd splits it.
# shellcheck disable=SC2086
(umask "$umask_" && NOTIFY_SOCKET=$work/notify exec setpriv --bounding-set "-all,$caps" \
	--inh-caps=-all --no-new-privs $exec_start) 2>"$work/popd.log" &
pid=$!
wait_for "$work/notify.log" READY=1
[ "$(ps -o user= -p "$pid")" = vmail ] || fail "popd runs as $(ps -o user= -p "$pid"), not vmail"
grep -q '^CapEff:[[:space:]]*0000000000000000$' "/proc/$pid/status" || fail "popd kept capabilities: $(grep Cap /proc/$pid/status)"

step "a user, a delivery, a retrieval"
printf 'secret\n' | popadm user add --password-stdin alice@example.org
check_stat /var/lib/popd/users vmail:vmail 640
grep -q '^alice@example.org:' /var/lib/popd/users || fail "alice is not in the users file"
md=/var/vmail/example.org/alice
install -d -o vmail -g vmail -m 0700 /var/vmail/example.org "$md" "$md/new" "$md/cur" "$md/tmp"
printf 'From: ci@example.org\nSubject: package test\n\nDelivered.\n' >"$md/new/1.M1P1.ci"
chown vmail:vmail "$md/new/1.M1P1.ci"
python3 - <<'EOF' || fail "POP3 session failed"
import poplib
p = poplib.POP3("127.0.0.1", 110, timeout=10)
p.user("alice@example.org")
p.pass_("secret")
count, _ = p.stat()
assert count == 1, count
lines = p.retr(1)[1]
assert b"Delivered." in lines, lines
p.dele(1)
p.quit()
EOF
[ -z "$(find "$md/new" "$md/cur" -type f)" ] || fail "the message was not deleted: $(ls -R "$md")"
grep -q 'msg=login .*alice@example.org' "$work/popd.log" || fail "no login line in popd's log"

step "reload and stop"
kill -HUP "$pid"
wait_for "$work/notify.log" RELOADING=1
wait_for "$work/notify.log" READY=1 2
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "popd exited $status after SIGTERM: $(tail -5 "$work/popd.log")"
grep -q STOPPING=1 "$work/notify.log" || fail "no STOPPING=1"

step "upgrade (the same package again) keeps the users"
dpkg -i "$deb" >/dev/null
grep -q '^alice@example.org:' /var/lib/popd/users || fail "the upgrade lost the users file"

step "purge"
dpkg --purge popd
for gone in /usr/sbin/popd /usr/sbin/popadm /etc/popd /var/lib/popd /lib/systemd/system/popd.service; do
	[ ! -e $gone ] || fail "$gone is still there after the purge"
done
[ -d "$md" ] || fail "the purge removed the mail in $md"
echo "ci-install-test: OK ($deb)"
