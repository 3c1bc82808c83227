"""The risk report of lib/risk/report.ts written plainly in numpy, for the speed comparison in
bench/risk.bench.ts. Reads the inputs the bench wrote (raw float64 files), then answers commands on
stdin: "check" prints the report's headline numbers as JSON, "run B W" runs W untimed reports, then times B in CPU seconds and prints the
seconds per report. Single-threaded: the bench sets the BLAS thread counts to 1.
"""

import json
import math
import sys
import time

import numpy as np
from scipy.special import ndtri, stdtrit


def load(folder):
    with open(f"{folder}/meta.json") as f:
        meta = json.load(f)
    n, t = meta["n"], meta["t"]
    w = np.fromfile(f"{folder}/w.bin", dtype=np.float64)
    cov = np.fromfile(f"{folder}/cov.bin", dtype=np.float64).reshape(n, n)
    returns = np.fromfile(f"{folder}/returns.bin", dtype=np.float64).reshape(n, t)
    return meta, w, cov, returns


def report(w, cov, returns, alpha):
    p = 1 - alpha
    z = ndtri(alpha)
    phi = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    # Parametric and the Euler decomposition.
    sw = cov @ w
    sigma = math.sqrt(float(w @ sw))
    var_n = z * sigma
    es_mult = phi / p
    es_n = es_mult * sigma
    marginal_var = z * sw / sigma
    component_var = w * marginal_var
    component_es = w * (es_mult * sw / sigma)
    var_share = component_var / var_n
    # Portfolio series and what is read from it.
    r = w @ returns
    losses = np.sort(-r)[::-1]
    k = max(1, math.ceil(len(r) * p - 1e-9))
    hist_var = losses[k - 1]
    hist_es = losses[:k].mean()
    mean = r.mean()
    d = r - mean
    d2 = d * d
    m2 = d2.mean()
    m3 = (d2 * d).mean()
    m4 = (d2 * d2).mean()
    std = math.sqrt(d2.sum() / (len(r) - 1))
    skew = m3 / m2**1.5
    kurt = m4 / (m2 * m2) - 3
    dof = min(100.0, max(4.0, 4 + 6 / kurt)) if kurt > 0 else 100.0
    q = stdtrit(dof, alpha)
    scale = std * math.sqrt((dof - 2) / dof)
    g = math.exp(
        math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
        - (dof + 1) / 2 * math.log1p(q * q / dof)
    )
    t_var = scale * q
    t_es = scale * g / p * (dof + q * q) / (dof - 1)
    zp = -z
    zcf = zp + (zp * zp - 1) * skew / 6 + (zp**3 - 3 * zp) * kurt / 24 - (2 * zp**3 - 5 * zp) * skew * skew / 36
    cf_var = -(zcf * std)
    cf_tail = phi / p * (1 + zp * skew / 6 + (zp * zp - 1) * kurt / 24 - (2 * zp * zp - 1) * skew * skew / 36)
    cf_es = cf_tail * std
    equity = np.cumprod(1 + r)
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))
    dd = 1 - equity / peak
    return {
        "sigma": sigma,
        "var_normal": var_n,
        "es_normal": es_n,
        "var_historical": float(hist_var),
        "es_historical": float(hist_es),
        "var_student_t": float(t_var),
        "es_student_t": float(t_es),
        "var_cornish_fisher": float(cf_var),
        "es_cornish_fisher": float(cf_es),
        "drawdown_max": float(dd.max()),
        "drawdown_current": float(dd[-1]),
        "component_var_sum": float(component_var.sum()),
        "component_es_sum": float(component_es.sum()),
        "var_share_sum": float(var_share.sum()),
    }


def main():
    meta, w, cov, returns = load(sys.argv[1])
    alpha = meta["confidence"]
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "check":
            print(json.dumps(report(w, cov, returns, alpha)), flush=True)
        elif words[0] == "run":
            batch = int(words[1])
            for _ in range(int(words[2]) if len(words) > 2 else 0):
                report(w, cov, returns, alpha)
            start = time.process_time()
            for _ in range(batch):
                report(w, cov, returns, alpha)
            print((time.process_time() - start) / batch, flush=True)
        elif words[0] == "quit":
            return


if __name__ == "__main__":
    main()
