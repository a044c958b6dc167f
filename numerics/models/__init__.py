"""SDL models: one file per activation family, a registry ``name → class``.

SAE vs transcoder vs crosscoder is the choice of input and target (``d_in``/``d_out``), not a class.
"""
from __future__ import annotations

from numerics.models.base import Code, SparseCoder
from numerics.models.batchtopk import BatchTopKCoder
from numerics.models.gated import GatedCoder
from numerics.models.jumprelu import JumpReLUCoder
from numerics.models.matryoshka import MatryoshkaCoder
from numerics.models.relu import ReLUCoder
from numerics.models.topk import TopKCoder
from theory.errors import SDLInputError

REGISTRY: dict[str, type[SparseCoder]] = {
    cls.name: cls for cls in (ReLUCoder, JumpReLUCoder, TopKCoder, BatchTopKCoder, MatryoshkaCoder, GatedCoder)
}


def build_model(name: str, d_in: int, n_latents: int, d_out: int | None = None, **kw) -> SparseCoder:
    """Construct a registered model; bad sizes are refused with a clear message before any allocation."""
    if name not in REGISTRY:
        raise SDLInputError(f"unknown architecture {name!r}; choose one of {sorted(REGISTRY)}")
    for label, v in (("d_in", d_in), ("n_latents", n_latents)):
        if int(v) < 1:
            raise SDLInputError(f"{label} must be a positive integer, got {v}")
    if d_out is not None and int(d_out) < 0:
        raise SDLInputError(f"d_out must be >= 0, got {d_out}")
    k = kw.get("k")
    if k is not None and name in ("topk", "batchtopk", "matryoshka") and not 0 <= int(k) <= n_latents:
        raise SDLInputError(f"k = {k} must lie in [1, n_latents = {n_latents}] (0 = default sqrt(n_latents))")
    return REGISTRY[name](int(d_in), int(n_latents), int(d_out) if d_out else None, **kw)


__all__ = ["Code", "SparseCoder", "REGISTRY", "build_model"] + [c.__name__ for c in REGISTRY.values()]
