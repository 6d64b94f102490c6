#!/usr/bin/env bash
# Build the Debian package of popd: contrib/deb/build.sh [OUTDIR]
#
# Writes OUTDIR/popd_VERSION_ARCH.deb (OUTDIR: the current directory) and
# prints its path. Needs go, dpkg-deb and gzip; no network once the Go
# modules are in the module cache. Run it from anywhere in the tree.
#
#   VERSION      the package's version (default: internal/version's base
#                made Debian-friendly, the commit date and the commit:
#                0.2.0~dev+20261130.abc123456789)
#   GOARCH       the architecture to build for (default: go env GOARCH)
#   MAINTAINER   the Maintainer field (default: "$DEBFULLNAME <$DEBEMAIL>"
#                when DEBEMAIL is set, else "popd maintainers <root@localhost>")
#   SOURCE_DATE_EPOCH  the time stamped on every file (default: the
#                commit's time), so that two builds of a commit are the same
#
# What goes where, and why, is in the README ("Install on a server") and in
# postinst, prerm and postrm below.
set -euo pipefail
umask 022

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$top"

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
if [ -z "${VERSION:-}" ]; then
	# "0.2.0-dev" → "0.2.0~dev": a tilde sorts before the release, 0.2.0.
	base=$(sed -n 's/^const base = "\(.*\)"$/\1/p' internal/version/version.go)
	[ -n "$base" ] || { echo "build.sh: no base version in internal/version/version.go" >&2; exit 1; }
	VERSION="${base//-/\~}+$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d)${commit:+.$commit}"
fi
if ! [[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$ ]]; then
	echo "build.sh: VERSION $VERSION is not a Debian version" >&2
	exit 1
fi

goarch=${GOARCH:-$(go env GOARCH)}
case $goarch in
amd64 | arm64 | riscv64 | s390x | loong64) arch=$goarch ;;
386) arch=i386 ;;
ppc64le) arch=ppc64el ;;
mips64le) arch=mips64el ;;
arm)
	case ${GOARM:-7} in
	7*) arch=armhf ;;
	*) arch=armel ;;
	esac
	;;
*)
	echo "build.sh: no Debian architecture for GOARCH=$goarch" >&2
	exit 1
	;;
esac

if [ -n "${MAINTAINER:-}" ]; then
	maintainer=$MAINTAINER
elif [ -n "${DEBEMAIL:-}" ]; then
	maintainer="${DEBFULLNAME:-popd maintainers} <$DEBEMAIL>"
else
	maintainer="popd maintainers <root@localhost>"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/popd
doc=$root/usr/share/doc/popd
install -d -m 0755 "$root/DEBIAN" "$root/usr/sbin" "$root/etc/popd" \
	"$root/lib/systemd/system" "$root/usr/share/man/man5" "$root/usr/share/man/man8" "$doc"

# The binaries: static (no libc to depend on), stamped with the version.
ldflags="-s -w -X popd/internal/version.version=$VERSION -X popd/internal/version.commit=$commit"
for cmd in popd popadm; do
	CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$root/usr/sbin/$cmd" "./cmd/$cmd"
	chmod 0755 "$root/usr/sbin/$cmd"
done

install -m 0644 contrib/popd.conf "$root/etc/popd/popd.conf"
install -m 0644 contrib/systemd/popd.service "$root/lib/systemd/system/popd.service"
for page in docs/man/*.[1-8]; do
	sec=${page##*.}
	install -d -m 0755 "$root/usr/share/man/man$sec"
	gzip -9n <"$page" >"$root/usr/share/man/man$sec/${page##*/}.gz"
	chmod 0644 "$root/usr/share/man/man$sec/${page##*/}.gz"
done
gzip -9n <README.md >"$doc/README.md.gz"
for f in docs/*.md; do
	if [ -e "$f" ]; then gzip -9n <"$f" >"$doc/${f##*/}.gz"; fi
done

# The monitoring and fail2ban examples, when this tree has them (they are
# written apart from the daemon). fail2ban's filter goes where fail2ban
# reads it, harmless without fail2ban; the jail is an example to enable.
examples() { # examples DIR NAME: DIR's files, Go tests left out
	[ -d "$1" ] || return 0
	(cd "$1" && find . -type f ! -name '*.go' ! -path './filter.d/*' -printf '%P\n') |
		while IFS= read -r f; do
			install -D -m 0644 "$1/$f" "$doc/examples/$2/$f"
		done
}
if [ -d contrib/fail2ban/filter.d ]; then
	for f in contrib/fail2ban/filter.d/*.conf; do
		if [ -e "$f" ]; then install -D -m 0644 "$f" "$root/etc/fail2ban/filter.d/${f##*/}"; fi
	done
fi
examples contrib/fail2ban fail2ban
examples contrib/prometheus prometheus
examples contrib/grafana grafana

# Shell completions, when popadm can write them and runs here (not when
# cross-building).
if "$root/usr/sbin/popadm" completion bash >"$work/popadm.bash" 2>/dev/null; then
	install -D -m 0644 "$work/popadm.bash" "$root/usr/share/bash-completion/completions/popadm"
	if "$root/usr/sbin/popadm" completion zsh >"$work/_popadm" 2>/dev/null; then
		install -D -m 0644 "$work/_popadm" "$root/usr/share/zsh/vendor-completions/_popadm"
	fi
	if "$root/usr/sbin/popadm" completion fish >"$work/popadm.fish" 2>/dev/null; then
		install -D -m 0644 "$work/popadm.fish" "$root/usr/share/fish/vendor_completions.d/popadm.fish"
	fi
fi

