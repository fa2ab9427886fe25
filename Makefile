# The two commands of the README, and the pieces they are made of.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CONFIG     ?= examples/quickstart.yaml
PYTHON     ?= /usr/bin/python3
FUZZ_SECONDS ?= 30

.PHONY: run test deps build build-asan build-fuzz unit unit-asan e2e conformance fuzz bench format clean

run: deps build
	@$(BUILD)/edgeguard serve -c $(CONFIG) --quickstart-banner

test: deps build build-asan build-fuzz
	cd $(BUILD) && ctest --output-on-failure -j2
	cd $(ASAN_BUILD) && ctest --output-on-failure -j2 -L unit
	$(MAKE) fuzz
	EDGEGUARD_BIN=$(abspath $(BUILD))/edgeguard $(PYTHON) -m pytest -q tests/e2e

deps:
	@./scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)

build-asan:
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEDGEGUARD_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) --target unit_tests

build-fuzz:
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DEDGEGUARD_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) --target fuzz_targets

fuzz: build-fuzz
	@./fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: deps
	@./scripts/install-deps.sh --bench
	@$(MAKE) build
	@./bench/run.sh
	@./bench/origin_auth.sh
	@./bench/waf.sh
	@./bench/functions.sh

format:
	@clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'fuzz/*.cc' 'bench/*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
