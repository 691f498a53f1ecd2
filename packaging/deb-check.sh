#!/bin/sh
# deb-check.sh builds the package for this machine's architecture (amd64
# here), checks it with dpkg-deb and, when installed, lintian, then installs
# it with dpkg into throwaway roots and checks what landed there: the files
# and their modes, the conffile, the user, the enabled unit, the binary
# itself; then an upgrade that must keep the tickets, the secrets and a
# locally edited config file, a remove that must keep the data, and a purge.
# make deb-check runs it, as part of make check; packaging/README.md says
# what each step shows. Installing needs root; as anyone else only the
# package itself is checked. KEEP=1 keeps the work folder (logs, roots).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
export GO VERSION
arch=$(dpkg --print-architecture)

work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
start=$(date +%s)

fail() {
	echo "deb-check: $*" >&2
	exit 1
}

# mode_of prints a file's mode, numeric owner and group: "640 0 998".
mode_of() {
	stat -c '%a %u %g' "$1"
}

# expect_mode FILE MODE UID GID checks a file's mode and owner.
expect_mode() {
	[ -e "$1" ] || fail "${1#"$root"} is missing"
	got=$(mode_of "$1")
	[ "$got" = "$2 $3 $4" ] || fail "${1#"$root"}: mode and owner $got, want $2 $3 $4"
}

case $arch in
amd64 | arm64) goarch=$arch ;;
armhf) goarch=arm ;;
*) fail "no package for this machine's architecture, $arch" ;;
esac

# --- The package ------------------------------------------------------------

# A build into a folder of its own, so that no older package in bin/ gets in
# the way; BIN is what make passes.
deb=$(BIN=$work/out packaging/build-deb.sh "$arch")
version=$(dpkg-deb --field "$deb" Version)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

for f in "Package counterdesk" "Architecture $arch" "Depends systemd"; do
	got=$(dpkg-deb --field "$deb" "${f%% *}")
	[ "$got" = "${f#* }" ] || fail "control field ${f%% *}: $got, want ${f#* }"
done
[ "$(dpkg-deb --info "$deb" conffiles)" = /etc/counterdesk/counterdesk.toml ] ||
	fail "DEBIAN/conffiles does not name /etc/counterdesk/counterdesk.toml alone"
for s in postinst prerm postrm; do
	dpkg-deb --info "$deb" "$s" >"$work/$s" || fail "no $s in the package"
	sh -n "$work/$s" || fail "$s: syntax error"
done

# Every file with its mode and owner, as "mode owner path".
dpkg-deb --contents "$deb" | awk '{ print $1, $2, $6 }' >"$work/contents"
while read -r mode path; do
	grep -qxF -- "$mode root/root ./$path" "$work/contents" ||
		fail "package: want $mode root/root $path, have: $(grep -F "./$path" "$work/contents" || echo nothing)"
done <<'LIST'
-rwxr-xr-x usr/bin/counterdesk
-rw-r--r-- lib/systemd/system/counterdesk.service
-rw-r--r-- usr/lib/sysusers.d/counterdesk.conf
-rw-r--r-- usr/lib/tmpfiles.d/counterdesk.conf
-rw-r--r-- lib/udev/rules.d/99-counterdesk-modem.rules
-rw-r----- etc/counterdesk/counterdesk.toml
-rw-r--r-- usr/share/doc/counterdesk/README.md
-rw-r--r-- usr/share/doc/counterdesk/copyright
-rw-r--r-- usr/share/doc/counterdesk/changelog.gz
-rw-r--r-- usr/share/man/man1/counterdesk.1.gz
LIST
if grep -v ' root/root ' "$work/contents"; then
	fail "files not owned by root"
fi

# The binary: static, trimmed paths, stamped with the version.
mkdir "$work/x"
dpkg-deb --extract "$deb" "$work/x"
$GO version -m "$work/x/usr/bin/counterdesk" >"$work/buildinfo"
for want in 'CGO_ENABLED=0' '-trimpath=true' 'GOOS=linux' "GOARCH=$goarch"; do
	grep -qF "build	$want" "$work/buildinfo" || fail "binary: no \"$want\" in its build info"
