"""Where straight-through JumpReLU training stops: the expected field of the ε-estimator, its zeros and their
stability (THEORY.md §7, C7; issue 11).

The JumpReLU arm of the absorption study trains ``E||y − W_D a||² + λ E Σ_i H(z_i − θ_i)`` (no bias,
``z = W_E x``, ``a_i = z_i 1{z_i > θ_i}``) as :mod:`numerics.models.jumprelu` does: autograd gives ``W_D`` and
``W_E`` the per-event gradient with ``∂a_i/∂z_i = 1{z_i > θ_i}`` (the cells' gradient,
``exact_objective_bias(..., edges=False)``), and θ the straight-through estimate with the rectangle kernel
``K(u) = 1{|u| < 1/2}`` of bandwidth ε,

    ∂/∂θ_i  ≈  (1/ε) 1{|z_i − θ_i| < ε/2} · (2 θ_i d_iᵀ r − λ),     r = y − W_D a  (the event's own residual),

stored as ``log θ`` (the field of ``log θ_i`` is θ_i times that). :func:`ste_field` is the **expectation** of
that update over the hierarchy's magnitude distribution, computed exactly, not sampled: the band
``θ_i − ε/2 < z_i < θ_i + ε/2`` is a strip between two more lines of the magnitude quadrant, so the cells of
:func:`theory.absorption_bias.child_cells` with those two lines added carry the band's probability and
``E[m 1]`` per active set (the residual is linear in ``m`` on a cell). Where no event falls in a latent's band
(the strip misses the support) its θ entry is exactly 0: θ stays where it is, as in training.

This is not ``∇L`` at any ε: the encoder misses the threshold lines' edge terms (:func:`jumprelu_field` is its
ε → 0 limit), and at finite ε the θ entry is a band average of the jump, not the jump itself. Its zeros are the
points training (Adam on sampled batches of it) can stop at; :func:`ste_field_zero` finds one from a start and
classifies it by the eigenvalues of the field's Jacobian (:func:`classify_zero`), and :func:`ste_field_zeros`
runs that from the same kinds of starts as :func:`theory.absorption_bias.stationary_points_jumprelu` (never
from trained weights). The kernel reaches ``z = 0`` when ``θ_i <= ε/2``, where the engine's dense and sparse
paths differ (ReLU's zero enters the band in one and not the other): refused.
"""
from __future__ import annotations

import numpy as np

from theory.absorption_bias import (_slab_cells, _theta_vector, _trapezoid_moments, _x_breaks, child_cells,
                                    exact_objective_bias, observables_bias, parent_cells, threshold_gradient)
from theory.absorption_curve import Hierarchy, _law
from theory.errors import SDLInputError

STORAGES = ("log", "direct")


