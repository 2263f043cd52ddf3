#!/usr/bin/env python3
"""Page times of a running Rapport server, measured from outside as a browser would.

Signs in through the sign-in form (its double-submit CSRF cookie), then asks
each page N times in turn and prints p50 / p95 / max in milliseconds per page
and over all pages. Only the standard library.

    python3 tools/web_timing.py --base http://127.0.0.1:8080 \
        --user <name> --password <password> [--rounds 20] PATH [PATH ...]

PATHs are pages such as /, /customers, /alerts?status=new, /customers/<key>.
A page that does not answer 200 is reported and counts as a failure (exit 1).

The first request of each page is shown on its own ("first ms"): reports kept
until their data changes (`rapport_services::memo`) are computed by the first
page load after an import, a scoring run or a write, and read from memory by
the next ones. p50 / p95 / max are over every request, the first included,
unless --warm is given (then over the requests after the first).
"""
import argparse
import http.cookiejar
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request


def opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def sign_in(op, base, user, password):
    page = op.open(base + "/login").read().decode()
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    if not m:
        sys.exit("no CSRF token on the sign-in page")
    data = urllib.parse.urlencode(
        {"username": user, "password": password, "csrf": m.group(1)}
    ).encode()
    res = op.open(base + "/login", data)
    if "/login" in res.geturl():
        sys.exit(f"signing in as {user} failed")


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--warm", action="store_true",
                    help="leave each page's first request out of p50/p95/max")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    op = opener()
    sign_in(op, a.base, a.user, a.password)
    times = {p: [] for p in a.paths}
    failed = False
    for _ in range(a.rounds):
        for p in a.paths:
            t0 = time.perf_counter()
            try:
                # Non-ASCII (a Chinese search) is sent percent-encoded, as a browser does.
                res = op.open(a.base + urllib.parse.quote(p, safe="/?&=%#+:,"))
                res.read()
                code = res.status
            except urllib.error.HTTPError as e:
                code = e.code
            ms = (time.perf_counter() - t0) * 1000
            if code != 200:
                print(f"{p}: HTTP {code}", file=sys.stderr)
                failed = True
            times[p].append(ms)
    allv = []
    print(f"{'page':<48} {'n':>4} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for p, xs in times.items():
        first = xs[0]
        if a.warm and len(xs) > 1:
            xs = xs[1:]
        allv += xs
        print(f"{p[:48]:<48} {len(xs):>4} {first:>9.1f} {statistics.median(xs):>8.1f} {pct(xs, 95):>8.1f} {max(xs):>8.1f}")
    print(f"{'all pages':<48} {len(allv):>4} {'':>9} {statistics.median(allv):>8.1f} {pct(allv, 95):>8.1f} {max(allv):>8.1f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