done
got=$("$work/x/usr/bin/counterdesk" version)
[ "$got" = "counterdesk $VERSION" ] || fail "counterdesk version: $got, want counterdesk $VERSION"
echo "ok: control fields, conffiles, maintainer scripts, file modes, static binary"

if command -v lintian >/dev/null 2>&1; then
	lintian --fail-on error "$deb" 2>&1 | grep -v '^running with root privileges' || true
	lintian --fail-on error "$deb" >/dev/null 2>&1 || fail "lintian found errors"
	echo "ok: lintian (no errors)"
else
	echo "note: lintian is not installed, skipped (apt-get install lintian to run it)"
fi

if [ "$(id -u)" != 0 ]; then
	echo "note: installing needs root; the install, upgrade and purge checks were skipped"
	exit 0
fi

# --- Install into a throwaway root ------------------------------------------

# new_root DIR makes an empty Debian 12 root: merged /usr, the base users and
# groups of base-passwd (dialout among them), an empty dpkg database in which
# systemd and init-system-helpers count as installed (their programs are the
# host's), and a policy-rc.d that forbids starting services, as in an image
# build.
new_root() {
	mkdir -p "$1/usr/bin" "$1/usr/sbin" "$1/usr/lib" "$1/etc" "$1/tmp" "$1/var/log" \
		"$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates" "$1/var/lib/dpkg/triggers"
	ln -s usr/bin "$1/bin"
	ln -s usr/sbin "$1/sbin"
	ln -s usr/lib "$1/lib"
	cp /usr/share/base-passwd/passwd.master "$1/etc/passwd"
	cp /usr/share/base-passwd/group.master "$1/etc/group"
	: >"$1/var/lib/dpkg/available"
	dpkg-query -s systemd init-system-helpers >"$1/var/lib/dpkg/status"
	touch "$1/var/lib/dpkg/info/systemd.list" "$1/var/lib/dpkg/info/init-system-helpers.list"
	printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
	chmod 0755 "$1/usr/sbin/policy-rc.d"
}

# in_root runs dpkg on $root. --force-script-chrootless runs the maintainer
# scripts with the host's tools and DPKG_ROOT=$root, as a bootstrap does; the
# scripts must then touch nothing outside $root.
in_root() {
	dpkg --root="$root" --force-script-chrootless --force-confdef --force-confold "$@" </dev/null
}

root=$work/root
new_root "$root"
in_root --install "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg --install failed"; }
[ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status} ${Version}' counterdesk)" = "install ok installed $version" ] ||
	fail "counterdesk is not installed and configured in the root"

# The user and group sysusers made, in the root's own files.
uid=$(awk -F: '$1 == "counterdesk" { print $3 }' "$root/etc/passwd")
gid=$(awk -F: '$1 == "counterdesk" { print $3 }' "$root/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || fail "no counterdesk user or group in the root"
[ "$uid" -lt 1000 ] || fail "counterdesk is not a system user (uid $uid)"
grep -q "^counterdesk:[^:]*:$uid:$gid:[^:]*:/var/lib/counterdesk:/usr/sbin/nologin$" "$root/etc/passwd" ||
	fail "counterdesk's passwd line: $(grep '^counterdesk:' "$root/etc/passwd")"
grep -Eq '^dialout:[^:]*:20:(.*,)?counterdesk(,|$)' "$root/etc/group" || fail "counterdesk is not in group dialout"

expect_mode "$root/usr/bin/counterdesk" 755 0 0
expect_mode "$root/usr/lib/systemd/system/counterdesk.service" 644 0 0
expect_mode "$root/usr/lib/sysusers.d/counterdesk.conf" 644 0 0
expect_mode "$root/usr/lib/tmpfiles.d/counterdesk.conf" 644 0 0
expect_mode "$root/usr/lib/udev/rules.d/99-counterdesk-modem.rules" 644 0 0
expect_mode "$root/etc/counterdesk" 755 0 0
expect_mode "$root/etc/counterdesk/counterdesk.toml" 640 0 "$gid"
expect_mode "$root/etc/counterdesk/sip-password" 600 0 0
expect_mode "$root/etc/counterdesk/modem-pin" 600 0 0
expect_mode "$root/var/lib/counterdesk" 700 "$uid" "$gid"
[ ! -s "$root/etc/counterdesk/sip-password" ] && [ ! -s "$root/etc/counterdesk/modem-pin" ] ||
	fail "the credential files are not empty"
[ "$(readlink "$root/etc/systemd/system/multi-user.target.wants/counterdesk.service")" = /lib/systemd/system/counterdesk.service ] ||
	fail "counterdesk.service is not enabled (no link in multi-user.target.wants)"

# The conffile, registered with the digest of the file on disk.
conf=$root/etc/counterdesk/counterdesk.toml
registered=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Conffiles}' counterdesk | awk '{ print $1, $2 }' | grep .)
[ "$registered" = "/etc/counterdesk/counterdesk.toml $(md5sum <"$conf" | cut -d' ' -f1)" ] ||
	fail "conffiles in the dpkg database: $registered"
