#!/bin/bash
# Time per epoch and IWAE-5000 evaluation time of the reproduction table's models, measured in one
# run, one after another, so that their ratios to the one-layer VAE's can be compared:
#   bash scripts/model-timings.sh [OUT]
# trains each row's preset for a few epochs (two, or the first two stages of the IWAE paper's
# schedule) into OUT/ROW (default /tmp/model-timings) with nice and one thread, takes the median
# epoch time from metrics.csv, then times `vae eval --samples 5000` on the first 500 test images
# and scales it to the 10,000. Prints one markdown row per model.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/model-timings}"
vae="${VAE:-.build/release/vae}"  # VAE=path: a copied binary, so that rebuilding meanwhile changes nothing
[[ -x "$vae" ]] || swift build -c release --product vae
rows=(iwae-paper iwae-paper-2layer iaf vamp vamp-hvae)
declare -A arguments=(
    [iwae-paper]="--preset iwae-paper --schedule-stages 2"
    [iwae-paper-2layer]="--preset iwae-paper-2layer --schedule-stages 2"
    [iaf]="--preset iwae-paper --posterior iaf --schedule-stages 2"
    [vamp]="--preset vamp --epochs 2"
    [vamp-hvae]="--preset vamp-hvae --epochs 2"
)
mkdir -p "$out"
echo "| model | parameters | s/epoch | x one-layer | IWAE-5000 eval, 10,000 images (s) | x one-layer |"
echo "|---|---|---|---|---|---|"
base_epoch="" base_eval=""
for row in "${rows[@]}"; do
    run="$out/$row"
    rm -rf "$run"
    # shellcheck disable=SC2086
    nice -n 10 "$vae" train ${arguments[$row]} --blas-threads 1 --out "$run" > "$out/$row.log" 2>&1
    parameters=$(sed -n 's/.*, \([0-9]*\) parameters$/\1/p' "$out/$row.log" | head -1)
    epoch=$(python3 -c "import csv, statistics; print(statistics.median(float(r['seconds']) for r in csv.DictReader(open('$run/metrics.csv'))))")
    start=$(date +%s.%N)
    nice -n 10 "$vae" eval "$run" --samples 5000 --count 500 --json > "$run/eval-500.json" 2>/dev/null
    end=$(date +%s.%N)
    evaluation=$(python3 -c "print(($end - $start) * 20)")
    [[ -z "$base_epoch" ]] && { base_epoch=$epoch; base_eval=$evaluation; }
    python3 -c "print('| $row | $parameters | %.2f | %.2f | %.0f | %.2f |' % ($epoch, $epoch / $base_epoch, $evaluation, $evaluation / $base_eval))"
done
