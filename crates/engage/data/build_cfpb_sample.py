#!/usr/bin/env python3
"""Rebuilds cfpb_complaints_sample.csv from the 1 MB CFPB extract (see README.md).

Usage: python3 build_cfpb_sample.py path/to/complaints.csv > cfpb_complaints_sample.csv

Deterministic: same extract, same output. Standard library only.
"""
import csv
import sys

# Issue first: these issues name the category whatever the product.
BY_ISSUE = {
    "Fees or interest": "fees",
    "Fraud or scam": "fraud_security",
    "Unauthorized transactions or other transaction problem": "fraud_security",
    "Incorrect information on your report": "credit_reporting",
    "Improper use of your report": "credit_reporting",
    "Problem with a credit reporting company's investigation into an existing problem": "credit_reporting",
    "Problem with fraud alerts or security freezes": "credit_reporting",
    "Unable to get your credit report or credit score": "credit_reporting",
}
BY_PRODUCT = {
    "Credit reporting, credit repair services, or other personal consumer reports": "credit_reporting",
    "Credit reporting or other personal consumer reports": "credit_reporting",
    "Debt collection": "debt_collection",
    "Mortgage": "loans_mortgages",
    "Student loan": "loans_mortgages",
    "Vehicle loan or lease": "loans_mortgages",
    "Payday loan, title loan, or personal loan": "loans_mortgages",
    "Credit card or prepaid card": "cards_payments",
    "Money transfer, virtual currency, or money service": "cards_payments",
    "Checking or savings account": "accounts_deposits",
}
HELD_OUT_EVERY = 4  # every 4th narrative of a category (by Complaint ID) is held out
TRAIN_CAP = 100  # at most this many training rows per category
MAX_CHARS = 1500


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, r)) for r in reader if len(r) == len(header)]
    seen = set()
    kept = []
    for r in rows:
        text = " ".join(r["Consumer complaint narrative"].split())
        if not text or text in seen:
            continue
        seen.add(text)
        cat = BY_ISSUE.get(r["Issue"]) or BY_PRODUCT.get(r["Product"])
        if cat is None:
            continue
        kept.append((int(r["Complaint ID"]), r["Product"], r["Issue"], cat, text[:MAX_CHARS]))
    kept.sort()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["complaint_id", "product", "issue", "category", "split", "narrative"])
    by_cat = {}
    for row in kept:
        by_cat.setdefault(row[3], []).append(row)
    result = []
    for cat, items in by_cat.items():
        trained = 0
        for i, (cid, product, issue, _, text) in enumerate(items):
            if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1:
                split = "test"
            elif trained < TRAIN_CAP:
                split = "train"
                trained += 1
            else:
                split = "unused"
            result.append((cid, product, issue, cat, split, text))
    result.sort()
    for r in result:
        if r[4] != "unused":
            out.writerow(r)


if __name__ == "__main__":
    main(sys.argv[1])
