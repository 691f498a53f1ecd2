#!/bin/sh
# fuzz.sh gives each parser a short fuzz run: fuzz.sh DURATION PKG:TARGET...
#
# A target fails when the fuzzer finds an input that breaks it: the input
# is written under PKG/testdata/fuzz/TARGET, where the race run replays it
# from then on, and the script prints it and stops.
#
# Go's fuzz coordinator can also end a run with a bare "context deadline
# exceeded" and no input written: when a worker starved of CPU has not
# answered by the end of -fuzztime, the coordinator reports its own
# deadline as a failure (a race in the toolchain, go.dev/issue/75804). That
# says nothing about the parser, so such a run is tried again, up to
# twice; a target that times out three times in a row fails, as a parser
# stuck on some input would.
set -u

go=${GO:-go}
fuzztime=$1
shift

for t in "$@"; do
	pkg=${t%%:*}
	name=${t##*:}
	corpus=$pkg/testdata/fuzz/$name
	for attempt in 1 2 3; do
		echo "fuzz $pkg $name ($fuzztime)"
		before=$(ls "$corpus" 2>/dev/null | wc -l)
		log=$(mktemp)
		if "$go" test -run='^$' -fuzz="^$name\$" -fuzztime="$fuzztime" "$pkg" >"$log" 2>&1; then
			tail -n 1 "$log"
			rm -f "$log"
			break
		fi
		after=$(ls "$corpus" 2>/dev/null | wc -l)
		if [ "$after" -eq "$before" ] && [ "$attempt" -lt 3 ] &&
			grep -q '^    context deadline exceeded$' "$log" &&
			! grep -q -e '^panic:' -e 'Failing input written' -e '_test.go:[0-9]*:' "$log"; then
			echo "fuzz $pkg $name: the fuzz coordinator missed its own deadline with no failing input (go.dev/issue/75804); running it again"
			rm -f "$log"
			continue
		fi
		cat "$log"
		rm -f "$log"
		exit 1
	done
done
