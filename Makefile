# The two commands of the README: `make run` and `make test`. Everything else is a step they use.
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)

.PHONY: run test setup build build-asan clean

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: setup
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DCALENDOX_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)

run: build
	@scripts/web.sh
	@scripts/run.sh $(BUILD)/calendox

test: setup
	@scripts/test.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan
