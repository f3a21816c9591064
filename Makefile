# Switchyard: `make` builds the five binaries, `make test` runs every test.
# Bun is pinned in package.json ("packageManager"); without a matching bun on PATH the
# pinned one is installed from the npm registry into node_modules/.bin.

BINARIES    := watchdog load_balancer reverse_proxy server client
BUN_VERSION := $(shell sed -n 's/.*"packageManager": *"bun@\([^"]*\)".*/\1/p' package.json)
LOCAL_BUN   := node_modules/.bin/bun
BUN         := $(shell b=$$(command -v bun 2>/dev/null) && [ "$$($$b --version 2>/dev/null)" = "$(BUN_VERSION)" ] && echo $$b || echo $(LOCAL_BUN))
DEPS_STAMP  := node_modules/.switchyard-deps
SHARED_SRC  := $(shell find packages -name '*.ts' -not -name '*.test.ts' 2>/dev/null) package.json tsconfig.base.json scripts/build.ts

.PHONY: all clean distclean test unit e2e typecheck bench analysis deps
all: $(BINARIES)

# Each binary depends on its own app's sources and the shared packages, so `make server`
# rebuilds only when something it is built from changed.
define binary_rule
$(1): $$(shell find apps/$(1)/src -name '*.ts' -not -name '*.test.ts' 2>/dev/null) $$(SHARED_SRC) | $$(DEPS_STAMP)
	$$(BUN) scripts/build.ts $(1)
endef
$(foreach b,$(BINARIES),$(eval $(call binary_rule,$(b))))

# The binary lives in node_modules/.cache (a fresh `bun install` recreates node_modules/.bin)
# and node_modules/.bin/bun links to it.
BUN_CACHE := node_modules/.cache/switchyard/bun-$(BUN_VERSION)

$(BUN_CACHE):
	@command -v npm >/dev/null || { echo "make: neither bun $(BUN_VERSION) nor npm is on PATH; install one of them" >&2; exit 1; }
	@echo "Installing bun $(BUN_VERSION) from the npm registry into $(LOCAL_BUN)"
	@tmp=$$(mktemp -d) && \
	  npm install --prefix "$$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION) && \
	  mkdir -p $(dir $@) && cp -L "$$tmp/node_modules/.bin/bun" $@.tmp && mv $@.tmp $@ && rm -rf "$$tmp"
	@[ "$$($@ --version)" = "$(BUN_VERSION)" ] || { echo "make: $@ is not bun $(BUN_VERSION)" >&2; rm -f $@; exit 1; }

$(LOCAL_BUN): | $(BUN_CACHE)
	@mkdir -p $(dir $@) && ln -sf ../.cache/switchyard/bun-$(BUN_VERSION) $@

$(DEPS_STAMP): package.json bun.lock $(wildcard apps/*/package.json packages/*/package.json) | $(if $(filter $(LOCAL_BUN),$(BUN)),$(LOCAL_BUN))
	$(BUN) install --frozen-lockfile
	@$(if $(filter $(LOCAL_BUN),$(BUN)),ln -sf ../.cache/switchyard/bun-$(BUN_VERSION) $(LOCAL_BUN))
	@touch $@

deps: $(DEPS_STAMP)

typecheck: $(DEPS_STAMP)
	$(BUN) x tsc -p tsconfig.json

unit: $(DEPS_STAMP)
	$(BUN) test --timeout=60000 packages apps scripts

e2e: all
	$(BUN) test --timeout=120000 ./e2e

# Unit tests, the type check and the end-to-end tests against freshly built binaries.
test: all
	$(BUN) scripts/test.ts

bench: all
	$(BUN) scripts/bench.ts

# The experiments of seeds/002 Task 4 on real fleets: charts to docs/figures, tables into report.md.
analysis: all
	$(BUN) scripts/analysis.ts

clean:
	rm -f $(BINARIES) *.bun-build
	rm -rf .build

distclean: clean
	rm -rf node_modules
