"""``sdl-theory derive``: print the derived gradients, stationarity conditions and Hessian blocks of L̃.

Examples::

    sdl-theory derive --activation relu
    sdl-theory derive --activation jumprelu --theta 0.5 --format latex
    sdl-theory derive --activation topk_relu --k 1 --pattern "0,1|2|"
    sdl-theory derive --activation gated --tied true --bias --pattern "0,1|2"
    sdl-theory derive --instance inst.json --format json
    sdl-theory derive --absorption 2 --lam 1.0

``--absorption K`` prints the stationarity system of the partially absorbed family of a parent with K children
(:func:`theory.absorption_curve.family_system`) instead; with ``--lam`` also the local minima of the exact
objective at that λ (bench magnitudes 1 + Exp(1), parent alone with probability 0.2).

Without ``--instance`` a small embedded instance is used to specialise a ``--pattern`` (n = 3 unit
features in R² at 120° to each other, M_d = 1). An instance file is the JSON of
``theory.Instance.to_json()``, optionally with a point: either the instance's keys at top level or
under ``"instance"``, plus ``"W_E"`` (n_q × n_p), optionally ``"W_D"`` (n_r × n_q; default: the
least-squares decoder) and ``"b_E"``.
"""
from __future__ import annotations

FORMAT_NAMES = ("text", "latex", "json")


def parameter_flags() -> dict:
    """Every registered family's activation parameters → the families taking it (each is a flag)."""
    from theory import registry

    out: dict = {}
    for fam in registry.families():
        for p in fam.parameter_names():
            out.setdefault(p, []).append(fam.name)
    return out


def _parameter_types(family) -> dict:
    import dataclasses
    import typing

    hints = typing.get_type_hints(family.activation) if dataclasses.is_dataclass(family.activation) else {}
    return {p: hints.get(p, float) for p in family.parameter_names()}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "derive",
        help="print the derived gradients, stationarity conditions and Hessian blocks of L̃",
        description=__doc__.split("\n\n")[0],
    )
    from theory import registry

    p.add_argument("--activation", default=None, metavar="FAMILY",
                   help=f"activation family: {', '.join(registry.names())}, or your own as module:Attr "
                        "(default: the instance's, else relu)")
    for name, fams in parameter_flags().items():
        kinds = {_parameter_types(registry.get(f)).get(name) for f in fams}
        if kinds == {bool}:  # a switch, e.g. Gated's --tied
            p.add_argument(f"--{name}", nargs="?", const="true", default=None, metavar="true|false",
                           help=f"parameter {name} of {', '.join(fams)} (a bare --{name} means true)")
        else:
            p.add_argument(f"--{name}", default=None, metavar="V", help=f"parameter {name} of {', '.join(fams)}")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="any other parameter of the activation (e.g. of your own family); repeatable")
    p.add_argument("--bias", action="store_true", help="model with an encoder bias b")
    p.add_argument("--pattern", default=None,
                   help='activation pattern: neurons separated by "|", their features by ",", e.g. "0,1|2|" '
                        "(neuron 0 fires on features 0 and 1, neuron 1 on 2, neuron 2 is dead)")
    p.add_argument("--instance", default=None, metavar="FILE.json",
                   help="instance (and optionally a point W_E, W_D, b_E) to specialise to numbers")
    p.add_argument("--form", choices=("both", "matrix", "block"), default="both",
                   help="which symbolic form to print (default both)")
    p.add_argument("--format", choices=FORMAT_NAMES, default="text", help="output format (default text)")
    p.add_argument("--absorption", type=int, default=None, metavar="K",
                   help="print the stationarity system of the partially absorbed family of a parent with K children")
    p.add_argument("--lam", type=float, default=None, help="with --absorption: also the local minima at this λ")
    p.add_argument("--two-level", action="store_true",
                   help="with --absorption K: the two-level family (grandparent -> one parent -> K children); "
                        "with --bias: the family with an encoder bias")
    p.set_defaults(func=run)


