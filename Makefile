# qtap: the two commands that matter are `make run` and `make test`.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: all deps test-deps configure build run test unit pipeline e2e bench clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --with-test-peers

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

# Capture everything this machine's processes send and receive (needs root).
run: build
	$(BUILD)/qtap $(ARGS)

# Every test tier: unit, pipeline (replayed kernel events), end to end (root, real BPF).
test: test-deps build
	cd $(BUILD) && ctest --output-on-failure

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

pipeline: build
	cd $(BUILD) && ctest --output-on-failure -L pipeline

e2e: test-deps build
	cd $(BUILD) && ctest --output-on-failure -L e2e

# Benchmarks (not tests): see docs/benchmarks.md.
bench: build
	$(BUILD)/bench/pipeline_bench

clean:
	rm -rf $(BUILD)
