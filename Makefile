# Thin wrapper over CMake. `make deps` installs Debian packages, `make` builds into build/,
# `make check` does both and runs the suite, `make check-asan` runs it under ASan+UBSan.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
# What check-tsan runs: the unit tests of the thread-safe core and the concurrency stress test
# (the integration scripts add minutes under TSan and exercise the same library calls).
TSAN_TESTS ?= ^test_(contract|stress|core|config|log|cache|kokoro_backend|net|nn_kernels)$$
MIN_BUILD  ?= build-min
PREFIX     ?= /usr/local
DESTDIR    ?=
# Every optional part OFF (docs/embedding.md): the smallest set of dependencies.
MINIMAL_ARGS = -DCHORUS_WITH_KOKORO=OFF -DCHORUS_WITH_CHATTERBOX=OFF -DCHORUS_WITH_PLAYER=OFF \
               -DCHORUS_WITH_AAC=OFF -DCHORUS_WITH_SERVER=OFF -DCHORUS_WITH_REDIS=OFF \
               -DCHORUS_WITH_WEBSOCKET=OFF -DCHORUS_WITH_AVAHI=OFF
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build check check-asan check-tsan check-minimal check-arm64 install demo bench fuzz fuzz-run clean

all: build

deps:
	sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

check: deps
	$(MAKE) build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCHORUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# The same library under ThreadSanitizer: any data race or lock-order problem fails the test.
check-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCHORUS_TSAN=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# The minimal configuration builds and passes its unit tests (CI runs this too).
check-minimal: deps
	cmake -S . -B $(MIN_BUILD) -DCMAKE_BUILD_TYPE=Debug $(MINIMAL_ARGS) $(CMAKE_ARGS)
	cmake --build $(MIN_BUILD) -j $(JOBS)
	cd $(MIN_BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

# The nn kernels, the Kokoro forward pass and their unit tests cross-built for aarch64 and run
# under qemu-user (not in CI; skips with a message without the cross packages, see
# docs/kokoro.md "ARM64").
check-arm64:
	sh scripts/check-arm64.sh

# Install the libraries, headers, chorus.pc, the CMake package and the tool under PREFIX
# (DESTDIR=/stage for packaging). docs/embedding.md lists what goes where.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# Speak a sentence with the embedded default engine into demo.wav.
demo: deps
	$(MAKE) build
	$(BUILD)/chorus say -o demo.wav "Hello from chorus. This sentence was spoken by the embedded default engine."
	@echo "wrote demo.wav"

bench: build
	sh bench/run.sh $(BUILD)

FUZZ_TARGETS = $(notdir $(basename $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 10

# Build the libFuzzer targets with clang (ASan+UBSan): build-fuzz/tests/fuzz_*.
fuzz:
	cmake -S . -B build-fuzz -DCHORUS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCHORUS_SANITIZE=ON
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

# Run every fuzz target for FUZZ_SECONDS from its seed corpus (new inputs go to a scratch dir).
fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "== $$t ($(FUZZ_SECONDS)s)"; \
	  mkdir -p build-fuzz/corpus/$$t; \
	  (cd build-fuzz && tests/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    corpus/$$t ../tests/fuzz/corpus/$$t > corpus/$$t.log 2>&1); rc=$$?; \
	  grep -E "^stat::number_of_executed_units|SUMMARY|ERROR" build-fuzz/corpus/$$t.log; \
	  if [ $$rc != 0 ]; then tail -40 build-fuzz/corpus/$$t.log; exit 1; fi; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(MIN_BUILD) build-fuzz
