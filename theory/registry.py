"""The one registry of activation families: every layer asks it by the same name.

A family is declared once, in one file (``theory/activations/<family>.py`` for the built-in ones, any
module of yours for your own), as a :class:`Family`: its theory activation (the class behind the
protocol of :mod:`theory.activations.base`), its torch model (a ``"module:Class"`` string that only
``numerics`` imports, so ``theory`` never imports torch), its training hyperparameters (a dataclass
whose fields are ``sdl-theory bench`` flags), its hypothesis strategy (what the claims' searches
draw) and its printing (the region conditions ``sdl-theory derive`` shows). Its name is what
``derive --activation``, ``bench --methods``, ``verify --activation`` and ``inspect`` accept.

Your own family, with no edit to the package::

    # mypkg/acts.py
    from theory.registry import Family, register
    @dataclass(frozen=True)
    class MyUnit(Activation): ...
    register(Family("my_unit", MyUnit, strategy=..., model="mypkg.models:MyCoder",
                    hyperparameters=MyTraining, sweep={"k": (1, 2, 4), "theta": (0.1, 0.5)}))

    sdl-theory derive --activation mypkg.acts:MyUnit       # imports mypkg.acts, finds the family

``"module:attr"`` names a :class:`Family` object or an activation class whose module registers one.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from theory.errors import SDLInputError


@dataclass(frozen=True, eq=False)  # compared by identity: one declaration per family
class Family:
    """One activation family across the layers (see the module docstring).

    - ``activation``: the theory class; ``params`` are its constructor arguments a user may set
      (default: the class's dataclass fields);
    - ``draw_activation(draw, max_k)``: one activation of this family, its parameters drawn with
      hypothesis's ``draw`` (the body of a ``@composite``; ``max_k`` caps a ``k``), which is what the
      claims' searches draw; a family without parameters defaults to its one member;
    - ``region_text(activation, z_text, z_latex)``: ``(lines, notes)`` for derive's region section,
      lines being :class:`theory.printing.Line`; without it derive prints the protocol's constraints;
    - ``model``: the torch model, ``"module:Class"`` (or the class), a
      :class:`numerics.models.SparseCoder`; None = theory only (not trainable);
    - ``hyperparameters``: dataclass of the model's constructor arguments (fields = bench flags);
    - ``methods``: bench method names that mean this family (the paper's Table 1 rows) → kind;
    - ``paper_rows``: the paper's Table 1 numbers of those methods, ``(M_GT %, M_IP, +FA M_GT %, +FA M_IP)``
      (arXiv 2512.05534, τ = 0.95, p_active = 0.01); the bench prints them beside its own;
    - ``sweep``: the knobs the paper leaves open, swept by C10/C11 (:mod:`numerics.recovery`): hyperparameter
      name → values, the grid being their product (first knob outermost); None: derived from the
      hyperparameters' defaults (:meth:`sweep_axes`). A bench size may replace a knob's values (:meth:`sweep_grid`);
    - ``searched``: drawn by the claims' default search spaces (a family of yours only inside
      :func:`searching`, e.g. ``verify --activation``, so that importing it never changes a built-in verdict);
    - ``homogeneous``: every member is positively homogeneous (C1's corrected condition).
    """

    name: str
    activation: type
    summary: str = ""
    params: tuple[str, ...] | None = None
    draw_activation: Callable[[Callable, int], Any] | None = None
    region_text: Callable | None = None
    model: str | type | None = None
    hyperparameters: type | None = None
    methods: Mapping[str, str] = field(default_factory=dict)
    paper_rows: Mapping[str, tuple] = field(default_factory=dict)
    sweep: Mapping[str, tuple] | None = None
    aliases: tuple[str, ...] = ()
    searched: bool = True
    homogeneous: bool = False
    ref: str = ""  # how a file names this family so another process finds it (set by register)

    # ------------------------------------------------------------------------------ theory
    @property
    def builtin(self) -> bool:
        return self.ref == self.name

    @property
    def per_sample(self) -> bool:
        return bool(getattr(self.activation, "per_sample", True))

    def parameter_names(self) -> tuple[str, ...]:
        if self.params is not None:
            return tuple(self.params)
        if dataclasses.is_dataclass(self.activation):
            return tuple(f.name for f in dataclasses.fields(self.activation) if f.init)
        return ()

    def make(self, **params):
        """An activation of this family; None values are dropped, unknown parameters refused."""
        given = {k: v for k, v in params.items() if v is not None}
        allowed = self.parameter_names()
        extra = sorted(set(given) - set(allowed))
        if extra:
            raise SDLInputError(f"activation {self.name} takes {list(allowed) or 'no parameters'}, not {extra}")
        return self.activation(**given)

    def draw(self, draw, max_k: int = 3):
        """One activation of this family drawn with hypothesis's ``draw`` (inside a ``@composite``)."""
        if self.draw_activation is not None:
            return self.draw_activation(draw, max_k)
        if not self.parameter_names():
            return self.activation()
        raise SDLInputError(f"family {self.name} has parameters {list(self.parameter_names())} but no way to draw them; "
                            "declare Family(..., draw_activation=lambda draw, max_k: <an activation, parameters drawn "
                            "with draw(strategy)>)")

    def activations(self, max_k: int = 3):
        """This family's activations as a hypothesis strategy (``max_k`` caps a ``k`` parameter)."""
        from hypothesis import strategies as st

        return st.composite(lambda draw: self.draw(draw, max_k))()

    # ------------------------------------------------------------------------------ numerics
    @property
    def trainable(self) -> bool:
        return self.model is not None

    def model_class(self):
        """The torch model class (imports it: only ``numerics`` calls this)."""
        if self.model is None:
            raise SDLInputError(f"family {self.name} has no torch model, so it cannot be trained or inspected; "
                                f"trainable families: {', '.join(names(trainable=True))}")
        return _import(self.model, what=f"the torch model of family {self.name}") if isinstance(self.model, str) \
            else self.model

    def hyper(self, values: Mapping[str, Any] | None = None, *, n_latents: int | None = None, strict: bool = False):
        """The hyperparameter dataclass filled from ``values`` (the names it has; all, with ``strict``)
        and validated (its ``validate(n_latents)`` when it has one)."""
        if self.hyperparameters is None:
            if strict and values:
                raise SDLInputError(f"family {self.name} takes no hyperparameters, not {sorted(values)}")
            return None
        names_ = {f.name for f in dataclasses.fields(self.hyperparameters) if f.init}
        values = dict(values or {})
        extra = sorted(set(values) - names_)
        if strict and extra:
            raise SDLInputError(f"family {self.name} takes hyperparameters {sorted(names_)}, not {extra}")
        h = self.hyperparameters(**{k: v for k, v in values.items() if k in names_})
        check = getattr(h, "validate", None)
        if check is not None:
            check(n_latents)
        return h

    def hyper_kwargs(self, values=None, *, n_latents=None, strict=False) -> dict:
        h = self.hyper(values, n_latents=n_latents, strict=strict)
        return {} if h is None else dataclasses.asdict(h)

    @property
    def sets_k(self) -> bool:
        """Sparsity set by a number ``k`` of active latents (the TopK family) rather than by a penalty."""
        return self.hyperparameters is not None and "k" in self._hyper_fields()

    def _hyper_fields(self) -> dict:
        if self.hyperparameters is None:
            return {}
        return {f.name: f for f in dataclasses.fields(self.hyperparameters) if f.init}

    def sweep_axes(self) -> dict[str, tuple]:
        """The sweep's knobs → values: the declared ``sweep``, or else derived from the hyperparameters'
        defaults, each numeric one on its own (the others at their defaults): an integer default ``d``
        (``k``) over ``1, 2, 4, 8`` when ``d = 0`` (its "automatic" value) else ``d/2, d, 2d``; a float
        default ``d > 0`` (a coefficient, a threshold) over ``d/10, d, 10d`` (0, i.e. off, is not swept)."""
        if self.sweep is not None:
            return {k: tuple(v) for k, v in self.sweep.items()}
        axes = {}
        for name, f in self._hyper_fields().items():
            d = f.default
            if isinstance(d, bool) or not isinstance(d, (int, float)):
                continue
            if isinstance(d, int):
                axes[name] = (1, 2, 4, 8) if d == 0 else tuple(sorted({max(1, d // 2), d, 2 * d}))
            elif d > 0:
                axes[name] = (d / 10, d, d * 10)
        return axes

    def sweep_grid(self, values: Mapping[str, Any] | None = None) -> list[dict]:
        """The settings a sweep trains (each a dict of hyperparameters, keys in the dataclass's order).

        ``values``: knob → values (e.g. a bench size's smaller grid) replacing the values of the knobs this
        family sweeps (others are ignored). A declared ``sweep`` is a product; a derived one varies one knob
        at a time."""
        axes = self.sweep_axes()
        for k in axes:
            if values and k in values:
                axes[k] = tuple(values[k])
        order = list(self._hyper_fields())
        ordered = lambda st: {k: st[k] for k in sorted(st, key=lambda k: order.index(k) if k in order else len(order))}  # noqa: E731
        if self.sweep is None:
            return [ordered({k: v}) for k, vals in axes.items() for v in vals]
        import itertools

        return [ordered(dict(zip(axes, combo))) for combo in itertools.product(*axes.values())]


_FAMILIES: dict[str, Family] = {}
_ALIASES: dict[str, str] = {}

# Names that files saved by earlier versions use for a family since renamed → its name now; the one table
# of them. Only names read from saved files go through it (:func:`saved_name`): a name typed today means
# what it says (``topk`` is the theory-only TopK, which has no model).
SAVED_NAME_ALIASES: dict[str, str] = {
    "topk": "topk_relu",   # numerics' name for the TopK∘ReLU SAE before the one registry (commit 839ca9b)
}
_SEARCHED: list[tuple[str, ...] | None] = [None]  # a stack: verify --activation narrows the default search
_BUILTIN_PREFIXES = ("theory.", "numerics.", "proofs_check.", "sdl_theory.")


def _key(name: str) -> str:
    return str(name).strip().lower().replace("-", "_").replace("∘", "_")


def register(family: Family) -> Family:
    """Add ``family`` (under its name and aliases); registering the same declaration twice is a no-op."""
    if not isinstance(family, Family):
        raise SDLInputError(f"register() takes a theory.registry.Family, got {family!r}")
    key = _key(family.name)
    old = _FAMILIES.get(key)
    if old is not None:
        if old.activation is family.activation and old.model == family.model:
            return old
        raise SDLInputError(f"a family named {family.name!r} is already registered ({old.activation.__module__}); "
                            "choose another name")
    module = family.activation.__module__
    ref = family.ref or (family.name if module.startswith(_BUILTIN_PREFIXES) else
                         f"{module}:{family.activation.__qualname__}")
    family = dataclasses.replace(family, ref=ref)
    _check_sweep(family)
    _FAMILIES[key] = family
    for a in family.aliases:
        _ALIASES.setdefault(_key(a), key)
    return family


def _check_sweep(family: Family) -> None:
    if family.sweep is None:
        return
    known = set(family._hyper_fields())
    bad = sorted(set(family.sweep) - known)
    if bad or not all(isinstance(v, (tuple, list)) and len(v) > 0 for v in family.sweep.values()):
        raise SDLInputError(f"family {family.name}: sweep must map its hyperparameters ({sorted(known) or 'none'}) to "
                            f"non-empty tuples of values; got {dict(family.sweep)}")


def _ensure_builtins() -> None:
    import theory.activations  # noqa: F401  (its modules register the built-in families)


def _import(ref: str, what: str):
    module_name, _, attr = ref.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise SDLInputError(f"{what}: cannot import module {module_name!r} ({exc}); is it on PYTHONPATH?") from None
    for part in attr.split(".") if attr else ():
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SDLInputError(f"{what}: module {module_name!r} has no {attr!r}") from None
    return obj


def get(name) -> Family:
    """The family called ``name`` (a registered name or alias, or ``"module:attr"``), or a clear error.

    Also accepts a :class:`Family`, an activation class or an activation."""
    _ensure_builtins()
    if isinstance(name, Family):
        return register(name)
    if isinstance(name, type) or not isinstance(name, str):
        return family_of(name)
    key = _key(name)
    if key in _FAMILIES:
        return _FAMILIES[key]
    if key in _ALIASES:
        return _FAMILIES[_ALIASES[key]]
    if ":" in name:
        for fam in _FAMILIES.values():
            if fam.ref == name.strip():
                return fam
        obj = _import(name.strip(), what=f"activation family {name!r}")
        if isinstance(obj, Family):
            return register(dataclasses.replace(obj, ref=obj.ref or name.strip()))
        if isinstance(obj, type):
            return family_of(obj)
        raise SDLInputError(f"{name!r} is neither a theory.registry.Family nor an activation class")
    raise SDLInputError(f"unknown activation family {name!r}; choose one of {', '.join(names())} "
                        "or name your own as module:Attr (a Family, or an activation class whose module registers one)")


def saved_name(name: str) -> str:
    """The family name a saved file's ``name`` (a model's ``cfg.json``, a saved training config's ``arch``)
    means now: renamed families through :data:`SAVED_NAME_ALIASES`, anything else unchanged."""
    return SAVED_NAME_ALIASES.get(name, name) if isinstance(name, str) else name


def family_of(activation) -> Family:
    """The family of an activation (or activation class): the one declared for that class."""
    _ensure_builtins()
    cls = activation if isinstance(activation, type) else type(activation)
    matches = [f for f in _FAMILIES.values() if f.activation is cls]
    if not matches:
        raise SDLInputError(f"{cls.__module__}.{cls.__qualname__} has no registered family; declare one with "
                            "theory.registry.register(Family(name, activation=...)) in its module")
    own = [f for f in matches if _key(f.name) == _key(getattr(cls, "name", ""))]
    return (own or matches)[0]


def families(*, searched: bool | None = None, per_sample: bool | None = None, homogeneous: bool | None = None,
             trainable: bool | None = None) -> tuple[Family, ...]:
    """Registered families (in registration order) with the given properties.

    ``searched=True`` gives the default search space of the claims, or the families of the
    innermost :func:`searching` block."""
    _ensure_builtins()
    if searched and _SEARCHED[-1] is not None:
        pool = [get(n) for n in _SEARCHED[-1]]
    else:
        pool = [f for f in _FAMILIES.values() if searched is None or (f.searched and f.builtin) == searched]
    return tuple(f for f in pool
                 if (per_sample is None or f.per_sample == per_sample)
                 and (homogeneous is None or f.homogeneous == homogeneous)
                 and (trainable is None or f.trainable == trainable))


def narrowed() -> bool:
    """Whether a :func:`searching` block (``verify --activation …``) chose the families searched."""
    return _SEARCHED[-1] is not None


def names(**filters) -> tuple[str, ...]:
    return tuple(f.name for f in families(**filters))


@contextlib.contextmanager
def searching(selection) -> Iterator[tuple[Family, ...]]:
    """Within the block, the claims' default search spaces draw only from ``selection`` (names or
    families; filtered by each claim's own conditions, e.g. C1's per-sample families)."""
    chosen = tuple(get(s).name for s in selection)
    if not chosen:
        raise SDLInputError("searching() needs at least one family")
    _SEARCHED.append(chosen)
    try:
        yield tuple(get(n) for n in chosen)
    finally:
        _SEARCHED.pop()


def make_activation(name: str, **params):
    """An activation from its family name (or ``module:attr``) and parameters; None values are dropped."""
    return get(name).make(**params)


def activation_from_json(d: dict):
    if not isinstance(d, dict) or not isinstance(d.get("name"), str):
        from theory.validation import got

        raise SDLInputError(f"an activation JSON is an object with 'name' (and its parameters), e.g. {{'name': 'relu'}}; "
                            f"got {got(d)}")
    d = dict(d)
    return make_activation(d.pop("name"), **d)


def method(name: str, kinds: tuple[str, ...]) -> tuple[str, str]:
    """A bench method → ``(kind, family name)``: a family's declared method name (``topk_sae``), a
    trainable family (an SAE of it), or ``KIND:FAMILY`` (``transcoder:relu``, ``sae:mypkg.acts:MyUnit``)."""
    _ensure_builtins()
    for fam in _FAMILIES.values():
        if name in fam.methods:
            return fam.methods[name], fam.name
    kind, sep, rest = name.partition(":")
    if sep and kind in kinds:
        fam = get(rest)
    else:
        kind, fam = "sae", get(name)
    if not fam.trainable:
        fam.model_class()  # the error that lists the trainable families
    return kind, fam.ref


def method_names() -> tuple[str, ...]:
    _ensure_builtins()
    return tuple(m for f in _FAMILIES.values() for m in f.methods)


def paper_table() -> dict[str, tuple]:
    """The paper's Table 1 rows as the families declare them (``Family.paper_rows``), SAE methods first."""
    _ensure_builtins()
    rows = [(f.methods.get(m, "sae") != "sae", m, r) for f in _FAMILIES.values() for m, r in f.paper_rows.items()]
    return {m: r for _, m, r in sorted(rows, key=lambda t: t[0])}


__all__ = ["Family", "register", "get", "family_of", "families", "names", "searching", "make_activation",
           "activation_from_json", "method", "method_names", "paper_table", "saved_name", "SAVED_NAME_ALIASES"]