out=$(dpkg --root="$root" --verify counterdesk) && [ -z "$out" ] || fail "dpkg --verify: $out"

# The installed binary, on the installed config.
[ "$("$root/usr/bin/counterdesk" version)" = "counterdesk $VERSION" ] || fail "the installed binary's version"
"$root/usr/bin/counterdesk" check-config "$conf" >"$work/check-config" ||
	{ cat "$work/check-config"; fail "check-config rejects the installed config"; }
echo "ok: installed; user $uid:$gid in dialout, modes, conffile, unit enabled, binary runs, config valid"

# Tickets to keep: a user made by the installed binary in the root's data
# folder, as the service's user would, and a file of our own.
data=$root/var/lib/counterdesk
echo 'a-long-enough-password' | "$root/usr/bin/counterdesk" user add anna --role admin --config "$conf" --data "$data" >/dev/null 2>&1 ||
	fail "counterdesk user add in the root's data folder"
echo 'kept across upgrades' >"$data/keep-me"
chown -R "$uid:$gid" "$data"
echo 'shop secret' >"$root/etc/counterdesk/sip-password"
printf '\n# edited at the shop\n' >>"$conf"
edited=$(md5sum <"$conf")

# repack VERSION [CONFIG_LINE] writes the package again as VERSION, with a
# line added to its default config when given: what the next release is.
repack() {
	rm -rf "$work/re"
	dpkg-deb --raw-extract "$deb" "$work/re"
	sed -i "s/^Version: .*/Version: $1/" "$work/re/DEBIAN/control"
	if [ $# -gt 1 ]; then
		echo "$2" >>"$work/re/etc/counterdesk/counterdesk.toml"
		(cd "$work/re" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
			xargs md5sum) >"$work/re/DEBIAN/md5sums"
	fi
	dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/re" "$work/counterdesk_$1.deb" >/dev/null
	echo "$work/counterdesk_$1.deb"
}

# expect_kept checks what no upgrade may touch.
expect_kept() {
	[ "$(cat "$data/keep-me" 2>/dev/null)" = 'kept across upgrades' ] || fail "$1: the data file is gone"
	"$root/usr/bin/counterdesk" user list --config "$conf" --data "$data" 2>&1 | grep -q '^anna' ||
		fail "$1: the new binary does not find user anna in the database"
	[ "$(md5sum <"$conf")" = "$edited" ] || fail "$1: the edited config file was replaced"
	[ "$(cat "$root/etc/counterdesk/sip-password")" = 'shop secret' ] || fail "$1: the SIP password is gone"
	expect_mode "$conf" 640 0 "$gid"
	expect_mode "$root/etc/counterdesk/sip-password" 600 0 0
	expect_mode "$data" 700 "$uid" "$gid"
}

# An upgrade with the same default config: dpkg keeps the edited one
# without asking.
v2=$version+1
in_root --install "$(repack "$v2")" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "upgrade to $v2 failed"; }
[ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Version}' counterdesk)" = "$v2" ] || fail "not upgraded to $v2"
expect_kept "upgrade to $v2"
[ -L "$root/etc/systemd/system/multi-user.target.wants/counterdesk.service" ] || fail "upgrade to $v2: the unit is no longer enabled"