# copyright: the binaries are static, so they carry the Go standard
# library and every module they import, whose licences ask to be shipped
# with them.
{
	cat <<EOF
popd

The popd source tree states no licence. Ask its authors before you
redistribute this package.

/usr/sbin/popd and /usr/sbin/popadm are static Go binaries: they contain
the Go standard library and the Go modules below, under these licences.

EOF
	printf -- '-- The Go standard library (%s)\n\n' "$(go env GOVERSION)"
	cat "$(go env GOROOT)/LICENSE"
	GOOS=linux GOARCH=$goarch go list -deps \
		-f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}' \
		./cmd/popd ./cmd/popadm | sort -u |
		while read -r path ver dir; do
			printf -- '\n-- %s %s\n\n' "$path" "$ver"
			lic=
			for f in LICENSE LICENSE.md LICENSE.txt LICENCE COPYING; do
				if [ -f "$dir/$f" ]; then lic=$dir/$f; break; fi
			done
			if [ -n "$lic" ]; then cat "$lic"; else echo "(no licence file in the module)"; fi
		done
} >"$doc/copyright"
chmod 0644 "$doc/copyright"

date_r=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
cat <<EOF | gzip -9n >"$doc/changelog.Debian.gz"
popd ($VERSION) unstable; urgency=medium

  * Built by contrib/deb/build.sh${commit:+ from commit $commit}.

 -- $maintainer  $date_r
EOF

cat >"$root/DEBIAN/control" <<EOF
Package: popd
Version: $VERSION
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: adduser
Suggests: fail2ban
Provides: pop3-server
Section: mail
Priority: optional
Description: POP3 server for Maildir folders, with a terminal console
 popd serves the mail an MTA delivers into Maildirs over POP3 (RFC 1939,
 CAPA, STLS, SASL AUTH, implicit TLS), reading users from a passwd-file in
 Dovecot's format. It deletes nothing a client did not QUIT on, keeps
 UIDLs stable (and Dovecot's and Courier's when migrating), and slows down
 password guessing.
 .
 popadm is its console: a live terminal dashboard of sessions, users, locks
 and events, and commands for scripts.
 .
 The service is installed but neither enabled nor started: configure
 /etc/popd/popd.conf and add users first.
EOF
find "$root/etc" -type f -printf '/etc/%P\n' | sort >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# popd's postinst: the vmail user, its directories and the users file,
# then systemd's view of the unit. The service is neither enabled nor
# started: /etc/popd/popd.conf needs a look (TLS) and users first.
set -e

if [ "$1" = configure ]; then
	# The user popd switches to (user = "vmail" in popd.conf), owner of
	# the Maildirs. An existing vmail (Postfix, Dovecot) is kept as it is.
	if ! getent group vmail >/dev/null; then
		addgroup --quiet --system vmail
	fi
	if ! getent passwd vmail >/dev/null; then
		adduser --quiet --system --ingroup vmail --home /var/vmail \
			--no-create-home --gecos "virtual mail (popd)" vmail
	fi
	# Made only when missing: an administrator's owners and modes stay.
	[ -e /var/vmail ] || install -d -o vmail -g vmail -m 0750 /var/vmail
	[ -e /var/lib/popd ] || install -d -o vmail -g vmail -m 0750 /var/lib/popd
	# popd rewrites the users file (popadm user add) by renaming a new
	# one over it, as vmail: state, not configuration.
	[ -e /var/lib/popd/users ] ||
		install -o vmail -g vmail -m 0640 /dev/null /var/lib/popd/users
fi

case "$1" in
configure | abort-upgrade | abort-deconfigure | abort-remove)
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper unmask popd.service >/dev/null || true
		# Recorded, not enabled, so that a purge cleans up after it.
		deb-systemd-helper update-state popd.service >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		# An upgrade restarts a running popd on the new binary.
		if [ -n "$2" ]; then
			if command -v deb-systemd-invoke >/dev/null; then
				deb-systemd-invoke try-restart popd.service >/dev/null || true
			else
				systemctl try-restart popd.service >/dev/null || true
			fi
		fi
	fi
	if [ "$1" = configure ] && [ -z "$2" ]; then
		cat <<'TXT'
popd is installed, not started. Next:
  edit /etc/popd/popd.conf             (TLS certificate, maildir)
  popadm user add -users /var/lib/popd/users NAME
  popd -check -config /etc/popd/popd.conf
  systemctl enable --now popd
TXT
	fi
	;;
esac
exit 0
EOF

cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# popd's prerm: stop the service when the package goes (an upgrade
# restarts it from postinst instead).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	if command -v deb-systemd-invoke >/dev/null; then
		deb-systemd-invoke stop popd.service >/dev/null || true
	else
		systemctl stop popd.service >/dev/null || true
	fi
fi
exit 0
EOF

cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# popd's postrm. A purge removes the configuration and the state (the
# users file, with its passwords), never the mail: /var/vmail and the vmail
# user stay, as the Maildirs (and perhaps the MTA) still need them.
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper purge popd.service >/dev/null || true
		deb-systemd-helper unmask popd.service >/dev/null || true
	fi
	rm -rf /var/lib/popd
	# dpkg has removed popd.conf; what an administrator added to
	# /etc/popd (certificates, a fleet file) stays, and the directory with it.
	rm -f /etc/popd/popd.conf.dpkg-old /etc/popd/popd.conf.dpkg-dist \
		/etc/popd/popd.conf.dpkg-new /etc/popd/popd.conf.dpkg-tmp
	rmdir /etc/popd 2>/dev/null || true
fi
exit 0
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$out/popd_${VERSION}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
