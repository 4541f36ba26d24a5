#!/usr/bin/env python3
"""Golden values for stats.Design (Power, SampleSize, MDE).

Computed independently of the Go code with SciPy (normal and noncentral t
distributions, brentq root finding) and, where it has the same model,
statsmodels' NormalIndPower / TTestIndPower. Regenerate with

    python3 stats/testdata/plan_golden.py > stats/testdata/plan_golden.json

(Debian: apt-get install python3-scipy python3-statsmodels; the values
checked in were made with SciPy 1.10.1 and statsmodels 0.13.5).
"""
import json
import math

from scipy import stats
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower, TTestIndPower


def unit_variance(kind, baseline, sigma, scale, contrast, effect):
    """The contrast's value and Var(estimate) * n for n units per arm
    (delta method for the relative lift)."""
    mt = baseline * (1 + effect) if scale == "relative" else baseline + effect
    if kind == "binomial":
        vc, vt = baseline * (1 - baseline), mt * (1 - mt)
    else:
        vc = vt = sigma * sigma
    if contrast == "absolute":
        return mt - baseline, vc + vt, vc, vt
    m2 = baseline * baseline
    return (mt - baseline) / abs(baseline), vt / m2 + vc * mt * mt / (m2 * m2), vc, vt


def seq_critical(n_per_arm, alpha_design, alpha, tuning):
    """Confidence-sequence half-width in standard errors (Howard et al. 2021)."""
    total = 2 * n_per_arm
    nstar = tuning if tuning else total
    l = -2 * math.log(alpha_design)
    rho2 = (l + math.log(l + 1)) / nstar
    x = total * rho2
    return math.sqrt(2 * (x + 1) / x * math.log(math.sqrt(x + 1) / alpha))


def power(c, effect, n):
    value, v, vc, vt = unit_variance(c["kind"], c.get("baseline", 0), c.get("sigma", 0), c["scale"],
                                     c.get("contrast", "absolute"), effect)
    ncp = value / math.sqrt(v / n)
    arms = c.get("arms", 2)
    alpha = c.get("alpha", 0.05)
    a = alpha / (arms - 1) if c.get("correction", "bonferroni") == "bonferroni" else alpha
    sides = c.get("sides", "two-sided")
    tail = a if sides != "two-sided" else a / 2
    if c.get("method") == "sequential":
        crit = seq_critical(n, alpha, a, c.get("tuning", 0))
        dist = stats.norm()
    elif c.get("test") == "t":
        df = (vc / n + vt / n) ** 2 / ((vc / n) ** 2 / (n - 1) + (vt / n) ** 2 / (n - 1))
        crit = stats.t.isf(tail, df)
        dist = stats.nct(df, ncp)
        ncp = 0  # the location is in dist
    else:
        crit = stats.norm.isf(tail)
        dist = stats.norm()
    up = dist.sf(crit - ncp)
    down = dist.cdf(-crit - ncp)
    if sides == "greater":
        return up
    if sides == "less":
        return down
    return up + down


def sample_size(c):
    target = c.get("power", 0.8)
    return brentq(lambda n: power(c, c["effect"], n) - target, 2, 1e7, xtol=1e-10, rtol=1e-14)


def mde(c):
    target = c.get("power", 0.8)
    hi = (1 - c["baseline"]) * (1 - 1e-9) if c["kind"] == "binomial" else 100 * c["sigma"]
    if c["kind"] == "binomial" and c["scale"] == "relative":
        hi /= c["baseline"]
    return brentq(lambda e: power(c, e, c["n"]) - target, 1e-12, hi, xtol=1e-14, rtol=1e-14)


