#!/usr/bin/env python3
"""The keras-conv VAE in PyTorch: the reference for `vae train --preset keras-conv` and the
other side of `vae bench conv --pytorch`.

Architecture (keras-io examples/generative/vae.py, PyTorch layouts and default initialisation):
  encoder  Conv2d(1, 32, 3, stride 2, padding 1) ReLU, Conv2d(32, 64, 3, stride 2, padding 1) ReLU,
           Flatten (C, H, W order), Linear(3136, 16) ReLU, Linear(16, latent) twice (mean, log-variance)
  decoder  Linear(latent, 3136) ReLU, view [64, 7, 7],
           ConvTranspose2d(64, 64, 3, stride 2, padding 1, output_padding 1) ReLU,
           ConvTranspose2d(64, 32, 3, stride 2, padding 1, output_padding 1) ReLU,
           ConvTranspose2d(32, 1, 3, padding 1) -> logits
Loss: BCE on logits summed over pixels + KL, summed over the batch, reported per image.

  python3 reference/keras_conv_vae.py train --latent 2 --epochs 10 --threads 1
  python3 reference/keras_conv_vae.py train --latent 16 --conditional --seed 2   (the conditional reference)
  python3 reference/keras_conv_vae.py bench --threads 1 --steps 50
  python3 reference/keras_conv_vae.py initial --latent 16 --out torch-init-16.safetensors
  python3 reference/keras_conv_vae.py evaluate --model runs/keras-conv-.../model.safetensors
The bench prints one JSON line: seconds per step (median of repeats) and per epoch (469 steps).
"""
import argparse, contextlib, gzip, json, os, sys, time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from step_timing import report_step_seconds


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 1, rows, cols).astype(np.float32) / 255


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    return np.frombuffer(data, dtype=np.uint8, offset=8).astype(np.int64)


class Encoder(nn.Module):
    def __init__(self, latent, classes=0):
        super().__init__()
        self.convolutions = nn.ModuleList([nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.Conv2d(32, 64, 3, stride=2, padding=1)])
        self.dense = nn.ModuleList([nn.Linear(7 * 7 * 64 + classes, 16)])
        self.mean = nn.Linear(16, latent)
        self.spread = nn.Linear(16, latent)  # log-variance

    def forward(self, x, y=None):
        for layer in self.convolutions:
            x = F.relu(layer(x))
        x = x.flatten(1)
        if y is not None:  # a conditional model: the one-hot joins the flattened features
            x = torch.cat([x, y], 1)
        for layer in self.dense:
            x = F.relu(layer(x))
        return self.mean(x), self.spread(x)


class Decoder(nn.Module):
    def __init__(self, latent, classes=0):
        super().__init__()
        self.dense = nn.ModuleList([nn.Linear(latent + classes, 7 * 7 * 64)])
        self.convolutions = nn.ModuleList([nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1),
                                           nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)])
        self.output = nn.ConvTranspose2d(32, 1, 3, padding=1)

    def forward(self, z, y=None):
        if y is not None:  # ... and z
            z = torch.cat([z, y], 1)
        for layer in self.dense:
            z = F.relu(layer(z))
        h = z.view(-1, 64, 7, 7)
        for layer in self.convolutions:
            h = F.relu(layer(h))
        return self.output(h)


class ConvVAE(nn.Module):
    """Module names as the toolkit's checkpoint keys (encoder.convolutions.0.weight, ...), so
    `vae train --preset keras-conv` model files load with load_state_dict(strict=True)."""

    def __init__(self, latent, classes=0):
        super().__init__()
        self.encoder = Encoder(latent, classes)
        self.decoder = Decoder(latent, classes)

    def encode(self, x, y=None):
        return self.encoder(x, y)

    def decode(self, z, y=None):
        return self.decoder(z, y)


def loss_terms(model, x, sample=True, y=None):
    mu, logvar = model.encode(x, y)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
    logits = model.decode(z, y)
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return reconstruction, kl


