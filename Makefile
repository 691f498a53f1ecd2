# counterdesk: the support desk in the box at the shop counter.
#
#   make run     start the appliance on the built-in defaults (data in ./data)
#   make check   install what the tests need, then run every test
#   make bench   run the benchmarks recorded in BENCHMARKS.md
#   make cross   build static binaries for the Raspberry Pi

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
FUZZTIME  ?= 10s

.PHONY: run build check deps vet systemd-check test race fuzz bench cross cross-test deb deb-check clean

run:
	$(GO) run ./cmd/appliance run --data ./data

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance ./cmd/appliance

# deps installs the peers the tests drive, from Debian's packages: chromium
# for the browser tests of the staff pages, sipp (sip-tester) as the caller
# and registrar of the phone-line tests, dovecot as the support mailbox's
# IMAP server. The Go modules come through the module proxy on first build.
deps:
	@command -v $(GO) >/dev/null || { echo "Go is not installed"; exit 1; }
	$(GO) mod download
	@missing=; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium chromium-driver"; \
	  command -v sipp >/dev/null 2>&1 || missing="$$missing sip-tester"; \
	  [ -x /usr/sbin/dovecot ] || missing="$$missing dovecot-imapd"; \
	  if [ -n "$$missing" ]; then \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  fi

check: deps vet systemd-check deb-check cross-test race fuzz

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test:
	$(GO) test ./...

race:
	$(GO) test -race -count=1 -timeout 15m ./...

# Every parser gets a short fuzz run on top of its seed corpus, which the
# race run above already replays.
FUZZ_TARGETS := \
	./config:FuzzParse \
	./ticket:FuzzIngest \
	./ticket:FuzzTokens \
	./modem:FuzzLineReader \
	./modem:FuzzParsers \
	./modem/pdu:FuzzDecode \
	./modem/pdu:FuzzEncodeSubmit \
	./telephony:FuzzParseOffer \
	./telephony:FuzzSIPRequest \
	./telephony:FuzzSIPDatagram \
	./telephony/media:FuzzReadWAV \
	./telephony/stream:FuzzJitter \
	./telephony/stream:FuzzParseEvent \
	./triage:FuzzTriage \
	./triage:FuzzNew \
	./triage:FuzzPrefilter \
	./ui:FuzzParseRange \
	./ui:FuzzCreateBody \
	./ui:FuzzCreateTicket \
	./sync/zendesk:FuzzDecodeExport \
	./sync/zendesk:FuzzDecodeComments \
	./sync/hubspot:FuzzDecodeSearch \
	./sync/hubspot:FuzzNoteText \
	./sync/webhook:FuzzParseEvent \
	./sync/webhook:FuzzVerify \
	./sync/freshdesk:FuzzDecodeAnswers \
	./mail:FuzzIMAPParse \
	./mail:FuzzIMAPDeliveryStatus \
	./mail:FuzzSMTPMessage

fuzz:
	GO=$(GO) sh scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# systemd-check scores the unit's hardening (fails above exposure 2.0:
# --threshold is the exposure times ten) and checks the unit, the sysusers
# and the tmpfiles snippets as systemd reads them. None of it needs systemd
# as PID 1: verify runs on a throwaway root holding the unit, a stand-in
# /usr/bin/counterdesk and a copy of the host's system units, and any
# message from it, even a warning, fails the check. Only root may give files
# to the counterdesk user, so for anyone else the tmpfiles check leaves the
# owners out. systemd/README.md says more.
SYSTEMD_UNIT := systemd/counterdesk.service

systemd-check:
	@for c in systemd-analyze systemd-sysusers systemd-tmpfiles; do \
	  command -v $$c >/dev/null 2>&1 && continue; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y systemd || exit 1; \
	  break; \
	done
	@out=$$(systemd-analyze security --offline=yes --threshold=20 $(SYSTEMD_UNIT) 2>&1) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | tail -n 1
	@root=$$(mktemp -d) || exit 1; trap 'rm -rf "$$root"' EXIT; \
	  units=; for d in /usr/lib/systemd/system /lib/systemd/system; do \
	    if [ -e $$d/sysinit.target ]; then units=$$d; break; fi; \
	  done; \
	  [ -n "$$units" ] || { echo "systemd-check: no system units (sysinit.target) on this host"; exit 1; }; \
	  mkdir -p $$root/etc/systemd/system $$root/usr/bin $$root/usr/lib/systemd && \
	  cp -R $$units $$root/usr/lib/systemd/ && \
	  cp $(SYSTEMD_UNIT) $$root/etc/systemd/system/ && \
	  printf '#!/bin/sh\n' >$$root/usr/bin/counterdesk && chmod 0755 $$root/usr/bin/counterdesk || exit 1; \
	  out=$$(systemd-analyze verify --root=$$root counterdesk.service 2>&1) && [ -z "$$out" ] || \
	    { echo "systemd-analyze verify $(SYSTEMD_UNIT):"; echo "$$out"; exit 1; }; \
	  echo "verify $(SYSTEMD_UNIT): clean"; \
	  tmpfiles=$(CURDIR)/systemd/counterdesk.tmpfiles.conf; \
	  if [ "$$(id -u)" != 0 ]; then \
	    awk '!/^#/ && NF >= 5 { $$4 = "-"; $$5 = "-" } { print }' $$tmpfiles >$$root/tmpfiles.conf; \
	    tmpfiles=$$root/tmpfiles.conf; \
	  fi; \
	  out=$$(systemd-sysusers --root=$$root $(CURDIR)/systemd/counterdesk.sysusers.conf 2>&1 && \
	    systemd-tmpfiles --root=$$root --create $$tmpfiles 2>&1) || \
	    { echo "$$out"; exit 1; }; \
	  grep -q '^counterdesk:' $$root/etc/passwd && grep -q '^dialout:.*counterdesk' $$root/etc/group && \
	    [ -f $$root/etc/counterdesk/sip-password ] && [ -d $$root/var/lib/counterdesk ] || \
	    { echo "systemd-check: sysusers and tmpfiles did not make the user, group and files"; exit 1; }; \
	  echo "sysusers and tmpfiles snippets: applied cleanly"

# cross-test runs the core packages' tests built for arm64 and armv7
# under qemu user emulation, where 32-bit, alignment and byte-order
# faults show; scripts/cross-test.sh says which and how.
cross-test:
	GO="$(GO)" sh scripts/cross-test.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout 30m ./...

cross:
	mkdir -p $(BIN)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-arm64 ./cmd/appliance
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-armv7 ./cmd/appliance
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-armv6 ./cmd/appliance
	@ls -l $(BIN)/appliance-linux-*

# deb builds the Debian packages (amd64, arm64, armhf) into $(BIN)/;
# deb-check installs the amd64 one into throwaway roots with dpkg --root and
# checks the files, the user, an upgrade that keeps the data, remove and
# purge. packaging/README.md says more.
deb:
	@for a in amd64 arm64 armhf; do \
	  GO='$(GO)' BIN='$(BIN)' VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' packaging/build-deb.sh $$a || exit 1; \
	done

deb-check:
	@GO='$(GO)' VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' packaging/deb-check.sh

clean:
	rm -rf $(BIN)
