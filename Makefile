# Thin wrapper over CMake. `make test` is what CI runs (.ci/run): both the normal and the
# ASan+UBSan builds, each with the whole ctest suite. With CI=true (as CI sets it) it then also
# runs every libFuzzer target for 60 s (make fuzz) and the end-to-end tests under valgrind
# memcheck (scripts/valgrind-e2e.sh); set TVK_TEST_EXTRA=1 to run those locally too.
BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test test-normal test-asan test-extra demo bench fuzz install clean

all: build

deps:
	@bash scripts/install-deps.sh

configure:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: deps
	@$(MAKE) --no-print-directory test-normal
	@if [ "$${CI:-}" = "true" ] || [ -n "$${TVK_TEST_EXTRA:-}" ]; then \
	  $(MAKE) --no-print-directory test-extra; fi
	@$(MAKE) --no-print-directory test-asan

# Fuzzing (each target >= 60 s under CI) and valgrind memcheck of the end-to-end suite.
test-extra:
	@echo "== fuzz: every target (scripts/fuzz.sh) =="
	@bash scripts/fuzz.sh
	@echo "== valgrind memcheck of the end-to-end tests ($(BUILD)) =="
	@bash scripts/valgrind-e2e.sh $(BUILD)

test-normal: build
	@echo "== tests: normal build ($(BUILD)) =="
	@cd $(BUILD) && ctest --output-on-failure --timeout 600 -j$(JOBS)

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTVK_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@echo "== tests: ASan+UBSan build ($(ASAN_BUILD)) =="
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure --timeout 900 -j$(JOBS)

demo:
	@bash scripts/demo.sh

bench: build
	@bash bench/run.sh

fuzz:
	@bash scripts/fuzz.sh

install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
