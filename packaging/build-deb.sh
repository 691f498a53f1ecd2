#!/bin/sh
# build-deb.sh ARCH builds bin/counterdesk_<version>_<ARCH>.deb, the package
# that installs the appliance, its systemd unit, sysusers and tmpfiles
# snippets, the modem udev rule and the default config. ARCH is a Debian
# architecture: amd64, arm64 or armhf (ARMv7, GOARM=7). packaging/README.md
# lists what goes where.
#
# The environment may set GO, BIN, VERSION and LDFLAGS (make deb passes the
# Makefile's), DEB_VERSION (the package version; by default made from
# VERSION), DEB_MAINTAINER and SOURCE_DATE_EPOCH.
set -eu

usage="usage: packaging/build-deb.sh amd64|arm64|armhf"
[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
arch=$1
goarm=
case $arch in
amd64) goarch=amd64 ;;
arm64) goarch=arm64 ;;
armhf) goarch=arm goarm=${GOARM:-7} ;;
*) echo "$usage" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
GO=${GO:-go}
BIN=${BIN:-bin}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
LDFLAGS=${LDFLAGS:-"-s -w -X main.version=$VERSION"}
DEB_MAINTAINER=${DEB_MAINTAINER:-"counterdesk maintainers <maintainers@counterdesk.invalid>"}
# Files in the package get the time of the last commit, so that two builds
# of one commit give the same package (dpkg-deb clamps to it).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# deb_version turns a git describe into a Debian version (deb-version(5)):
# it must start with a digit and, in a native package, hold no "-".
# v1.2.0-3-gabc1234-dirty becomes 1.2.0+3+gabc1234+dirty; an untagged
# e47d98c-dirty becomes 0.0~git72.e47d98c+dirty, where 72 counts the
# commits, so that later builds sort higher. (A tag has a dot; a commit
# hash, which may start with a digit, has none.)
deb_version() {
	case $1 in
	v[0-9]* | [0-9]*.*) printf '%s\n' "${1#v}" | tr - + ;;
	*) printf '0.0~git%s.%s\n' "$(git rev-list --count HEAD 2>/dev/null || echo 0)" "$(printf %s "$1" | tr - +)" ;;
	esac
}
DEB_VERSION=${DEB_VERSION:-$(deb_version "$VERSION")}
if ! printf '%s\n' "$DEB_VERSION" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$'; then
	echo "build-deb: $DEB_VERSION is not a Debian version of a native package" >&2
	exit 1
fi

out=$BIN/counterdesk_${DEB_VERSION}_$arch.deb
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
umask 022
mkdir -p "$BIN"

# The binary: static, no cgo, as make cross builds it.
CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
	$GO build -trimpath -ldflags "$LDFLAGS" -o "$stage/usr/bin/counterdesk" ./cmd/appliance

# A binary this machine runs, to print the default config and the usage.
host=$stage/usr/bin/counterdesk
if [ "$goarch" != "$($GO env GOHOSTARCH)" ] || [ "$($GO env GOHOSTOS)" != linux ]; then
	host=$(mktemp -d)/counterdesk
	trap 'rm -rf "$stage" "$(dirname "$host")"' EXIT
	CGO_ENABLED=0 $GO build -o "$host" ./cmd/appliance
fi

# The default config, with the data folder the unit uses, so that offline
# commands (counterdesk user add) find it without --data.
install -d -m 0755 "$stage/etc/counterdesk"
{
	echo "# /etc/counterdesk/counterdesk.toml, read by counterdesk.service."
	echo "# The SIP password and the SIM PIN are better kept in"
	echo "# /etc/counterdesk/sip-password and /etc/counterdesk/modem-pin"
	echo "# (/usr/share/doc/counterdesk/README.systemd.md, \"Secrets\")."
	echo "#"
	"$host" config default | sed 's|^data_dir = "./data"$|data_dir = "/var/lib/counterdesk"|'
} >"$stage/etc/counterdesk/counterdesk.toml"
if ! grep -q '^data_dir = "/var/lib/counterdesk"$' "$stage/etc/counterdesk/counterdesk.toml"; then
	echo "build-deb: no data_dir = \"./data\" line in \"appliance config default\"" >&2
	exit 1
