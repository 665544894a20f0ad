# The IWAE bound of models/vamp computed independently of the toolkit, in PyTorch (float64),
# from the shipped weights: the gated 784-300-300-40 encoder, log-variances clamped to [-6, 2],
# the VampPrior log (1/K) sum_k N(z; mu(u_k), sigma^2(u_k)) over the 500 pseudo-inputs u_k
# clamped to [0, 1], and the Bernoulli decoder; on the first N test images binarised by a draw
# of this script's own (seed S), so the figure matches `vae eval` up to the binarisation draw.
#
#   python3 reference/vamp_bound_check.py N K [S]     e.g. 300 1000
import gzip, math, os, sys, numpy as np, torch
from safetensors.numpy import load_file
torch.set_num_threads(1)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
N, K = int(sys.argv[1]), int(sys.argv[2])
t = {k: torch.tensor(v, dtype=torch.float64) for k, v in load_file(os.path.join(root, 'models/vamp/model.safetensors')).items()}
def gated(prefix, x):
    h = x @ t[prefix + '.weight'].T + t[prefix + '.bias']
    w = h.shape[1] // 2
    return h[:, :w] * torch.sigmoid(h[:, w:])
def encode(x):
    h = gated('encoder.hidden.1', gated('encoder.hidden.0', x))
    mean = h @ t['encoder.mean.weight'].T + t['encoder.mean.bias']
    logvar = (h @ t['encoder.spread.weight'].T + t['encoder.spread.bias']).clamp(-6, 2)
    return mean, logvar
def logits(z):
    h = gated('decoder.hidden.1', gated('decoder.hidden.0', z))
    return h @ t['decoder.output.weight'].T + t['decoder.output.bias']
def log_normal(z, mean, logvar):  # summed over the last axis
    return (-0.5 * (math.log(2 * math.pi) + logvar + (z - mean) ** 2 / logvar.exp())).sum(-1)
with gzip.open(os.path.join(root, 'data/mnist/t10k-images-idx3-ubyte.gz')) as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:N] / 255.0
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
x = torch.tensor((rng.random(images.shape) < images).astype(np.float64))
pm, pl = encode(t['learnedPrior.pseudoInputs'].clamp(0, 1))          # [500, 40]
def log_prior(z):  # z [..., 40]: log (1/K) sum_k N(z; pm_k, pl_k)
    return torch.logsumexp(log_normal(z.unsqueeze(-2), pm, pl), -1) - math.log(pm.shape[0])
g = torch.Generator().manual_seed(3)
bounds, elbos = [], []
with torch.no_grad():
    for i in range(N):
        xi = x[i:i + 1]
        mean, logvar = encode(xi)
        eps = torch.randn(K, 40, generator=g, dtype=torch.float64)
        z = mean + (0.5 * logvar).exp() * eps
        l = logits(z)
        log_px = -(torch.nn.functional.binary_cross_entropy_with_logits(l, xi.expand(K, -1), reduction='none')).sum(-1)
        w = log_px + log_prior(z) - log_normal(z, mean, logvar)
        bounds.append((torch.logsumexp(w, 0) - math.log(K)).item())
        elbos.append(w.mean().item())
print(f'{N} images, k = {K}: IWAE bound {np.mean(bounds):.4f} (standard error {np.std(bounds) / math.sqrt(N):.3f}), ELBO {np.mean(elbos):.4f}')
