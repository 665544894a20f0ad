#!/usr/bin/env python3
"""The hierarchical conv VAE in PyTorch: the reference for the toolkit's kind "hierarchical"
(Sources/VAEModels/HierarchicalConvolutional), a small NVAE (Vahdat & Kautz 2020).

Architecture, for square images of size S and latent resolutions r1 < r2 < ... (top first):
  bottom-up  x -> 2x - 1 -> Conv2d 3x3 to C channels; from S down to r1: residual cells per
             scale (`cells` at and between the latent resolutions, `outer_cells` at the finer
             scales), at a latent resolution with G groups G features (one more cell between
             them), and Conv2d 3x3 stride 2 to halve;
  cell       y = x + 0.1 SE(conv(SiLU(BN(conv(SiLU(BN(x))))))), the 3x3 convolutions
             weight-normalised (w = g v / |v| per output channel), SE = x * sigmoid(W2 relu(W1 mean_hw x))
             with a bottleneck of max(C / 16, 4);
  top-down   h = a learned constant [C, r1, r1]; per group, top first: prior N(0, I) for the top,
             else (mu_p, log sigma_p) = conv3x3(SiLU(h)); posterior (mu, log sigma) = conv3x3(SiLU(f))
             for the top, else the prior's raw values + conv3x3(SiLU(f + conv1x1(h))); each Gaussian
             softly clamps mu and log sigma by 5 tanh(. / 5); h = conv1x1([h, z]); `cells` cells;
             between scales: nearest x2 upsampling, conv 3x3, the scale's cells;
  output     conv kxk(SiLU(h)) (k = `output_kernel`) -> the discretised logistic mixture's parameters (planar layout, see
             discretized_logistic.py).
The loss is -log p(x | z) + sum of the groups' closed-form KLs, summed over the batch. Module and
buffer names are the toolkit's checkpoint keys, so a `vae train` model file loads with
load_state_dict(strict=True).

  VAE_WRITE_HIERARCHICAL_STEPS=/tmp/steps swift test -c release --filter HierarchicalConvolutionalTrainingTests
  python3 reference/hierarchical_vae.py steps /tmp/steps          (20 Adam steps in float64: the per-image losses)
  python3 reference/hierarchical_vae.py bench --threads 1 --steps 20 [--channels-last] [--precision bf16]
  vae bench pytorch --presets hierarchical-colour   (ours against this, alternating)
"""
import argparse, contextlib, os, sys

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from discretized_logistic import discretized_mix_logistic_log_probs, discretized_mix_logistic_log_probs_1d, port_layout
from step_timing import report_step_seconds


