# IngressHarness. `make help` lists the targets.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: help setup build test test-swift conformance run mutate demo bench generate fuzz fuzz-build fuzz-corpus clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## Install system libraries, kcat and the pinned Python clients (idempotent)
	@scripts/setup.sh

build: setup ## Build everything (debug)
	$(SWIFT) build

test: setup ## Swift tests and the conformance suite side by side: what CI runs (.ci/run adds a watchdog)
	SWIFT=$(SWIFT) PYTHON=$(PYTHON) scripts/test.sh

# The suite's resource guard writes the run's peak descriptors and threads here.
TEST_RESOURCES = .build/test-resources.txt

test-swift: build ## Swift tests only (HARNESS_TEST_OUTPUT=live shows every test's log as it runs)
	@rm -f $(TEST_RESOURCES)
	HARNESS_TEST_RESOURCES=$(TEST_RESOURCES) $(SWIFT) test
	@echo "test-swift: $$(cat $(TEST_RESOURCES))"

conformance: build ## Conformance suite: kcat, confluent-kafka, kafka-python, aiokafka against FakeKafka
	$(PYTHON) -m pytest conformance -q -p no:warnings -rs

run: build ## Run the scenario library (scenarios/) on the embedded target; reports in .build/reports/
	@mkdir -p .build/reports
	.build/debug/harness run scenarios --html .build/reports/scenarios.html --junit .build/reports/junit.xml --replay-dir .build/reports

mutate: build ## The scenario library against every planted defect: the kill matrix; reports in .build/reports/
	@mkdir -p .build/reports
	.build/debug/harness mutate scenarios --html .build/reports/mutation.html --junit .build/reports/mutation-junit.xml

demo: build ## The whole path by hand: FakeKafka + recorder + `harness ingress`, kcat, the admin API (KEEP=1 keeps it up)
	@scripts/demo.sh

bench: setup ## Benchmarks (release build): FakeKafka vs librdkafka's mock, its memory, ingress records/s, 10k/100k scenarios; one table
	$(SWIFT) build -c release --product harness
	HARNESS_BIN=.build/release/harness $(PYTHON) Benchmarks/bench.py

KAFKA_SCHEMAS ?= ../shared/kafka-protocol/message
generate: ## Regenerate the Kafka message codecs from Kafka's message schemas (KAFKA_SCHEMAS=folder)
	$(PYTHON) Tools/generate-kafka-messages.py --schemas $(KAFKA_SCHEMAS)

# The fuzzers (Fuzz/, a package of their own) build with libFuzzer and the address sanitizer
# into a scratch directory of their own, so they never rebuild or disturb .build/. The linker
# (gold) warns about each sanitizer symbol it cannot export, hundreds of lines of noise; lld is
# quiet but drops libFuzzer's coverage counters. `--sanitize fuzzer` alone left the Swift objects
# without coverage counters in about one fresh build in three (the fuzzers then ran blind, cov 5),
# so the coverage options are also given to swiftc explicitly.
FUZZ_SECONDS ?= 60
FUZZ_COVERAGE = -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp,indirect-calls

fuzz-build: setup ## Build the libFuzzer targets in Fuzz/ (address sanitizer) into .build-fuzz/
	cd Fuzz && bash -o pipefail -c '$(SWIFT) build --scratch-path ../.build-fuzz -c debug --sanitize fuzzer --sanitize address $(FUZZ_COVERAGE) 2>&1 | { grep -v "Cannot export local symbol" || true; }'

fuzz: fuzz-build ## Fuzz the request and record batch decoders, FUZZ_SECONDS (60) each; see docs/fuzzing.md
	Fuzz/run-fuzzers.sh $(FUZZ_SECONDS)

fuzz-corpus: build fuzz-build ## Recapture the fuzzers' seeds (Fuzz/corpus/) from kcat and the Python clients
	$(PYTHON) Fuzz/capture_corpus.py

clean: ## Remove build products
	rm -rf .build .build-fuzz
