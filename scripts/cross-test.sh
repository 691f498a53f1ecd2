#!/bin/sh
# cross-test.sh runs the tests of the core packages compiled for the
# Raspberry Pi's processors, under qemu user-mode emulation: linux/arm64
# (Pi 3, 4 and 5 on a 64-bit OS) and linux/arm with GOARM=7 (Pi 2, 3 and
# Zero 2 on a 32-bit OS). The host's own test run never shows the faults
# that only a 32-bit or a different processor has: a uint64 field used
# with sync/atomic that is not 8-byte aligned on 32-bit ARM (Go panics
# with "unaligned 64-bit atomic operation"; the atomic.Uint64 type is
# always aligned), an int that overflows at 2^31, bbolt's smaller map on
# 32-bit, code that assumes the host's byte order.
#
# Each package's test binary is built with `go test -c`, without cgo, and
# run by the qemu binary named explicitly, so no binfmt_misc registration
# is needed (a container usually has none). The binary runs from its
# package's folder, as `go test` does, so testdata/ and the shared
# vectors (internal/testvectors walks up from the working directory) are
# found. The race detector does not exist for these targets; `make race`
# covers the host.
#
# The emulated processors are the Pi's own: a Cortex-A72 (Pi 4) for
# arm64, which lacks the ARMv8.1 atomic instructions, so Go's
# load-exclusive fallback is the path tested; a Cortex-A7 (Pi 2) for arm.
#
# Packages: ticket (the store, on bbolt), modem/pdu, triage, config and
# telephony/stream. Each runs whole, with -test.short; none of them has
# a test that -short cuts today. On a two-core machine the whole run takes
# about two minutes from nothing (installing qemu, then compiling the
# standard library and bbolt for both targets) and 25 seconds once the
# build cache is warm; the tests themselves run in a few seconds per
# package under emulation, so nothing is left out for time. Tests skipped
# under emulation go in SKIP_* below, each with its reason; none is today.
#
# qemu comes from Debian's qemu-user-static package, installed with
# apt-get (through sudo when not root) when missing. If it is still
# missing, the run is skipped with a message, except under CI=true, where
# it fails: a check that could not run must never pass.
#
# Environment:
#   GO            the go command (default: go)
#   CROSS_PKGS    the packages to test (default: the five above)
#   CROSS_ARCHES  the targets to test: arm64 armv7 (default: both)
#
# Prints one line per package and target, then the failing tests' output,
# and exits non-zero when anything failed.

set -u

GO=${GO:-go}
CROSS_PKGS=${CROSS_PKGS:-./ticket ./modem/pdu ./triage ./config ./telephony/stream}
CROSS_ARCHES=${CROSS_ARCHES:-arm64 armv7}

# Tests skipped on one target, as a -test.skip pattern, with the reason.
SKIP_arm64=
SKIP_armv7=

cd "$(dirname "$0")/.." || exit 1
root=$(pwd)

# qemu_for prints the qemu binary for a target, or nothing.
qemu_for() {
	case $1 in
	arm64) names="qemu-aarch64-static qemu-aarch64" ;;
	armv7) names="qemu-arm-static qemu-arm" ;;
	esac
	for n in $names; do
		if command -v "$n" >/dev/null 2>&1; then
			command -v "$n"
			return
		fi
	done
}

missing=
for a in $CROSS_ARCHES; do
	[ -n "$(qemu_for "$a")" ] || missing=yes
done
if [ -n "$missing" ]; then
	echo "cross-test: qemu user emulation missing, installing qemu-user-static"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update >/dev/null &&
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user-static >/dev/null
	for a in $CROSS_ARCHES; do
		[ -n "$(qemu_for "$a")" ] && continue
		if [ "${CI:-}" = true ]; then
			echo "cross-test: FAIL: no qemu for $a after installing qemu-user-static, and CI=true"
			exit 1
		fi
		echo "cross-test: SKIP: no qemu for $a (install qemu-user-static); CI=true makes this fail"
		exit 0
	done
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

start=$(date +%s)
failed=0
summary=
for a in $CROSS_ARCHES; do
	case $a in
	arm64) goarch=arm64 goarm= cpu=cortex-a72 skip=$SKIP_arm64 ;;
	armv7) goarch=arm goarm=7 cpu=cortex-a7 skip=$SKIP_armv7 ;;
	*)
		echo "cross-test: unknown target $a (arm64 or armv7)"
		exit 1
		;;
	esac
	qemu=$(qemu_for "$a")
	for p in $CROSS_PKGS; do
		name=$(echo "${p#./}" | tr / _)
		bin=$work/$name-$a.test
		log=$work/$name-$a.log
		t0=$(date +%s)
		if ! CGO_ENABLED=0 GOOS=linux GOARCH=$goarch GOARM=$goarm \
			$GO test -c -o "$bin" "$p" >"$log" 2>&1; then
			line="FAIL  $a  $p  (build)"
			failed=1
			cat "$log"
		elif [ ! -e "$bin" ]; then
			line="none  $a  $p  (no test files)"
		else
			set -- -test.count=1 -test.short -test.timeout=10m
			[ -z "$skip" ] || set -- "$@" -test.skip="$skip"
			if (cd "$root/$p" && "$qemu" -cpu "$cpu" "$bin" "$@") >"$log" 2>&1; then
				line="ok    $a  $p  ($(($(date +%s) - t0))s)"
			else
				line="FAIL  $a  $p  ($(($(date +%s) - t0))s)"
				failed=1
				echo "--- $a $p"
				cat "$log"
			fi
		fi
		echo "cross-test: $line"
		summary="$summary
$line"
	done
done

echo "cross-test: summary ($(($(date +%s) - start))s in all)$summary"
exit $failed
