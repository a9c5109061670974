from hypothesis import given
from hypothesis import strategies as st

from tendero.core.apportion import largest_remainders


def test_shares_round_down_and_the_largest_remainders_get_the_rest() -> None:
    assert largest_remainders([1, 1, 1], 10) == [4, 3, 3]
    assert largest_remainders([0.5, 0.3, 0.2], 7) == [4, 2, 1]
    assert largest_remainders([0, 0], 5) == [0, 0]
    assert largest_remainders([1, 2], 0) == [0, 0]
    assert largest_remainders([], 3) == []


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50),
    st.integers(min_value=0, max_value=10**7),
)
def test_the_counts_add_up_and_stay_within_one_of_the_exact_share(
    weights: list[float], total: int
) -> None:
    counts = largest_remainders(weights, total)
    weight_sum = sum(weights)
    if not weight_sum or not total:
        assert counts == [0] * len(weights)
        return
    assert sum(counts) == total
    for weight, count in zip(weights, counts, strict=True):
        assert abs(count - weight * total / weight_sum) < 1 + 1e-6 * total