class WeightNormalizedConv2d(nn.Module):
    def __init__(self, channels, kernel=3):
        super().__init__()
        plain = nn.Conv2d(channels, channels, kernel, padding=kernel // 2)
        self.direction = nn.Parameter(plain.weight.detach().clone())
        self.magnitude = nn.Parameter(plain.weight.detach().flatten(1).norm(dim=1))
        self.bias = nn.Parameter(plain.bias.detach().clone())

    def forward(self, x):
        norms = self.direction.flatten(1).norm(dim=1)
        weight = self.direction * (self.magnitude / norms).view(-1, 1, 1, 1)
        return F.conv2d(x, weight, self.bias, padding=self.direction.shape[-1] // 2)


class BatchNorm(nn.Module):
    """BatchNorm2d with the toolkit's buffer names."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("runningMean", torch.zeros(channels))
        self.register_buffer("runningVariance", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, self.runningMean, self.runningVariance, self.weight, self.bias, training=self.training, momentum=0.1, eps=1e-5)


class SqueezeExcitation(nn.Module):
    def __init__(self, channels):
        super().__init__()
        hidden = max(channels // 16, 4)
        self.reduce = nn.Linear(channels, hidden)
        self.expand = nn.Linear(hidden, channels)

    def forward(self, x):
        gates = torch.sigmoid(self.expand(F.relu(self.reduce(x.mean(dim=(2, 3))))))
        return x * gates[:, :, None, None]


class ResidualCell(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.normalizations = nn.ModuleList([BatchNorm(channels), BatchNorm(channels)])
        self.convolutions = nn.ModuleList([WeightNormalizedConv2d(channels), WeightNormalizedConv2d(channels)])
        self.excitation = SqueezeExcitation(channels)

    def forward(self, x):
        h = x
        for normalization, convolution in zip(self.normalizations, self.convolutions):
            h = convolution(F.silu(normalization(h)))
        return x + 0.1 * self.excitation(h)


def soft_clamp(x):
    return 5 * torch.tanh(x / 5)


def gaussian(mean, log_sigma):
    """(mu, log sigma^2) of N(mu, sigma^2) from raw values, each softly clamped."""
    return soft_clamp(mean), 2 * soft_clamp(log_sigma)


def halves(parameters):
    rows = parameters.flatten(1)
    half = rows.shape[1] // 2
    return rows[:, :half], rows[:, half:]


class HierarchicalVAE(nn.Module):
    def __init__(self, image_channels=3, size=32, channels=32, resolutions=(4, 8, 16), groups=(1, 1, 1), latent_channels=8, cells=1,
                 outer_cells=0, output_kernel=1, components=10):
        """The defaults are the hierarchical-colour preset's architecture."""
        super().__init__()
        self.outer_cells = outer_cells
        self.size, self.channels, self.latent_channels, self.cells, self.components = size, channels, latent_channels, cells, components
        self.image_channels = image_channels
        self.resolutions, self.groups = list(resolutions), list(groups)
        self.scales = []
        scale = resolutions[0]
        while scale <= size:
            self.scales.append(scale)
            scale *= 2
        count = sum(groups)
        c, l = channels, latent_channels
        self.stem = nn.Conv2d(image_channels, c, 3, padding=1)
        scale_cells = sum(self.cells_at(scale) for scale in self.scales)
        self.encoderCells = nn.ModuleList([ResidualCell(c) for _ in range(scale_cells + count - len(groups))])
        self.downsamples = nn.ModuleList([nn.Conv2d(c, c, 3, stride=2, padding=1) for _ in range(len(self.scales) - 1)])
        self.constant = nn.Parameter(torch.rand(1, c * resolutions[0] ** 2))
        self.topPosterior = nn.Conv2d(c, 2 * l, 3, padding=1)
        self.priors = nn.ModuleList([nn.Conv2d(c, 2 * l, 3, padding=1) for _ in range(count - 1)])
        self.posteriors = nn.ModuleList([nn.Conv2d(c, 2 * l, 3, padding=1) for _ in range(count - 1)])
        self.encoderCombiners = nn.ModuleList([nn.Conv2d(c, c, 1) for _ in range(count - 1)])
        self.decoderCombiners = nn.ModuleList([nn.Conv2d(c + l, c, 1) for _ in range(count)])
        self.decoderCells = nn.ModuleList([ResidualCell(c) for _ in range(cells * count + scale_cells - self.cells_at(self.scales[0]))])
        self.upsamples = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(len(self.scales) - 1)])
        parameters = components * (1 + 2 * image_channels + image_channels * (image_channels - 1) // 2)
        self.output = nn.Conv2d(c, parameters, output_kernel, padding=output_kernel // 2)

    def cells_at(self, scale):
        return self.outer_cells if scale > self.resolutions[-1] else self.cells

    def encoder_features(self, x):
        h = self.stem(x * 2 - 1)
        counts = dict(zip(self.resolutions, self.groups))
        features, cell = {}, 0
        for index, scale in enumerate(reversed(self.scales)):
            for _ in range(self.cells_at(scale)):
                h = self.encoderCells[cell](h)
                cell += 1
            if scale in counts:
                collected = [h]
                for _ in range(1, counts[scale]):
                    h = self.encoderCells[cell](h)
                    cell += 1
                    collected.append(h)
                features[scale] = list(reversed(collected))
            if index < len(self.scales) - 1:
                h = self.downsamples[index](h)
        return features

    def forward(self, x, noises):
        """x [N, C, S, S] in [0, 1]; noises: one [N, L r^2] per group, top first. Returns the
        mixture's parameters and, per group, (mu_q, logvar_q, mu_p, logvar_p) (mu_p None: N(0, I))."""
        features = self.encoder_features(x)
        counts = dict(zip(self.resolutions, self.groups))
        n = x.shape[0]
        h = self.constant.expand(n, -1).reshape(n, self.channels, self.resolutions[0], self.resolutions[0])
        group, cell, groups = 0, 0, []
        for index, scale in enumerate(self.scales):
            for position in range(counts.get(scale, 0)):
                feature = features[scale][position]
                if group == 0:
                    q_mean, q_log_variance = gaussian(*halves(self.topPosterior(F.silu(feature))))
                    p_mean = p_log_variance = None
                else:
                    raw_mean, raw_log_sigma = halves(self.priors[group - 1](F.silu(h)))
                    p_mean, p_log_variance = gaussian(raw_mean, raw_log_sigma)
                    shift_mean, shift_log_sigma = halves(self.posteriors[group - 1](F.silu(feature + self.encoderCombiners[group - 1](h))))
                    q_mean, q_log_variance = gaussian(raw_mean + shift_mean, raw_log_sigma + shift_log_sigma)
                z = q_mean + torch.exp(0.5 * q_log_variance) * noises[group]
                groups.append((q_mean, q_log_variance, p_mean, p_log_variance))
                h = self.decoderCombiners[group](torch.cat([h, z.view(n, self.latent_channels, scale, scale)], dim=1))
                for _ in range(self.cells):
                    h = self.decoderCells[cell](h)
                    cell += 1
                group += 1
            if index < len(self.scales) - 1:
                h = self.upsamples[index](F.interpolate(h, scale_factor=2, mode="nearest"))
                for _ in range(self.cells_at(self.scales[index + 1])):
                    h = self.decoderCells[cell](h)
                    cell += 1
        return self.output(F.silu(h)), groups

    def group_sizes(self):
        return [self.latent_channels * r * r for r, g in zip(self.resolutions, self.groups) for _ in range(g)]


def kl_divergence(q_mean, q_log_variance, p_mean, p_log_variance):
    if p_mean is None:
        return 0.5 * torch.sum(q_mean ** 2 + torch.exp(q_log_variance) - q_log_variance - 1)
    return 0.5 * torch.sum(p_log_variance - q_log_variance + (torch.exp(q_log_variance) + (q_mean - p_mean) ** 2) / torch.exp(p_log_variance) - 1)


def loss(model, x, noises):
    parameters, groups = model(x, noises)
    layout = port_layout(parameters, model.image_channels, model.components)
    targets = x * 2 - 1
    per_pixel = discretized_mix_logistic_log_probs(targets, layout) if model.image_channels == 3 else discretized_mix_logistic_log_probs_1d(targets, layout)
    return -per_pixel.sum() + sum(kl_divergence(*group) for group in groups)


def steps(folder):
    """20 Adam steps (1e-3) from the toolkit's weights on its batches and noise, in float64."""
    from safetensors.torch import load_file
    torch.set_default_dtype(torch.float64)
    model = HierarchicalVAE(channels=16, components=5)
    state = {key: value.double() for key, value in load_file(os.path.join(folder, "model.safetensors")).items()}
    model.load_state_dict(state, strict=True)
    model.train()
    images = torch.from_numpy(np.fromfile(os.path.join(folder, "images.bin"), dtype="<f4").astype(np.float64)).reshape(20, 8, 3, 32, 32)
    noise = np.fromfile(os.path.join(folder, "noise.bin"), dtype="<f4").astype(np.float64)
    sizes = model.group_sizes()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    offset, losses = 0, []
    for step in range(20):
        noises = []
        for size in sizes:
            noises.append(torch.from_numpy(noise[offset:offset + 8 * size]).reshape(8, size))
            offset += 8 * size
        value = loss(model, images[step], noises)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        losses.append(value.item() / 8)
    print("[" + ", ".join(f"{v:.9g}" for v in losses) + "]")


def bench(args):
    """Seconds per training step of the hierarchical-colour model (batch 32 of 8-bit colour images,
    N(0, I) noise per group), through report_step_seconds: the line `vae bench pytorch` reads."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = HierarchicalVAE()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randint(0, 256, (args.batch, 3, 32, 32)).float() / 255
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    sizes = model.group_sizes()
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.precision == "bf16" else contextlib.nullcontext

    def step():
        with autocast():
            value = loss(model, x, [torch.randn(args.batch, size) for size in sizes])
        optimizer.zero_grad()
        value.backward()
        optimizer.step()

    report_step_seconds(step, args.warmup, args.repeats, args.steps, batch=args.batch, model="hierarchical-colour", precision=args.precision,
                        channels_last=args.channels_last)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    steps_parser = commands.add_parser("steps")
    steps_parser.add_argument("folder")
    bench_parser = commands.add_parser("bench")
    bench_parser.add_argument("--threads", type=int, default=1)
    bench_parser.add_argument("--steps", type=int, default=20)
    bench_parser.add_argument("--repeats", type=int, default=3)
    bench_parser.add_argument("--warmup", type=int, default=5)
    bench_parser.add_argument("--batch", type=int, default=32)
    bench_parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: the forward pass and loss under CPU autocast")
    bench_parser.add_argument("--channels-last", action="store_true", help="the model and batch in channels-last memory format")
    arguments = parser.parse_args()
    if arguments.command == "steps":
        steps(arguments.folder)
    else:
        bench(arguments)