# An upgrade whose default config changed, after the admin disabled the
# unit: the edited file stays (the new one is put beside it as .dpkg-dist)
# and the unit stays disabled.
systemctl --root="$root" --quiet disable counterdesk.service
v3=$version+2
in_root --install "$(repack "$v3" '# a new key in the next release')" >"$work/upgrade.log" 2>&1 ||
	{ cat "$work/upgrade.log"; fail "upgrade to $v3 failed"; }
expect_kept "upgrade to $v3"
grep -q '^# a new key in the next release$' "$conf.dpkg-dist" || fail "upgrade to $v3: no $conf.dpkg-dist"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/counterdesk.service" ] ||
	fail "upgrade to $v3: the unit the admin disabled was enabled again"
echo "ok: two upgrades kept the database, the data file, the edited config, the secret and the admin's disable"

# Remove keeps the data, the config and the secrets; purge deletes them but
# not the user.
in_root --remove counterdesk >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg --remove failed"; }
[ ! -e "$root/usr/bin/counterdesk" ] || fail "remove: the binary is still there"
[ -f "$data/keep-me" ] && [ -f "$data/counterdesk.db" ] && [ -f "$conf" ] && [ -s "$root/etc/counterdesk/sip-password" ] ||
	fail "remove: data, config or secrets deleted"
grep -q 'apt purge counterdesk' "$work/remove.log" || fail "remove: no note on where the data is kept"
in_root --purge counterdesk >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge failed"; }
[ ! -e "$data" ] && [ ! -e "$root/etc/counterdesk" ] || fail "purge: /var/lib/counterdesk or /etc/counterdesk is still there"
grep -q '^counterdesk:' "$root/etc/passwd" || fail "purge: the counterdesk user was deleted"
echo "ok: remove kept the data, config and secrets; purge deleted them and kept the user"

# --- Install with the maintainer scripts chrooted ----------------------------

# A root with only a shell, rm, rmdir, systemd-sysusers and systemd-tmpfiles
# (the host's, with the libraries they load): no systemctl, no
# deb-systemd-helper, no udevadm, no /proc, only /dev/null in /dev. dpkg --root runs the scripts
# chrooted into it, as in a debootstrap; they must still make the user and
# finish. Enabling the unit is then left to whoever boots the image.
root=$work/chroot
new_root "$root"
for tool in sh rm rmdir systemd-sysusers systemd-tmpfiles; do
	p=$(command -v "$tool")
	for f in "$p" $(ldd "$p" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$f" ] || cp -L --parents "$f" "$root"
	done
done
mkdir "$root/dev"
mknod -m 0666 "$root/dev/null" c 1 3 2>/dev/null || : >"$root/dev/null"
dpkg --root="$root" --install "$deb" </dev/null >"$work/chroot.log" 2>&1 ||
	{ cat "$work/chroot.log"; fail "dpkg --install with chrooted scripts failed"; }
[ "$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${Status}' counterdesk)" = "install ok installed" ] ||
	fail "chrooted: counterdesk is not configured"
grep -q '^counterdesk:' "$root/etc/passwd" || fail "chrooted: no counterdesk user"
grep -q 'made at the next boot' "$work/chroot.log" || [ -d "$root/var/lib/counterdesk" ] ||
	fail "chrooted: tmpfiles neither ran nor said that the next boot makes the files"
dpkg --root="$root" --purge counterdesk </dev/null >>"$work/chroot.log" 2>&1 ||
	{ cat "$work/chroot.log"; fail "dpkg --purge with chrooted scripts failed"; }
echo "ok: with chrooted scripts, no systemctl and no /proc: installed, user made, purged"

echo "deb-check: passed in $(($(date +%s) - start))s"
