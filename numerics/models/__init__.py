"""SDL models: one file per activation family; which class a family trains is declared by the family
itself (:class:`theory.registry.Family` ``model``), so this package keeps no list of its own.

SAE vs transcoder vs crosscoder is the choice of input and target (``d_in``/``d_out``), not a class.
"""
from __future__ import annotations

from numerics.models.base import Code, SparseCoder
from theory import registry
from theory.errors import SDLInputError


def model_class(name: str) -> type[SparseCoder]:
    """The torch class of family ``name`` (a registered name or ``module:Attr``)."""
    cls = registry.get(name).model_class()
    if not (isinstance(cls, type) and issubclass(cls, SparseCoder)):
        raise SDLInputError(f"the model of family {name!r} must be a numerics.models.SparseCoder subclass, got {cls!r}")
    return cls


def build_model(name: str, d_in: int, n_latents: int, d_out: int | None = None, **kw) -> SparseCoder:
    """Construct a family's model; bad sizes and hyperparameters are refused with a clear message before
    any allocation (the family's hyperparameter dataclass validates the values it declares)."""
    family = registry.get(name)
    cls = model_class(name)
    for label, v in (("d_in", d_in), ("n_latents", n_latents)):
        if int(v) < 1:
            raise SDLInputError(f"{label} must be a positive integer, got {v}")
    if d_out is not None and int(d_out) < 0:
        raise SDLInputError(f"d_out must be >= 0, got {d_out}")
    family.hyper(kw, n_latents=int(n_latents))
    model = cls(int(d_in), int(n_latents), int(d_out) if d_out else None, **kw)
    model.family = family.ref  # the name cfg.json stores, so that load_model finds the family again
    return model


__all__ = ["Code", "SparseCoder", "build_model", "model_class"]
