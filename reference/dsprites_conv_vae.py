#!/usr/bin/env python3
"""The dsprites-conv VAE in PyTorch: the other side of the 64x64 speed comparison.

Architecture (the beta-VAE and disentanglement studies; disentanglement_lib's conv_encoder and
deconv_decoder), PyTorch layouts and default initialisation:
  encoder  Conv2d(1, 32, 4, 2, 1) ReLU, Conv2d(32, 32, 4, 2, 1) ReLU, Conv2d(32, 64, 4, 2, 1) ReLU,
           Conv2d(64, 64, 4, 2, 1) ReLU, Flatten (64x4x4 = 1024), Linear(1024, 256) ReLU,
           Linear(256, 10) twice (mean, log-variance)
  decoder  Linear(10, 256) ReLU, Linear(256, 1024) ReLU, view [64, 4, 4],
           ConvTranspose2d(64, 64, 4, 2, 1) ReLU, ConvTranspose2d(64, 32, 4, 2, 1) ReLU,
           ConvTranspose2d(32, 32, 4, 2, 1) ReLU, ConvTranspose2d(32, 1, 4, 2, 1) -> logits
Loss: BCE on logits summed over pixels + KL, summed over the batch of 64; Adam 1e-4.

  python3 reference/dsprites_conv_vae.py --threads 1 --steps 20 [--precision bf16] [--channels-last]
prints one JSON line: the median seconds per step. Compare with
  vae bench conv --presets dsprites-conv --no-layers --threads 1 --steps 20
"""
import argparse, contextlib, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_timing import report_step_seconds


class DisentanglementVAE(nn.Module):
    def __init__(self, latent=10):
        super().__init__()
        self.convolutions = nn.ModuleList([nn.Conv2d(a, b, 4, 2, 1) for a, b in [(1, 32), (32, 32), (32, 64), (64, 64)]])
        self.fc1 = nn.Linear(1024, 256)
        self.mean = nn.Linear(256, latent)
        self.log_variance = nn.Linear(256, latent)
        self.fc3 = nn.Linear(latent, 256)
        self.fc4 = nn.Linear(256, 1024)
        self.deconvolutions = nn.ModuleList([nn.ConvTranspose2d(a, b, 4, 2, 1) for a, b in [(64, 64), (64, 32), (32, 32), (32, 1)]])

    def forward(self, x):
        h = x
        for convolution in self.convolutions:
            h = F.relu(convolution(h))
        h = F.relu(self.fc1(h.flatten(1)))
        mean, log_variance = self.mean(h), self.log_variance(h)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        h = F.relu(self.fc4(F.relu(self.fc3(z)))).view(-1, 64, 4, 4)
        for index, deconvolution in enumerate(self.deconvolutions):
            h = deconvolution(h)
            if index < len(self.deconvolutions) - 1:
                h = F.relu(h)
        return h, mean, log_variance


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: the forward pass and loss under CPU autocast")
    parser.add_argument("--channels-last", action="store_true", help="the model and batch in channels-last memory format")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = DisentanglementVAE()
    x = (torch.rand(64, 1, 64, 64) > 0.5).float()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext

    def step():
        with autocast():
            logits, mean, log_variance = model(x)
            reconstruction = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp())
        optimizer.zero_grad()
        (reconstruction + kl).backward()
        optimizer.step()

    report_step_seconds(step, args.warmup, args.repeats, args.steps, batch=64, model="dsprites-conv", precision=args.precision,
                        channels_last=args.channels_last)


if __name__ == "__main__":
    main()
