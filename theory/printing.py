"""Text, LaTeX and JSON renderings of a :class:`theory.derivation.Derivation` (C2–C8).

Printing is kept apart from the mathematics, as in SymPy: :mod:`theory.derivation` derives the
expressions and numbers, this module only lays them out. One layout, three formats: a derivation is
turned into :class:`Section` s of :class:`Line` s (a label in plain words, a plain-text formula, a
LaTeX formula and, when specialised to an instance, the numbers), which :func:`render` prints as
``text``, ``latex`` or ``json``.

>>> from theory.derivation import derive
>>> from theory.activations import JumpReLU
>>> print(render(derive(JumpReLU(theta=0.5)), "text"))  # doctest: +SKIP
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory.errors import SDLInputError

FORMATS = ("text", "latex", "json")


@dataclass(frozen=True)
class Line:
    """One derived statement: ``label`` (plain words), ``text`` and ``latex`` formulas, numbers in ``value``."""

    label: str
    text: str
    latex: str = ""
    value: object = None


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    lines: tuple[Line, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Point:
    """A parameter point to specialise at: ``W_E`` (and ``b_E``); ``W_D`` None means the least-squares decoder."""

    W_E: np.ndarray
    W_D: np.ndarray | None = None
    b_E: np.ndarray | None = None
    source: str = "given"


# ------------------------------------------------------------------------------------------------
# formula helpers
# ------------------------------------------------------------------------------------------------

# plain-text names for the matrix form's symbols (sympy names must be identifiers for lambdify)
_TEXT_NAMES = [
    (r"\bdeltaz_d\b", "δz_d"), (r"\bdeltar_d\b", "δr_d"), (r"\bDelta_D\b", "Δ_D"), (r"\bDelta_E\b", "Δ_E"),
    (r"\bDelta_b\b", "Δ_b"), (r"\bw_p\b(?![\[^])", "w_p^d"), (r"\bw_r\b(?![\[^])", "w_r^d"), (r"\.T\b", "ᵀ"),
    (r"\*\*", "^"), (r"\bw_p\^jT\b", "w_p^jᵀ"),
]


def _text(expr) -> str:
    out = sp.sstr(expr)
    for pat, rep in _TEXT_NAMES:
        out = re.sub(pat, rep, out)
    return out


def _latex_names() -> dict:
    from theory.derivation import hessian_actions

    s = hessian_actions().symbols
    return {s["w_p"]: r"w_{p}^{d}", s["w_r"]: r"w_{r}^{d}", s["deltaz"]: r"\delta z_{d}", s["deltar"]: r"\delta r_{d}",
            _vector("w_p^jT"): r"(w_{p}^{j})^{T}"}


def _latex(expr) -> str:
    return sp.latex(expr, symbol_names=_latex_names())


def _eq(label: str, lhs_text: str, lhs_latex: str, expr, rhs_text: str = "", rhs_latex: str = "", value=None) -> Line:
    text = f"{lhs_text} = {_text(expr)}" + (f" {rhs_text}" if rhs_text else "")
    latex = f"{lhs_latex} = {_latex(expr)}" + (f" {rhs_latex}" if rhs_latex else "")
    return Line(label, text, latex, value)


def _array(value) -> str:
    arr = np.asarray(value, dtype=float)
    return np.array2string(arr, precision=4, suppress_small=True, max_line_width=100).replace("\n", "\n      ")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _num(label: str, name: str, latex_name: str, value) -> Line:
    shown = _array(value) if np.ndim(value) else f"{float(value):.6g}"
    return Line(label, f"{name} = {shown}", f"{latex_name} = \\texttt{{{_tex_escape(shown)}}}", _jsonable(value))


# ------------------------------------------------------------------------------------------------
# sections
# ------------------------------------------------------------------------------------------------


def _pre_activation(bias: bool) -> tuple[str, str]:
    if bias:
        return "<w_E^i, w_p^d> + b_i", r"\langle w_E^i, w_p^d \rangle + b_i"
    return "<w_E^i, w_p^d>", r"\langle w_E^i, w_p^d \rangle"


def _setting(d) -> Section:
    act, bias = d.activation, d.encoder_bias
    z_t = "W_E w_p^d + b" if bias else "W_E w_p^d"
    lines = (
        Line("approximate objective", f"L̃(W_D, W_E) = Σ_d M_d ||w_r^d − W_D σ({z_t})||²",
             r"\tilde L(W_D, W_E) = \sum_{d=1}^{n} M_d \left\| w_r^d - W_D\, \sigma(" + ("W_E w_p^d + b" if bias else "W_E w_p^d") + r") \right\|^2"),
        Line("activation", act.describe(), "", act.to_json()),
        Line("encoder bias", "yes" if bias else "no (b = 0, the paper's setting)", "", bias),
        Line("positively homogeneous", "yes" if act.positively_homogeneous else "no", "", bool(act.positively_homogeneous)),
        Line("per-sample σ", "yes" if act.per_sample else "no (batch-dependent)", "", bool(act.per_sample)),
    )
    if act.pre_per_unit == 1:
        notes = ("Inside an activation region Ω_P every unit is on (σ(z)_i = z_i) or off (σ(z)_i = 0) for each "
                 "single-feature input, so L̃ is a polynomial there; everything below holds inside one region.",)
    else:
        notes = (f"Each unit reads {act.pre_per_unit} pre-activations (W_E stacks {act.pre_per_unit} rows per unit); inside "
                 "an activation region Ω_P each unit's output is a fixed linear function of them, σ(z_d) = C_d z_d, "
                 "so L̃ is a polynomial there; everything below holds inside one region.",)
    return Section("setting", "Setting", lines, notes)


def _region_family(d) -> Section:
    from theory.registry import family_of

    act, bias = d.activation, d.encoder_bias
    z_t, z_l = _pre_activation(bias)
    try:
        fam = family_of(act)
    except SDLInputError:  # an activation class nobody registered still derives
        fam = None
    if fam is not None and fam.region_text is not None:  # the family's own wording (declared in its file)
        lines, notes = fam.region_text(act, z_t, z_l, bias)
        lines, notes = list(lines), list(notes)
    else:  # a family without one: state its protocol, do not guess its conditions
        lines = [Line("region", f"the linear constraints of {act.describe()}.region_constraints(mask) on Z[d, i] = {z_t}", "")]
        notes = []
    notes.append("Every condition is linear in (W_E, b): each region Ω_P is an intersection of half-spaces, "
                 "hence convex.")
    return Section("region", f"Region conditions: {act.describe()}", tuple(lines), tuple(notes))


def _matrix_section(d) -> Section:
    from theory.derivation import hessian_actions, matrix_form

    general = d.activation.pre_per_unit > 1  # C_d (units × pre-activations) instead of the diagonal S_d
    mf = matrix_form(general)
    ha = hessian_actions(general)
    s = ha.symbols
    bias = d.encoder_bias

    def in_residual_form(expr):
        from theory.derivation import in_residual_form as irf

        return irf(expr, general)

    def diag(expr):
        return expr if general else expr.xreplace({s["S"].T: s["S"]})
    half = -sp.Rational(1, 2)
    sd_t, sd_l = "Σ_d ", r"\sum_{d=1}^{n} "
    z_def = s["W_E"] * s["w_p"] + (s["b"] if bias else sp.ZeroMatrix(*s["b"].shape))
    lines = [
        _eq("pre-activations of feature d", "z_d", "z_d", z_def.doit()),
        (Line("output matrix", "C_d: σ(z_d) = C_d z_d, n_q × n_e (fixed inside the region; see the region conditions)",
              r"\sigma(z_d) = C_d z_d") if general else
         Line("selection matrix", "S_d = diag(1{unit i on for feature d}) (fixed inside the region)",
              r"S_d = \operatorname{diag}\left(\mathbb{1}\{\text{unit } i \text{ on for feature } d\}\right)")),
        _eq("residual of feature d", "r_d", "r_d", s["w_r"] - s["W_D"] * s["S"] * s["z"]),
        _eq("feature term", "ℓ_d", r"\ell_d", in_residual_form(mf.loss_term), value=None),
        Line("objective", "L̃ = Σ_d ℓ_d", r"\tilde L = \sum_{d=1}^{n} \ell_d"),
        _eq("decoder gradient", "∇_{W_D} L̃", r"\nabla_{W_D} \tilde L", in_residual_form(mf.grad_D)),
        _eq("encoder gradient", "∇_{W_E} L̃", r"\nabla_{W_E} \tilde L", in_residual_form(mf.grad_E)),
    ]
    lines = [_summed(ln) if ln.label.endswith("gradient") else ln for ln in lines]
    if bias:
        lines.append(_summed(_eq("bias gradient", "∇_b L̃", r"\nabla_b \tilde L", in_residual_form(mf.grad_b))))
    stat = [("decoder stationarity", mf.grad_D), ("encoder stationarity", mf.grad_E)] + ([("bias stationarity", mf.grad_b)] if bias else [])
    for label, g in stat:
        e = in_residual_form((half * g).doit())
        lines.append(Line(label, f"{sd_t}{_text(e)} = 0", f"{sd_l}{_latex(e)} = 0"))
    identity_ok = mf.decoder_gradient_identity == 0 or isinstance(mf.decoder_gradient_identity, sp.ZeroMatrix)
    lines += [
        _eq("decoder Gram matrix (feature d)", "G_d", "G_d", in_residual_form(mf.gram_G)),
        _eq("decoder right-hand side (feature d)", "B_d", "B_d", in_residual_form(mf.rhs_B)),
        Line("normal equations", "∇_{W_D} ℓ_d = 2 (W_D G_d − B_d)  ⇒  W_D G = B with G = Σ_d G_d, B = Σ_d B_d"
             + ("  [sympy: the difference simplifies to 0]" if identity_ok else "  [sympy could NOT verify this identity]"),
             r"\nabla_{W_D} \ell_d = 2 (W_D G_d - B_d) \;\Rightarrow\; W_D G = B,\; G = \sum_d G_d,\; B = \sum_d B_d",
             bool(identity_ok)),
        Line("least-squares decoder", "W_D* = B G⁺  (minimum-norm; W_D* + Y with Y G = 0 when G is singular, e.g. dead neurons)",
             r"W_D^{*} = B\, G^{+}"),
    ]
    # Hessian blocks as linear maps
    zero_b = {} if bias else {s["Delta_b"]: sp.ZeroMatrix(*s["Delta_b"].shape)}
    dz = ha.variations["z"].xreplace(zero_b).doit()
    lines += [
        _eq("first variation of z_d", "δz_d", r"\delta z_d", dz),
        _eq("first variation of r_d", "δr_d", r"\delta r_d", diag(ha.variations["r"])),
    ]
    names = "DE" + ("b" if bias else "")
    for X in names:
        e = diag(ha.compact[X])
        lines.append(_summed(_eq(f"Hessian applied to Δ, {X} block row",
                                 f"H[Δ]_{X}", f"H[\\Delta]_{{{X}}}", e)))
    for X, Y in [("D", "D"), ("D", "E"), ("E", "E")] + ([("D", "b"), ("E", "b"), ("b", "b")] if bias else []):
        lines.append(_summed(_eq(f"Hessian block {X}{Y} = D_{Y}(∇_{X} L̃)[Δ_{Y}]", f"H_{X}{Y}[Δ_{Y}]",
                                 f"H_{{{X}{Y}}}[\\Delta_{{{Y}}}]", ha.block(X, Y))))
    notes = ("Valid for any n, n_p, n_r, n_q and any pattern (sizes are symbols); sums run over the n features. "
             "Numerical Hessian blocks on row-major vec(W_D), vec(W_E), b: theory.derivation.hessian.",)
    return Section("matrix_form", "Matrix form (any dimension)", tuple(lines), notes)


def _summed(line: Line) -> Line:
    lhs_t, rhs_t = line.text.split(" = ", 1)
    lhs_l, rhs_l = line.latex.split(" = ", 1)
    if " + " in rhs_t or " - " in rhs_t:
        rhs_t, rhs_l = f"({rhs_t})", f"\\left({rhs_l}\\right)"
    return Line(line.label, f"{lhs_t} = Σ_d {rhs_t}", f"{lhs_l} = \\sum_{{d=1}}^{{n}} {rhs_l}", line.value)


def _vector(name: str) -> sp.Symbol:
    # non-commutative so that products keep their order (w_p^j w_p^jᵀ is a matrix, not a number)
    return sp.Symbol(name, commutative=False)


def _block_vectors(bf):
    j = bf.symbols["j"]
    m = bf.symbols["m"]
    return j, m, _vector("w_r^j"), _vector("w_p^j"), _vector("u")


def _encoder_coefficient(bf) -> sp.Expr:
    """``M_j (c_j − a_j q)`` = −½ ∂L/∂a_j, kept as a product so it reads as in the paper."""
    M_j = bf.symbols["M"][bf.symbols["j"]]
    return sp.Mul(M_j, sp.expand(-bf.encoder_stationarity / (2 * M_j)), evaluate=False)


def _block_section(d) -> Section:
    from theory.derivation import block_form, block_stationarity_at_least_squares

    bf = block_form()
    j, m, w_r, w_p, u = _block_vectors(bf)
    bias = d.encoder_bias
    z_t, z_l = _pre_activation(bias)
    if d.activation.pre_per_unit > 1:  # a Gated unit outputs its magnitude: w_E^i is its magnitude row
        z_t = z_t.replace("w_E^i", "w_mag^i").replace("b_i", "b_mag,i")
        z_l = z_l.replace("w_E^i", r"w_{mag}^i").replace("b_i", r"b_{mag,i}")
    lines = [
        Line("neuron i alone on its features F_i = {1, …, m}", f"a_d = {z_t},  u = W_D[:, i],  c_d = <u, w_r^d>,  q = ||u||²,  g_d = ||w_r^d||²",
             f"a_d = {z_l},\\; u = W_D^{{(i)}},\\; c_d = \\langle u, w_r^d \\rangle,\\; q = \\|u\\|^2,\\; g_d = \\|w_r^d\\|^2"),
        _eq("loss of the block (= Σ_d M_d ||w_r^d − a_d u||²)", "L_i", "L_i", bf.loss),
        _eq("partial derivative in a_j", "∂L_i/∂a_j", r"\partial L_i / \partial a_j", bf.dL_da),
        _eq("partial derivative in c_j", "∂L_i/∂c_j", r"\partial L_i / \partial c_j", bf.dL_dc),
        _eq("partial derivative in q", "∂L_i/∂q", r"\partial L_i / \partial q", bf.dL_dq),
        _eq("decoder-column gradient (chain rule through c_d, q)", "∇_u L_i", r"\nabla_u L_i",
            sp.Sum(bf.grad_u_coef_w * w_r, (j, 1, m)) + bf.grad_u_coef_u * u),
        _eq("encoder-row gradient", "∇_{w_E^i} L_i", r"\nabla_{w_E^i} L_i", sp.Sum(bf.grad_e_coef * w_p, (j, 1, m))),
    ]
    if bias:
        lines.append(_eq("bias derivative", "∂L_i/∂b_i", r"\partial L_i / \partial b_i", sp.Sum(bf.grad_e_coef, (j, 1, m))))
    lines += [
        _eq("Hessian in u", "∇²_u L_i", r"\nabla^2_u L_i", bf.hess_uu * sp.Symbol("I")),
        _eq("Hessian in w_E^i" + (" (with the bias: w_p^j → (w_p^j, 1))" if bias else ""), "∇²_{w_E^i} L_i", r"\nabla^2_{w_E^i} L_i",
            sp.Sum(bf.hess_ee_coef * w_p * _vector("w_p^jT"), (j, 1, m))),
        _eq("mixed block ∇_u ∇_{w_E^i}ᵀ", "∇_u∇_{w_E^i}ᵀ L_i", r"\nabla_u \nabla_{w_E^i}^T L_i",
            sp.Sum((bf.hess_ue_coef_w * w_r + bf.hess_ue_coef_u * u) * _vector("w_p^jT"), (j, 1, m))),
        _eq("least-squares decoder column", "u*", "u^{*}", sp.Sum(bf.ls_decoder * w_r, (j, 1, m))),
        Line("check: ∇_u L_i(u*) = 0", f"coefficient of w_r^j in ∇_u L_i at u* = {_text(bf.ls_decoder_check)}",
             f"[\\nabla_u L_i(u^*)]_{{w_r^j}} = {_latex(bf.ls_decoder_check)}", bf.ls_decoder_check == 0),
    ]
    enc = _encoder_coefficient(bf)
    stat_t = f"Σ_j {_text(enc)} w_p^j = 0"
    stat_l = f"\\sum_{{j=1}}^{{m}} {_latex(enc)}\\, w_p^j = 0"
    lines.append(Line("encoder stationarity", stat_t, stat_l))
    if bias:
        lines.append(Line("bias stationarity", f"Σ_j {_text(enc)} = 0", f"\\sum_{{j=1}}^{{m}} {_latex(enc)} = 0"))
    ls = block_stationarity_at_least_squares()
    lines += [
        _eq("c_j at u = u* (G_de = <w_r^d, w_r^e>)", "c_j*", "c_j^{*}", ls["c_star"]),
        _eq("q at u = u*", "q*", "q^{*}", ls["q_star"]),
        _eq("encoder stationarity coefficient of w_p^j at u = u*", "M_j (c_j* − a_j q*)", "M_j (c_j^* - a_j q^*)", ls["coefficient"]),
    ]
    notes = (
        "m is a symbol: the block form holds for any number of features per neuron and any dimension.",
        "It describes L̃ when no feature switches on two neurons (dead neurons and features on no neuron allowed; "
        "the latter add the constant M_d g_d); otherwise use the matrix form.",
        "At u = u* the encoder coefficients M_j (c_j* − a_j q*) need not vanish one by one; stationarity asks that "
        "their combination of the w_p^j vanish (C6 checks whether it does).",
    )
    return Section("block_form", "Per-neuron block form (symbolic m)", tuple(lines), notes)


def _as_pattern(d):
    from theory.patterns import ActivationPattern

    P = d.pattern
    if P is None or isinstance(P, ActivationPattern):
        return P
    sets = [set(F) for F in P]
    n = 1 + max((max(F) for F in sets if F), default=0)
    return ActivationPattern.from_sets(sets, n)


def _format_constraint(con) -> tuple[str, str]:
    def z(cell, latex=False):
        d_, i_ = cell
        return f"z_{{{d_},{i_}}}" if latex else f"z[{d_},{i_}]"

    op_t = "<" if con.strict else "<="
    op_l = "<" if con.strict else r"\le"
    terms = con.terms
    if len(terms) == 1 and abs(terms[0][1]) == 1:
        cell, coeff = terms[0]
        if coeff < 0:  # −z < rhs  <=>  z > −rhs
            flip_t, flip_l = (">" if con.strict else ">="), (">" if con.strict else r"\ge")
            return f"{z(cell)} {flip_t} {0.0 - con.rhs:g}", f"{z(cell, True)} {flip_l} {0.0 - con.rhs:g}"
        return f"{z(cell)} {op_t} {con.rhs:g}", f"{z(cell, True)} {op_l} {con.rhs:g}"
    if len(terms) == 2 and con.rhs == 0 and {c for _, c in terms} == {1.0, -1.0}:
        pos = next(c for c, v in terms if v > 0)
        neg = next(c for c, v in terms if v < 0)
        return f"{z(pos)} {op_t} {z(neg)}", f"{z(pos, True)} {op_l} {z(neg, True)}"
    t = " + ".join(f"{c:g}·{z(cell)}" for cell, c in terms)
    lt = " + ".join(f"{c:g} {z(cell, True)}" for cell, c in terms)
    return f"{t} {op_t} {con.rhs:g}", f"{lt} {op_l} {con.rhs:g}"


MAX_CONSTRAINTS = 40


def _pattern_section(d, P) -> Section:
    from theory.derivation import block_form, block_form_problem

    bf = block_form()
    j, m, w_r, w_p, u = _block_vectors(bf)
    lines = [Line("pattern P = (F_1, …, F_{n_q})", str(P), _tex_escape(str(P)), P.to_json()),
             Line("polysemantic", "yes" if P.is_polysemantic else "no", "", P.is_polysemantic),
             Line("partition of the features", "yes" if P.is_partition else f"no: {P.partition_problem()}", "", P.is_partition)]
    notes = []
    problem = block_form_problem(P)
    if problem:
        notes.append(f"Block form does not apply: {problem}.")
    dead = P.dead_neurons
    if dead:
        notes.append(f"Dead neurons {dead} (F_i = ∅): their encoder rows and decoder columns do not enter L̃ in this "
                     "region, so their gradients vanish identically and the Hessian is 0 in those coordinates; u* is 0/0 "
                     "in the block form (the minimum-norm least squares W_D* = B G⁺ gives 0): use the matrix form there.")
    summand = bf.loss.function
    d_sym = bf.symbols["d"]

    def over(expr, F):
        return expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: sp.Add(*[e.function.xreplace({e.variables[0]: f}) for f in F]))

    if not problem:
        for i, F in enumerate(P.firing):
            F = sorted(F)
            if not F:
                lines.append(Line(f"neuron {i}", f"F_{i} = ∅ (dead)", f"F_{{{i}}} = \\emptyset", {"neuron": i, "features": []}))
                continue
            loss = sp.Add(*[summand.xreplace({d_sym: f}) for f in F])
            ls = sp.Add(*[over(bf.ls_decoder, F).xreplace({j: f}) * _vector(f"w_r^{f}") for f in F])
            enc = _encoder_coefficient(bf)
            stat = sp.Add(*[enc.xreplace({j: f}) * _vector(f"w_p^{f}") for f in F])
            lines += [
                Line(f"neuron {i}", f"F_{i} = {{{', '.join(map(str, F))}}}, m = {len(F)}",
                     f"F_{{{i}}} = \\{{{', '.join(map(str, F))}\\}},\\ m = {len(F)}", {"neuron": i, "features": F}),
                _eq(f"neuron {i}: block loss (a_d, c_d, q of neuron {i})", f"L_{i}", f"L_{{{i}}}", loss),
                _eq(f"neuron {i}: least-squares decoder column", f"u_{i}*", f"u_{{{i}}}^{{*}}", ls),
                Line(f"neuron {i}: encoder stationarity", f"{_text(stat)} = 0", f"{_latex(stat)} = 0"),
            ]
    if d.instance is not None:
        from theory.patterns import region

        R = region(d.instance, P)
        if R.impossible:
            lines.append(Line("realizable", f"no: {R.impossible}", "", False))
        else:
            cons = d.instance.activation.region_constraints(P.mask)
            shown = cons[:MAX_CONSTRAINTS]
            z_t, z_l = _pre_activation(d.instance.encoder_bias)
            if d.instance.activation.pre_per_unit > 1:  # the constraints name the gate rows (the first block)
                z_t, z_l = z_t + " (row i of W_E: unit i's gate)", z_l
            lines.append(Line("region Ω_P, in the pre-activations of neuron i on feature d", f"z[d,i] = {z_t}", f"z_{{d,i}} = {z_l}"))
            for c in shown:
                t, lt = _format_constraint(c)
                lines.append(Line("region constraint", t, lt))
            if len(cons) > len(shown):
                notes.append(f"{len(cons) - len(shown)} more region constraints not shown.")
            rz = R.find_point()
            lines.append(Line("realizable (linear program)", ("yes: " if rz.realizable else "no: ") + rz.reason, "",
                              rz.to_json()))
    return Section("pattern", f"Pattern {P}", tuple(lines), tuple(notes))


def _instance_section(d) -> Section:
    inst = d.instance
    lines = [
        Line("sizes", f"n = {inst.n}, n_p = {inst.n_p}, n_r = {inst.n_r} ({'SAE' if inst.is_sae else 'transcoder'})", "",
             {"n": inst.n, "n_p": inst.n_p, "n_r": inst.n_r, "sae": inst.is_sae}),
        _num("feature weights", "M_d", "M_d", inst.weights),
        _num("input Gram entries <w_p^d, w_p^e>", "W_pᵀW_p", "W_p^T W_p", inst.W_p.T @ inst.W_p),
        _num("target Gram entries G_de = <w_r^d, w_r^e>", "W_rᵀW_r", "W_r^T W_r", inst.W_r.T @ inst.W_r),
        _num("interference max_{d≠e} <w_p^d, w_p^e>", "interference", r"\max_{d \ne e} \langle w_p^d, w_p^e \rangle", inst.interference),
    ]
    return Section("instance", "Instance", tuple(lines))


def _point_section(d, point: Point) -> Section:
    from theory.derivation import (block_form_problem, gradients, least_squares_decoder, neuron_blocks,
                                   stationarity_residual)
    from theory.objective import approx_loss
    from theory.patterns import pattern_of

    inst = d.instance
    W_E = np.asarray(point.W_E, dtype=float)
    b_E = None if point.b_E is None else np.asarray(point.b_E, dtype=float)
    W_ls = least_squares_decoder(inst, W_E, b_E)
    W_D = W_ls if point.W_D is None else np.asarray(point.W_D, dtype=float)
    P = pattern_of(inst, W_E, b_E)
    g = gradients(inst, W_D, W_E, b_E)
    lines = [
        _num(f"encoder ({point.source})", "W_E", "W_E", W_E),
    ]
    if b_E is not None:
        lines.append(_num("encoder bias", "b", "b", b_E))
    lines += [
        _num("decoder (" + ("least squares W_D* = B G⁺" if point.W_D is None else "given") + ")", "W_D", "W_D", W_D),
        _num("pre-activations z[d, i]", "Z", "Z", inst.pre_activations(W_E, b_E)),
        Line("pattern at this point", str(P), _tex_escape(str(P)), P.to_json()),
        _num("approximate loss", "L̃", r"\tilde L", approx_loss(inst, W_D, W_E, b_E)),
        _num("decoder gradient", "∇_{W_D} L̃", r"\nabla_{W_D} \tilde L", g.W_D),
        _num("encoder gradient", "∇_{W_E} L̃", r"\nabla_{W_E} \tilde L", g.W_E),
    ]
    if g.b_E is not None:
        lines.append(_num("bias gradient", "∇_b L̃", r"\nabla_b \tilde L", g.b_E))
    lines.append(Line("stationarity residual (gradient norms)",
                      ", ".join(f"{k} {v:.3g}" for k, v in stationarity_residual(inst, W_D, W_E, b_E).items()), "",
                      stationarity_residual(inst, W_D, W_E, b_E)))
    if point.W_D is not None:
        lines.append(_num("least-squares decoder for this encoder", "W_D*", "W_D^{*}", W_ls))
    notes = []
    problem = block_form_problem(P)
    if problem:
        notes.append(f"Block form does not apply at this point: {problem}.")
    else:
        for blk in neuron_blocks(inst, W_D, W_E, b_E):
            i = blk.neuron
            if not blk.features:
                lines.append(Line(f"neuron {i}", "dead (F_i = ∅): no block", "", {"neuron": i, "features": []}))
                continue
            lines += [
                Line(f"neuron {i}", f"F_{i} = {list(blk.features)}", "", {"neuron": i, "features": list(blk.features)}),
                _num(f"neuron {i}: activations a_d", "a", "a", blk.activations),
                _num(f"neuron {i}: c_d = <u, w_r^d>", "c", "c", blk.target_gram),
                _num(f"neuron {i}: q = ||u||²", "q", "q", blk.decoder_norm_sq),
                _num(f"neuron {i}: least-squares column u*", "u*", "u^{*}", blk.ls_decoder),
                _num(f"neuron {i}: encoder coefficients M_d (c_d* − a_d q*) at u*", "coef", r"M_d (c_d^* - a_d q^*)",
                     blk.encoder_coefficients_at_ls),
                _num(f"neuron {i}: encoder-row gradient at u*", "∇_{w_E^i} L_i(u*)", r"\nabla_{w_E^i} L_i(u^*)",
                     blk.grad_encoder_at_ls),
            ]
    return Section("point", "Specialised to the point", tuple(lines), tuple(notes))


FORMS = ("matrix", "block")


def sections(derivation, point: Point | None = None, forms=FORMS) -> list[Section]:
    """The derivation laid out as sections (setting, region, matrix form, block form, pattern, instance, point).

    ``forms`` picks the symbolic forms to show: ``("matrix", "block")`` (default), or one of them."""
    forms = tuple(forms)
    bad = sorted(set(forms) - set(FORMS))
    if bad or not forms:
        raise SDLInputError(f"forms must be a non-empty subset of {list(FORMS)}, got {list(forms)}")
    out = [_setting(derivation), _region_family(derivation)]
    if "matrix" in forms:
        out.append(_matrix_section(derivation))
    if "block" in forms:
        out.append(_block_section(derivation))
    P = _as_pattern(derivation)
    if P is not None:
        out.append(_pattern_section(derivation, P))
    if derivation.instance is not None:
        out.append(_instance_section(derivation))
        if point is not None:
            out.append(_point_section(derivation, point))
    elif point is not None:
        raise SDLInputError("a point (W_E, W_D) can only be specialised with an instance")
    return out


# ------------------------------------------------------------------------------------------------
# the three formats
# ------------------------------------------------------------------------------------------------


def _tex_escape(s: str) -> str:
    repl = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
            "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}"}
    s = s.replace("L̃", "\x00tilde")
    out = "".join(repl.get(ch, _TEX_UNICODE.get(ch, ch)) for ch in s)
    return out.replace("\x00tilde", r"$\tilde L$")


# so that the LaTeX output compiles with plain pdflatex (no unicode engine needed)
_TEX_UNICODE = {
    "σ": r"$\sigma$", "Ω": r"$\Omega$", "∇": r"$\nabla$", "Δ": r"$\Delta$", "δ": r"$\delta$", "θ": r"$\theta$",
    "Σ": r"$\Sigma$", "ℓ": r"$\ell$", "²": r"$^2$", "ᵀ": r"$^T$", "⁺": r"$^+$", "…": r"\dots{}", "−": "-",
    "∅": r"$\emptyset$", "∘": r"$\circ$", "≠": r"$\neq$", "≤": r"$\le$", "≥": r"$\ge$", "·": r"$\cdot$",
    "⇒": r"$\Rightarrow$", "×": r"$\times$", "°": r"$^\circ$", "∂": r"$\partial$",
}


def render_text(derivation, point: Point | None = None, forms=FORMS) -> str:
    out = [f"sdl-theory derive: {derivation.activation.describe()}, "
           f"{'with' if derivation.encoder_bias else 'no'} encoder bias"]
    for sec in sections(derivation, point, forms):
        out.append("")
        out.append(f"== {sec.title} ==")
        for ln in sec.lines:
            out.append(f"  {ln.label}:")
            out.append(f"      {ln.text}")
        for note in sec.notes:
            out.append(f"  note: {note}")
    return "\n".join(out) + "\n"


def render_latex(derivation, point: Point | None = None, forms=FORMS) -> str:
    out = [f"% sdl-theory derive: {derivation.activation.describe()}, "
           f"{'with' if derivation.encoder_bias else 'no'} encoder bias (LaTeX fragment; needs amsmath, amssymb)"]
    for sec in sections(derivation, point, forms):
        out.append(f"\\subsection*{{{_tex_escape(sec.title)}}}")
        out.append(r"\begin{align*}")
        rows = []
        for ln in sec.lines:
            formula = ln.latex or f"\\text{{{_tex_escape(ln.text)}}}"
            rows.append(f"  &\\text{{{_tex_escape(ln.label)}}}: && {formula}")
        out.append(" \\\\\n".join(rows))
        out.append(r"\end{align*}")
        for note in sec.notes:
            out.append(_tex_escape(note) + "\n")
    return "\n".join(out) + "\n"


def to_json(derivation, point: Point | None = None, forms=FORMS) -> dict:
    return {
        "activation": derivation.activation.to_json(),
        "encoder_bias": derivation.encoder_bias,
        "sections": [
            {"key": s.key, "title": s.title, "notes": list(s.notes),
             "lines": [{"label": ln.label, "text": ln.text, "latex": ln.latex, "value": _jsonable(ln.value)} for ln in s.lines]}
            for s in sections(derivation, point, forms)
        ],
    }


def render(derivation, fmt: str = "text", point: Point | None = None, forms=FORMS) -> str:
    """The derivation as ``text``, ``latex`` or ``json`` (a string in every case)."""
    if fmt not in FORMATS:
        raise SDLInputError(f"unknown format {fmt!r}; choose one of {list(FORMATS)}")
    if fmt == "text":
        return render_text(derivation, point, forms)
    if fmt == "latex":
        return render_latex(derivation, point, forms)
    return json.dumps(to_json(derivation, point, forms), indent=2, ensure_ascii=False) + "\n"
