# The two commands of the README, and a benchmark. Each installs what it needs first.
SWIFT ?= swift

.PHONY: demo test bench dependencies

dependencies:
	@bash scripts/install-dependencies.sh

# The main job.
demo: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae demo

# Numeric tests run in release mode: SIMD code is ~700x slower in debug builds.
test: dependencies
	$(SWIFT) test -c release --disable-xctest

bench: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae bench
