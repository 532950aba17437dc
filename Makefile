# o365detect: the o365_detect logs processor and the otelcol-o365 collector
# distribution built with the OpenTelemetry Collector Builder (ocb).
#
# Targets: build run demo test test-realdata lint generate clean bench fuzz gosum help
#
# Everything a fresh machine needs (Go, gcc for -race, git) is assumed; every
# other tool is installed by this Makefile into .tools/ (gitignored).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:

GO ?= go

# ---------------------------------------------------------------------------
# Pinned tools
# ---------------------------------------------------------------------------
# ocb must match the collector release every gomod in builder-config.yaml is
# pinned to (v0.158.0; see builder-config.yaml).
OCB_VERSION := v0.158.0
TOOLS_BIN := $(CURDIR)/.tools/bin
# `go install` writes .tools/bin/builder; the versioned name is a symlink to
# it, so the tool is reinstalled when it is missing or when OCB_VERSION changes.
OCB := $(TOOLS_BIN)/builder-$(OCB_VERSION)

# VictoriaLogs, the log store the store test (internal/e2e) and `make demo`
# run: a real log database with OTLP and Splunk HEC intakes, Apache-2.0, and
# installable with `go install` (its go.mod has no replace directives). Pinned
# because the test checks the exact layout the store keeps of each field: a new
# release must be checked, not picked up. Installed like ocb, with a versioned
# symlink so that changing the version reinstalls it.
VICTORIALOGS_VERSION := v1.52.1
VICTORIALOGS := $(TOOLS_BIN)/victoria-logs-$(VICTORIALOGS_VERSION)
# The store test execs the binary named here and fails without it.
VICTORIALOGS_BIN ?= $(VICTORIALOGS)
export VICTORIALOGS_BIN

# ---------------------------------------------------------------------------
# Distribution
# ---------------------------------------------------------------------------
DIST_NAME := otelcol-o365
BUILD_DIR := build
BIN := bin/$(DIST_NAME)

# The end-to-end tests (Go package internal/e2e, part of ./...) exec the
# collector binary named by O365DETECT_BIN; export an absolute path so it works
# from any test cwd. (They stat the binary, so go test's result cache is
# invalidated when it is rebuilt.)
O365DETECT_BIN ?= $(CURDIR)/$(BIN)
export O365DETECT_BIN

# Extra flags for ocb, e.g. `make build OCB_FLAGS=--verbose` to see the output
# of the go commands ocb runs (including the errors `go mod tidy -e` tolerates).
OCB_FLAGS ?=

# GOFLAGS for the ocb invocation ONLY (no other go command gets these):
#   -e                 Workaround: ocb always runs `go mod tidy`, which fails on
#                      github.com/open-telemetry/sig-profiling/profcheck, a
#                      test-only dependency of pkg/translator/pprof (pulled in
#                      by the splunk_hec exporter) that the module proxy
#                      refuses (403). -e makes tidy report it and finish;
#                      `go build` ignores -e.
#   -buildvcs=false    The binary is versioned by dist.version; VCS stamping a
#                      generated module buys nothing and fails with "error
#                      obtaining VCS status" on checkouts git does not trust
#                      (e.g. owned by another uid in CI).
# Whatever GOFLAGS go would otherwise use (environment or `go env -w`, e.g.
# -modcacherw) is kept: setting GOFLAGS in the environment replaces the go env
# file value instead of merging with it, so read it through `go env`.
OCB_GOFLAGS = $(strip $(filter-out -e -buildvcs%,$(shell $(GO) env GOFLAGS)) -e -buildvcs=false)