def default_instance():
    """n = 3 unit features in R² at 120° (interference −1/2), M_d = 1, ReLU."""
    import numpy as np

    from theory.instance import Instance

    angles = np.deg2rad([90.0, 210.0, 330.0])
    return Instance(W_p=np.vstack([np.cos(angles), np.sin(angles)]), weights=np.ones(3))


def parse_pattern(text: str, n_features: int, n_hint: str):
    """``"0,1|2|"`` → ActivationPattern ((0, 1), (2,), ()) over ``n_features`` features."""
    from theory.errors import SDLInputError
    from theory.patterns import ActivationPattern

    sets = []
    for i, part in enumerate(text.split("|")):
        F = set()
        for tok in (t.strip() for t in part.split(",")):
            if not tok:
                continue
            try:
                d = int(tok)
            except ValueError:
                raise SDLInputError(
                    f'--pattern {text!r}: {tok!r} (neuron {i}) is not a feature index; write neurons separated by "|" '
                    'and their features by ",", e.g. "0,1|2|"') from None
            if not 0 <= d < n_features:
                raise SDLInputError(
                    f"--pattern {text!r}: feature {d} (neuron {i}) does not exist; {n_hint} has n = {n_features} "
                    f"features, numbered 0..{n_features - 1}")
            F.add(d)
        sets.append(F)
    return ActivationPattern.from_sets(sets, n_features)


