#!/usr/bin/env python3
"""The convolutional presets' VAEs in PyTorch: the other side of the conv speed comparisons.

PyTorch layouts and default initialisation; ReLU after every layer but the heads and the last.
dsprites-conv (the beta-VAE and disentanglement studies; disentanglement_lib's conv_encoder and
deconv_decoder), 64x64 grey, batch 64, Adam 1e-4:
  encoder  Conv2d(1, 32, 4, 2, 1), Conv2d(32, 32, 4, 2, 1), Conv2d(32, 64, 4, 2, 1),
           Conv2d(64, 64, 4, 2, 1), Flatten (64x4x4 = 1024), Linear(1024, 256), heads Linear(256, 10) x 2
  decoder  Linear(10, 256), Linear(256, 1024), view [64, 4, 4], ConvTranspose2d(64, 64, 4, 2, 1),
           ConvTranspose2d(64, 32, 4, 2, 1), ConvTranspose2d(32, 32, 4, 2, 1), ConvTranspose2d(32, 1, 4, 2, 1)
conv-mnist, 28x28 (the toolkit's preset trains at batch 32 with Adam 5e-4; --batch sets it here):
  encoder  Conv2d(1, 32, 4, 2, 1), Conv2d(32, 64, 4, 2, 1), Flatten (64x7x7), Linear(3136, 512), heads Linear(512, 32) x 2
  decoder  Linear(32, 512), Linear(512, 3136), view [64, 7, 7], ConvTranspose2d(64, 64, 4, 2, 1),
           ConvTranspose2d(64, 32, 4, 2, 1), ConvTranspose2d(32, 1, 3, 1, 1)
Loss: BCE on logits summed over pixels + KL, summed over the batch.

  python3 reference/conv_vae.py [bench] --preset dsprites-conv --threads 1 --steps 20 [--batch N] [--precision bf16] [--channels-last]
prints one JSON line: the median seconds per step. Compare with
  vae bench conv --presets dsprites-conv --no-layers --threads 1 --steps 20, or vae bench pytorch --presets dsprites-conv
"""
import argparse, contextlib, os, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from step_timing import report_step_seconds


PRESETS = {
    # size, batch, learning rate, encoder channels, dense, latent, grid side, decoder (in, out, kernel, stride, padding)
    "dsprites-conv": dict(size=64, batch=64, rate=1e-4, encoder=[1, 32, 32, 64, 64], dense=256, latent=10, grid=4,
                          decoder=[(64, 64, 4, 2, 1), (64, 32, 4, 2, 1), (32, 32, 4, 2, 1), (32, 1, 4, 2, 1)]),
    "conv-mnist": dict(size=28, batch=32, rate=5e-4, encoder=[1, 32, 64], dense=512, latent=32, grid=7,
                       decoder=[(64, 64, 4, 2, 1), (64, 32, 4, 2, 1), (32, 1, 3, 1, 1)]),
}


class ConvolutionalVAE(nn.Module):
    def __init__(self, preset):
        super().__init__()
        p = PRESETS[preset]
        channels, grid = p["encoder"], p["grid"]
        flattened = channels[-1] * grid * grid
        self.grid = (channels[-1], grid, grid)
        self.convolutions = nn.ModuleList([nn.Conv2d(a, b, 4, 2, 1) for a, b in zip(channels, channels[1:])])
        self.fc1 = nn.Linear(flattened, p["dense"])
        self.mean = nn.Linear(p["dense"], p["latent"])
        self.log_variance = nn.Linear(p["dense"], p["latent"])
        self.fc3 = nn.Linear(p["latent"], p["dense"])
        self.fc4 = nn.Linear(p["dense"], flattened)
        self.deconvolutions = nn.ModuleList([nn.ConvTranspose2d(*layer) for layer in p["decoder"]])

    def forward(self, x):
        h = x
        for convolution in self.convolutions:
            h = F.relu(convolution(h))
        h = F.relu(self.fc1(h.flatten(1)))
        mean, log_variance = self.mean(h), self.log_variance(h)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        h = F.relu(self.fc4(F.relu(self.fc3(z)))).view(-1, *self.grid)
        for index, deconvolution in enumerate(self.deconvolutions):
            h = deconvolution(h)
            if index < len(self.deconvolutions) - 1:
                h = F.relu(h)
        return h, mean, log_variance


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["bench"], default="bench", help="bench (the only mode): time training steps")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="dsprites-conv")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, help="images a step (default: the preset's)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: the forward pass and loss under CPU autocast")
    parser.add_argument("--channels-last", action="store_true", help="the model and batch in channels-last memory format")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    preset = dict(PRESETS[args.preset])
    if args.batch is not None:
        preset["batch"] = args.batch
    model = ConvolutionalVAE(args.preset)
    x = (torch.rand(preset["batch"], 1, preset["size"], preset["size"]) > 0.5).float()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=preset["rate"])
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext

    def step():
        with autocast():
            logits, mean, log_variance = model(x)
            reconstruction = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="sum")
            kl = -0.5 * torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp())
        optimizer.zero_grad()
        (reconstruction + kl).backward()
        optimizer.step()

    report_step_seconds(step, args.warmup, args.repeats, args.steps, batch=preset["batch"], model=args.preset, precision=args.precision,
                        channels_last=args.channels_last)


if __name__ == "__main__":
    main()