# Checksum-database gaps (workaround, see builder-config.yaml): the checksum
# database does not serve these module paths at v0.158.0, so their hashes live
# in the committed build/go.sum. Only `make gosum` sets GONOSUMDB, to exactly
# these module paths (never a prefix, never GOSUMDB=off). extension/ackextension
# (imported by the splunk_hec receiver) is the easy one to miss: `go mod tidy
# -e` silently drops it and the build then fails with "missing go.sum entry
# for module providing package .../extension/ackextension".
CONTRIB := github.com/open-telemetry/opentelemetry-collector-contrib
SUMDB_GAPS := $(CONTRIB)/exporter/splunkhecexporter,$(CONTRIB)/receiver/splunkhecreceiver,$(CONTRIB)/internal/splunk,$(CONTRIB)/pkg/batchperresourceattr,$(CONTRIB)/pkg/translator/pprof,$(CONTRIB)/pkg/translator/splunk,$(CONTRIB)/extension/ackextension

# Inputs of the collector binary: the root module's non-test Go files (not the
# generated build/, the tools, testdata or the e2e tests), the module files,
# the ocb manifest and the committed build/go.sum.
GO_SOURCES := $(shell find . \( -path ./build -o -path ./.tools -o -path ./.git -o -path ./bin -o -path ./internal/e2e -o -path ./internal/tools -o -path ./bench -o -name testdata \) -prune \
	-o -type f -name '*.go' ! -name '*_test.go' -print)
BIN_INPUTS := builder-config.yaml $(wildcard go.mod go.sum $(BUILD_DIR)/go.sum) $(GO_SOURCES)

.PHONY: all build run demo test test-realdata lint generate clean bench fuzz flood gosum help

all: build

help:
	@echo "make build     build $(BIN) with ocb $(OCB_VERSION) (only if its inputs changed)"
	@echo "make run       build, then run $(BIN) --config config/default.yaml"
	@echo "make demo      build, then run VictoriaLogs and $(BIN) on the sample; prints the web UI's address and a query"
	@echo "make test      build, install VictoriaLogs $(VICTORIALOGS_VERSION), then go test -race ./... (unit + e2e, O365DETECT_BIN=$(O365DETECT_BIN)) and the same in bench/ and translatortest/"
	@echo "make test-realdata REALDATA=dir  opt-in: run the published audit records in dir through o365_detect in every input shape"
	@echo "make lint      gofmt -l (must be empty) and go vet ./..."
	@echo "make generate  regenerate the processor's and the receiver's mdatagen files"
	@echo "make bench     build, then print the benchmark table (about 7 minutes)"
	@echo "make fuzz      run each fuzz target for FUZZTIME (default 10m)"
	@echo "make flood     build, then send 1M records to one collector (peak RSS, time, no row lost)"
	@echo "make gosum     refresh the committed $(BUILD_DIR)/go.sum (GONOSUMDB = the checksum-DB gaps)"
	@echo "make clean     remove bin/ and the generated $(BUILD_DIR)/ sources (keeps $(BUILD_DIR)/go.sum)"

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
$(OCB):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	@$(TOOLS_BIN)/builder version 2>&1 | grep ' $(OCB_VERSION)$$' >/dev/null || { echo "installed builder is not $(OCB_VERSION)" >&2; exit 1; }
	ln -sf builder $@

$(VICTORIALOGS):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)
	@$(GO) version -m $(TOOLS_BIN)/victoria-logs | grep -E '^\s+mod\s+github.com/VictoriaMetrics/VictoriaLogs\s+$(VICTORIALOGS_VERSION)\s' >/dev/null || { echo "installed victoria-logs is not $(VICTORIALOGS_VERSION)" >&2; exit 1; }
	ln -sf victoria-logs $@

build: $(BIN)

