# The two commands of the README: `make demo` and `make test`. `make` alone builds build/sea.
# Each installs missing system packages (scripts/install-deps.sh), configures and builds first.
BUILD ?= build
ASAN_BUILD ?= build-asan
MESON_TEST_FLAGS ?= --print-errorlogs --num-processes 2

.PHONY: all deps build test test-asan demo clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Whole suite on the normal build, then the unit and op tests again under ASan+UBSan, and the
# CUDA backend's op tests on the CUDA emulator (docs/cuda-emulator.md) under them too.
test: build
	meson test -C $(BUILD) $(MESON_TEST_FLAGS)
	$(MAKE) test-asan

$(ASAN_BUILD)/build.ninja: | deps
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dcuda=disabled -Dopencl=disabled -Dvulkan=disabled

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) $(MESON_TEST_FLAGS) --suite unit --suite ops --suite fuzz --suite cuda-emu-asan

demo: build
	$(BUILD)/sea demo

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
