"""Whole shares of a whole: `largest_remainders([1, 1, 1], 10) == [4, 3, 3]`."""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainders(weights: Sequence[float], total: int) -> list[int]:
    """`total` split in proportion to `weights` into whole numbers that add up to it
    exactly: each gets its share rounded down, the largest remainders one more
    (Hamilton's method). All zeros when the weights are all zero or `total` ≤ 0."""
    weight_sum = sum(weights)
    if not weight_sum or total <= 0:
        return [0] * len(weights)
    shares = [w * total / weight_sum for w in weights]
    counts = [int(s) for s in shares]
    left = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: shares[i] - counts[i], reverse=True)
    for i in order[:left]:
        counts[i] += 1
    return counts