# ocb writes main.go, components.go and go.mod into build/, runs
# `go mod tidy` + `go mod download` there, and compiles build/$(DIST_NAME).
# It never deletes an existing build/go.sum, so tidy starts from the committed
# one, which already pins the hashes the checksum database does not serve.
# A newly installed (e.g. re-pinned) ocb also triggers a rebuild.
$(BIN): $(BIN_INPUTS) $(OCB)
	@test -f $(BUILD_DIR)/go.sum || { \
	  echo "$(BUILD_DIR)/go.sum is missing: restore the committed one (git checkout -- $(BUILD_DIR)/go.sum)" >&2; \
	  echo "or regenerate it with 'make gosum' (see builder-config.yaml)." >&2; exit 1; }
	@echo "ocb $(OCB_VERSION): building $(DIST_NAME) (GOFLAGS='$(OCB_GOFLAGS)')"
	@start=$$(date +%s); \
	GOFLAGS='$(OCB_GOFLAGS)' $(OCB) --config builder-config.yaml $(OCB_FLAGS); \
	mkdir -p $(dir $@); \
	cp $(BUILD_DIR)/$(DIST_NAME) $@.tmp; \
	for c in o365_detect o365_management_activity; do \
	  ./$@.tmp components | grep "$$c" >/dev/null || { echo "$$c missing from '$(DIST_NAME) components'" >&2; rm -f $@.tmp; exit 1; }; \
	done; \
	mv -f $@.tmp $@; \
	echo "built $@ in $$(( $$(date +%s) - start ))s"

# Refresh the committed build/go.sum (run after changing builder-config.yaml or
# the root go.mod if `make build` cannot verify a new module; commit the
# result). GONOSUMDB lists exactly the module paths the checksum database does
# not serve; their hashes are taken from the module proxy once (trust on first
# use) and are then pinned by build/go.sum, so every later build verifies
# against it. This runs the full ocb build, not --skip-compilation: because of
# -e, tidy does not fail on a module it could not verify, it drops it, and only
# the compilation shows that a hash is missing. --verbose prints what tidy
# tolerated; the only expected error is the refused profcheck test dependency.
gosum: | $(OCB)
	GONOSUMDB='$(SUMDB_GAPS)' GOFLAGS='$(OCB_GOFLAGS)' $(OCB) --config builder-config.yaml --verbose $(OCB_FLAGS)

run: build
	./$(BIN) --config config/default.yaml

# VictoriaLogs on 127.0.0.1:$(DEMO_PORT) with a throwaway data directory, and
# the collector sending the sample's tagged records and detections to it
# (config/victorialogs-demo.yaml), to look at them in VictoriaLogs' web UI.
# Ctrl-C stops the collector; the trap then stops VictoriaLogs, which as a
# background job of the recipe's shell ignores the terminal's SIGINT, and
# removes its data. /dev/tcp and python3 stand in for curl, which a fresh
# machine may lack.
DEMO_PORT ?= 9428
DEMO_QUERY := {event_name="o365_detect.detection"} | fields _time, user, src, signature, count, firstTime, lastTime, dest
demo: build $(VICTORIALOGS)
	@data=$$(mktemp -d); vl=; \
	trap '[ -z "$$vl" ] || kill $$vl 2>/dev/null; wait; rm -rf "$$data"' EXIT; \
	$(VICTORIALOGS) -httpListenAddr=127.0.0.1:$(DEMO_PORT) -storageDataPath="$$data" -loggerLevel=WARN & vl=$$!; \
	until (exec 3<>/dev/tcp/127.0.0.1/$(DEMO_PORT)) 2>/dev/null; do \
	  kill -0 $$vl 2>/dev/null || { echo "VictoriaLogs did not start (is port $(DEMO_PORT) taken? try make demo DEMO_PORT=...)" >&2; exit 1; }; \
	  sleep 0.2; \
	done; \
	query='$(DEMO_QUERY)'; \
	encoded=$$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$$query"); \
	echo; \
	echo "VictoriaLogs is on http://127.0.0.1:$(DEMO_PORT). Detections appear 5 s after the sample is read."; \
	echo "Open the detections in its web UI:"; \
	echo "  http://127.0.0.1:$(DEMO_PORT)/select/vmui/#/?query=$$encoded&g0.relative_time=last_1_hour"; \
	echo "or query them with LogsQL over its HTTP API:"; \
	echo "  curl http://127.0.0.1:$(DEMO_PORT)/select/logsql/query --data-urlencode 'query=$$query'"; \
	echo "Ctrl-C stops both."; \
	echo; \
	VICTORIALOGS_PORT=$(DEMO_PORT) ./$(BIN) --config config/victorialogs-demo.yaml

