#!/usr/bin/env python3
"""Do the decisions agree on a bank? Figures of docs/VALIDATION.md "Decisions that agree".

Usage:
    rapport demo --customers N --seed S --no-serve          # store in ./rapport-data/demo.db
    rapport gen --customers N --seed S --out gen            # same bank: gen/ground_truth.csv
    python3 tools/decisions_agree.py rapport-data/demo.db gen/ground_truth.csv

Reads the store with SQLite only (no Rapport code), so it checks the product from outside:
customers in arrears offered credit; planted distress and attrition out of the healthy band
with a retention action first; customers whose salary stopped; ordinary customers healthy and
still offered products. Credit products are the catalogue's loans (LN-*) and cards (CC-*).
"""
import csv, sqlite3, sys
db, truth = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
q = lambda s, *a: con.execute(s, a).fetchall()
key = dict(q("SELECT k.customer_id, k.source_key FROM customer_source_key k WHERE k.source='synth'"))
bykey = {v: k for k, v in key.items()}
as_of = q("SELECT MAX(as_of) FROM health_score")[0][0]
band = dict(q("SELECT customer_id, band FROM health_score WHERE as_of=?", as_of))
planted = {}
for r in csv.DictReader(open(truth)):
    cid = bykey.get(r["customer_key"])
    if cid is not None and r["start_date"] <= as_of:
        planted[cid] = r["event"]
recs = {}
for cid, rank, action, code, status in q("SELECT customer_id, rank, action, product_code, status FROM recommendation WHERE status IN ('proposed','offered') ORDER BY customer_id, rank"):
    recs.setdefault(cid, []).append((rank, action, code))
credit = lambda c: c and (c.startswith("CC-") or c.startswith("LN-"))
y = int(as_of[:4]) - 1
since = f"{y}{as_of[4:]}"
dpd = {c for (c,) in q("SELECT customer_id FROM loan WHERE days_past_due>0")} | \
      {c for (c,) in q("SELECT customer_id FROM card_statement WHERE days_past_due>0 AND statement_month>=?", since[:7])}
offered_dpd = [c for c in dpd if any(credit(p) for _, a, p in recs.get(c, []))]
print(f"as of {as_of}; customers {len(band)}; planted {len(planted)} ({sum(1 for e in planted.values() if e=='distress')} distress)")
print(f"customers with DPD>0 (loan or card in 12 months): {len(dpd)}; offered credit: {len(offered_dpd)}")
for ev in sorted(set(planted.values())):
    ids = [c for c, e in planted.items() if e == ev]
    out = [c for c in ids if band.get(c) != "healthy"]
    first = [c for c in ids if recs.get(c) and recs[c][0][1] == "retention"]
    print(f"planted {ev}: {len(ids)}; out of healthy {len(out)} ({100*len(out)/max(1,len(ids)):.1f} %); retention first {len(first)} ({100*len(first)/max(1,len(ids)):.1f} %)")
ordinary = [c for c in band if c not in planted and c not in dpd]
healthy = [c for c in ordinary if band[c] == "healthy"]
sales = [c for c in ordinary if any(a == "sale" for _, a, _ in recs.get(c, []))]
print(f"ordinary: {len(ordinary)}; healthy {100*len(healthy)/max(1,len(ordinary)):.1f} %; with a sale offer {100*len(sales)/max(1,len(ordinary)):.1f} %")
# Salary stopped: salary in >= 3 distinct months of the 9 months before as_of, none in the last 35 days.
rows = q("""SELECT customer_id, COUNT(DISTINCT substr(booked_on,1,7)), MAX(booked_on) FROM txn
            WHERE category='salary' AND booked_on < ? AND booked_on >= date(?, '-270 days') GROUP BY customer_id""", as_of, as_of)
stopped = [c for c, m, last in rows if m >= 3 and last < q("SELECT date(?, '-35 days')", as_of)[0][0]]
out = [c for c in stopped if band.get(c) != "healthy"]
first = [c for c in stopped if band.get(c) != "healthy" and recs.get(c) and recs[c][0][1] == "retention"]
credit_to = [c for c in stopped if any(credit(p) for _, a, p in recs.get(c, []))]
print(f"salary stopped (paid in >=3 of 9 months, none in 35 days): {len(stopped)}; out of healthy {len(out)} ({100*len(out)/max(1,len(stopped)):.1f} %); out of healthy with retention first {len(first)} ({100*len(first)/max(1,len(stopped)):.1f} %); offered credit {len(credit_to)}")
