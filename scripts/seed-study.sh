#!/bin/bash
# A preset's spread over seeds, as README's "Presets that train reliably" reports it:
#   bash scripts/seed-study.sh OUT PRESET [vae train options...]
# trains PRESET for 10 epochs (unless the options set --epochs) with seeds 1 to 5 (SEEDS="1 2 3"
# to change them) into OUT/seed-N, on one test split (an image folder's held out by --split-seed 1), one thread each, one after another with nice (a finished seed
# is not trained again), evaluates each (ELBO and active units on the test set, no IWAE bound),
# and prints one row per seed, then the spread of the test losses and the fewest active units.
# The test loss is the negative ELBO averaged over DRAWS (default 20) draws of z, one evaluation
# seed each: a single draw's figure moves by several nats with the evaluation seed alone on a
# small test set, more than the spread being measured.
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
evaluate() {  # FILE RUN [vae eval options]: the ELBO figures of RUN into FILE, unless FILE exists
    local file="$1" run="$2"; shift 2
    [[ -f "$file" ]] && return
    nice -n 10 "$vae" eval "$run" --samples 0 "$@" --json > "$file.partial" 2>/dev/null
    mv "$file.partial" "$file"
}
for seed in ${SEEDS:-1 2 3 4 5}; do
    run="$out/seed-$seed"
    if [[ ! -f "$run/eval.json" ]]; then
        rm -rf "$run"
        nice -n 10 "$vae" train --preset "$preset" "${epochs[@]}" "${split[@]}" "$@" --seed "$seed" --blas-threads 1 --out "$run" > "$out/seed-$seed.log" 2>&1
        evaluate "$run/eval.json" "$run"
    fi
    for draw in $(seq 1 "${DRAWS:-20}"); do evaluate "$run/eval-draw-$draw.json" "$run" --seed "$draw"; done
done
python3 - "$out" "${DRAWS:-20}" ${SEEDS:-1 2 3 4 5} <<'PYTHON'
import csv, json, statistics, sys
out, draws, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = []
for seed in seeds:
    run = f"{out}/seed-{seed}"
    last = list(csv.DictReader(open(f"{run}/metrics.csv")))[-1]
    figures = json.load(open(f"{run}/eval.json"))
    latent = figures["groups"][0]["size"]
    losses = [-json.load(open(f"{run}/eval-draw-{draw}.json"))["elbo"] for draw in range(1, draws + 1)]
    rows.append((seed, statistics.mean(losses), statistics.stdev(losses) / len(losses) ** 0.5 if draws > 1 else float("nan"),
                 float(last["test_loss"]), float(last["test_kl"]), figures["active_units"], latent, float(last["seconds"])))
print(f"| seed | test loss after epoch {last['epoch']} ({draws} draws of z) | its standard error | one draw (metrics.csv) | test KL | active units | s/epoch (last) |")
print("|---|---|---|---|---|---|---|")
for seed, loss, error, single, kl, active, latent, seconds in rows:
    print(f"| {seed} | {loss:.2f} | {error:.2f} | {single:.2f} | {kl:.2f} | {active} of {latent} | {seconds:.1f} |")
losses = [row[1] for row in rows]
singles = [row[3] for row in rows]
print(f"spread of the test losses: {max(losses) - min(losses):.2f} nats (mean {sum(losses) / len(losses):.2f}; "
      f"one draw each: {max(singles) - min(singles):.2f}); fewest active units: {min(row[5] for row in rows)} of {rows[0][6]}")
PYTHON
