# IngressHarness. `make help` lists the targets.
SWIFT ?= swift
PYTHON ?= python3

.PHONY: help setup build test test-swift conformance run demo bench generate clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## Install system libraries, kcat and the pinned Python clients (idempotent)
	@scripts/setup.sh

build: setup ## Build everything (debug)
	$(SWIFT) build

test: test-swift ## Swift tests, then the conformance suite: what CI runs (.ci/run adds a watchdog)
	$(PYTHON) -m pytest conformance -q -p no:warnings -rs

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

demo: build ## The whole path by hand: FakeKafka + recorder + `harness ingress`, kcat, the admin API (KEEP=1 keeps it up)
	@scripts/demo.sh

bench: setup ## Benchmarks (release build): FakeKafka vs librdkafka's mock, its memory, ingress records/s, 10k/100k scenarios; one table
	$(SWIFT) build -c release --product harness
	HARNESS_BIN=.build/release/harness $(PYTHON) Benchmarks/bench.py

generate: ## Regenerate the Kafka message codecs from ../shared/kafka-protocol
	$(PYTHON) Tools/generate-kafka-messages.py

clean: ## Remove build products
	rm -rf .build
