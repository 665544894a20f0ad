#!/usr/bin/env python3
"""PyTorch's examples/vae model in PyTorch: the other side of `vae bench pytorch` for the
`pytorch-example` preset (784-400-20, ReLU, batch 128, Adam 1e-3).

As pytorch/examples vae/main.py writes it: fc1 784->400 ReLU, fc21/fc22 400->20 (mean,
log-variance), fc3 20->400 ReLU, fc4 400->784 and a sigmoid; loss = binary cross-entropy summed
over pixels + KL, summed over the batch. `--precision bf16` runs the forward pass and the loss
under PyTorch's own CPU autocast to bfloat16 (its mixed precision: bf16 matmuls, fp32 master
weights and optimizer). `--tuned` is the same model as a PyTorch expert would run it: the
cross-entropy on logits (binary_cross_entropy_with_logits, no separate sigmoid), denormals
flushed (torch.set_flush_denormal), and the fused Adam.

  python3 reference/mlp_vae.py bench --threads 1 --steps 50 [--precision bf16] [--tuned]

The bench prints one JSON line: seconds per step (median of repeats) and per epoch (469 steps).
"""
import argparse, contextlib

import torch
from torch import nn
import torch.nn.functional as F

from step_timing import report_step_seconds


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return mu + torch.randn_like(std) * std

    def decode(self, z):
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x.float(), x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar.float() - mu.float().pow(2) - logvar.float().exp())
    return bce + kld


def bench(args):
    torch.manual_seed(1)
    model = VAE()
    if args.tuned:
        torch.set_flush_denormal(True)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(128, 784)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext

    def step():
        optimizer.zero_grad()
        with autocast():
            if args.tuned:
                mu, logvar = model.encode(x)
                logits = model.fc4(F.relu(model.fc3(model.reparameterize(mu, logvar))))
                bce = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="sum")
                loss = bce - 0.5 * torch.sum(1 + logvar.float() - mu.float().pow(2) - logvar.float().exp())
            else:
                recon, mu, logvar = model(x)
                loss = loss_function(recon, x, mu, logvar)
        loss.backward()
        optimizer.step()

    report_step_seconds(step, args.warmup, args.repeats, args.steps, precision=args.precision,
                        framework=f"pytorch {torch.__version__}{' tuned' if args.tuned else ''}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["bench"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50, help="steps per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="repeats (the median is reported)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--tuned", action="store_true", help="logits BCE, flushed denormals, fused Adam")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    bench(args)


if __name__ == "__main__":
    main()
