"""Cut the small real samples the model tests use from ../shared/datasets.

Every k-th data row is kept (header first), so the samples keep each file's
format: Churn_Modelling is comma-separated, bank-additional-full is
semicolon-separated with quoted text. Run from the repository root:
    python3 crates/models/tests/data/make_samples.py ../shared/datasets
"""
import gzip
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets")
out = Path(__file__).parent
for source, target, step in [
    ("churn_modelling/Churn_Modelling.csv.gz", "churn_sample.csv", 10),
    ("bank_marketing/bank-additional-full.csv.gz", "bank_additional_sample.csv", 40),
]:
    with gzip.open(root / source, "rt", newline="") as f:
        lines = f.readlines()
    kept = [lines[0]] + lines[1::step]
    (out / target).write_text("".join(kept), newline="")
    print(target, len(kept) - 1, "rows")