def _load_instance_file(path: str):
    import json

    import numpy as np

    from theory.errors import SDLInputError
    from theory.instance import Instance
    from theory.printing import Point

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise SDLInputError(f"--instance {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise SDLInputError(f"--instance {path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SDLInputError(f"--instance {path}: expected a JSON object with W_p (and optionally W_E, W_D, b_E)")
    body = data.get("instance", data)
    if not isinstance(body, dict) or "W_p" not in body:
        raise SDLInputError(f"--instance {path}: missing 'W_p' (write theory.Instance.to_json() to the file)")
    body = dict(body)
    body.setdefault("activation", {"name": "relu"})
    try:
        inst = Instance.from_json(body)
    except (KeyError, TypeError) as exc:
        raise SDLInputError(f"--instance {path}: malformed instance ({exc!r})") from None
    point = None
    if data.get("W_E") is not None:
        point = Point(np.asarray(data["W_E"], dtype=float),
                      None if data.get("W_D") is None else np.asarray(data["W_D"], dtype=float),
                      None if data.get("b_E") is None else np.asarray(data["b_E"], dtype=float), source=f"from {path}")
    elif data.get("W_D") is not None or data.get("b_E") is not None:
        raise SDLInputError(f"--instance {path}: W_D / b_E given without W_E; a point needs the encoder W_E")
    return inst, point


def _activation(args, inst):
    from theory import registry
    from theory.errors import SDLInputError

    family = registry.get(args.activation) if args.activation else (
        registry.family_of(inst.activation) if inst is not None else registry.get("relu"))
    given = {name: getattr(args, name) for name in parameter_flags() if getattr(args, name, None) is not None}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SDLInputError(f"--param expects NAME=VALUE, got {item!r}")
        given[name.strip()] = value.strip()
    types = _parameter_types(family)
    for name in given:
        if name not in types:
            takes = parameter_flags().get(name)
            raise SDLInputError(f"--{name} applies to {', '.join(takes)}, not to {family.name}" if takes else
                                f"--param {name}: {family.name} takes {list(types) or 'no parameters'}")
    if args.activation is None and not given and inst is not None:
        return inst.activation  # keep the file's activation as it is (e.g. a BatchTopK threshold)
    params = {}
    for name, text in given.items():
        if types[name] is bool:  # e.g. Gated's --tied true
            if str(text).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise SDLInputError(f"--{name} must be true or false, got {text!r}")
            params[name] = str(text).lower() in ("true", "1", "yes")
            continue
        kind = types[name] if types[name] in (int, float) else float
        try:
            params[name] = kind(text)
        except ValueError:
            raise SDLInputError(f"--{name} must be a number ({kind.__name__}), got {text!r}") from None
    return family.make(**params)


def run(args) -> int:
    if args.absorption is not None:
        return run_absorption(args)
    import numpy as np

    from theory.derivation import derive, least_squares_decoder
    from theory.errors import SDLInputError
    from theory.patterns import pattern_of
    from theory.printing import render

    point = None
    if args.instance is not None:
        inst, point = _load_instance_file(args.instance)
        n_hint = f"the instance in {args.instance}"
    else:
        inst, n_hint = None, "the default instance (pass --instance FILE.json for another)"
    act = _activation(args, inst)
    base = inst if inst is not None else default_instance()
    inst = base.replace(activation=act, encoder_bias=base.encoder_bias or args.bias)

    pattern = parse_pattern(args.pattern, inst.n, n_hint) if args.pattern is not None else None
    forms = ("matrix", "block") if args.form == "both" else (args.form,)
    if point is not None:
        # validate the point before any printing (shapes, bias)
        W_D = point.W_D if point.W_D is not None else least_squares_decoder(inst, point.W_E, point.b_E)
        inst.check_params(W_D, point.W_E, point.b_E)
        at = pattern_of(inst, point.W_E, point.b_E)
        if pattern is not None and not np.array_equal(at.mask, pattern.mask):
            raise SDLInputError(f"the point's encoder has pattern {at} but --pattern says {pattern}; drop one of them")
        pattern = at
    if pattern is not None and args.form == "block":
        from theory.derivation import block_form_problem

        problem = block_form_problem(pattern)
        if problem:
            raise SDLInputError(f"--form block: pattern {pattern} is not a partition: {problem} (use --form matrix or both)")
    if point is None and pattern is not None:
        point = _witness_point(inst, pattern)
    show_instance = args.instance is not None or pattern is not None
    derivation = derive(act, pattern=pattern, instance=inst if show_instance else None, encoder_bias=inst.encoder_bias)
    print(render(derivation, args.format, point if show_instance else None, forms), end="")
    return 0


def _witness_point(inst, pattern):
    """``Region.find_point``'s witness when it reproduces the pattern, else None."""
    import numpy as np

    from theory.patterns import pattern_of, realize
    from theory.printing import Point

    rz = realize(inst, pattern)
    if rz.realizable and np.array_equal(pattern_of(inst, rz.W_E, rz.b_E).mask, pattern.mask):
        return Point(np.array(rz.W_E), None, None if rz.b_E is None else np.array(rz.b_E),
                     source=f"linear-program {rz.reason}")
    return None


def run_absorption(args) -> int:
    """``--absorption K``: the partially absorbed family's loss and ``∂L/∂θ = 0`` (THEORY.md §7, C7); with
    ``--bias`` the family with an encoder bias, with ``--two-level`` grandparent → parent → K children."""
    import json

    import sympy as sp

    from theory.errors import SDLInputError

    K = args.absorption
    if K < 1 or K > 6:
        raise SDLInputError(f"--absorption takes the number of children K, 1 <= K <= 6; got {K}")
    if args.lam is not None and args.lam < 0:
        raise SDLInputError(f"--lam must be >= 0, got {args.lam}")
    if args.bias and args.two_level:
        raise SDLInputError("--absorption takes --bias or --two-level, not both (the two-level family has no bias)")
    minima = None
    if args.two_level:
        from theory.absorption_two_level import family_system_two_level

        loss, grads, _ = family_system_two_level(K)
        head = (f"Two-level partially absorbed family, grandparent g -> parent p -> {K} children c_j (orthonormal "
                "SAE, ReLU + L1, no bias):\n"
                "  grandparent latent: encoder a (g - gamma p), decoder u g + w p + sum_j y_j c_j\n"
                "  parent latent: encoder e (p - sum_j delta_j c_j), decoder s g + r p + sum_j q_j c_j\n"
                "  child latent j: encoder b_j c_j, decoder t_j g + o_j p + v_j c_j\n"
                "  the grandparent latent fires iff m_P < m_G/gamma, the parent latent iff m_C < m_P/delta_j; "
                "W_ab(rho) = E[m_G^a m_P^b 1{m_P < rho m_G}], V_bc(rho) = E[m_P^b m_C^c 1{m_C < rho m_P}], "
                "D_abc(rho1, rho2) = E[m_G^a m_P^b m_C^c 1{m_P < rho1 m_G, m_C < rho2 m_P}] "
                "(closed forms: theory.absorption_two_level)\n")
        if args.lam is not None:
            from theory.absorption_curve import stationary_points
            from theory.absorption_two_level import TwoLevel
            from theory.distribution import Constant

            minima = [p.to_json() for p in stationary_points(TwoLevel(1, K, Constant(2.0)), args.lam, n_random=0)
                      if p.kind == "minimum"]
            where = "grandparent magnitude 2 (constant), parent and children 1 + Exp(1), p_alone = p_parent = 0.2"
    elif args.bias:
        from theory.absorption_bias import family_system_bias

        loss, grads, _ = family_system_bias(K)
        head = (f"Partially absorbed family with an encoder bias, parent p with {K} children c_j (orthonormal SAE, "
                "ReLU + L1):\n"
                "  parent latent: encoder a (p - sum_j gamma_j c_j), bias beta_0, decoder u p + sum_j w_j c_j\n"
                "  child latent j: encoder b_j c_j, bias beta_j <= 0, decoder s_j p + v_j c_j\n"
                "  the parent latent fires iff m_P - gamma_j m_C > t_0 = -beta_0/a, child j iff m_C > t_j = "
                "-beta_j/b_j; J_ab(gamma, t_0, t_j) = E[m_P^a m_C^b 1{both}], Q_ab(gamma, t_0) = E[.. 1{parent on}], "
                "T_b(t) = E[m_C^b 1{m_C > t}], F_a(t) = E[m_P^a 1{m_P > t}] (closed forms: theory.absorption_bias)\n")
        if args.lam is not None:
            from theory.absorption_bias import stationary_points_bias
            from theory.absorption_curve import Hierarchy

            minima = [m for m in stationary_points_bias(Hierarchy(K), args.lam) if m["kind"] == "minimum"]
            where = "magnitudes 1 + Exp(1), p_alone = 0.2"
    else:
        from theory.absorption_curve import family_system

        loss, grads, _ = family_system(K)
        if args.lam is not None:
            from theory.absorption_curve import Hierarchy, stationary_points

            minima = [p.to_json() for p in stationary_points(Hierarchy(K), args.lam) if p.kind == "minimum"]
            where = "magnitudes 1 + Exp(1), p_alone = 0.2"
        head = (f"Partially absorbed family, parent p with {K} children c_j (orthonormal SAE, ReLU + L1, no bias):\n"
                "  parent latent: encoder a (p - sum_j gamma_j c_j), decoder u p + sum_j w_j c_j\n"
                "  child latent j: encoder b_j c_j, decoder s_j p + v_j c_j\n"
                "  on a child-j event the parent latent fires iff m_C/m_P < 1/gamma_j; "
                "G_ab(rho) = E[m_P^a m_C^b 1{m_C < rho m_P}] (closed form: theory.absorption_curve.ratio_tail_moment)\n")
    if args.format == "json":
        out = {"family": head, "loss": str(loss), "stationarity": {str(k): str(v) for k, v in grads.items()}}
        if minima is not None:
            out["minima"] = minima
        print(json.dumps(out, indent=1))
        return 0
    fmt = sp.latex if args.format == "latex" else sp.sstr
    lines = [head, "loss per event:", "  L = " + fmt(loss), "", "stationarity (each = 0):"]
    lines += [f"  dL/d{k} = " + fmt(v) for k, v in grads.items()]
    if minima is not None:
        lines += ["", f"local minima of the exact objective at lambda = {args.lam:g} "
                      f"({where}; rate, tilt <d_child, parent>, {'grandparent' if args.two_level else 'parent'} "
                      "gain, loss):"]
        lines += [f"  #{i}: {m['absorption_rate']:.4f}, {m['tilt']:.4f}, {m['parent_gain']:.4f}, {m['loss']:.5f}"
                  for i, m in enumerate(minima)]
    print("\n".join(lines))
    return 0
