#!/usr/bin/env python3
"""Cuts the committed real-data samples from shared/datasets (run from the workspace root).

Berka: about 200 accounts chosen to cover every loan status, every card type,
disponents and district 69 (whose A12/A15 are '?'), plus every row that refers
to them (dispositions, clients, orders, loans, cards) and the districts used.
Lines are copied byte for byte (CRLF kept) and gzipped like the originals.
Taiwan: the header and the first 300 rows, unchanged.
"""
import gzip, os, sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"
OUT = sys.argv[2] if len(sys.argv) > 2 else "crates/ingest/tests/data"

def read(table):
    with gzip.open(f"{SRC}/berka/{table}.asc.gz", "rb") as f:
        lines = f.read().split(b"\n")
    header, rows = lines[0], [l for l in lines[1:] if l.strip()]
    return header, rows

def fields(line):
    return [x.strip(b"\r").strip(b'"').decode() for x in line.split(b";")]

tables = {t: read(t) for t in ["district", "client", "account", "disp", "order", "loan", "card"]}
acc = {fields(l)[0]: fields(l) for l in tables["account"][1]}
disp = [fields(l) for l in tables["disp"][1]]
loans = [fields(l) for l in tables["loan"][1]]
cards = [fields(l) for l in tables["card"][1]]
clients = {fields(l)[0]: fields(l) for l in tables["client"][1]}
disp_by_id = {d[0]: d for d in disp}

chosen = []
def take(a):
    if a not in chosen:
        chosen.append(a)

quota = {"A": 20, "B": 10, "C": 30, "D": 10}
for l in loans:
    if quota[l[6]] > 0:
        quota[l[6]] -= 1
        take(l[1])
cq = {"junior": 10, "classic": 15, "gold": 10}
for c in cards:
    if cq[c[2]] > 0:
        cq[c[2]] -= 1
        take(disp_by_id[c[1]][2])
n = 0
for d in disp:
    if d[3] == "DISPONENT" and n < 30:
        n += 1
        take(d[2])
take("2378")  # the account of trans.asc's documented first row
for a, f in acc.items():
    if f[1] == "69":
        take(a)
        break
for a in sorted(acc, key=int):
    if len(chosen) >= 200:
        break
    take(a)

chosen = set(chosen)
keep_disp = [l for l in tables["disp"][1] if fields(l)[2] in chosen]
keep_clients = {fields(l)[1] for l in keep_disp}
keep_disp_ids = {fields(l)[0] for l in keep_disp}
districts = {acc[a][1] for a in chosen} | {clients[c][2] for c in keep_clients}
select = {
    "account": lambda f: f[0] in chosen,
    "disp": lambda f: f[2] in chosen,
    "client": lambda f: f[0] in keep_clients,
    "order": lambda f: f[1] in chosen,
    "loan": lambda f: f[1] in chosen,
    "card": lambda f: f[1] in keep_disp_ids,
    "district": lambda f: f[0] in districts,
}
os.makedirs(f"{OUT}/berka", exist_ok=True)
for t, (header, rows) in tables.items():
    kept = [l for l in rows if select[t](fields(l))]
    data = b"\n".join([header] + kept) + b"\n"
    with open(f"{OUT}/berka/{t}.asc.gz", "wb") as f:
        f.write(gzip.compress(data, mtime=0))
    print(t, len(kept))

with gzip.open(f"{SRC}/taiwan_credit_default/UCI_Credit_Card.csv.gz", "rb") as f:
    lines = f.read().split(b"\n")
os.makedirs(f"{OUT}/taiwan", exist_ok=True)
with open(f"{OUT}/taiwan/UCI_Credit_Card_first300.csv", "wb") as f:
    f.write(b"\n".join(lines[:301]) + b"\n")
print("taiwan", 300)
