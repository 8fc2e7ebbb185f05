"""One-to-one assignment maximising a summed weight (the Hungarian algorithm).

Small and dependency-free: the project does not otherwise need scipy.
"""

from __future__ import annotations

from collections.abc import Sequence


def max_weight_assignment(weights: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """Row-column pairs of a one-to-one assignment maximising the summed (non-negative)
    weights (Hungarian algorithm, O(n^2 m)); pairs of weight 0 are left out."""
    n = len(weights)
    m = len(weights[0]) if n else 0
    if not n or not m:
        return []
    transpose = n > m  # the algorithm below wants rows <= columns
    w = [list(col) for col in zip(*weights)] if transpose else [list(r) for r in weights]
    n, m = len(w), len(w[0])
    top = max(max(r) for r in w)
    cost = [[top - x for x in r] for r in w]  # maximise weight = minimise cost
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    row_of = [0] * (m + 1)  # column j (1-based) -> row (1-based), 0 = free
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        row_of[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while row_of[j0]:
            used[j0] = True
            i0, delta, j1 = row_of[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[row_of[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
        while j0:
            j1 = way[j0]
            row_of[j0] = row_of[j1]
            j0 = j1
    pairs = [(row_of[j] - 1, j - 1) for j in range(1, m + 1)
             if row_of[j] and w[row_of[j] - 1][j - 1] > 0]
    pairs = [(c, r) for r, c in pairs] if transpose else pairs
    return sorted(pairs)