def train(args):
    torch.manual_seed(args.seed)
    root = args.data
    train_images = torch.from_numpy(read_idx_images(os.path.join(root, "train-images-idx3-ubyte.gz")))
    test_images = torch.from_numpy(read_idx_images(os.path.join(root, "t10k-images-idx3-ubyte.gz")))
    classes = 10 if args.conditional else 0
    if classes:  # the conditional model of `vae train --preset keras-conv-16 --conditional`
        train_y = F.one_hot(torch.from_numpy(read_idx_labels(os.path.join(root, "train-labels-idx1-ubyte.gz"))), 10).float()
        test_y = F.one_hot(torch.from_numpy(read_idx_labels(os.path.join(root, "t10k-labels-idx1-ubyte.gz"))), 10).float()
    model = ConvVAE(args.latent, classes)
    if args.initial_weights:  # start from given weights; the seed then drives only the shuffle and the noise
        from safetensors.torch import load_file
        model.load_state_dict(load_file(args.initial_weights), strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(train_images))
        total, started = 0.0, time.perf_counter()
        for start in range(0, len(order), 128):
            x = train_images[order[start:start + 128]]
            reconstruction, kl = loss_terms(model, x, y=train_y[order[start:start + 128]] if classes else None)
            loss = reconstruction + kl
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds = time.perf_counter() - started
        model.eval()
        with torch.no_grad():
            sums = {"sampled": 0.0, "mean": 0.0, "kl": 0.0}
            for start in range(0, len(test_images), 1000):
                x = test_images[start:start + 1000]
                y = test_y[start:start + 1000] if classes else None
                r, k = loss_terms(model, x, y=y)
                sums["sampled"] += (r + k).item()
                sums["kl"] += k.item()
                r, k = loss_terms(model, x, sample=False, y=y)
                sums["mean"] += (r + k).item()
        n = len(test_images)
        print(f"epoch {epoch:3d}  train {total / len(train_images):.2f}  test {sums['sampled'] / n:.2f} "
              f"(z = mu {sums['mean'] / n:.2f})  kl {sums['kl'] / n:.2f}  {seconds:.1f} s", flush=True)


def initial(args):
    """Writes the weights PyTorch draws for ConvVAE(latent) after torch.manual_seed(seed), the
    start of `train` with the same seed, as a safetensors file for `vae train --initial-weights`."""
    from safetensors.torch import save_file
    torch.manual_seed(args.seed)
    model = ConvVAE(args.latent)
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()}, args.out)
    print(f"wrote {args.out}: PyTorch's seed-{args.seed} initialisation of the latent-{args.latent} model")


def evaluate(args):
    """Loads a toolkit model file (keras-conv or keras-conv-16) and prints the test loss with
    z = mu on the first --images test images, per image, as one JSON line."""
    from safetensors.torch import load_file
    state = load_file(args.model)
    latent = state["encoder.mean.weight"].shape[0]
    model = ConvVAE(latent)
    model.load_state_dict(state, strict=True)
    images = torch.from_numpy(read_idx_images(os.path.join(args.data, "t10k-images-idx3-ubyte.gz")))[:args.images]
    with torch.no_grad():
        reconstruction, kl = loss_terms(model, images, sample=False)
    print(json.dumps({"images": len(images), "latent": latent, "loss_z_mean": (reconstruction + kl).item() / len(images),
                      "reconstruction": reconstruction.item() / len(images), "kl": kl.item() / len(images)}))


def steps(args):
    """Trains a toolkit model file for --steps Adam steps on the first training images in order
    (batch 128) with the noise in --noise (raw float32, steps x 128 x latent) and prints the
    per-image losses: the oracle for the toolkit's step-for-step test."""
    from safetensors.torch import load_file
    state = load_file(args.model)
    latent = state["encoder.mean.weight"].shape[0]
    model = ConvVAE(latent)
    model.load_state_dict(state, strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.from_numpy(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz")))
    noise = torch.from_numpy(np.fromfile(args.noise, dtype=np.float32).reshape(args.steps, 128, latent))
    losses = []
    for step in range(args.steps):
        x = images[step * 128:(step + 1) * 128]
        mu, logvar = model.encode(x)
        logits = model.decode(mu + torch.exp(0.5 * logvar) * noise[step])
        loss = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(round(loss.item() / 128, 3))
    print(json.dumps(losses))


def bench(args):
    torch.manual_seed(1)
    model = ConvVAE(args.latent)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(128, 1, 28, 28)

    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext

    def step():
        with autocast():
            reconstruction, kl = loss_terms(model, x)
        optimizer.zero_grad()
        (reconstruction + kl).backward()
        optimizer.step()

    report_step_seconds(step, args.warmup, args.repeats, args.steps, latent=args.latent, precision=args.precision)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "bench", "evaluate", "initial", "steps"])
    parser.add_argument("--latent", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20, help="bench: steps per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="bench: repeats (the median is reported)")
    parser.add_argument("--warmup", type=int, default=5, help="bench: untimed steps first")
    parser.add_argument("--model", help="evaluate: a model.safetensors written by vae train")
    parser.add_argument("--initial-weights", help="train: start from this safetensors file (e.g. a toolkit model file)")
    parser.add_argument("--noise", help="steps: raw float32 noise, steps x 128 x latent")
    parser.add_argument("--out", help="initial: the safetensors file to write")
    parser.add_argument("--images", type=int, default=100, help="evaluate: how many test images")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bench: bf16 runs the forward pass and loss under CPU autocast")
    parser.add_argument("--conditional", action="store_true", help="train: the label's one-hot joins the flattened features and z (vae train --conditional)")
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"train": train, "bench": bench, "evaluate": evaluate, "initial": initial, "steps": steps}[args.mode](args)


if __name__ == "__main__":
    main()
