#!/usr/bin/env python3
"""PixelCNN++'s discretised logistic mixture likelihood in PyTorch: the reference for the
toolkit's `discretizedLogisticLogLikelihood` (Sources/NN/DiscretizedLogistic.swift).

The functions below are PixelCNN++'s loss as its PyTorch port writes it (Salimans et al. 2017;
github.com/pclucas14/pixel-cnn-pp, utils.py: discretized_mix_logistic_loss for RGB and
discretized_mix_logistic_loss_1d for grey), evaluated in the inputs' precision (float64 here), with the per-image sums kept
instead of the batch's. The toolkit's planar parameter layout (channels: K logits, K*C means,
K*C log-scales, K*C(C-1)/2 coefficients; see DiscretizedLogisticLayout) is rearranged into the
port's NHWC layout first. The per-channel (non-mixture) logistic is the same per-sub-pixel
formula without the mixture.

  VAE_WRITE_LOGISTIC_CASES=/tmp/cases swift test -c release --filter theDiscretisedLogisticMatchesPyTorch
  python3 reference/discretized_logistic.py /tmp/cases

prints, per case, the log-likelihood of each image (nats), as the Swift test keeps them.
"""
import json, os, sys

import numpy as np
import torch
import torch.nn.functional as F


def log_sum_exp(x):
    axis = len(x.size()) - 1
    m, _ = torch.max(x, dim=axis)
    m2, _ = torch.max(x, dim=axis, keepdim=True)
    return m + torch.log(torch.sum(torch.exp(x - m2), dim=axis))


def log_prob_from_logits(x):
    axis = len(x.size()) - 1
    m, _ = torch.max(x, dim=axis, keepdim=True)
    return x - m - torch.log(torch.sum(torch.exp(x - m), dim=axis, keepdim=True))


def sub_pixel_log_probs(x, means, log_scales):
    """PixelCNN++'s log-probability of each sub-pixel's bin, with its edge cases."""
    centered_x = x - means
    inv_stdv = torch.exp(-log_scales)
    plus_in = inv_stdv * (centered_x + 1. / 255.)
    cdf_plus = torch.sigmoid(plus_in)
    min_in = inv_stdv * (centered_x - 1. / 255.)
    cdf_min = torch.sigmoid(min_in)
    log_cdf_plus = plus_in - F.softplus(plus_in)
    log_one_minus_cdf_min = -F.softplus(min_in)
    cdf_delta = cdf_plus - cdf_min
    mid_in = inv_stdv * centered_x
    log_pdf_mid = mid_in - log_scales - 2. * F.softplus(mid_in)
    inner_inner_cond = (cdf_delta > 1e-5).to(x.dtype)
    inner_inner_out = inner_inner_cond * torch.log(torch.clamp(cdf_delta, min=1e-12)) + (1. - inner_inner_cond) * (log_pdf_mid - np.log(127.5))
    inner_cond = (x > 0.999).to(x.dtype)
    inner_out = inner_cond * log_one_minus_cdf_min + (1. - inner_cond) * inner_inner_out
    cond = (x < -0.999).to(x.dtype)
    return cond * log_cdf_plus + (1. - cond) * inner_out


def discretized_mix_logistic_log_probs(x, l):
    """RGB: x [B, 3, H, W] in [-1, 1], l [B, 10 K, H, W] in the port's layout -> log p per pixel [B, H, W]."""
    x = x.permute(0, 2, 3, 1)
    l = l.permute(0, 2, 3, 1)
    xs = [int(y) for y in x.size()]
    ls = [int(y) for y in l.size()]
    nr_mix = int(ls[-1] / 10)
    logit_probs = l[:, :, :, :nr_mix]
    l = l[:, :, :, nr_mix:].contiguous().view(xs + [nr_mix * 3])
    means = l[:, :, :, :, :nr_mix]
    log_scales = torch.clamp(l[:, :, :, :, nr_mix:2 * nr_mix], min=-7.)
    coeffs = torch.tanh(l[:, :, :, :, 2 * nr_mix:3 * nr_mix])
    x = x.contiguous()
    x = x.unsqueeze(-1) + torch.zeros(xs + [nr_mix], dtype=x.dtype)
    m2 = (means[:, :, :, 1, :] + coeffs[:, :, :, 0, :] * x[:, :, :, 0, :]).view(xs[0], xs[1], xs[2], 1, nr_mix)
    m3 = (means[:, :, :, 2, :] + coeffs[:, :, :, 1, :] * x[:, :, :, 0, :] + coeffs[:, :, :, 2, :] * x[:, :, :, 1, :]).view(xs[0], xs[1], xs[2], 1, nr_mix)
    means = torch.cat((means[:, :, :, 0, :].unsqueeze(3), m2, m3), dim=3)
    log_probs = torch.sum(sub_pixel_log_probs(x, means, log_scales), dim=3) + log_prob_from_logits(logit_probs)
    return log_sum_exp(log_probs)