def _check_ste(theta, eps: float, n_q: int, storage: str) -> np.ndarray:
    if storage not in STORAGES:
        raise SDLInputError(f"threshold storage must be one of {STORAGES}, got {storage!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise SDLInputError(f"the bandwidth ε must be finite and > 0, got {eps!r}")
    th = _theta_vector(theta, n_q)
    if (th <= eps / 2).any():
        raise SDLInputError(f"every threshold must exceed ε/2 = {eps / 2:g} (the kernel would reach z = 0, where "
                            f"the engine's dense and sparse paths differ); got θ = {th.tolist()}")
    return th


def band_moments(h: Hierarchy, W_E, W_D, theta, eps: float, i: int) -> list[tuple]:
    """Per event type (as :meth:`Hierarchy.events` lists them): ``(probability, [(P, E[m 1], active set), ...])``
    over the cells of latent ``i``'s band ``|z_i − θ_i| < ε/2`` (the active set is the event's own, ``z > θ``)."""
    W_E = np.asarray(W_E, float)
    n_q = W_E.shape[0]
    th = _theta_vector(theta, n_q)
    out = []
    for prob, Xin, _ in h.events():
        Z = W_E @ Xin
        Za = np.vstack([Z, Z[[i]], -Z[[i]]])  # z_i > θ_i − ε/2 and z_i < θ_i + ε/2
        off = np.concatenate([-th, [-(th[i] - eps / 2), th[i] + eps / 2]])
        if Xin.shape[1] == 1:
            cells = [(P, np.array([m1]), S) for P, m1, _, S in parent_cells(h, Za[:, 0], off)]
        elif _law(h.parent_law)[1] > 0 and _law(h.child_law)[1] > 0:
            cells = _band_cells(h, Za, off, n_q)
        else:
            cells = [(P, mu, S) for P, mu, _, S in child_cells(h, Za, off)]
        out.append((prob, [(P, mu, S[:n_q]) for P, mu, S in cells if P > 0 and S[n_q] and S[n_q + 1]]))
    return out


def _band_cells(h: Hierarchy, Za: np.ndarray, off: np.ndarray, n_q: int) -> list:
    """:func:`theory.absorption_bias.child_cells` for two shifted-exponential magnitudes, with only the cells inside
    the band (rows ``n_q`` and ``n_q + 1`` both positive) integrated, and only ``P`` and ``E[m 1]`` (the band's
    field is linear in ``m`` on a cell)."""
    P_, C_ = _law(h.parent_law), _law(h.child_law)
    (cP, _), (cC, _) = P_, C_
    L = np.column_stack([Za[:, 0], Za[:, 1], off])
    edges = [cP, *_x_breaks(L, cP, cC), np.inf]
    out = []
    for x0, x1 in zip(edges[:-1], edges[1:]):
        for lo, hi, pt in _slab_cells(L, x0, x1, cC):
            S = Za @ np.asarray(pt) + off > 0
            if S[n_q] and S[n_q + 1]:
                H = _trapezoid_moments(P_, C_, x0, x1, lo, hi, n=3)
                out.append((H[0], np.array([H[1], H[2]]), S))
    return out


def ste_theta_field(h: Hierarchy, W_E, W_D, lam: float, theta, eps: float) -> np.ndarray:
    """The expected straight-through derivative of the objective in θ (per latent, in θ itself):
    ``E[(1/ε) 1{|z_i − θ_i| < ε/2} (2 θ_i d_iᵀ r − λ)]``, exactly (module docstring)."""
    W_E, W_D = np.asarray(W_E, float), np.asarray(W_D, float)
    n_q = W_E.shape[0]
    th = _check_ste(theta, eps, n_q, "direct")
    out = np.zeros(n_q)
    for i in range(n_q):
        d = W_D[:, i]
        for (prob, cells), (_, Xin, Xout) in zip(band_moments(h, W_E, W_D, th, eps, i), h.events()):
            Z = W_E @ Xin
            for P, mu, S in cells:
                R = Xout - W_D[:, S] @ Z[S]  # r(m) = R m on the cell
                out[i] += prob * (2 * th[i] * float(d @ (R @ mu)) - lam * P) / eps
    return out


def ste_field(h: Hierarchy, W_E, W_D, lam: float, theta, eps: float, *, storage: str = "log") -> np.ndarray:
    """The expected training field of the engine's JumpReLU + L0 at bandwidth ``eps``, packed
    ``(W_E, W_D, θ coordinate)``: the cells' gradient of the encoder and decoder (what autograd gives them) and
    the straight-through θ derivative (:func:`ste_theta_field`), times θ for ``storage="log"`` (the parameter is
    ``log θ``) or as it is for ``"direct"``. Training moves the parameters against it."""
    W_E, W_D = np.asarray(W_E, float), np.asarray(W_D, float)
    n_q = W_E.shape[0]
    th = _check_ste(theta, eps, n_q, storage)
    _, gE, _, gD = exact_objective_bias(h, W_E, np.zeros(n_q), W_D, lam, theta=th, penalty="l0", edges=False)
    gt = ste_theta_field(h, W_E, W_D, lam, th, eps)
    return np.concatenate([np.ravel(gE), np.ravel(gD), th * gt if storage == "log" else gt])


def _split(h: Hierarchy, n_q: int, v: np.ndarray, storage: str):
    nE, nD = n_q * h.n_p, h.n_r * n_q
    t = v[nE + nD:]
    return v[:nE].reshape(n_q, h.n_p), v[nE:nE + nD].reshape(h.n_r, n_q), (np.exp(t) if storage == "log" else t)


def _join(W_E, W_D, theta, storage: str) -> np.ndarray:
    th = np.asarray(theta, float)
    return np.concatenate([np.ravel(W_E), np.ravel(W_D), np.log(th) if storage == "log" else th])


def _field_at(h, n_q, v, lam, eps, storage):
    """The field at the packed point, or ``None`` where a threshold is at or below ε/2 (or not finite)."""
    if not np.all(np.isfinite(v)):
        return None
    with np.errstate(over="ignore"):
        WE, WD, th = _split(h, n_q, v, storage)
    if not (np.all(np.isfinite(th)) and np.all(th > eps / 2)):
        return None
    return ste_field(h, WE, WD, lam, th, eps, storage=storage)


def field_jacobian(h: Hierarchy, W_E, W_D, lam: float, theta, eps: float, *, storage: str = "log",
                   step: float = 1e-6) -> np.ndarray:
    """Central differences of :func:`ste_field` in the storage coordinates (``(W_E, W_D, log θ)`` for ``"log"``)."""
    n_q = np.asarray(W_E).shape[0]
    v = _join(W_E, W_D, theta, storage)
    J = np.zeros((v.size, v.size))
    for c in range(v.size):
        e = np.zeros(v.size)
        e[c] = step
        gp, gm = _field_at(h, n_q, v + e, lam, eps, storage), _field_at(h, n_q, v - e, lam, eps, storage)
        if gp is None or gm is None:
            raise SDLInputError("the field's Jacobian needs every threshold above ε/2 within one step")
        J[:, c] = (gp - gm) / (2 * step)
    return J


def _live(h: Hierarchy, W_E, theta) -> np.ndarray:
    """Latents that fire on a cell of positive probability (> 1e-12) of some event."""
    n_q = np.asarray(W_E).shape[0]
    live = np.zeros(n_q, dtype=bool)
    for prob, Xin, _ in h.events():
        Z = np.asarray(W_E) @ Xin
        cells = (parent_cells(h, Z[:, 0], -theta) if Xin.shape[1] == 1 else child_cells(h, Z, -theta))
        for c in cells:
            if c[0] > 1e-12:
                live |= c[-1]
    return live


def classify_zero(h: Hierarchy, W_E, W_D, lam: float, theta, eps: float, *, storage: str = "log",
                  tol: float = 1e-6, J: np.ndarray | None = None) -> dict:
    """The stability of a zero of :func:`ste_field` for the flow ``v' = −F(v)`` (training's step against the
    field), from the eigenvalues of the Jacobian ``J`` in the storage coordinates, read off two kinds of
    directions that say nothing about stability:

    - **conserved**: each live latent's rescaling ``v_i = (e_i, −d_i, 0)``. Per event the cells' gradient is
      orthogonal to it (``−2 d_iᵀ r z_i 1{z_i > θ_i}`` from the encoder row, the opposite from the decoder
      column) and the θ entry has no component along it, so ``F · v_i = 0`` everywhere: the flow conserves
      ``||e_i||² − ||d_i||²``, the zeros form a continuum across its levels, and at a zero ``v_iᵀ J = 0``. ``J``
      is read on ``v^⊥``, where its image lies (as :func:`theory.absorption_curve.training_field_zero` does);
    - **neutral**: coordinates whose column of ``J`` vanishes (``||J e_c|| <= tol`` · the largest column) — moving
      them changes no field entry, so the zero continues along them; e.g. the θ of a latent whose band carries no
      probability (its entry is 0 nearby, and it moves no active set on the support), and a dead latent's
      parameters.

    ``kind``: ``stable`` when every remaining eigenvalue has real part > ``tol`` · the largest modulus (a
    perturbation decays: training can stop there), ``unstable`` when one is below −that, ``undecided``
    otherwise. Gradient flow is the reference; Adam's per-coordinate step sizes precondition ``J`` by a
    positive diagonal, which can change the stability of a non-symmetric ``J`` (not checked here)."""
    W_E, W_D = np.asarray(W_E, float), np.asarray(W_D, float)
    n_q = W_E.shape[0]
    th = _check_ste(theta, eps, n_q, storage)
    if J is None:
        J = field_jacobian(h, W_E, W_D, lam, th, eps, storage=storage)
    n = J.shape[0]
    nE, nD = n_q * h.n_p, h.n_r * n_q
    colnorm = np.linalg.norm(J, axis=0)
    neutral = [c for c in range(n) if colnorm[c] <= tol * max(1.0, float(colnorm.max()))]
    live = _live(h, W_E, th)
    flat = [np.eye(n)[c] for c in neutral]
    for i in np.flatnonzero(live):
        dE, dD = np.zeros_like(W_E), np.zeros_like(W_D)
        dE[i], dD[:, i] = W_E[i], -W_D[:, i]
        flat.append(np.concatenate([np.ravel(dE), np.ravel(dD), np.zeros(n_q)]))
    flat = [f for f in flat if np.linalg.norm(f) > 1e-12]
    if flat:
        U, sv, _ = np.linalg.svd(np.array(flat).T, full_matrices=True)
        comp = U[:, int((sv > 1e-9 * sv.max()).sum()):]
    else:
        comp = np.eye(n)
    ev = np.linalg.eigvals(comp.T @ J @ comp) if comp.shape[1] else np.zeros(0)
    scale = max(1.0, float(np.abs(ev).max(initial=0.0)))
    lo = float(ev.real.min()) if ev.size else 0.0
    kind = ("stable" if ev.size and lo > tol * scale else
            "unstable" if lo < -tol * scale else "undecided")
    names = ([f"W_E[{i},{j}]" for i in range(n_q) for j in range(h.n_p)]
             + [f"W_D[{r},{i}]" for r in range(h.n_r) for i in range(n_q)]
             + [f"{'log ' if storage == 'log' else ''}θ[{i}]" for i in range(n_q)])
    assert len(names) == nE + nD + n_q
    return {"kind": kind, "min_real_eigenvalue": lo, "n_conserved": int(live.sum()), "neutral": [names[c] for c in neutral],
            "eigenvalues_real": sorted(float(x) for x in ev.real)}


def ste_field_zero(h: Hierarchy, W_E, W_D, lam: float, theta, eps: float, *, storage: str = "log",
                   schedule=((1500, 1e-2), (400, 1e-3)), adam: bool = True, max_nfev: int = 100,
                   accept: float = 1e-6) -> dict | None:
    """Follow the expected field from ``(W_E, W_D, θ)`` — ``adam=True``: deterministic Adam (β = 0.9, 0.999,
    10⁻⁸) on it with the ``schedule`` of ``(steps, learning rate)`` (the study's: training's optimiser and steps
    without its sampling noise); else plain steps of each learning rate — then solve ``F = 0`` from there by
    least squares (:func:`scipy.optimize.least_squares`, trust-region reflective, the Jacobian of
    :func:`field_jacobian`: the conserved and neutral directions leave it rank-deficient, which this handles).
    Returns the zero (``||F|| <= accept``), classified (:func:`classify_zero`), with its loss, the exact gradient
    norm of L there (``> 0``: not a stationary point of L), its observables and where the flow ended
    (``flow_field_norm``); ``None`` when no zero is reached or a threshold falls to ε/2."""
    from scipy.optimize import least_squares

    W_E, W_D = np.asarray(W_E, float), np.asarray(W_D, float)
    n_q = W_E.shape[0]
    th = _check_ste(theta, eps, n_q, storage)
    v = _join(W_E, W_D, th, storage)
    m = np.zeros_like(v)
    s = np.zeros_like(v)
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        g = _field_at(h, n_q, v, lam, eps, storage)
        for steps, lr in schedule:
            for _ in range(int(steps)):
                if g is None or not np.linalg.norm(g) > accept:
                    break
                if adam:
                    t += 1
                    m = 0.9 * m + 0.1 * g
                    s = 0.999 * s + 0.001 * g * g
                    v = v - lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
                else:
                    v = v - lr * g
                g = _field_at(h, n_q, v, lam, eps, storage)
        if g is None:
            return None
        flow_norm = float(np.linalg.norm(g))
        if flow_norm > accept:
            big = np.full(v.size, 1e3)

            def fun(x):
                f = _field_at(h, n_q, x, lam, eps, storage)
                return big if f is None else f

            def jac(x):
                WE, WD, th = _split(h, n_q, x, storage)
                try:
                    return field_jacobian(h, WE, WD, lam, th, eps, storage=storage)
                except SDLInputError:
                    return np.zeros((x.size, x.size))

            v = least_squares(fun, v, jac=jac, method="trf", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                              max_nfev=max_nfev).x
            g = _field_at(h, n_q, v, lam, eps, storage)
    if g is None or not np.linalg.norm(g) <= accept:
        return None
    WE, WD, th = _split(h, n_q, v, storage)
    b = np.zeros(n_q)
    loss, gE, _, gD = exact_objective_bias(h, WE, b, WD, lam, theta=th, penalty="l0")
    gt = threshold_gradient(h, WE, b, WD, lam, th, penalty="l0")
    obs = observables_bias(h, WE, b, WD, thresholds=th)
    return {"W_E": WE.tolist(), "W_D": WD.tolist(), "thresholds": th.tolist(), "loss": float(loss),
            "field_norm": float(np.linalg.norm(g)), "flow_field_norm": flow_norm, "bandwidth": float(eps),
            "storage": storage, "exact_grad_norm": float(np.sqrt((gE**2).sum() + (gD**2).sum() + (gt**2).sum())),
            **classify_zero(h, WE, WD, lam, th, eps, storage=storage),
            **{k: v for k, v in obs.items() if k != "loss"}}


def ste_field_zeros(h: Hierarchy, lam: float, theta0: float, eps: float, *, storage: str = "log",
                    mixed: bool = True, n_random: int = 4, seed: int = 0, starts: list | None = None, extra_starts=(),
                    dedupe_tol: float = 1e-4, workers: int = 1, **zero_kw) -> list[dict]:
    """Zeros of :func:`ste_field` reached by :func:`ste_field_zero` from the kinds of starts of
    :func:`theory.absorption_bias.stationary_points_jumprelu` — the partially absorbed family, the fully absorbed
    ends, the merged children, every per-child clean / partial / absorbed assignment (``mixed``), ``n_random``
    seeded random starts (:func:`theory.absorption_curve.random_start`) — or the explicit ``starts`` — and
    ``extra_starts`` (``[((W_E, W_D), description)]``, e.g. training's initialisations) — all at threshold ``theta0``: unlike L's
    stationary points these are not the same up to scale for every θ (ε does not scale with the model), so they
    are searched at the scale training starts from. Never from trained weights. Deduplicated on loss, parent
    gain and every child's rate and tilt up to permuting exchangeable children (a zero along a conserved or
    neutral direction is kept once), sorted by loss, each with its ``start`` and ``n_starts``. ``workers > 1``:
    the starts in that many processes (the same result, in the same order)."""
    from theory.absorption_curve import _observed_key, _starts, children_exchangeable, random_start, same_point

    n_q = 1 + h.n_children
    ex = children_exchangeable(h)
    if starts is None:
        starts = _starts(h, (0.0, 2.0), (0.0,), (0.0, 0.6), mixed=mixed, n_random=0)
        rng = np.random.default_rng(seed)
        starts += [(random_start(h, rng), {"random_start": i, "seed": int(seed)}) for i in range(n_random)]
    todo = [*starts, *extra_starts]
    args = [(h, W_E, W_D, lam, np.full(n_q, float(theta0)), eps, storage, zero_kw) for (W_E, W_D), _ in todo]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=int(workers)) as ex_:
            found = list(ex_.map(_zero_from, args))
    else:
        found = [_zero_from(a) for a in args]
    pts, keys = [], []
    for z, (_, start) in zip(found, todo):
        if z is None:
            continue
        key = _observed_key(z["loss"], z)
        dup = next((n for n, kk in enumerate(keys) if same_point(key, kk, ex, dedupe_tol)), None)
        if dup is not None:
            pts[dup]["n_starts"] += 1
            continue
        pts.append({**z, "start": start, "n_starts": 1})
        keys.append(key)
    return sorted(pts, key=lambda p: p["loss"])


def _zero_from(a):
    h, W_E, W_D, lam, th, eps, storage, kw = a
    return ste_field_zero(h, W_E, W_D, lam, th, eps, storage=storage, **kw)
