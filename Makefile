# The README's two commands are `./make.sh demo` and `./make.sh check` (make.sh
# installs make and the rest first); here each target installs what is
# missing (Debian packages), builds, and runs.
PRESET ?= default
BUILD := build/$(PRESET)
TFPYTHON := $(BUILD)/tfpython

.PHONY: deps build demo check test asan package bench bench-quick conformance conformance-quick matrix clean

deps:
	bash packaging/install-deps.sh

build: deps
	cmake --preset $(PRESET) >/dev/null
	cmake --build $(BUILD)

demo: build
	$(TFPYTHON) examples/demo.py

# Every test: GoogleTest (hub) + pytest under tfpython, via ctest; then the
# conformance subset, the third-party matrix and the benchmarks' quick mode
# (no timing assertions).
check: build
	ctest --test-dir $(BUILD) --output-on-failure
	$(MAKE) --no-print-directory conformance-quick PRESET=$(PRESET)
	$(MAKE) --no-print-directory matrix PRESET=$(PRESET)
	$(MAKE) --no-print-directory bench-quick PRESET=$(PRESET)

test: build
	ctest --test-dir $(BUILD) --output-on-failure

asan:
	bash packaging/install-deps.sh
	cmake --preset asan >/dev/null
	cmake --build build/asan
	ctest --preset asan

# The Debian package of the build the tests run on, stripped:
# build/default/tfpython_<version>_amd64.deb
package: build
	cmake --build $(BUILD) --target package

bench: build
	TFPYTHON_BENCH_DEPS=1 bash packaging/install-deps.sh
	bash bench/run.sh --tfpython $(TFPYTHON)

bench-quick: build
	TFPYTHON_BENCH_DEPS=1 bash packaging/install-deps.sh
	bash bench/run.sh --quick --tfpython $(TFPYTHON)

conformance: build
	/usr/bin/python3.11 tests/conformance/run.py --tfpython $(TFPYTHON) --full

# The CI subset, once per engine (io_uring where this system allows it, and epoll).
conformance-quick: build
	/usr/bin/python3.11 tests/conformance/run.py --tfpython $(TFPYTHON) --quick
	TFPYTHON_BACKEND=epoll /usr/bin/python3.11 tests/conformance/run.py --tfpython $(TFPYTHON) --quick --output quick-epoll

# Real third-party software under python3.11 and tfpython (tests/matrix/).
matrix: build
	TFPYTHON_MATRIX_DEPS=1 bash packaging/install-deps.sh
	/usr/bin/python3.11 tests/matrix/run.py --tfpython $(TFPYTHON)

clean:
	rm -rf build
