#!/usr/bin/env python3
"""Fits the rational tanh the engine's vector paths compute (src/CnnService.Engine/Kernels/TanhOperator.cs):
tanh(x) ~ x P(x^2) / Q(x^2) on [0, C], P of degree NP and Q of degree NQ in x^2, P(0) = Q(0) = 1, minimising the
largest relative error. Loeb's iteration turns the rational fit into weighted linear least squares (dividing by the
previous Q), and Lawson's reweighting moves that towards the minimax fit. Needs only mpmath (Debian python3-mpmath).

    python3 scripts/fit-tanh.py            # C = 9.02, NP = 6, NQ = 3, as the engine uses; about a minute
    python3 scripts/fit-tanh.py 9.02 5 3   # a smaller fit: 6e-8, about an ulp, before the float roundings
"""
import struct
import sys

import mpmath as mp

mp.mp.dps = 50
C = mp.mpf(sys.argv[1]) if len(sys.argv) > 1 else mp.mpf("9.02")
NP = int(sys.argv[2]) if len(sys.argv) > 2 else 6
NQ = int(sys.argv[3]) if len(sys.argv) > 3 else 3
N = 1500

# Chebyshev-spaced points, dense at both ends of [0, C]; tanh(x)/x -> 1 at 0.
xs = [max(C * (1 - mp.cos(mp.pi * (i + mp.mpf(0.5)) / N)) / 2, mp.mpf("1e-6")) for i in range(N)]
ts = [x * x for x in xs]
gs = [mp.tanh(x) / x for x in xs]
weights = [mp.mpf(1)] * N
q_previous = [mp.mpf(1)] * N


def polynomial(coefficients, t):
    return mp.polyval(coefficients[::-1], t)


for iteration in range(60):
    # Unknowns p1..pNP and q1..qNQ (p0 = q0 = 1); each point's residual (P(t) - g Q(t)) / (g Q_previous(t)) is linear in them.
    m = NP + NQ
    a = mp.matrix(m, m)
    b = mp.matrix(m, 1)
    for i in range(N):
        s = 1 / (gs[i] * q_previous[i])
        row = [ts[i] ** k * s for k in range(1, NP + 1)] + [-gs[i] * ts[i] ** k * s for k in range(1, NQ + 1)]
        rhs = (gs[i] - 1) * s
        for r in range(m):
            wr = row[r] * weights[i]
            b[r] += wr * rhs
            for c in range(r, m):
                a[r, c] += wr * row[c]
    for r in range(m):
        for c in range(r):
            a[r, c] = a[c, r]
    solution = mp.lu_solve(a, b)
    p = [mp.mpf(1)] + [solution[k] for k in range(NP)]
    q = [mp.mpf(1)] + [solution[NP + k] for k in range(NQ)]
    errors = [abs(polynomial(p, ts[i]) / polynomial(q, ts[i]) / gs[i] - 1) for i in range(N)]
    q_previous = [polynomial(q, t) for t in ts]
    worst = max(errors)
    weights = [weights[i] * errors[i] / worst + mp.mpf("1e-30") for i in range(N)]
    total = sum(weights)
    weights = [w / total * N for w in weights]


def single(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


print(f"largest relative error on [0, {C}] in exact arithmetic: {mp.nstr(worst, 3)}")
print("P:", ", ".join(f"{single(c)!r}f" for c in p))
print("Q:", ", ".join(f"{single(c)!r}f" for c in q))
