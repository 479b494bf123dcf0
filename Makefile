# Entry points: `make run` (main job on the bundled model and platform) and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DEFAULT_MODEL ?= tests/data/inception_v3.onnx
DEFAULT_PLATFORM ?= paper-node

.PHONY: all deps configure build run test sanitize bench fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# `run` builds the diviml binary alone (not the tests and benchmarks it does not need).
run: configure
	cmake --build $(BUILD) -j $(JOBS) --target diviml
	$(BUILD)/diviml compare $(DEFAULT_MODEL) --platform $(DEFAULT_PLATFORM) --time-limit 30

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	cmake -S . -B build-asan -DDIVIML_SANITIZE=ON -DDIVIML_BUILD_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

# libFuzzer harnesses of fuzz/ (clang, ASan+UBSan), each run FUZZ_SECONDS (fuzz/run.sh).
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES = onnx graph_json platform_json stg profile_csv schedule_json
fuzz: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DDIVIML_FUZZ=ON -DDIVIML_BUILD_TESTS=OFF -DDIVIML_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_HARNESSES))
	bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	$(BUILD)/diviml_bench

clean:
	rm -rf $(BUILD) build-asan build-fuzz