fi
chmod 0640 "$stage/etc/counterdesk/counterdesk.toml"

# systemd's files, where Debian 12's packages put them.
install -D -m 0644 systemd/counterdesk.service "$stage/lib/systemd/system/counterdesk.service"
install -D -m 0644 systemd/counterdesk.sysusers.conf "$stage/usr/lib/sysusers.d/counterdesk.conf"
install -D -m 0644 systemd/counterdesk.tmpfiles.conf "$stage/usr/lib/tmpfiles.d/counterdesk.conf"
install -D -m 0644 systemd/99-counterdesk-modem.rules "$stage/lib/udev/rules.d/99-counterdesk-modem.rules"

# The manual page: the usage the binary prints, so that the two agree.
man=$stage/usr/share/man/man1
install -d -m 0755 "$man"
{
	printf '.TH COUNTERDESK 1 "" "counterdesk %s"\n' "$VERSION"
	printf '.SH NAME\ncounterdesk \\- the support desk at the shop counter\n'
	printf '.SH DESCRIPTION\n.nf\n'
	# Escape backslashes and leading dots for roff, and call the program by
	# its installed name, two letters longer: the gap before each command's
	# text shrinks by two to keep the column.
	"$host" help | sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" \
		-e 's/^\(  \)appliance \(.*[^ ]\)  \(  *[^ ]\)/\1counterdesk \2\3/;t' \
		-e 's/^\(  \)appliance /\1counterdesk /'
	printf '.fi\n.SH FILES\n'
	printf '/etc/counterdesk/counterdesk.toml, /etc/counterdesk/sip-password,\n'
	printf '/etc/counterdesk/modem-pin, /var/lib/counterdesk\n'
	printf '.SH SEE ALSO\n/usr/share/doc/counterdesk/README.md,\n'
	printf '/usr/share/doc/counterdesk/README.systemd.md\n'
} | gzip -9n >"$man/counterdesk.1.gz"
chmod 0644 "$man/counterdesk.1.gz"

# Lintian's exceptions, each with its reason in packaging/lintian-overrides.
install -D -m 0644 packaging/lintian-overrides "$stage/usr/share/lintian/overrides/counterdesk"

# Documentation; the unit's Documentation= names README.md.
doc=$stage/usr/share/doc/counterdesk
install -D -m 0644 README.md "$doc/README.md"
install -m 0644 systemd/README.md "$doc/README.systemd.md"
install -m 0644 packaging/README.md "$doc/README.package.md"
install -m 0644 packaging/copyright "$doc/copyright"
{
	printf 'counterdesk (%s) unstable; urgency=medium\n\n' "$DEB_VERSION"
	printf '  * Built from %s.\n\n' "$VERSION"
	printf ' -- %s  %s\n' "$DEB_MAINTAINER" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# The control area.
install -d -m 0755 "$stage/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "packaging/debian/$s" "$stage/DEBIAN/$s"
done
echo /etc/counterdesk/counterdesk.toml >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
	xargs md5sum) >"$stage/DEBIAN/md5sums"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: counterdesk
Version: $DEB_VERSION
Architecture: $arch
Maintainer: $DEB_MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: systemd
Recommends: usb-modeswitch, usb-modeswitch-data
Section: net
Priority: optional
Description: support desk appliance for a shop counter
 counterdesk turns every customer request (the counter form, e-mail, SMS
 through a USB modem, the phone line) into a numbered ticket, keeps it in a
 database on the box and serves the staff pages on the shop's network. It
 keeps working when the internet is down.
 .
 The package runs it as the hardened systemd service counterdesk.service,
 as the system user counterdesk, with its data in /var/lib/counterdesk and
 its config in /etc/counterdesk/counterdesk.toml.
CONTROL
find "$stage/DEBIAN" -type f ! -perm -u+x -exec chmod 0644 {} +

dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
