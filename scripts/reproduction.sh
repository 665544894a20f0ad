#!/bin/bash
# The reproduction table of models/README.md, one row at a time:
#   bash scripts/reproduction.sh ROW
# trains ROW's run in runs/reproduction/ROW (or resumes it: a schedule of several hours runs in
# parts, each stopped run continuing from its checkpoint), with nice and one thread (THREADS=2
# for two: a new run, a resumed part and the bound all take it; without THREADS a resumed part
# keeps the thread count its run records); when the schedule is finished,
# evaluates the IWAE bound (k = 5000) on the 10,000 test images into
# runs/reproduction/ROW/eval.json and copies config.json and model.safetensors into models/ROW/.
# Safe to run again: a finished row is only evaluated and copied again.
set -euo pipefail
cd "$(dirname "$0")/.."
row="${1:-}"
case "$row" in
    iwae-paper)        arguments=(--preset iwae-paper) ;;
    iwae-paper-2layer) arguments=(--preset iwae-paper-2layer) ;;
    iwae-code-2layer)  arguments=(--preset iwae-code-2layer) ;;
    iaf)               arguments=(--preset iwae-paper --posterior iaf) ;;
    vamp)              arguments=(--preset vamp) ;;
    vamp-hvae)         arguments=(--preset vamp-hvae) ;;
    *) echo "usage: bash scripts/reproduction.sh iwae-paper|iwae-paper-2layer|iwae-code-2layer|iaf|vamp|vamp-hvae" >&2; exit 2 ;;
esac
vae="${VAE:-.build/release/vae}"  # VAE=path: a copied binary, so that rebuilding meanwhile changes nothing
[[ -x "$vae" ]] || swift build -c release --product vae
threads="${THREADS:-1}"
run="runs/reproduction/$row"
mkdir -p runs/reproduction
if [[ -f "$run/checkpoint.safetensors" ]]; then
    nice -n 10 "$vae" train --resume "$run" ${THREADS:+--blas-threads "$THREADS"}
else
    nice -n 10 "$vae" train "${arguments[@]}" --blas-threads "$threads" --out "$run"
fi
nice -n 10 "$vae" eval "$run" --samples 5000 --json --blas-threads "$threads" > "$run/eval.json.partial"
mv "$run/eval.json.partial" "$run/eval.json"
mkdir -p "models/$row"
cp "$run/config.json" "$run/model.safetensors" "models/$row/"
echo "models/$row: $(python3 -c "import json; j = json.load(open('$run/eval.json')); print('IWAE-5000 bound %.2f nats, ELBO %.2f' % (j['iwae'], j['elbo']))")"
