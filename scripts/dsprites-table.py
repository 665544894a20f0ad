"""The dSprites study's table: every disentanglement metric of every run under a folder
(<run>/disentanglement.json from `vae eval --disentanglement --json`), and the median over
seeds of each preset.

    python3 scripts/dsprites-table.py runs/dsprites
"""
import json
import statistics
import sys
from pathlib import Path

COLUMNS = [("BetaVAE", "beta_vae_score"), ("FactorVAE", "factor_vae_score"), ("MIG", "mig"), ("SAP", "sap"),
           ("DCI D", "dci_disentanglement"), ("DCI C", "dci_completeness"), ("DCI I", "dci_informativeness_test"),
           ("Gaussian TC", "gaussian_total_correlation"), ("pairwise MI", "mutual_info_score")]


def main(folder):
    rows = {}
    for path in sorted(Path(folder).glob("*/disentanglement.json")):
        report = json.loads(path.read_text())
        figures = report["disentanglement"]
        run = path.parent.name
        preset = run.rsplit("-seed", 1)[0]
        rows.setdefault(preset, []).append((run, figures, report.get("elbo")))
    print("| run | ELBO (nats) | " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for preset, runs in rows.items():
        for run, figures, elbo in runs:
            print(f"| {run} | {elbo:.2f} | " + " | ".join(f"{figures[key]:.4f}" for _, key in COLUMNS) + " |")
        if len(runs) > 1:
            medians = [statistics.median(figures[key] for _, figures, _ in runs) for _, key in COLUMNS]
            print(f"| **{preset}, median of {len(runs)}** | | " + " | ".join(f"**{value:.4f}**" for value in medians) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/dsprites")
