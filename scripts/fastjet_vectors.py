#!/usr/bin/env python3
"""Writes FastJet merge histories for random events, the test vectors of host/src/kt.rs.

Run through scripts/fastjet_vectors.sh, which makes the project-local venv .venv-fastjet/ and
installs `fastjet` (FastJet's own C++ library, wrapped) from PyPI. For every event, algorithm
(kt, C/A, anti-kt) and radius it records, from FastJet itself:

- `merges`: [a, b, d_ij] per pairwise merge, in FastJet's order, with jet indices as in
  ClusterSequence::jets() (leaves 0..N-1, merge k makes jet N+k) and a < b;
- `beam_d`: d_iB of each beam recombination, in order;
- `inclusive`: the leaf sets of the inclusive jets (sorted).

Events mix generic random particles with ones built to tie exactly: duplicated particles,
integer momenta at equal |p| on symmetric points, particles either side of phi = 0 / 2pi, and
particles with pT = 0 or pT -> 0. All floats are written with repr, so they round-trip exactly.
"""
import json
import math
import random
import sys

import fastjet._swig as fj

ALGOS = {"kt": fj.kt_algorithm, "ca": fj.cambridge_algorithm, "antikt": fj.antikt_algorithm}
RADII = [0.4, 1.0, 1000.0]


def ptyphim(pt, y, phi, m):
    mt = math.sqrt(pt * pt + m * m)
    return [mt * math.cosh(y), pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y)]


def random_event(rng, n):
    return [
        ptyphim(rng.expovariate(0.1), rng.uniform(-2.5, 2.5), rng.uniform(0, 2 * math.pi), rng.choice([0.0, rng.uniform(0, 4)]))
        for _ in range(n)
    ]


def collimated_event(rng, n):
    # A jet-like cluster around (y, phi) = (0.66, pi/4), like a Ginkgo jet.
    return [
        ptyphim(rng.expovariate(0.05), 0.66 + rng.gauss(0, 0.2), math.pi / 4 + rng.gauss(0, 0.2), rng.uniform(1, 4))
        for _ in range(n)
    ]


def tie_event(rng, n):
    # Integer momenta of equal |p| (pz = 0) at symmetric points, some duplicated: exact ties in
    # both the distances and the kt scales.
    base = [[5.0, 3.0, 4.0, 0.0], [5.0, 4.0, 3.0, 0.0], [5.0, -3.0, 4.0, 0.0], [5.0, 3.0, -4.0, 0.0],
            [5.0, 5.0, 0.0, 0.0], [5.0, 0.0, 5.0, 0.0], [5.0, -5.0, 0.0, 0.0], [5.0, 0.0, -5.0, 0.0],
            [10.0, 6.0, 8.0, 0.0], [10.0, 8.0, 6.0, 0.0], [13.0, 5.0, 12.0, 0.0], [13.0, 12.0, 5.0, 0.0]]
    return [list(rng.choice(base)) for _ in range(n)]


def wrap_event(rng, n):
    # Particles either side of phi = 0 = 2 pi.
    return [ptyphim(rng.uniform(1, 50), rng.uniform(-0.5, 0.5), rng.choice([rng.uniform(0, 0.3), rng.uniform(2 * math.pi - 0.3, 2 * math.pi)]), 0.0) for _ in range(n)]


def soft_event(rng, n):
    # Ordinary particles plus pT = 0 (along the beam, at rest) and pT -> 0 ones.
    ev = random_event(rng, max(1, n - 3))
    ev += [[3.0, 0.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0], ptyphim(1e-10, 0.3, 1.0, 0.0)][: n - len(ev)]
    return ev


def history(particles, algo, radius):
    pj = []
    for i, p in enumerate(particles):
        q = fj.PseudoJet(p[1], p[2], p[3], p[0])
        q.set_user_index(i)
        pj.append(q)
    cs = fj.ClusterSequence(pj, fj.JetDefinition(ALGOS[algo], radius))
    # For N < 30 FastJet's Best strategy is N2Plain; the Rust code reproduces that one.
    assert cs.strategy_string() == "N2Plain", cs.strategy_string()
    n = len(particles)
    jets = cs.jets()
    leafsets = [frozenset(c.user_index() for c in j.constituents()) for j in jets]
    active = set(range(n))
    merges, pair_steps = [], set()
    for k in range(n, len(jets)):
        parents = sorted(j for j in active if leafsets[j] < leafsets[k])
        assert len(parents) == 2 and leafsets[parents[0]] | leafsets[parents[1]] == leafsets[k]
        active -= set(parents)
        active.add(k)
        step = jets[k].cluster_hist_index() - n
        pair_steps.add(step)
        # exclusive_dmerge(m) is the d of history step n - 1 - m.
        merges.append([parents[0], parents[1], cs.exclusive_dmerge(n - 1 - step)])
    beam_d = [cs.exclusive_dmerge(n - 1 - s) for s in range(n) if s not in pair_steps]
    inclusive = sorted(sorted(c.user_index() for c in j.constituents()) for j in cs.inclusive_jets())
    return {"merges": merges, "beam_d": beam_d, "inclusive": inclusive}


def main(out):
    rng = random.Random(20260101)
    makers = [random_event, collimated_event, tie_event, wrap_event, soft_event]
    events = []
    for e in range(50):
        maker = makers[e % len(makers)]
        n = [1, 2, 3][e] if e < 3 else rng.randint(3, 29)
        parts = maker(rng, n)
        events.append({
            "kind": maker.__name__,
            "particles": parts,
            "results": [
                dict(algo=a, radius=r, **history(parts, a, r)) for a in ALGOS for r in RADII
            ],
        })
    doc = {
        "generator": "scripts/fastjet_vectors.py",
        "fastjet": fj.fastjet_version_string() if hasattr(fj, "fastjet_version_string") else "",
        "events": events,
    }
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/fastjet/vectors.json")