def discretized_mix_logistic_log_probs_1d(x, l):
    """Grey: x [B, 1, H, W], l [B, 3 K, H, W] in the port's layout -> log p per pixel [B, H, W]."""
    x = x.permute(0, 2, 3, 1)
    l = l.permute(0, 2, 3, 1)
    xs = [int(y) for y in x.size()]
    ls = [int(y) for y in l.size()]
    nr_mix = int(ls[-1] / 3)
    logit_probs = l[:, :, :, :nr_mix]
    l = l[:, :, :, nr_mix:].contiguous().view(xs + [nr_mix * 2])
    means = l[:, :, :, :, :nr_mix]
    log_scales = torch.clamp(l[:, :, :, :, nr_mix:2 * nr_mix], min=-7.)
    x = x.contiguous()
    x = x.unsqueeze(-1) + torch.zeros(xs + [nr_mix], dtype=x.dtype)
    log_probs = torch.sum(sub_pixel_log_probs(x, means, log_scales), dim=3) + log_prob_from_logits(logit_probs)
    return log_sum_exp(log_probs)


def port_layout(p, channels, components):
    """The toolkit's planar channels [B, P, H, W] -> the port's: K logits, then per image channel
    c its K means, K log-scales (and for RGB K coefficients)."""
    k, c = components, channels
    logits = p[:, :k]
    means = p[:, k:k + k * c].reshape(p.shape[0], k, c, *p.shape[2:])
    scales = p[:, k + k * c:k + 2 * k * c].reshape(p.shape[0], k, c, *p.shape[2:])
    blocks = [logits]
    for channel in range(c):
        blocks += [means[:, :, channel], scales[:, :, channel]]
        if c == 3:
            # The port's coefficient block of channel 0 couples G to R, of 1 B to R, of 2 B to G:
            # the toolkit's coefficients (c, earlier) = (1, 0), (2, 0), (2, 1) in that order.
            coefficients = p[:, k + 2 * k * c:].reshape(p.shape[0], k, 3, *p.shape[2:])
            blocks.append(coefficients[:, :, channel])
    return torch.cat(blocks, dim=1)


def evaluate(folder):
    with open(os.path.join(folder, "shape.json")) as f:
        shape = json.load(f)
    b, c, h, w, k, mixture = (shape[key] for key in ("batch", "channels", "height", "width", "components", "mixture"))
    p = torch.from_numpy(np.fromfile(os.path.join(folder, "parameters.bin"), dtype="<f4").astype(np.float64)).reshape(b, -1, h, w)
    x = torch.from_numpy(np.fromfile(os.path.join(folder, "targets.bin"), dtype="<f4").astype(np.float64)).reshape(b, c, h, w) * 2 - 1
    if mixture:
        l = port_layout(p, c, k)
        per_pixel = discretized_mix_logistic_log_probs(x, l) if c == 3 else discretized_mix_logistic_log_probs_1d(x, l)
        return per_pixel.sum(dim=(1, 2))
    means, log_scales = p[:, :c], torch.clamp(p[:, c:2 * c], min=-7.)
    return sub_pixel_log_probs(x, means, log_scales).sum(dim=(1, 2, 3))


if __name__ == "__main__":
    root = sys.argv[1]
    for name in sorted(os.listdir(root)):
        values = evaluate(os.path.join(root, name))
        print(f'"{name}": [' + ", ".join(f"{v:.10g}" for v in values.tolist()) + "],")
