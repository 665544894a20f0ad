#!/bin/bash
# The seed spread of the faithful Keras reproductions against PyTorch's, in one run:
#   bash scripts/keras-seed-spread.sh [OUT]        (default runs/keras-seeds)
# for seeds 1 to 5 (SEEDS="1 2" to change them) and each of keras-conv (latent 2) and
# keras-conv-16, trains ours (`vae train --preset P --seed S`, 10 epochs, one thread) and
# PyTorch's (`reference/keras_conv_vae.py train --latent L --seed S`, one thread), alternating,
# with nice; a finished run is not trained again, so the study resumes where it stopped. Then
# prints each side's epoch-10 test losses (sampled z), their mean, spread and KL.
# Needs PyTorch (pip install torch safetensors). VAE=path runs a copied binary.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/keras-seeds}"
vae="${VAE:-.build/release/vae}"
[[ -x "$vae" ]] || swift build -c release --product vae
mkdir -p "$out"
for seed in ${SEEDS:-1 2 3 4 5}; do
    for latent in 2 16; do
        preset=keras-conv; [[ $latent == 16 ]] && preset=keras-conv-16
        ours="$out/ours-$preset-seed-$seed"
        if [[ ! -f "$ours/metrics.csv" ]] || [[ $(($(wc -l < "$ours/metrics.csv") - 1)) -lt 10 ]]; then
            rm -rf "$ours"
            nice -n 10 "$vae" train --preset "$preset" --seed "$seed" --epochs 10 --blas-threads 1 --out "$ours" > "$ours.log" 2>&1
        fi
        torch="$out/pytorch-$preset-seed-$seed.log"
        if ! grep -q "^epoch  10 " "$torch" 2>/dev/null; then
            nice -n 10 python3 reference/keras_conv_vae.py train --latent "$latent" --epochs 10 --threads 1 --seed "$seed" > "$torch.partial" 2>&1
            mv "$torch.partial" "$torch"
        fi
    done
done
python3 - "$out" ${SEEDS:-1 2 3 4 5} <<'PYTHON'
import csv, re, sys
out, seeds = sys.argv[1], sys.argv[2:]
print("| preset | side | epoch-10 test loss (sampled z) by seed | mean | spread | test KL |")
print("|---|---|---|---|---|---|")
for preset in ["keras-conv", "keras-conv-16"]:
    for side in ["ours", "pytorch"]:
        losses, kls = [], []
        for seed in seeds:
            if side == "ours":
                last = list(csv.DictReader(open(f"{out}/ours-{preset}-seed-{seed}/metrics.csv")))[-1]
                losses.append(float(last["test_loss"])); kls.append(float(last["test_kl"]))
            else:
                line = [l for l in open(f"{out}/pytorch-{preset}-seed-{seed}.log") if l.startswith("epoch  10 ")][0]
                losses.append(float(re.search(r"test ([0-9.]+)", line).group(1))); kls.append(float(re.search(r"kl ([0-9.]+)", line).group(1)))
        print(f"| {preset} | {side} | {', '.join(f'{x:.2f}' for x in losses)} | {sum(losses) / len(losses):.2f} | "
              f"{max(losses) - min(losses):.2f} | {min(kls):.1f} to {max(kls):.1f} |")
PYTHON
