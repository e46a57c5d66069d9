# simdmlp: the fastest honest MLP training core a Go program can embed.
# `make help` lists the targets.

GO      ?= go
OUT     ?= out/reproduce
SEEDS   ?= 1
COUNT   ?= 3

.PHONY: help setup data train test test-native test-purego test-arm64 vet check-generate generate bench compare reproduce reproduce-quick clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

setup: ## fresh Debian machine: apt packages for the arm64 tests, then the MNIST files
	scripts/setup-debian.sh
	$(GO) run ./cmd/simdmlp data

data: ## fetch and verify the four MNIST files through the Go module proxy
	$(GO) run ./cmd/simdmlp data

train: ## train the report's final model on the real MNIST (FLAGS="..." adds train flags)
	$(GO) run ./cmd/simdmlp train $(FLAGS)

reproduce: ## the whole study, both protocols (SEEDS=3 to judge noise); reuses finished trials
	$(GO) run ./cmd/simdmlp reproduce -out $(OUT) -seeds $(SEEDS)

reproduce-quick: ## a smoke test of the whole pipeline on a subset (minutes; its report says it is not a reproduction)
	$(GO) run ./cmd/simdmlp reproduce -quick -out out/reproduce-quick

test: vet check-generate test-native test-purego test-arm64 ## everything CI runs

vet: ## gofmt and go vet for amd64, arm64 and purego
	@unformatted=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	GOARCH=amd64 $(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) vet -tags purego ./...
	cd asm && $(GO) vet ./...

generate: ## regenerate every assembly file from the generators in asm/
	cd asm && $(GO) generate ./...

check-generate: ## fail if regenerating the assembly changes any committed file
	@scripts/check-generate.sh

test-native: ## the tests on this machine, every backend it has
	$(GO) test -count=1 ./...

test-purego: ## the tests with the pure-Go build only
	$(GO) test -count=1 -short -tags purego ./kernels/ ./mlp/

test-arm64: ## the arm64 tests under qemu-aarch64-static (skipped with a message when qemu is missing, failure under CI=true)
	@scripts/test-arm64.sh

bench: ## kernel and trainer benchmarks: a readable table and benchstat against testdata/bench/baseline.txt (COUNT=n)
	COUNT=$(COUNT) scripts/bench.sh

compare: ## the same training in PyTorch (Debian's python3-torch) beside ours, s/epoch; says how to install torch if missing
	scripts/compare.sh

clean: ## remove build and run outputs (not the MNIST module cache)
	rm -rf out bin
