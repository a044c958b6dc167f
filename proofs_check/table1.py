"""The paper's Table 1 as C10 and C11 measure it: ``table1.md`` beside ``report.md`` (``sdl-theory verify``).

One row per method swept by C10, read from the verdicts' ``numbers`` (nothing is recomputed here):

* **selected**: the setting the ground-truth-blind rule picked (converged run with L0 closest to the true mean
  active count), its M_GT at τ and M_IP in both readings — encoder rows against ``W_p`` (the paper's metric, on
  ``W_Eᵀ``) and decoder atoms against ``W_r`` — with its L0 and explained variance;
* **best**: the converged run of the sweep with the highest M_GT (in either reading; ties: the higher sum over both
  readings, then the encoder's M_IP), which an oracle that looks at the ground truth would pick: an upper end of
  what the method recovers in the swept range;
* **+FA**: C11's paired seeds at the selected setting, mean M_GT without → with anchors (non-anchored features
  only) and the paired change's 95% interval, per reading;
* the paper's numbers (:func:`theory.registry.paper_table`, n = 1000, n_p = 768, n_q = 16000).

A method none of whose runs converged has no selected row (``—``): an unconverged number is not its result.
"""
from __future__ import annotations

from theory import registry


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def _num(x, fmt=".3f") -> str:
    return "—" if x is None else format(x, fmt)


def _setting(s) -> str:
    return "—" if s is None else ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items())


def best_run(sweep: list[dict]) -> dict | None:
    """The converged run with the highest M_GT in either reading (ties: the higher sum over both readings, then
    the higher M_IP of the encoder)."""
    ok = [r for r in sweep if r["converged"]]
    if not ok:
        return None
    return max(ok, key=lambda r: (max(r["m_gt_encoder"], r["m_gt_decoder"]), r["m_gt_encoder"] + r["m_gt_decoder"],
                                  r["m_ip_encoder"]))


def _fa(comparisons: dict | None, method: str, reading: str) -> str:
    c = (comparisons or {}).get(method)
    if not c or reading not in c.get("per_reading", {}):
        return "—"
    pr = c["per_reading"][reading]
    if not pr["m_gt_with"]:
        return f"no converged pair ({c['pairs_used']}/{c['pairs_total']})"
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    lo, hi = (float(v) for v in pr["ci95"])   # ±inf (as "inf" in report.json) with fewer than two pairs
    return (f"{_pct(mean(pr['m_gt_without']))} → {_pct(mean(pr['m_gt_with']))} (Δ CI [{100 * lo:+.1f}, "
            f"{100 * hi:+.1f}] pts; {c['pairs_used']} pairs)")


def _reached(r) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in r.items()) if isinstance(r, dict) else f"{r:.4f}"


def table1_markdown(c10: dict, c11: dict | None = None) -> str:
    """Markdown of Table 1 from C10's (and C11's) verdict ``numbers``."""
    spec, inst = c10["spec"], c10["instance"]
    d, t = spec["data"], spec["train"]
    paper = registry.paper_table()
    comps = None if c11 is None else c11.get("comparisons")
    lines = [f"# Table 1 as `sdl-theory verify C10 C11` measures it (bench size `{c10['size']}`)", "",
             f"n = {d['n_features']}, n_p = {d['d_in']}, n_q = {t['n_latents']}, samples = {d['n_samples']}, "
             f"M = {d['interference']} (reached {_reached(inst['reached_interference'])}), p_active = {d['p_active']}, "
             f"true mean active count {inst['target_l0']:.3g}, τ = {c10['tau']}, seed {d['seed']}. "
             f"Random dictionary: M_IP {inst['random_baseline']['mip']:.3f}. Convergence: {spec['convergence']}.",
             "",
             "M_GT: fraction of the true features with a latent at |cos| ≥ τ; M_IP: mean max |cos|. enc = encoder rows vs "
             "W_p (the paper's reading), dec = decoder atoms vs W_r. *selected*: the ground-truth-blind rule's setting; "
             "*best*: the converged run with the highest M_GT (an oracle's choice). +FA: C11's paired seeds at the "
             "selected setting, non-anchored features, mean without → with anchors.", "",
             "| method | runs converged | selected setting | M_GT enc / dec | M_IP enc / dec | L0 | EV | best setting | "
             "best M_GT enc / dec | +FA M_GT enc | +FA M_GT dec | paper M_GT / M_IP | paper +FA M_GT / M_IP |",
             "|" + "---|" * 13]
    for name, m in c10["methods"].items():
        sweep, sel = m["sweep"], m["selected"]
        best = best_run(sweep)
        p = paper.get(name)
        conv = sum(r["converged"] for r in sweep)
        row = [name, f"{conv}/{len(sweep)}", _setting(None if sel is None else sel["setting"]),
               "—" if sel is None else f"{_pct(sel['m_gt_encoder'])} / {_pct(sel['m_gt_decoder'])}",
               "—" if sel is None else f"{_num(sel['m_ip_encoder'])} / {_num(sel['m_ip_decoder'])}",
               "—" if sel is None else _num(sel["l0"], ".2f"), "—" if sel is None else _num(sel["explained_variance"]),
               _setting(None if best is None else best["setting"]),
               "—" if best is None else f"{_pct(best['m_gt_encoder'])} / {_pct(best['m_gt_decoder'])}",
               _fa(comps, name, "encoder"), _fa(comps, name, "decoder"),
               "—" if p is None else f"{p[0]:.2f}% / {p[1]:.3f}", "—" if p is None else f"{p[2]:.2f}% / {p[3]:.3f}"]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Every sweep run (setting, converged, steps, L0, EV, both readings) is in `report.json` under "
              "C10's `numbers.methods`; the paired runs under C11's `numbers.pairs`."]
    return "\n".join(lines) + "\n"


__all__ = ["table1_markdown", "best_run"]
