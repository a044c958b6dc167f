"""Table 1's markdown, every line written out by hand from hand-made C10 / C11 numbers (issue 12, part 5: the
fifth session's seed-53 sample of table1's mutants changed cells no test read — M_IP, L0, EV, the header — and the
table without C11). The paper's numbers are those of /work/shared/REFERENCE_RESULTS.md (TopK SAE: 84.90 %, 0.983;
+FA 87.63 %, 0.986)."""
from proofs_check.table1 import table1_markdown

SELECTED = {"setting": {"k": 1}, "converged": True, "l0": 1.234, "explained_variance": 0.8766,
            "m_gt_encoder": 0.2, "m_gt_decoder": 0.5, "m_ip_encoder": 0.7123, "m_ip_decoder": 0.8456}
BEST = {"setting": {"k": 4, "lr": 0.001}, "converged": True, "l0": 4.0, "explained_variance": 0.95,
        "m_gt_encoder": 0.9, "m_gt_decoder": 0.6, "m_ip_encoder": 0.9, "m_ip_decoder": 0.8}
UNCONVERGED = {"setting": {"l1_coeff": 1.0}, "converged": False, "l0": 9.0, "explained_variance": 0.1,
               "m_gt_encoder": 1.0, "m_gt_decoder": 1.0, "m_ip_encoder": 1.0, "m_ip_decoder": 1.0}


def _c10(reached):
    return {"size": "micro", "tau": 0.95,
            "spec": {"data": {"n_features": 12, "d_in": 10, "n_samples": 99, "interference": 0.3, "p_active": 0.1,
                              "seed": 4}, "train": {"n_latents": 24}, "convergence": {"eps": 0.02}},
            "instance": {"reached_interference": reached, "target_l0": 1.2, "random_baseline": {"mip": 0.6}},
            "methods": {"topk_sae": {"sweep": [SELECTED, BEST], "selected": SELECTED},
                        "my_sae": {"sweep": [UNCONVERGED], "selected": None}}}


C11 = {"comparisons": {"topk_sae": {"pairs_used": 2, "pairs_total": 3, "per_reading": {
    "encoder": {"m_gt_without": [0.2, 0.4], "m_gt_with": [0.5, 0.7], "ci95": [0.1, 0.5]}}}}}

HEAD = [
    "# Table 1 as `sdl-theory verify C10 C11` measures it (bench size `micro`)", "",
    None,   # the instance line, per test
    "",
    "M_GT: fraction of the true features with a latent at |cos| ≥ τ; M_IP: mean max |cos|. enc = encoder rows vs W_p "
    "(the paper's reading), dec = decoder atoms vs W_r. *selected*: the ground-truth-blind rule's setting; *best*: the "
    "converged run with the highest M_GT (an oracle's choice). +FA: C11's paired seeds at the selected setting, "
    "non-anchored features, mean without → with anchors.", "",
    "| method | runs converged | selected setting | M_GT enc / dec | M_IP enc / dec | L0 | EV | best setting | best M_GT "
    "enc / dec | +FA M_GT enc | +FA M_GT dec | paper M_GT / M_IP | paper +FA M_GT / M_IP |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",   # 13 columns
]
TAIL = ["", "Every sweep run (setting, converged, steps, L0, EV, both readings) is in `report.json` under C10's "
            "`numbers.methods`; the paired runs under C11's `numbers.pairs`."]


def _expected(instance_line, fa_enc):
    head = list(HEAD)
    head[2] = instance_line
    rows = [f"| topk_sae | 2/2 | k=1 | 20.0% / 50.0% | 0.712 / 0.846 | 1.23 | 0.877 | k=4, lr=0.001 | 90.0% / 60.0% | "
            f"{fa_enc} | — | 84.90% / 0.983 | 87.63% / 0.986 |",
            "| my_sae | 0/1 | — | — | — | — | — | — | — | — | — | — | — |"]
    return "\n".join(head + rows + TAIL) + "\n"


def test_table1_markdown_with_c11_line_by_line():
    """Selected run k=1 (M_GT 20 % / 50 %, M_IP 0.712 / 0.846, L0 1.23, EV 0.877); best converged run k=4 (90 % enc);
    the unconverged method has a row of dashes; +FA encoder: means 30 % → 60 %, CI [+10, +50] points."""
    got = table1_markdown(_c10({"W_p": 0.3}), C11)
    line = ("n = 12, n_p = 10, n_q = 24, samples = 99, M = 0.3 (reached W_p 0.3000), p_active = 0.1, true mean active "
            "count 1.2, τ = 0.95, seed 4. Random dictionary: M_IP 0.600. Convergence: {'eps': 0.02}.")
    assert got.splitlines() == _expected(line, "30.0% → 60.0% (Δ CI [+10.0, +50.0] pts; 2 pairs)").splitlines()
    assert got == _expected(line, "30.0% → 60.0% (Δ CI [+10.0, +50.0] pts; 2 pairs)")


def test_table1_markdown_without_c11_and_with_one_reached_interference():
    got = table1_markdown(_c10(0.25))
    line = ("n = 12, n_p = 10, n_q = 24, samples = 99, M = 0.3 (reached 0.2500), p_active = 0.1, true mean active "
            "count 1.2, τ = 0.95, seed 4. Random dictionary: M_IP 0.600. Convergence: {'eps': 0.02}.")
    assert got.splitlines() == _expected(line, "—").splitlines()
