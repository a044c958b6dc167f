"""proofs_check.search: every field of a search's result against the predicate's own log of calls (issue 12: the
result's positional fields, the generation/shrink split, the shrink cap and the rounds of search_condition were
not read field by field). The log is independent of hypothesis' internals: generation ends at the first failing
call, every later call is the shrink's, and the last one is find_counterexample's call on the returned example."""
from hypothesis import strategies as st

import proofs_check.search as S
from proofs_check.search import SKIP, UNDECIDED, find_counterexample, search_condition


def _fails(x):
    return x >= 137 and x % 5 == 2


def _logged(log):
    def pred(x):
        log.append(x)
        if x % 3 == 0:
            return SKIP
        if _fails(x):
            return {"x": x}
        return UNDECIDED if x % 7 == 1 else None
    return pred


def _outcome(x):
    return "skip" if x % 3 == 0 else "fail" if _fails(x) else "undecided" if x % 7 == 1 else "held"


def _superposed(x):
    return x % 2 == 0


def _expected_generation(log):
    first = next(i for i, x in enumerate(log) if _outcome(x) == "fail")
    gen = log[:first + 1]
    kinds = [_outcome(x) for x in gen]
    return first, {"tried": len(gen), "skipped": kinds.count("skip"), "held": kinds.count("held"),
                   "undecided": kinds.count("undecided"),
                   "superposed_met": sum(1 for x, k in zip(gen, kinds) if k != "skip" and _superposed(x))}


def test_a_failing_search_result_field_by_field():
    log = []
    r = find_counterexample(st.integers(0, 10_000), _logged(log), budget=60, seed=2, superposed=_superposed)
    first, gen = _expected_generation(log)
    assert r.example == log[-1] and _outcome(r.example) == "fail" and r.details == {"x": r.example} and r.found
    assert r.first_details == {"x": log[first]}
    assert (r.tried, r.skipped, r.held, r.undecided, r.superposed_met) == tuple(gen.values())
    assert r.held > 0 and r.skipped > 0 and r.undecided > 0 and r.superposed_met > 0  # every count is exercised
    assert r.shrink_calls == len(log) - (first + 1) - 1 > 0 and r.shrink_calls <= 5 * 60
    assert (r.budget, r.seed) == (60, 2) and r.met == r.tried - r.skipped
    assert r.counts() == {"met": r.tried - r.skipped, "held": gen["held"], "skipped": gen["skipped"],
                          "undecided": gen["undecided"], "failed": 1, "tried": gen["tried"],
                          "superposition_met": gen["superposed_met"]}
    assert r.summary() == (f"failure found after {gen['tried']} examples (seed 2, budget 60); "
                           f"shrunk with {len(log) - first - 2} more evaluations")


def test_a_shrink_budget_caps_the_shrink_and_the_last_failure_seen_is_returned():
    """shrink_budget = 4 (not the default 5 × budget): exactly 4 shrink calls, then the smallest failure seen so
    far (hypothesis only tries smaller candidates, so the last failing one) is the answer."""
    log = []
    r = find_counterexample(st.integers(0, 10_000), _logged(log), budget=60, seed=2, shrink_budget=4)
    first, gen = _expected_generation(log)
    assert len(log) == first + 1 + 4 + 1 and r.shrink_calls == 4
    last_failing = [x for x in log[:-1] if _outcome(x) == "fail"][-1]
    assert r.example == last_failing == log[-1] and r.details == {"x": last_failing}
    assert (r.tried, r.skipped, r.held, r.undecided, r.superposed_met) == tuple(gen.values())[:4] + (None,)


def _sum_over_100(log):
    return lambda xs: log.append(xs) or ({"s": sum(xs)} if sum(xs) > 100 else None)


def test_an_uncapped_shrink_returns_the_smallest_failure_and_the_default_cap_is_five_calls_per_unit_of_budget():
    """"sum > 100" on lists: the smallest failure is [101] (the least failing sum, one element); its shrink takes
    more than 10 calls here, so budget 2's default cap (5 × 2 = 10) stops it early at a failure that is not [101]."""
    strat = st.lists(st.integers(0, 1000), min_size=1, max_size=30)
    log = []
    full = find_counterexample(strat, _sum_over_100(log), budget=2, seed=0, shrink_budget=10**6)
    assert full.example == [101] and full.details == {"s": 101} and full.shrink_calls == len(log) - full.tried - 1 > 10
    log = []
    capped = find_counterexample(strat, _sum_over_100(log), budget=2, seed=0)
    assert capped.shrink_calls == 10 and len(log) == capped.tried + 10 + 1 and capped.tried == full.tried
    assert capped.example == log[-1] and sum(capped.example) > 101 and capped.details == {"s": sum(capped.example)}


