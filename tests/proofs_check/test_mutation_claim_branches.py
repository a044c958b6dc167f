"""Branches of proofs_check/ no other test executed (a coverage run of the suite, issue 12 part 5), each on a
small input, checked against values computed here by hand or by a different enumeration."""
import dataclasses
import math

import numpy as np
import pytest
import scipy.stats  # noqa: F401  imported here, once: the functions below import it (and numerics.recovery) lazily
import numerics.recovery  # noqa: F401

from proofs_check import bench_recovery as B
from proofs_check import c10_recovery as c10
from proofs_check import c11_anchoring as c11
from proofs_check import c6_spurious_minima as c6
from proofs_check import table1


def _set_partitions(items):
    """Every set partition of ``items`` (a different enumeration: insert the first item into each block of
    every partition of the rest, or give it a block of its own)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _set_partitions(rest):
        for i in range(len(p)):
            yield p[:i] + [{first} | p[i]] + p[i + 1:]
        yield [{first}] + p


@pytest.mark.parametrize("n,n_q", [(2, 2), (3, 3), (4, 4), (4, 2), (3, 1), (5, 3)])
def test_c6_canonical_partitions_are_every_polysemantic_partition_once(n, n_q):
    got = list(c6._canonical_partitions(n, n_q))
    want = {frozenset(frozenset(b) for b in p) for p in _set_partitions(list(range(n)))
            if len(p) <= n_q and max(map(len, p)) >= 2}
    assert len(got) == len(want)
    assert {frozenset(frozenset(b) for b in p if b) for p in got} == want
    for p in got:   # n_q neurons, blocks in the order of their first feature, then the empty neurons
        assert len(p) == n_q
        blocks = [b for b in p if b]
        assert p[:len(blocks)] == blocks and [min(b) for b in blocks] == sorted(min(b) for b in blocks)
    # Bell numbers minus the all-singletons partition: B3 − 1 = 4, B4 − 1 = 14; Stirling numbers S(4, ≤2) = 1 + 7,
    # S(5, ≤3) = 1 + 15 + 25
    assert {(2, 2): 1, (3, 3): 4, (4, 4): 14, (4, 2): 8, (3, 1): 1, (5, 3): 1 + 15 + 25}[(n, n_q)] == len(got)


def test_c10_and_c11_hypotheses_on_bench_specs():
    micro = B.spec_for("micro")
    assert c10.hypotheses(micro) == [] and c11.hypotheses(micro) == []   # 0.1 · 12 rounds to 1 anchor
    tc = dataclasses.replace(micro, data={**micro.data, "kind": "transcoder"})
    assert c10.hypotheses(tc) == ["C10 is about SAEs; the bench kind is 'transcoder'"]
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=0.04)) == [
        "anchoring needs at least one anchor (anchor_frac · n ≥ 1)"]      # 0.48 rounds to 0
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=1.0)) == ["some features must stay non-anchored"]
    assert c11.hypotheses(dataclasses.replace(micro, anchor_frac=11 / 12)) == []
    with pytest.raises(Exception) as info:
        B.spec_for("huge")
    assert str(info.value) == "unknown bench size 'huge'; choose one of micro, tiny, small, scaled, paper"
    with pytest.raises(Exception) as info:
        B.resolve_size("C10", "huge", {})
    assert str(info.value) == "C10: the instance is a bench size, one of micro, tiny, small, scaled, paper; got 'huge'"
    assert B.resolve_size("C11", micro, {}) == "micro" and B.resolve_size("C10", "tiny", {}) == "tiny"


def test_bench_spec_seed_and_json():
    micro = B.spec_for("micro")
    s = B.with_seed(micro, 7)
    assert s.data["seed"] == 7 and micro.data["seed"] == 0 and s.train == micro.train
    j = micro.to_json()
    assert set(j) == {f.name for f in dataclasses.fields(micro)} | {"grids"}
    assert j["size"] == "micro" and j["seeds"] == 2 and j["data"]["n_features"] == 12
    assert set(j["grids"]) == set(micro.methods) and all(isinstance(g, list) and g for g in j["grids"].values())


def test_table1_anchoring_cell_by_hand():
    comps = {"topk_sae": {"pairs_used": 2, "pairs_total": 3, "per_reading": {
        "decoder": {"m_gt_without": [0.5, 0.7], "m_gt_with": [0.8, 0.9], "ci95": [0.05, "inf"]}}},
        "relu_sae": {"pairs_used": 0, "pairs_total": 2, "per_reading": {"decoder": {"m_gt_without": [], "m_gt_with": [],
                                                                                      "ci95": ["-inf", "inf"]}}}}
    cell = table1._fa(comps, "topk_sae", "decoder")
    # means 0.6 → 0.85; the CI in percentage points
    assert cell == f"{table1._pct(0.6)} → {table1._pct(0.85)} (Δ CI [+5.0, +inf] pts; 2 pairs)"
    assert table1._fa(comps, "relu_sae", "decoder") == "no converged pair (0/2)"
    assert table1._fa(comps, "topk_sae", "encoder") == "—" and table1._fa(comps, "jumprelu_sae", "decoder") == "—"
    assert table1._fa(None, "topk_sae", "decoder") == "—"


def test_c10_trend_parts_by_hand():
    assert c10.part_trend([{"converged": True}], "superposition", "n_features") == {
        "part": "recovery falls as superposition rises (TopK, k = target L0)", "status": "inconclusive", "rows": [],
        "why": "fewer than two instances"}
    arms = [{"n_features": 12, "converged": True}, {"n_features": 14, "converged": False}]
    assert c10.part_trend(arms, "superposition", "n_features") == {
        "part": "recovery falls as superposition rises (TopK, k = target L0)", "status": "inconclusive",
        "why": "a trend run did not converge", "rows": [{"n_features": 12, "converged": True},
                                                        {"n_features": 14, "converged": False}]}


def test_c11_t_interval_by_hand():
    m, lo, hi = c11.t_interval([0.1, 0.3])
    # mean 0.2, s = 0.1414, t_{0.975, 1} = 12.706: half-width 12.706 · 0.1414 / √2 = 1.2706
    assert m == pytest.approx(0.2) and hi - m == pytest.approx(12.7062 * 0.1, rel=1e-4) and m - lo == pytest.approx(hi - m)
    m1, lo1, hi1 = c11.t_interval([0.4])
    assert m1 == pytest.approx(0.4) and (lo1, hi1) == (-math.inf, math.inf)
    m0, lo0, hi0 = c11.t_interval([])
    assert math.isnan(m0) and (lo0, hi0) == (-math.inf, math.inf)


# --- inspect's text, JSON and inputs -------------------------------------------------------------------
from proofs_check import bridge  # noqa: E402
from theory.errors import SDLInputError  # noqa: E402
from theory.instance import Instance  # noqa: E402


def _monosemantic_plus_dead(n_dead):
    """W_E = [I; −1 …]: units 0, 1 fire on e_0, e_1 alone, every other unit is dead; W_D reads units 0, 1 only,
    so L̃ = 0 exactly."""
    W_E = np.vstack([np.eye(2), -np.ones((n_dead, 2))])
    W_D = np.hstack([np.eye(2), np.zeros((2, n_dead))])
    return W_D, W_E


@pytest.mark.parametrize("n_dead,line", [
    (11, "  dead neurons: " + ", ".join(map(str, range(2, 13)))),
    (23, "  dead neurons: " + ", ".join(map(str, range(2, 22))) + ", … (23 in all)"),
])
def test_inspect_text_of_a_wide_point_lists_its_dead_neurons_and_unmet_assumptions(n_dead, line):
    W_D, W_E = _monosemantic_plus_dead(n_dead)
    ins = bridge.inspect_point(Instance(W_p=np.eye(2)), W_D, W_E, acs=False, unmet=("an assumption",))
    text = ins.to_text().splitlines()
    assert line in text and not any(t.startswith("  P = (") for t in text)
    assert text[-1] == "unmet assumption: an assumption"
    assert ins.achieved_loss == 0.0 and ins.dead_neurons == list(range(2, 2 + n_dead))
    assert any(t.startswith("partial optimum of P: skipped (") and t.endswith("; L̃(W_D*, W_E) = 0 bounds it above")
               for t in text)
    j = ins.to_json()
    assert j["achieved_loss"] == 0.0 and j["unmet"] == ["an assumption"] and "pattern_mask" not in j
    assert j["sizes"] == {"n": 2, "n_p": 2, "n_r": 2, "n_q": 2 + n_dead}


def test_inspect_json_turns_non_finite_numbers_into_null():
    assert bridge._jsonable({1: float("inf"), "a": (np.int64(2), np.float64(-np.inf)), "b": np.array([1.0, np.nan]),
                             "c": [np.bool_(True), "x", None]}) == {"1": None, "a": [2, None], "b": [1.0, None],
                                                                    "c": [True, "x", None]}
    assert bridge._fmt(None) == "–" and bridge._fmt(0.123456) == "0.1235"


def test_stacked_feature_columns_are_inspected_with_unit_columns_and_weights_scaled_by_their_norms():
    W = 2 * np.eye(2)
    notes = []
    W_p, W_r, w = bridge._unit_features(W, W, np.array([1.0, 3.0]), notes)
    assert W_p.tolist() == np.eye(2).tolist() and W_r.tolist() == np.eye(2).tolist() and w.tolist() == [4.0, 12.0]
    assert notes == ["feature columns have norms up to 2 (stacked sources); inspected with unit columns and weights "
                     "M_d·||w^d||² (exact for positively homogeneous σ)"]
    same = []
    assert bridge._unit_features(np.eye(2), np.eye(2), np.ones(2), same)[2].tolist() == [1.0, 1.0] and same == []
    with pytest.raises(SDLInputError) as info:
        bridge._unit_features(W, 3 * np.eye(2), np.ones(2), [])
    assert str(info.value) == ("feature columns are not unit-norm and W_p, W_r norms differ; normalise them before "
                               "inspecting")


def test_instance_files_and_checkpoints_that_cannot_be_read_are_one_clear_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(bad)
    assert str(info.value).startswith(f"{bad} is not a valid instance file (JSON with W_p, optional W_r and weights): ")
    nokey = tmp_path / "nokey.json"
    nokey.write_text('{"W_r": [[1.0]]}')
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(nokey)
    assert str(info.value) == f"{nokey} is not a valid instance file (JSON with W_p, optional W_r and weights): 'W_p'"
    flat = tmp_path / "flat.json"
    flat.write_text('{"W_p": [1.0, 0.0]}')
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(flat)
    assert str(info.value) == f"{flat}: W_p must be a 2-d array (n_p × n), got shape (2,)"
    good = tmp_path / "good.json"
    good.write_text('{"W_p": [[1.0, 0.0], [0.0, 1.0]], "weights": [1.0, 2.0]}')
    W_p, W_r, w, how = bridge._read_instance_file(good)
    assert W_p.tolist() == [[1.0, 0.0], [0.0, 1.0]] and W_r is None and w.tolist() == [1.0, 2.0]
    assert how == f"instance file {good}"
    missing = tmp_path / "nowhere"
    with pytest.raises(SDLInputError) as info:
        bridge.load_checkpoint_instance(missing)
    assert str(info.value) == (f"checkpoint {missing} does not exist; pass a directory with cfg.json and model.safetensors "
                               "(or a SAELens, sparsify or dictionary_learning checkpoint)")
