#!/usr/bin/env bash
# The dSprites disentanglement study: beta-TCVAE (beta 6) over seeds 1-3, the plain ELBO
# (dsprites-conv, beta 1) for one seed, FactorVAE (gamma 35) over seeds 1-3; each run 9 epochs of
# batch 64 (103,680 steps), then `vae eval --disentanglement --json` into <run>/disentanglement.json,
# and the model (config.json, model.safetensors) copied to $MODELS/<preset>-seed<seed>/ (default models/).
# Runs one at a time and picks up where it stopped: a run folder with a checkpoint is resumed, a
# finished one is skipped, an evaluated one is not evaluated again. Then prints the table
# (scripts/dsprites-table.py).
#
# ENTRIES picks the runs ("preset seed" pairs, comma-separated; default all seven), e.g. to run
# only what a machine has time for: ENTRIES="dsprites-btcvae 3,dsprites-conv 1".
# TRAIN_OPTIONS adds options to each new run's `vae train`, and SUFFIX names such a variant's
# folders <preset><SUFFIX>-seed<seed>, e.g. the FactorVAE paper's second batch for the shuffle:
#   ENTRIES="dsprites-factorvae 1,dsprites-factorvae 2,dsprites-factorvae 3" SUFFIX=-previous-batch \
#   TRAIN_OPTIONS="--discriminator-shuffle previous-batch" nice bash scripts/dsprites-study.sh runs/dsprites
# or disentanglement_lib's start for every layer (TensorFlow's: Glorot uniform, zero biases):
#   ENTRIES="dsprites-factorvae 1,dsprites-factorvae 2,dsprites-factorvae 3" SUFFIX=-glorot \
#   TRAIN_OPTIONS="--initializer glorot --discriminator-initializer glorot" nice bash scripts/dsprites-study.sh runs/dsprites
#
#   vae data --make dsprites
#   VAE=.build/release/vae THREADS=2 nice bash scripts/dsprites-study.sh runs/dsprites
set -euo pipefail
VAE=${VAE:-.build/release/vae}
RUNS=${1:-runs/dsprites}
THREADS=${THREADS:-2}
MODELS=${MODELS:-models}
SUFFIX=${SUFFIX:-}
read -r -a train_options <<<"${TRAIN_OPTIONS:-}"
mkdir -p "$RUNS"
ENTRIES=${ENTRIES:-"dsprites-btcvae 1,dsprites-btcvae 2,dsprites-btcvae 3,dsprites-conv 1,dsprites-factorvae 1,dsprites-factorvae 2,dsprites-factorvae 3"}
IFS=, read -r -a entries <<<"$ENTRIES"
for entry in "${entries[@]}"; do
    read -r preset seed <<<"$entry"
    name="$preset$SUFFIX-seed$seed"
    folder="$RUNS/$name"
    # A finished run's metrics.csv has a header and one row per epoch (9).
    if [[ -f "$folder/metrics.csv" && $(wc -l <"$folder/metrics.csv") -ge 10 ]]; then
        echo "$folder: trained"
    elif [[ -f "$folder/checkpoint.safetensors" ]]; then
        echo "$folder: resuming"
        "$VAE" train --resume "$folder" --blas-threads "$THREADS"
    else
        echo "$folder: training ($(date -u +%H:%M))"
        "$VAE" train --preset "$preset" --seed "$seed" ${train_options[@]+"${train_options[@]}"} --blas-threads "$THREADS" --out "$folder"
    fi
    if [[ ! -f "$folder/disentanglement.json" ]]; then
        "$VAE" eval "$folder" --disentanglement --json --blas-threads "$THREADS" >"$folder/disentanglement.json.tmp"
        mv "$folder/disentanglement.json.tmp" "$folder/disentanglement.json"
    fi
    mkdir -p "$MODELS/$name"
    cp "$folder/config.json" "$folder/model.safetensors" "$MODELS/$name/"
done
python3 "$(dirname "$0")/dsprites-table.py" "$RUNS"
