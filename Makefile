# The two commands of the README, and benchmarks. Each installs what it needs first.
SWIFT ?= swift

.PHONY: train test fuzz bench demo dependencies test-dependencies examples docs

dependencies:
	@bash scripts/install-dependencies.sh

test-dependencies:
	@bash scripts/install-dependencies.sh --test

# The main job: trains the default model (PyTorch's example VAE, 784-400-20, 10 epochs) on the
# MNIST shipped in data/mnist and writes its run folder runs/pytorch-example-<date>-<time>/, linked
# as runs/latest (the README's latent-tool examples use that name).
# Then it draws the latent-space pictures into the same folder: samples from the prior, the test
# set's latent means (PCA), a traversal of the most informative dimensions, an interpolation.
train: dependencies
	$(SWIFT) build -c release --product vae
	@run=runs/pytorch-example-$$(date +%Y%m%d-%H%M%S); \
	.build/release/vae train --preset pytorch-example --out $$run && \
	.build/release/vae reconstruct $$run --mean && \
	.build/release/vae sample $$run && \
	.build/release/vae scatter $$run && \
	.build/release/vae traverse $$run --top 10 && \
	.build/release/vae interpolate $$run --path spherical && \
	ln -sfn $$(basename $$run) runs/latest && echo "runs/latest -> $$run"

# Numeric tests run in release mode: SIMD code is ~700x slower in debug builds. Then every
# fuzz target runs briefly under libFuzzer and AddressSanitizer (FUZZ_SECONDS each).
# Then the browser test of `vae explore` (scripts/browser-test.sh: a real headless Chromium).
FUZZ_SECONDS ?= 15
test: test-dependencies
	$(SWIFT) test -c release --disable-xctest
	bash scripts/browser-test.sh
	bash scripts/browser-test.sh models/vq-mnist
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
	$(MAKE) examples VAE_BUILT=1
	$(MAKE) docs

# API documentation: the DocC catalog (Sources/VAEToolkit/VAEToolkit.docc) and every public
# module's doc comments, combined, into .build/docs (a static site: serve it with
# `python3 -m http.server --directory .build/docs` and open /documentation/vaetoolkit). A broken
# symbol or article link is an error, and so (scripts/check-docs.py) are a public symbol that no
# module page curates, and a relative link or picture that names no file. The tutorial's code
# steps are cut from the example program it teaches (scripts/tutorial-steps.py).
DOC_TARGETS = VAEToolkit TensorCore NN Optimizers SafeTensors Persistence Datasets VAE VAEModels VAEEvaluation Visualization Runs LatentTools TensorBoard
docs: dependencies
	python3 scripts/tutorial-steps.py
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
		--enable-experimental-combined-documentation $(addprefix --target ,$(DOC_TARGETS)) \
		--output-path .build/docs --transform-for-static-hosting --warnings-as-errors
	python3 scripts/check-docs.py .build/docs "$(filter-out VAEToolkit,$(DOC_TARGETS))"
	@echo "documentation: .build/docs (python3 -m http.server --directory .build/docs, then /documentation/vaetoolkit)"

# The example packages depend on the toolkit by path, as a user's package would; each is built
# and run briefly so that the README's library lines cannot rot.
# (VAE_BUILT=1: `make test` has just built .build/release/vae with the tests; building the product
# again would compile everything a second time, with other flags.)
examples: dependencies
	$(if $(VAE_BUILT),,$(SWIFT) build -c release --product vae)
	rm -f Examples/Package.resolved
	$(SWIFT) build -c release --package-path Examples
	@# A package that depends on the library resolves none of the tool's packages (Hummingbird,
	@# NIO, ArgumentParser): the `vae` executable is not a product (see Package.swift).
	@pins=$$(grep -c '"identity"' Examples/Package.resolved 2>/dev/null || true); \
	if [ "$${pins:-0}" != 0 ]; then echo "Examples pins $$pins packages; a library user should pin none" >&2; exit 1; fi
	cd Examples && .build/release/TrainAndSample 2000
	rm -rf Examples/.build/example-run
	.build/release/vae train --preset pytorch-example --epochs 1 --hidden-sizes 64 --out Examples/.build/example-run > /dev/null
	cd Examples && .build/release/LoadAndInterpolate .build/example-run 0 1
	rm -rf Examples/.build/mnist-png
	.build/release/vae data --export mnist --to Examples/.build/mnist-png > /dev/null
	cd Examples && VAE_CACHE_DIR=.build/cache .build/release/TrainOnFolder .build/mnist-png 28 1 2000
	rm -rf Examples/.build/custom-run
	cd Examples && .build/release/CustomModelKind 1 .build/custom-run

# The fuzzing campaign: each target for FUZZ_SECONDS (600 s, ten minutes, by default here).
fuzz: dependencies
	bash scripts/fuzz.sh $(if $(filter command line,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),600)

bench: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae bench kernels
	.build/release/vae bench train

demo: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae demo
