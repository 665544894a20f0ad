#!/bin/bash
# vq-colour against conv-colour (the Gaussian conv VAE) on a colour folder at 32x32, the same
# wall-clock budget each, then measured and drawn:
#   bash scripts/vq-colour.sh FOLDER NAME [OUT]      e.g. data/emoji emoji   (OUT: runs/vq-colour)
# The two run side by side, one thread each, for MINUTES (default 30) of wall clock: conv-colour
# (with the batch of 16 and Adam 1e-3 its preset had when the figures were measured, the bias drawn, no weight average, PyTorch's start)
# trains for all of it; vq-colour trains for MINUTES − PRIOR_MINUTES (default a third of the
# budget for the prior) and then its class-conditional PixelCNN prior (`vae train-prior
# --conditional`, the folder's subfolders as classes) for PRIOR_MINUTES. Each is stopped by SIGINT,
# which finishes the epoch in progress and writes its files. Then: a classifier on the folder's
# own labels, `vae score` of each with it (2,000 samples against the test images), `vae eval`,
# reconstructions and samples. A run whose model.safetensors exists is not trained again.
# VAE=path runs a copied binary.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="$1"; name="$2"; out="${3:-runs/vq-colour}"
vae="${VAE:-.build/release/vae}"
minutes="${MINUTES:-30}"
prior_minutes="${PRIOR_MINUTES:-$((minutes / 3))}"
((prior_minutes >= 1 && prior_minutes < minutes)) || { echo "PRIOR_MINUTES must be 1...MINUTES-1" >&2; exit 2; }
[[ -x "$vae" ]] || swift build -c release --product vae
mkdir -p "$out"
data=(--images "$folder" --image-size 32)
vq="$out/$name-vq" conv="$out/$name-conv"
train() {  # run folder, seconds, then train arguments
    local run="$1" seconds="$2"; shift 2
    [[ -f "$run/model.safetensors" ]] && return 0
    timeout -s INT "$seconds" "$vae" train "$@" "${data[@]}" --epochs 100000 --blas-threads 1 --out "$run" > "$run.log" 2>&1 || true
}
(
    train "$vq" $(((minutes - prior_minutes) * 60)) --preset vq-colour
    [[ -f "$vq/prior.safetensors" ]] || timeout -s INT $((prior_minutes * 60)) "$vae" train-prior "$vq" --conditional --epochs 100000 \
        --blas-threads 1 > "$vq-prior.log" 2>&1 || true
) &
train "$conv" $((minutes * 60)) --preset conv-colour --batch-size 16 --learning-rate 0.001 --output-bias drawn --weight-average none --initializer pytorch &
wait
classifier="$out/$name-classifier.safetensors"
[[ -f "$classifier" ]] || "$vae" classify "${data[@]}" --epochs 20 --seed 1 --out "$classifier" | tee "$out/$name-classifier.log"
for run in "$vq" "$conv"; do
    mkdir -p "$run/pictures"
    "$vae" eval "$run" | tail -n 8
    "$vae" score "$run" --features "$classifier" --count 2000 --out "$run/score.json"
    "$vae" reconstruct "$run" --count 16 --out "$run/pictures/reconstructions.png"
done
"$vae" sample "$vq" --columns 8 --out "$vq/pictures/samples.png"
"$vae" sample "$conv" --count 64 --columns 8 --out "$conv/pictures/samples.png"
for run in "$vq" "$conv"; do
    echo "$run: $(grep -m1 -o '[0-9]* parameters' "$run.log"), $(($(wc -l < "$run/metrics.csv") - 1)) epochs"
done
echo "$vq prior: $(($(wc -l < "$vq/prior-metrics.csv") - 1)) epochs, last: $(tail -n 1 "$vq/prior-metrics.csv")"