def test_a_search_without_failure_counts_every_call_by_its_outcome():
    log = []
    pred = _logged(log)
    r = find_counterexample(st.integers(0, 136), pred, budget=40, seed=3, superposed=_superposed)
    kinds = [_outcome(x) for x in log]
    assert "fail" not in kinds and r.example is None and r.details is None and r.first_details is None
    assert (r.tried, r.skipped, r.held, r.undecided, r.shrink_calls, r.budget, r.seed) == (
        len(log), kinds.count("skip"), kinds.count("held"), kinds.count("undecided"), 0, 40, 3)
    assert r.superposed_met == sum(1 for x, k in zip(log, kinds) if k != "skip" and _superposed(x)) > 0
    assert r.held > 0 and r.skipped > 0 and r.undecided > 0


def _spied_rounds(monkeypatch):
    rounds, real = [], S.find_counterexample

    def spy(*args, **kw):
        res = real(*args, **kw)
        rounds.append((kw["budget"], kw["seed"], res))
        return res
    monkeypatch.setattr(S, "find_counterexample", spy)
    return rounds


def test_search_condition_stops_as_soon_as_exactly_min_met_examples_met_it(monkeypatch):
    rounds = _spied_rounds(monkeypatch)
    res = search_condition(st.integers(0, 1000), lambda x: None, seed=5, min_met=12)
    assert [(b, s) for b, s, _ in rounds] == [(12, 5)] and rounds[0][2].tried == 12
    assert (res.tried, res.held, res.skipped, res.budget, res.seed, res.superposed_met, res.found) == (12, 12, 0, 12, 5, None, False)


def test_search_condition_sizes_its_next_round_from_the_acceptance_of_a_one_example_round(monkeypatch):
    """st.just draws once per round, outside the condition: met 0 of 1, rate max(0, 1)/max(1, 1) = 1, so the next
    round's budget is min(20·20, max(10, ⌈1.2·20/1⌉)) = 24, seed 5 + 1000."""
    rounds = _spied_rounds(monkeypatch)
    res = search_condition(st.just(3), lambda x: SKIP, seed=5, min_met=20, max_rounds=2)
    assert [(b, s, r.tried) for b, s, r in rounds] == [(20, 5, 1), (24, 1005, 1)]
    assert (res.tried, res.skipped, res.held, res.budget, res.met) == (2, 2, 0, 2, 0)


def test_search_condition_that_fails_reports_the_last_rounds_example_and_the_summed_counts(monkeypatch):
    rounds = _spied_rounds(monkeypatch)
    log = []
    res = search_condition(st.integers(0, 10_000), _logged(log), seed=2, min_met=400, superposed=_superposed,
                           first_budget=60)
    assert len(rounds) == 1  # the first round already fails
    first, gen = _expected_generation(log)
    assert res.example == log[-1] and res.details == {"x": log[-1]} and _outcome(log[-1]) == "fail"
    assert res.first_details == {"x": log[first]}
    assert (res.tried, res.skipped, res.held, res.undecided, res.superposed_met) == tuple(gen.values())
    assert res.budget == gen["tried"] and res.seed == 2 and res.shrink_calls == len(log) - first - 2


def test_families_searched_and_their_sentence():
    assert S.families_searched(["relu", "topk"], "its statement is about ReLU") == {
        "default_space": ["relu", "topk"], "not_searched": {"gated": "its statement is about ReLU"}}
    assert S.families_searched(["relu"], False) == {"default_space": ["relu"]}
    assert S.describe_families({"default_space": ["relu", "topk"], "apart": ["gated (tied and untied), searched apart"],
                                "not_searched": {"gated": "why"}}) == (
        "relu, topk; gated (tied and untied), searched apart; gated not searched: why")
    assert S.describe_families({"apart": ["x"]}) == "x"
