"""proofs_check.search: deterministic search that shrinks a failure to a minimal example."""
from hypothesis import strategies as st

from proofs_check.search import SKIP, find_counterexample


def _claim_all_below_10(x):
    if x % 7 == 0:
        return SKIP
    return {"x": x} if x >= 10 else None


def test_finds_and_shrinks_to_minimal_failure():
    r = find_counterexample(st.integers(0, 10_000), _claim_all_below_10, budget=50, seed=1)
    assert r.found
    assert r.example == 10 and r.details == {"x": 10}


def test_true_claim_reports_no_failure_and_counts():
    r = find_counterexample(st.integers(0, 9), _claim_all_below_10, budget=30, seed=1)
    assert not r.found and r.details is None
    assert r.tried >= 1 and r.held + r.skipped == r.tried
    assert "no failure" in r.summary()


def test_same_seed_same_search():
    pred = lambda xs: {"sum": sum(xs)} if sum(xs) > 50 else None  # noqa: E731
    strat = st.lists(st.integers(0, 30), max_size=6)
    a = find_counterexample(strat, pred, budget=40, seed=3)
    b = find_counterexample(strat, pred, budget=40, seed=3)
    assert (a.example, a.tried, a.shrink_calls) == (b.example, b.tried, b.shrink_calls)


def test_shrink_cap_returns_smallest_failure_so_far():
    calls = []

    def pred(xs):
        calls.append(1)
        return {"n": len(xs)} if sum(xs) > 100 else None

    r = find_counterexample(st.lists(st.integers(0, 1000), min_size=1, max_size=30), pred, budget=50, seed=0, shrink_budget=3)
    assert r.found and sum(r.example) > 100 and r.shrink_calls <= 3


def test_search_condition_sizes_more_rounds_until_enough_examples_meet_it():
    """Half the draws are outside the condition (odd numbers): 10 draws meet it ~5 times, so further rounds are
    sized from that acceptance until at least 20 have met it; the counts are the rounds' sums."""
    from proofs_check.search import search_condition

    res = search_condition(st.integers(0, 1000), lambda x: SKIP if x % 2 else None, seed=0, min_met=20, first_budget=10)
    assert not res.found and res.met >= 20 and res.held == res.met and res.tried > 10
    assert res.skipped == res.tried - res.met > 0
