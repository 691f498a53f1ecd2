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

.PHONY: run build check deps vet test race fuzz bench cross clean

run:
	$(GO) run ./cmd/appliance run --data ./data

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance ./cmd/appliance

# deps installs the peers the tests drive, from Debian's packages: chromium
# for the browser tests of the staff pages, sipp (sip-tester) as the caller
# and registrar of the phone-line tests. The Go modules come through the
# module proxy on first build.
deps:
	@command -v $(GO) >/dev/null || { echo "Go is not installed"; exit 1; }
	$(GO) mod download
	@missing=; \
	  command -v chromium >/dev/null 2>&1 || missing="$$missing chromium chromium-driver"; \
	  command -v sipp >/dev/null 2>&1 || missing="$$missing sip-tester"; \
	  if [ -n "$$missing" ]; then \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  fi

check: deps vet race fuzz

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
	./telephony/media:FuzzReadWAV \
	./telephony/stream:FuzzJitter \
	./telephony/stream:FuzzParseEvent \
	./triage:FuzzTriage \
	./triage:FuzzNew \
	./triage:FuzzPrefilter \
	./ui:FuzzParseRange \
	./ui:FuzzCreateBody \
	./ui:FuzzCreateTicket

fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	  log=$$(mktemp); \
	  $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; \
	  tail -n 1 $$log; rm -f $$log; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout 30m ./...

cross:
	mkdir -p $(BIN)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-arm64 ./cmd/appliance
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-armv7 ./cmd/appliance
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/appliance-linux-armv6 ./cmd/appliance
	@ls -l $(BIN)/appliance-linux-*

clean:
	rm -rf $(BIN)
