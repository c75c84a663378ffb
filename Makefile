# ringfeed — build, test, benchmark and profile.
#
# Every target that cannot do its job yet says what is missing and exits
# non-zero; none of them pretends.

GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
COUNT     ?= 10
FUZZTIME  ?= 20s
DURATION  ?= 60s
DATE      := $(shell date -u +%Y%m%d-%H%M%S)

# Tests whose names match this run a second time without -race: zero-allocation
# gates (the race detector allocates) and the long ordering tests that would be
# too slow under it. Their files carry //go:build !race.
NORACE_RUN := 'Alloc|NoRace'

.PHONY: all build test vet lint race norace bench bench-compare bench-check fuzz profile demo run soak clean

all: build

build:
	$(GO) build $(PKGS)
	@if [ -d cmd ]; then mkdir -p bin && $(GO) build -o bin/ ./cmd/...; fi

vet:
	$(GO) vet $(PKGS)

lint:
	$(GO) tool staticcheck $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

norace:
	$(GO) test -count=1 -timeout 5m -run $(NORACE_RUN) $(PKGS)

test: vet lint race norace

bench:
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(COUNT) $(PKGS) | tee bench/out/$(DATE).txt
	@echo "wrote bench/out/$(DATE).txt"

bench-compare:
	@if [ ! -f bench/baseline.txt ]; then echo "bench-compare: bench/baseline.txt is missing (the bench suite is not built yet)"; exit 1; fi
	@last=$$(ls -1t bench/out/*.txt 2>/dev/null | head -1); \
	if [ -z "$$last" ]; then echo "bench-compare: no run in bench/out; run 'make bench' first"; exit 1; fi; \
	$(GO) tool benchstat bench/baseline.txt $$last

bench-check:
	@echo "bench-check: the regression gate arrives with the bench suite (bench/)"; exit 1

fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

profile:
	@echo "profile: needs the end-to-end mixed benchmark in bench/ (not built yet)"; exit 1

demo:
	$(GO) run ./cmd/ringfeed --sim --duration $(DURATION) --admin 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT,XRPUSDT

run:
	$(GO) run ./cmd/ringfeed $(ARGS)

soak:
	@# ringfeed binary vs the simulator under every fault for SOAK (default 10m), SEED to reproduce; exits 1 if a line fails
	$(GO) run ./bench/soak -go $(GO) -duration $(or $(SOAK),10m) $(if $(SEED),-seed $(SEED)) $(SOAKFLAGS)

clean:
	rm -rf bin bench/out
	$(GO) clean -testcache
