"""C10 by hand (issue 12, part 5: the fifth session's seed-53 sample of c10_recovery: ``d_ip < −0.01`` for ``<=``, the
search losing its size, a failing trend's summary losing its per-reading directions). The trend directions at their
margins: The module's docstring: M_GT "drops by at least 0.05 (or, when M_GT moves by less than
0.05, M_IP drops by at least 0.01)" — a drop or rise of exactly the margin counts. The differences below are exact in
binary floating point (x − 0 = x), so each sits exactly on its margin."""
import pytest

from proofs_check import c10_recovery as c10


def _run(gt, ip):
    return {"m_gt_decoder": gt, "m_gt_encoder": gt, "m_ip_decoder": ip, "m_ip_encoder": ip}


@pytest.mark.parametrize("first, last, want", [
    (_run(0.05, 0.5), _run(0.0, 0.5), "falls"),      # M_GT drops by exactly 0.05
    (_run(0.0, 0.5), _run(0.05, 0.5), "rises"),      # rises by exactly 0.05
    (_run(0.5, 0.01), _run(0.5, 0.0), "falls"),      # M_GT flat, M_IP drops by exactly 0.01
    (_run(0.5, 0.0), _run(0.5, 0.01), "rises"),      # M_IP rises by exactly 0.01
    (_run(0.5, 0.0), _run(0.5, 0.005), "flat"),
])
def test_a_move_of_exactly_the_margin_counts(first, last, want):
    for reading in ("decoder", "encoder"):
        assert c10._direction(first, last, reading) == want


def test_the_search_runs_the_bench_size_it_is_asked_for(monkeypatch):
    """search(size=…) decides C10 on that bench size, ``tiny`` by default (its docstring); bench_check stubbed."""
    asked = []
    monkeypatch.setattr(c10, "bench_check", lambda claim, hyp, exp, vf, spec, **kw: asked.append((spec, kw["seed"], kw["budget"])))
    c10.search(budget=8, seed=3, size="micro")
    c10.search()
    assert asked == [("micro", 3, 8), ("tiny", 0, 40)]


def _arm(gt, key, value):
    return {"method": "topk_sae", "setting": {"k": 2}, "converged": True, "steps": 500, "l0": 2.0, "explained_variance": 0.9,
            "dead_frac": 0.0, "m_gt_decoder": gt, "m_gt_encoder": gt, "m_ip_decoder": gt, "m_ip_encoder": gt, key: value}


def test_a_failing_trend_is_summarised_by_its_directions(monkeypatch):
    """The two method parts stubbed to hold; superposition 1.0 → 1.5 with M_GT 0.5 → 0.9 in both readings is a rise
    (a failure), density 0.05 → 0.15 with 0.9 → 0.5 a fall. The trend part has no failing run row, so the
    counterexample is summarised by the part's per-reading directions and carries the part's rows."""
    monkeypatch.setattr(c10, "part_topk_family", lambda m: {"part": "TopK", "status": "holds", "rows": []})
    monkeypatch.setattr(c10, "part_penalised", lambda m: {"part": "penalised", "status": "holds", "rows": []})
    monkeypatch.setattr(c10, "provenance", lambda r: {"runs": 4})
    monkeypatch.setattr(c10, "proof_steps", lambda size, seed: [])   # its steps train the bench (see test_golden_text)
    r = {"methods": {}, "spec": {"size": "micro"}, "tau": 0.95, "instance": {},
         "trend": {"superposition": [_arm(0.5, "n_over_n_p", 1.0), _arm(0.9, "n_over_n_p", 1.5)],
                   "density": [_arm(0.9, "p_active", 0.05), _arm(0.5, "p_active", 0.15)]}}
    v = c10.verdict_from(r, 3, 8, "micro")
    name = "recovery falls as superposition n/n_p rises (TopK, k = target L0)"
    assert (v.status, v.seed, v.budget) == ("fails", 3, 8)
    assert v.counterexample["summary"] == name + ": {'decoder': 'rises', 'encoder': 'rises'}"
    assert v.counterexample["part"] == name and v.counterexample["run"] is None
    assert [row["n_over_n_p"] for row in v.counterexample["rows"]] == [1.0, 1.5]
    assert [p["status"] for p in v.numbers["parts"]] == ["holds", "holds", "fails", "holds"]
    assert v.numbers["provenance"] == {"runs": 4}
