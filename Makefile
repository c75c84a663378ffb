# ringfeed — build, test, benchmark, profile, soak.
#
# make demo and make test are all a fresh machine with Go needs; modules come
# from the Go module proxy.

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

.PHONY: examples all build test vet lint race norace bench bench-compare bench-check fuzz profile demo run soak clean

all: build

build:
	$(GO) build $(PKGS)
	@if [ -d cmd ]; then mkdir -p bin && $(GO) build -o bin/ ./cmd/...; fi

vet:
	$(GO) vet $(PKGS)

# lint runs staticcheck and goimports: imports in three groups, standard
# library, third party, then this module (-local), each sorted.
lint:
	$(GO) tool staticcheck $(PKGS)
	@out=$$($(GO) tool goimports -local github.com/ringfeed/ringfeed -l .); \
	if [ -n "$$out" ]; then \
	  echo "goimports: import grouping to fix (go tool goimports -local github.com/ringfeed/ringfeed -w FILE):"; \
	  echo "$$out"; exit 1; \
	fi

race:
	$(GO) test -race -count=1 -timeout 8m $(PKGS)

norace:
	$(GO) test -count=1 -timeout 5m -run $(NORACE_RUN) $(PKGS)

test: vet lint race norace

# make bench runs every benchmark of PKGS (each package's stage benchmarks
# and bench/'s end-to-end and replay suite) COUNT times, so benchstat can
# judge the spread, into bench/out/<date>.txt, then draws the handling
# latency distribution into bench/out/<date>-latency-cdf.svg. BENCH filters
# benchmarks by name (go test -bench syntax). -p 1: one package's
# benchmarks at a time, or they would share the cores with each other.
BENCH ?= .
bench:
	@mkdir -p bench/out
	@out=bench/out/$(DATE).txt; \
	{ echo "# machine: $$(nproc) CPUs, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $$($(GO) version)"; \
	  $(GO) test -p 1 -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(COUNT) -timeout 0 $(PKGS); \
	  echo $$? > $$out.rc; } 2>&1 | tee $$out; \
	rc=$$(cat $$out.rc); rm -f $$out.rc; echo "wrote $$out"; \
	if [ "$$rc" = 0 ] && [ "$(BENCH)" = . ]; then \
	  $(GO) test -run '^TestLatencyCDF$$' -count 1 -timeout 10m ./bench -cdf $(CURDIR)/bench/out/$(DATE)-latency-cdf.svg && \
	  echo "wrote bench/out/$(DATE)-latency-cdf.svg"; \
	fi; exit $$rc

# bench-compare and bench-check compare NEW (default: the latest run in
# bench/out) with the committed bench/baseline.txt.
NEW ?= $$(ls -1t bench/out/*.txt 2>/dev/null | head -1)
bench-compare:
	@if [ ! -f bench/baseline.txt ]; then echo "bench-compare: bench/baseline.txt is missing"; exit 1; fi
	@new=$(NEW); \
	if [ -z "$$new" ]; then echo "bench-compare: no run in bench/out; run 'make bench' first"; exit 1; fi; \
	echo "benchstat bench/baseline.txt $$new"; \
	$(GO) tool benchstat bench/baseline.txt $$new

# bench-check fails when a benchmark allocates (median allocs/op > 0) where
# the baseline's median was 0, or when the geometric mean over all
# benchmarks of median ns/op (new / baseline) regresses by more than
# MAX_REGRESSION percent. Latency percentiles are never gated: on a shared
# machine they are noise (see bench/README.md).
MAX_REGRESSION ?= 10
bench-check:
	@if [ ! -f bench/baseline.txt ]; then echo "bench-check: bench/baseline.txt is missing"; exit 1; fi
	@new=$(NEW); \
	if [ -z "$$new" ]; then echo "bench-check: no run in bench/out; run 'make bench' first"; exit 1; fi; \
	echo "bench-check: bench/baseline.txt vs $$new"; \
	$(GO) run ./bench/check -threshold $(MAX_REGRESSION) bench/baseline.txt $$new

fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# make profile runs PROFILE_BENCH (the mixed end-to-end benchmark at a
# sustained 500k msgs/s) with a CPU
# profile, then again with allocation (every allocation: -memprofilerate 1)
# and mutex profiles (kept apart so they do not skew the CPU one), into
# bench/out/profile/, and prints `go tool pprof -top` for each. See
# bench/README.md for reading them and for /debug/pprof/ on a live engine.
PROFILE_BENCH ?= ^BenchmarkE2E$$/^mixed-8$$/^500000$$/^ringfeed$$
PROFILE_TIME  ?= 5s
profile:
	@mkdir -p bench/out/profile
	$(GO) test -run '^$$' -bench '$(PROFILE_BENCH)' -benchtime $(PROFILE_TIME) -count 1 -timeout 10m \
	  -o bench/out/profile/bench.test -cpuprofile bench/out/profile/cpu.pprof ./bench
	$(GO) test -run '^$$' -bench '$(PROFILE_BENCH)' -benchtime $(PROFILE_TIME) -count 1 -timeout 10m \
	  -o bench/out/profile/bench.test -memprofile bench/out/profile/mem.pprof -memprofilerate 1 \
	  -mutexprofile bench/out/profile/mutex.pprof -mutexprofilefraction 1 ./bench
	@echo; echo "== CPU: go tool pprof -top -cum bench/out/profile/bench.test bench/out/profile/cpu.pprof"
	@$(GO) tool pprof -top -cum -nodecount 40 bench/out/profile/bench.test bench/out/profile/cpu.pprof 2>/dev/null
	@echo; echo "== allocations: go tool pprof -top -sample_index=alloc_objects bench/out/profile/bench.test bench/out/profile/mem.pprof"
	@$(GO) tool pprof -top -sample_index=alloc_objects -nodecount 30 bench/out/profile/bench.test bench/out/profile/mem.pprof 2>/dev/null
	@echo; echo "== mutex contention: go tool pprof -top bench/out/profile/bench.test bench/out/profile/mutex.pprof"
	@$(GO) tool pprof -top -nodecount 30 bench/out/profile/bench.test bench/out/profile/mutex.pprof 2>/dev/null

demo:
	@# watch from a second terminal: go run ./cmd/ringfeed tail --book BTCUSDT  (or tail 'ringfeed.>')
	$(GO) run ./cmd/ringfeed --sim --duration $(DURATION) --admin 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT,XRPUSDT --publish embedded

examples:
	@# the Node consumer's npm dependencies; its test (go test ./examples/...) skips without them
	cd examples/node && npm install --no-audit --no-fund

run:
	$(GO) run ./cmd/ringfeed $(ARGS)

soak:
	@# ringfeed binary vs the simulator under every fault for SOAK (default 10m), SEED to reproduce; exits 1 if a line fails
	$(GO) run ./bench/soak -go $(GO) -duration $(or $(SOAK),10m) $(if $(SEED),-seed $(SEED)) $(SOAKFLAGS)

clean:
	rm -rf bin bench/out
	$(GO) clean -testcache
