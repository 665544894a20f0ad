# The two commands of the README, and benchmarks. Each installs what it needs first.
SWIFT ?= swift

.PHONY: train test bench demo dependencies

dependencies:
	@bash scripts/install-dependencies.sh

# The main job: trains the default model (PyTorch's example VAE, 784-400-20, 10 epochs) on the
# MNIST shipped in data/mnist and writes its run folder runs/pytorch-example-<date>-<time>/.
train: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae train --preset pytorch-example

# Numeric tests run in release mode: SIMD code is ~700x slower in debug builds.
test: dependencies
	$(SWIFT) test -c release --disable-xctest

bench: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae bench kernels
	.build/release/vae bench train

demo: dependencies
	$(SWIFT) build -c release --product vae
	.build/release/vae demo
