#!/bin/bash
# hierarchical-colour against conv-colour on a colour folder at 32x32, each trained for the same
# wall-clock budget, then measured and drawn:
#   bash scripts/colour-hour.sh FOLDER NAME [OUT]      e.g. data/emoji emoji, or data/icons/32 icons
# (OUT defaults to runs/colour-hour). Both models read the folder at 32x32 quantised to 8-bit
# levels and use the logistic mixture of 10 components, so their test bits per dimension compare;
# conv-colour runs with the settings its preset had when the figures were measured (batch 16, Adam
# 1e-3, free bits 0.25, the bias drawn, no weight average, PyTorch's start: given explicitly, so the figures reproduce), hierarchical-colour runs in
# bf16 (it tracks fp32 there: train loss 4891 against 4947 after 6 epochs on the emoji).
# The two trainings run side by side, one thread each (MINUTES=60 of wall clock each, stopped
# by SIGINT, which finishes with a checkpoint; the last whole epoch's model.safetensors is
# measured). Then, one after the other: `vae eval --samples 100`, a classifier on the folder's
# own labels, `vae score` with it (the hierarchical model with its lower groups at their prior
# means and drawn), reconstructions, samples and a morph between two test images. A run whose
# model.safetensors exists is not trained again. VAE=path runs a copied binary. MODELS=hierarchical
# or MODELS=conv trains and measures only that one, so that another one-thread job (the same model on
# another folder, say) can share the machine in its place; the budget stays one thread each.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="$1"; name="$2"; out="${3:-runs/colour-hour}"
vae="${VAE:-.build/release/vae}"
minutes="${MINUTES:-60}"
[[ -x "$vae" ]] || swift build -c release --product vae
mkdir -p "$out"
data=(--images "$folder" --image-size 32 --quantize)
hierarchical="$out/$name-hierarchical" conv="$out/$name-conv"
models="${MODELS:-hierarchical conv}"
case "$models" in "hierarchical conv"|hierarchical|conv) ;; *) echo "MODELS must be hierarchical or conv, not '$models'" >&2; exit 2;; esac
runs=(); for model in $models; do runs+=("$out/$name-$model"); done
train() {  # run folder, then train arguments
    local run="$1"; shift
    [[ -f "$run/model.safetensors" ]] && return 0
    timeout -s INT "$((minutes * 60))" "$vae" train "$@" "${data[@]}" --epochs 100000 --images-every 50 --blas-threads 1 --out "$run" > "$run.log" 2>&1 || true
}
[[ "$models" == *hierarchical* ]] && train "$hierarchical" --preset hierarchical-colour --precision bf16 &
[[ "$models" == *conv* ]] && train "$conv" --preset conv-colour --batch-size 16 --learning-rate 0.001 --output-bias drawn --weight-average none --initializer pytorch --likelihood logistic-mixture &
wait
classifier="$out/$name-classifier.safetensors"
[[ -f "$classifier" ]] || "$vae" classify "${data[@]}" --epochs 20 --seed 1 --out "$classifier" | tee "$out/$name-classifier.log"
for run in "${runs[@]}"; do
    "$vae" eval "$run" --samples 100 --json > "$run-eval.json"
    "$vae" eval "$run" --samples 100 | tail -n 4
    "$vae" score "$run" --features "$classifier" --count 2000 --out "$run/score-means.json"
    "$vae" reconstruct "$run" --count 16 --mean --out "$run/pictures/reconstructions.png"
    "$vae" sample "$run" --count 32 --columns 16 --out "$run/pictures/samples.png"
    "$vae" interpolate "$run" --from 0 --to 5 --steps 10 --out "$run/pictures/morph.png"
done
if [[ "$models" == *hierarchical* ]]; then
    "$vae" score "$hierarchical" --features "$classifier" --count 2000 --lower-groups drawn --out "$hierarchical/score-drawn.json"
    "$vae" sample "$hierarchical" --count 32 --columns 16 --lower-groups drawn --temperature 0.8 --out "$hierarchical/pictures/samples-drawn.png"
    "$vae" interpolate "$hierarchical" --from 0 --to 5 --steps 10 --all-groups --out "$hierarchical/pictures/morph-all-groups.png"
fi
for run in "${runs[@]}"; do
    echo "$run: $(grep -m1 -o '[0-9]* parameters' "$run.log"), $(($(wc -l < "$run/metrics.csv") - 1)) epochs, median $(python3 -c "
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print('%.2f s/epoch' % statistics.median(float(r['seconds']) for r in rows))" "$run/metrics.csv")"
done