cases = [
    dict(name="means, sigma 1, absolute 0.1, z", kind="mean", sigma=1, scale="absolute", effect=0.1, question="sample_size"),
    dict(name="10% to 11% absolute, z", kind="binomial", baseline=0.1, scale="absolute", effect=0.01, question="sample_size"),
    dict(name="10% +10% relative, difference test, z", kind="binomial", baseline=0.1, scale="relative", effect=0.1, question="sample_size"),
    dict(name="10% +10% relative, relative test (delta method), z", kind="binomial", baseline=0.1, scale="relative", contrast="relative", effect=0.1, question="sample_size"),
    dict(name="mean 10, sigma 4, +5% relative, relative test, z", kind="mean", baseline=10, sigma=4, scale="relative", contrast="relative", effect=0.05, question="sample_size"),
    dict(name="mean 10, sigma 4, -5% relative, relative test, z", kind="mean", baseline=10, sigma=4, scale="relative", contrast="relative", effect=-0.05, question="sample_size"),
    dict(name="mean 10, sigma 4, +0.5 absolute, relative test, z", kind="mean", baseline=10, sigma=4, scale="absolute", contrast="relative", effect=0.5, question="sample_size"),
    dict(name="mean 10, sigma 4, +5% relative, difference test, z", kind="mean", baseline=10, sigma=4, scale="relative", effect=0.05, question="sample_size"),
    dict(name="means, sigma 1, absolute 1, exact t", kind="mean", sigma=1, scale="absolute", effect=1, test="t", question="sample_size"),
    dict(name="means, sigma 2, absolute 0.5, exact t, alpha 0.01, power 0.9", kind="mean", sigma=2, scale="absolute", effect=0.5, test="t", alpha=0.01, power=0.9, question="sample_size"),
    dict(name="30% to 50% absolute, exact t with Welch df", kind="binomial", baseline=0.3, scale="absolute", effect=0.2, test="t", question="sample_size"),
    dict(name="four arms, Bonferroni over 3 comparisons, means sigma 1 absolute 0.1", kind="mean", sigma=1, scale="absolute", effect=0.1, arms=4, question="sample_size"),
    dict(name="four arms without correction", kind="mean", sigma=1, scale="absolute", effect=0.1, arms=4, correction="none", question="sample_size"),
    dict(name="one-sided greater, means sigma 1 absolute 0.1", kind="mean", sigma=1, scale="absolute", effect=0.1, sides="greater", question="sample_size"),
    dict(name="sequential, tuned at the planned size, means sigma 1 absolute 0.1", kind="mean", sigma=1, scale="absolute", effect=0.1, method="sequential", question="sample_size"),
    dict(name="sequential, tuning 5000, 5% +10% relative, relative test", kind="binomial", baseline=0.05, scale="relative", contrast="relative", effect=0.1, method="sequential", tuning=5000, question="sample_size"),
    dict(name="sequential, three arms, Bonferroni", kind="mean", sigma=1, scale="absolute", effect=0.1, arms=3, method="sequential", question="sample_size"),
    dict(name="power of 5% +10% relative with 20000 per arm, z", kind="binomial", baseline=0.05, scale="relative", effect=0.1, n=20000, question="power"),
    dict(name="power of 5% +10% relative with 20000 per arm, relative test, z", kind="binomial", baseline=0.05, scale="relative", contrast="relative", effect=0.1, n=20000, question="power"),
    dict(name="power of means d=1 with 10 per arm, exact t", kind="mean", sigma=1, scale="absolute", effect=1, n=10, test="t", question="power"),
    dict(name="power of a null effect is alpha, z", kind="mean", sigma=1, scale="absolute", effect=0, n=100, question="power"),
    dict(name="power of a tiny effect counts both tails, z", kind="mean", sigma=1, scale="absolute", effect=0.01, n=100, question="power"),
    dict(name="power of means sigma 1 absolute 0.1 with 1000 per arm, sequential", kind="mean", sigma=1, scale="absolute", effect=0.1, n=1000, method="sequential", question="power"),
    dict(name="mde of means sigma 1 with 1570 per arm, z", kind="mean", sigma=1, scale="absolute", n=1570, question="mde"),
    dict(name="mde of 5% relative with 31231 per arm, z", kind="binomial", baseline=0.05, scale="relative", n=31231, question="mde"),
    dict(name="mde of 5% absolute with 31231 per arm, z", kind="binomial", baseline=0.05, scale="absolute", n=31231, question="mde"),
    dict(name="mde of mean 10 sigma 4 relative with 5000 per arm, relative test, z", kind="mean", baseline=10, sigma=4, scale="relative", contrast="relative", n=5000, question="mde"),
    dict(name="mde of 20% relative with 500 per arm, relative test, exact t", kind="binomial", baseline=0.2, scale="relative", contrast="relative", n=500, test="t", question="mde"),
    dict(name="mde of means sigma 1 with 12 per arm, exact t", kind="mean", sigma=1, scale="absolute", n=12, test="t", question="mde"),
]

for c in cases:
    q = c["question"]
    if q == "sample_size":
        c["want"] = sample_size(c)
    elif q == "power":
        c["want"] = power(c, c["effect"], c["n"])
    else:
        c["want"] = mde(c)

# statsmodels cross-checks where its model is the same (equal variances,
# ratio 1, two-sided): its power at each answer must be the target (its own
# solve_power stops at about 1e-5 relative, so the root is checked instead).
# The script fails if they disagree.
norm, tt = NormalIndPower(), TTestIndPower()
sm = {
    "means, sigma 1, absolute 0.1, z": lambda w: norm.power(effect_size=0.1, nobs1=w, alpha=0.05),
    "means, sigma 1, absolute 1, exact t": lambda w: tt.power(effect_size=1, nobs1=w, alpha=0.05),
    "means, sigma 2, absolute 0.5, exact t, alpha 0.01, power 0.9": lambda w: tt.power(effect_size=0.25, nobs1=w, alpha=0.01),
    "power of means d=1 with 10 per arm, exact t": lambda w: tt.power(effect_size=1, nobs1=10, alpha=0.05) - w + 0.8,
    "four arms, Bonferroni over 3 comparisons, means sigma 1 absolute 0.1": lambda w: norm.power(effect_size=0.1, nobs1=w, alpha=0.05 / 3),
    "mde of means sigma 1 with 1570 per arm, z": lambda w: norm.power(effect_size=w, nobs1=1570, alpha=0.05),
    "mde of means sigma 1 with 12 per arm, exact t": lambda w: tt.power(effect_size=w, nobs1=12, alpha=0.05),
}
for c in cases:
    if c["name"] in sm:
        got = float(sm[c["name"]](c["want"]))
        assert abs(got - c.get("power", 0.8)) <= 1e-9, (c["name"], got)
        c["statsmodels_checked"] = True

print(json.dumps(cases, indent=1))
