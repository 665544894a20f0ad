#!/bin/bash
# A preset's spread over seeds, as README's "Presets that train reliably" reports it:
#   bash scripts/seed-study.sh OUT PRESET [vae train options...]
# trains PRESET for 10 epochs (unless the options set --epochs) with seeds 1 to 5 (SEEDS="1 2 3"
# to change them) into OUT/seed-N, on one test split (an image folder's held out by --split-seed 1), one thread each, one after another with nice (a finished seed
# is not trained again), evaluates each (ELBO and active units on the test set, no IWAE bound),
# and prints one row per seed, then the spread of the test losses and the fewest active units.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: bash scripts/seed-study.sh OUT PRESET [vae train options...]" >&2; exit 2; }
out="$1"; preset="$2"; shift 2
vae="${VAE:-.build/release/vae}"  # VAE=path: a copied binary, so that rebuilding meanwhile changes nothing
[[ -x "$vae" ]] || swift build -c release --product vae
epochs=(--epochs 10)
split=()
for option in "$@"; do
    [[ "$option" == --epochs ]] && epochs=()
    [[ "$option" == --images ]] && split=(--split-seed 1)
done
mkdir -p "$out"
for seed in ${SEEDS:-1 2 3 4 5}; do
    run="$out/seed-$seed"
    if [[ ! -f "$run/eval.json" ]]; then
        rm -rf "$run"
        nice -n 10 "$vae" train --preset "$preset" "${epochs[@]}" "${split[@]}" "$@" --seed "$seed" --blas-threads 1 --out "$run" > "$out/seed-$seed.log" 2>&1
        nice -n 10 "$vae" eval "$run" --samples 0 --json > "$run/eval.json.partial" 2>/dev/null
        mv "$run/eval.json.partial" "$run/eval.json"
    fi
done
python3 - "$out" ${SEEDS:-1 2 3 4 5} <<'PYTHON'
import csv, json, sys
out, seeds = sys.argv[1], sys.argv[2:]
rows = []
for seed in seeds:
    run = f"{out}/seed-{seed}"
    last = list(csv.DictReader(open(f"{run}/metrics.csv")))[-1]
    figures = json.load(open(f"{run}/eval.json"))
    latent = figures["groups"][0]["size"]
    rows.append((seed, float(last["test_loss"]), float(last["test_kl"]), figures["active_units"], latent, float(last["seconds"])))
print(f"| seed | test loss after epoch {last['epoch']} | test KL | active units | s/epoch (last) |")
print("|---|---|---|---|---|")
for seed, loss, kl, active, latent, seconds in rows:
    print(f"| {seed} | {loss:.2f} | {kl:.2f} | {active} of {latent} | {seconds:.1f} |")
losses = [row[1] for row in rows]
print(f"spread of the test losses: {max(losses) - min(losses):.2f} nats (mean {sum(losses) / len(losses):.2f}); "
      f"fewest active units: {min(row[3] for row in rows)} of {rows[0][4]}")
PYTHON