# ---------------------------------------------------------------------------
# Test, lint, generate
# ---------------------------------------------------------------------------
# Unit tests and the e2e tests (internal/e2e, which exec $$O365DETECT_BIN, and
# $$VICTORIALOGS_BIN for the store test) in one run, then the tests of the
# benchmark module: they check that the OTTL peer and the tagging floor write
# exactly what o365_detect writes, so that the table compares like with like;
# then those of translatortest/, which run the Event Hub receiver's own
# translator (pkg/translator/azure) into o365_detect.
# build/, bench/, translatortest/ and internal/tools/ are separate modules, so
# ./... skips them.
test: build $(VICTORIALOGS)
	$(GO) test -race ./...
	cd bench && $(GO) test -race ./...
	cd translatortest && $(GO) test -race ./...

# Opt-in, not part of make test: published O365 and Entra ID records run
# through o365_detect in every input shape (translatortest/realdata_test.go).
# Their licences vary and some allow no redistribution, so they are not in the
# repository; REALDATA names the directory that holds them (JSON-lines files,
# searched recursively): make test-realdata REALDATA=path/to/records. The test
# fails, rather than skips, when the directory is missing or holds no record.
# Needs no collector binary.
test-realdata:
	@test -n '$(REALDATA)' || { echo "make test-realdata: set REALDATA to the directory of the records, e.g. make test-realdata REALDATA=path/to/records" >&2; exit 2; }
	cd translatortest && O365DETECT_REALDATA='$(abspath $(REALDATA))' $(GO) test -race -count=1 -run Realdata -v ./...

lint:
	@files=$$(find . \( -path ./build -o -path ./.tools -o -path ./.git -o -path ./bin \) -prune -o -type f -name '*.go' -print); \
	unformatted=$$(gofmt -l $$files); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags flood ./internal/e2e/

# mdatagen is pinned as a tool in internal/tools/go.mod (`go install` of
# mdatagen fails because its go.mod has replace directives).
MDATAGEN_DIRS := processor/o365detectprocessor receiver/o365managementactivityreceiver
generate:
	for d in $(MDATAGEN_DIRS); do (cd $$d && $(GO) tool -modfile=../../internal/tools/go.mod mdatagen metadata.yaml) || exit 1; done

# Benchmark table (bench/ is a separate Go module, so the transform/filter
# processors of the OTTL peer stay out of the root module). See BENCHMARKS.md.
# More repetitions: make bench BENCH_FLAGS='-count 9 -runs 5'
BENCH_FLAGS ?=
bench: build
	bash bench/run.sh $(BENCH_FLAGS)

# Each fuzz target for FUZZTIME (make test runs only their seed corpora).
# go test -fuzz takes one target per run, hence the loop.
FUZZTIME ?= 10m
FUZZ_TARGETS := \
	./internal/record:FuzzReadJSON \
	./internal/rule:FuzzFastPathAgreesWithFullDecode \
	./processor/o365detectprocessor:FuzzConsumeLogs \
	./receiver/o365managementactivityreceiver/internal/contentblob:FuzzReader \
	./receiver/o365managementactivityreceiver/internal/contentblob:FuzzFields
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# One million unique-user matches through one collector: peak RSS, time, and
# that every row comes out (early emission at max_groups). Not part of make
# test (build tag flood); writes about 1.3 GB under the test's temp dir.
flood: build
	$(GO) test -tags flood -run '^TestFlood$$' -count=1 -timeout 30m -v ./internal/e2e/

# Keeps .tools/ (the pinned ocb) and the committed build/go.sum.
clean:
	rm -rf bin
	@if [ -d $(BUILD_DIR) ]; then find $(BUILD_DIR) -mindepth 1 -maxdepth 1 ! -name go.sum -exec rm -rf {} +; fi
