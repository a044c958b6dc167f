"""Checkpoints of the libraries people train SAEs with: read them, write SAELens and sparsify.

Formats, detected from the files in a directory (:func:`detect_format`):

============================  =====================================================================
``sdl``                       ours: ``cfg.json`` with a ``model`` entry + ``model.safetensors``
``saelens``                   SAELens ≥ 6: ``cfg.json`` (``architecture``, ``d_in``, ``d_sae``, …) +
                              ``sae_weights.safetensors``; ``W_enc`` is ``d_in × d_sae``, ``W_dec``
                              ``d_sae × d_in``; pre-6.0 configs (no ``architecture``) are read too
``sparsify``                  EleutherAI sparsify: ``cfg.json`` (``d_in``, ``k``, ``num_latents`` or
                              ``expansion_factor``, ``transcode``) + ``sae.safetensors``
                              (``encoder.weight`` ``n × d_in``, ``encoder.bias``, ``W_dec``, ``b_dec``)
``dictionary_learning``       saprmarks/dictionary_learning: ``ae.pt`` (a state dict, read only with
                              ``torch.load(weights_only=True)``), optional ``config.json``
============================  =====================================================================

Names across the libraries (the model's own names on the left):

================  ==============  ==================  =========================================
ours              SAELens         sparsify            dictionary_learning
================  ==============  ==================  =========================================
``n_latents``     ``d_sae``       ``num_latents``     ``dict_size``
``d_in``          ``d_in``        ``d_in``            ``activation_dim``
``d_out``         ``d_out``       (= ``d_in``)        (= ``activation_dim``)
``relu``          ``standard``    –                   ``AutoEncoder``, ``AutoEncoderNew``
``jumprelu``      ``jumprelu``    –                   ``JumpReluAutoEncoder``
``topk_relu``     ``topk``        ``activation=topk`` ``AutoEncoderTopK``
``batchtopk``     ``jumprelu``    –                   ``BatchTopKSAE``
                  (at inference)
``gated``         ``gated``       –                   ``GatedAutoEncoder``
================  ==============  ==================  =========================================

Every conversion is exact up to float rounding: conventions the model has as options are kept
(decoder bias subtracted before encoding; JumpReLU thresholds stored directly), the others are folded
into the weights (SAELens's TopK decoder-norm rescaling and fine-tuning scaling factor,
dictionary_learning's decoder-norm feature scaling) and listed in the ``notes`` of the result.
What cannot be represented (a skip connection, run-time activation normalisation, sparsify's
``groupmax``) is refused with one :class:`SDLInputError` line before any weight is loaded.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open

from theory.errors import SDLInputError

FORMATS = ("sdl", "saelens", "sparsify", "dictionary_learning")
SAELENS_WEIGHTS, SAELENS_CFG = "sae_weights.safetensors", "cfg.json"
SPARSIFY_WEIGHTS = "sae.safetensors"
DL_WEIGHTS, DL_CONFIG = "ae.pt", "config.json"
# the SAELens config format written by save_saelens (its loader treats configs without a version as pre-6.0)
SAELENS_FORMAT_VERSION = "6.0.0"


@dataclass
class Loaded:
    """A foreign checkpoint as one of our models, with what the conversion did."""

    model: torch.nn.Module
    format: str
    source_config: dict
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- detection
def detect_format(path: str | os.PathLike) -> str:
    """Which library wrote the checkpoint at ``path`` (a directory, or an ``ae.pt`` file)."""
    p = Path(path)
    if not p.exists():
        raise SDLInputError(f"checkpoint {p} does not exist")
    if p.is_file():
        if p.name.endswith(".pt"):
            return "dictionary_learning"
        raise SDLInputError(f"checkpoint {p} is a file; pass the checkpoint directory (or a dictionary_learning ae.pt)")
    if (p / SAELENS_WEIGHTS).is_file():
        return "saelens"
    if (p / SPARSIFY_WEIGHTS).is_file():
        return "sparsify"
    if (p / DL_WEIGHTS).is_file():
        return "dictionary_learning"
    if (p / "model.safetensors").is_file() and (p / "cfg.json").is_file():
        return "sdl"
    subs = sorted(d.name for d in p.iterdir() if d.is_dir() and any(
        (d / f).is_file() for f in (SAELENS_WEIGHTS, SPARSIFY_WEIGHTS, DL_WEIGHTS, "model.safetensors")))
    if subs:
        raise SDLInputError(f"{p} holds several checkpoints (one per hookpoint?); pass one of: "
                            + ", ".join(str(p / s) for s in subs[:10]) + (" …" if len(subs) > 10 else ""))
    raise SDLInputError(f"{p} is no checkpoint sdl-theory can read: expected model.safetensors (ours), "
                        f"{SAELENS_WEIGHTS} (SAELens), {SPARSIFY_WEIGHTS} (sparsify) or {DL_WEIGHTS} (dictionary_learning)")


def load_any(path: str | os.PathLike, device: str | torch.device = "cpu") -> Loaded:
    """Load any supported checkpoint as a :class:`numerics.models.SparseCoder` (float32)."""
    fmt = detect_format(path)
    if fmt == "sdl":
        from numerics.io import load_model

        model, cfg = load_model(path, device)
        return Loaded(model, "sdl", {"config": cfg})
    loaded = {"saelens": load_saelens, "sparsify": load_sparsify, "dictionary_learning": load_dictionary_learning}[fmt](path)
    loaded.model.to(device)
    return loaded


# --------------------------------------------------------------------------------------------- helpers
def _read_cfg(path: Path) -> dict:
    if not path.is_file():
        raise SDLInputError(f"{path} is missing; a checkpoint directory needs its config beside the weights")
    try:
        cfg = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SDLInputError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise SDLInputError(f"{path} must hold a JSON object, got {type(cfg).__name__}")
    return cfg


def _read_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    notes = []
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # malformed file: one clear line
        raise SDLInputError(f"cannot read {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    dtypes = sorted({str(t.dtype).replace("torch.", "") for t in tensors.values() if t.is_floating_point()})
    if dtypes and dtypes != ["float32"]:
        notes.append(f"weights stored as {', '.join(dtypes)}; converted to float32")
    return {k: t.float() if t.is_floating_point() else t for k, t in tensors.items()}, notes


def _need(tensors: dict, keys, where: str) -> None:
    missing = [k for k in keys if k not in tensors]
    if missing:
        raise SDLInputError(f"{where} lacks the tensors {missing}; it has {sorted(tensors)}")


def _shape(t: torch.Tensor, shape: tuple, name: str, where: str) -> None:
    if tuple(t.shape) != tuple(shape):
        raise SDLInputError(f"{where}: {name} has shape {tuple(t.shape)}, expected {tuple(shape)}")


def _build(name: str, d_in: int, n: int, d_out: int, state: dict, where: str, **kw):
    """Our model with exactly the given parameters (every parameter of the model must be given)."""
    from numerics.models import build_model

    model = build_model(name, d_in, n, d_out if d_out != d_in else None, **kw)
    own = model.state_dict()
    extra = sorted(set(state) - set(own))
    missing = sorted(set(own) - set(state))
    if extra or missing:  # a bug of this module, not of the file: the mapping must be complete
        raise AssertionError(f"{where}: conversion produced keys {sorted(state)} but {name} has {sorted(own)}")
    with torch.no_grad():
        for k, v in state.items():
            if tuple(own[k].shape) != tuple(v.shape):
                raise SDLInputError(f"{where}: {k} has shape {tuple(v.shape)}, expected {tuple(own[k].shape)}")
    model.load_state_dict({k: v.to(own[k].dtype).contiguous() for k, v in state.items()}, strict=True)
    return model.eval()


# --------------------------------------------------------------------------------------------- SAELens
def _saelens_defaults(cfg: dict) -> dict:
    """Pre-6.0 SAELens configs (no version): SAELens's own defaulting, the parts that matter here."""
    version = cfg.get("sae_lens_version") or (cfg.get("metadata") or {}).get("sae_lens_version")
    if version and not str(version).startswith(("0.", "1.", "2.", "3.", "4.", "5.")):
        return cfg
    cfg = dict(cfg)
    cfg.setdefault("apply_b_dec_to_input", True)
    cfg.setdefault("architecture", "standard")
    act = cfg.get("activation_fn", cfg.get("activation_fn_str"))
    k = (cfg.get("activation_fn_kwargs") or {}).get("k")
    if act == "topk" and k is not None:
        cfg["architecture"], cfg["k"] = "topk", k
    if isinstance(cfg.get("normalize_activations"), bool):
        cfg["normalize_activations"] = "expected_average_only_in" if cfg["normalize_activations"] else "none"
    return cfg


def load_saelens(path: str | os.PathLike) -> Loaded:
    """A SAELens checkpoint directory (``cfg.json`` + ``sae_weights.safetensors``)."""
    p = Path(path)
    raw = _read_cfg(p / SAELENS_CFG)
    cfg = _saelens_defaults(raw)
    where = f"SAELens checkpoint {p}"
    arch = cfg.get("architecture")
    supported = ("standard", "jumprelu", "topk", "gated", "transcoder", "jumprelu_transcoder")
    if arch not in supported:
        raise SDLInputError(f"{where}: architecture {arch!r} is not supported; supported: {', '.join(supported)}")
    norm = cfg.get("normalize_activations") or "none"
    if norm != "none":
        raise SDLInputError(f"{where}: normalize_activations = {norm!r} rescales inputs at run time (data-dependent), "
                            "which these models cannot represent; fold it first (SAELens: fold_activation_norm_scaling_factor)")
    if (cfg.get("reshape_activations") or "none") != "none":
        raise SDLInputError(f"{where}: reshape_activations = {cfg['reshape_activations']!r} (attention hook_z) is not supported")
    for key in ("d_in", "d_sae"):
        if not isinstance(cfg.get(key), int) or cfg[key] < 1:
            raise SDLInputError(f"{where}: cfg.json needs a positive integer {key!r}, got {cfg.get(key)!r}")
    d_in, n = cfg["d_in"], cfg["d_sae"]
    transcoder = arch.endswith("transcoder")
    d_out = int(cfg.get("d_out", d_in)) if transcoder else d_in
    t, notes = _read_safetensors(p / SAELENS_WEIGHTS)
    enc_bias = "b_gate" if arch == "gated" else "b_enc"
    _need(t, ["W_enc", "W_dec", "b_dec", enc_bias], where)
    _shape(t["W_enc"], (d_in, n), "W_enc", where)
    _shape(t["W_dec"], (n, d_out), "W_dec", where)
    W_enc, W_dec, b_enc, b_dec = t["W_enc"].T.clone(), t["W_dec"].clone(), t[enc_bias].clone(), t["b_dec"].clone()
    sub = bool(cfg.get("apply_b_dec_to_input", False)) and not transcoder
    if "scaling_factor" in t or "finetuning_scaling_factor" in t:
        s = t.get("finetuning_scaling_factor", t.get("scaling_factor"))
        if not torch.allclose(s, torch.ones_like(s)):
            # decode multiplies the code by s: (f ⊙ s) W_dec = f (diag(s) W_dec)
            W_dec = W_dec * s[:, None]
            notes.append("fine-tuning scaling factor folded into the decoder rows")
    common = {"bias": True, "apply_b_dec_to_input": sub}
    meta = cfg.get("metadata") or {}
    ours = meta.get("sdl_theory_spec") if isinstance(meta, dict) else None
    if isinstance(ours, dict):  # written by save_saelens: restore our own hyper-parameters
        common.update({k: v for k, v in ours.items()
                       if k not in ("name", "d_in", "n_latents", "d_out", "bias", "apply_b_dec_to_input",
                                    "threshold_storage")})
    if arch in ("standard", "transcoder"):
        common.setdefault("l1_coeff", float(cfg.get("l1_coefficient", 0.0)))
        state = {"W_enc": W_enc, "W_dec": W_dec, "b_enc": b_enc, "b_dec": b_dec}
        model = _build("relu", d_in, n, d_out, state, where, **common)
    elif arch in ("jumprelu", "jumprelu_transcoder"):
        if "threshold" in t:
            theta = t["threshold"]
        elif "log_threshold" in t:  # older SAELens JumpReLU checkpoints
            theta = t["log_threshold"].exp()
            notes.append("log_threshold converted to a threshold stored directly")
        else:
            raise SDLInputError(f"{where}: a JumpReLU checkpoint needs 'threshold' (or 'log_threshold'); it has {sorted(t)}")
        _shape(theta, (n,), "threshold", where)
        common.setdefault("l0_coeff", float(cfg.get("l0_coefficient", 0.0)))
        state = {"W_enc": W_enc, "W_dec": W_dec, "b_enc": b_enc, "b_dec": b_dec}
        if isinstance(ours, dict) and ours.get("threshold_storage", "log") == "log":
            # our own log-stored model, exported: back to log θ (equal up to one float rounding)
            state["log_threshold"] = theta.double().log().float()
            model = _build("jumprelu", d_in, n, d_out, state, where, **common)
        else:
            state["threshold"] = theta.clone()
            model = _build("jumprelu", d_in, n, d_out, state, where, threshold_storage="direct", **common)
    elif arch == "topk":
        k = cfg.get("k")
        if not isinstance(k, int) or not 1 <= k <= n:
            raise SDLInputError(f"{where}: topk needs an integer k in [1, d_sae = {n}], got {k!r}")
        if cfg.get("rescale_acts_by_decoder_norm"):
            # z_i ||d_i|| selected and decoded through d_i/||d_i||: the same as encoder rows and biases
            # scaled by ||d_i|| with unit decoder rows (exact; the selection sees the same numbers)
            norms = W_dec.norm(dim=1).clamp_min(1e-8)
            W_enc, b_enc, W_dec = W_enc * norms[:, None], b_enc * norms, W_dec / norms[:, None]
            notes.append("rescale_acts_by_decoder_norm folded: encoder rows scaled by the decoder norms, decoder rows unit")
        common["k"] = k
        state = {"W_enc": W_enc, "W_dec": W_dec, "b_enc": b_enc, "b_dec": b_dec}
        model = _build("topk_relu", d_in, n, d_out, state, where, **common)
    else:  # gated
        _need(t, ["r_mag", "b_mag"], where)
        common.setdefault("l1_coeff", float(cfg.get("l1_coefficient", 0.0)))
        state = {"W_enc": W_enc, "W_dec": W_dec, "b_enc": b_enc, "b_dec": b_dec,
                 "r_mag": t["r_mag"].clone(), "b_mag": t["b_mag"].clone()}
        model = _build("gated", d_in, n, d_out, state, where, **common)
    return Loaded(model, "saelens", raw, notes)


def saelens_config(model, metadata: dict | None = None) -> dict:
    """The SAELens ``cfg.json`` of one of our models (SAELens's inference config fields)."""
    name = model.spec()["name"]
    transcoder = model.d_out != model.d_in
    arch = _saelens_architecture(model)
    if transcoder:
        if arch not in ("standard", "jumprelu"):
            raise SDLInputError(f"SAELens has no {arch} transcoder (only 'transcoder' and 'jumprelu_transcoder'); "
                                f"cannot export a {name} model with d_in = {model.d_in} != d_out = {model.d_out}")
        arch = "transcoder" if arch == "standard" else "jumprelu_transcoder"
    cfg = {"architecture": arch, "d_in": model.d_in, "d_sae": model.n_latents, "dtype": "float32", "device": "cpu",
           "apply_b_dec_to_input": bool(model.apply_b_dec_to_input), "normalize_activations": "none",
           "reshape_activations": "none"}
    if transcoder:
        cfg["d_out"] = model.d_out
    if arch == "topk":
        cfg["k"] = int(model.k)
        cfg["rescale_acts_by_decoder_norm"] = False
    meta = {"sae_lens_version": SAELENS_FORMAT_VERSION, "sae_lens_training_version": None,
            "converted_by": "sdl-theory", "sdl_theory_spec": model.spec()}
    meta.update(metadata or {})
    cfg["metadata"] = meta
    return cfg


def _saelens_architecture(model) -> str:
    """SAELens's inference architecture of one of our models (by class: BatchTopK and its Matryoshka
    subclass run at inference as JumpReLU with their learned global threshold)."""
    from numerics.models.batchtopk import BatchTopKCoder
    from numerics.models.gated import GatedCoder
    from numerics.models.jumprelu import JumpReLUCoder
    from numerics.models.relu import ReLUCoder
    from numerics.models.topk import TopKCoder

    for cls, arch in ((BatchTopKCoder, "jumprelu"), (TopKCoder, "topk"), (JumpReLUCoder, "jumprelu"),
                      (GatedCoder, "gated"), (ReLUCoder, "standard")):
        if isinstance(model, cls):
            return arch
    raise SDLInputError(f"cannot export a {model.spec()['name']!r} model to SAELens (no SAELens architecture for it)")


def saelens_state(model) -> dict[str, torch.Tensor]:
    """SAELens's tensors for one of our models (``W_enc`` d_in × d_sae, ``W_dec`` d_sae × d_out)."""
    from numerics.models.batchtopk import BatchTopKCoder

    name = model.spec()["name"]
    arch = _saelens_architecture(model)
    with torch.no_grad():
        zeros_n = torch.zeros(model.n_latents)
        b_enc = model.b_enc.detach().clone() if model.b_enc is not None else zeros_n
        b_dec = model.b_dec.detach().clone() if model.b_dec is not None else torch.zeros(model.d_out)
        out = {"W_enc": model.W_enc.detach().T.contiguous().clone(), "W_dec": model.W_dec.detach().clone(), "b_dec": b_dec}
        if arch == "gated":
            out["b_gate"] = b_enc
            out["r_mag"] = model.r_mag.detach().clone()
            out["b_mag"] = model.b_mag.detach().clone() if model.b_mag is not None else zeros_n
        else:
            out["b_enc"] = b_enc
        if isinstance(model, BatchTopKCoder):
            thr = float(model.threshold)
            if thr < 0:
                raise SDLInputError(f"this {name} model has no inference threshold yet (it is estimated during training); "
                                    "SAELens runs BatchTopK at inference as JumpReLU with that threshold")
            out["threshold"] = torch.full((model.n_latents,), thr)
        elif arch == "jumprelu":
            out["threshold"] = model.threshold.detach().clone()
    return {k: v.float().contiguous() for k, v in out.items()}


def save_saelens(model, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write ``cfg.json`` + ``sae_weights.safetensors`` that ``sae_lens.SAE.load_from_disk`` reads.

    Our spec is kept in ``metadata.sdl_theory_spec`` so that reading the directory back restores the
    same model class and hyper-parameters."""
    p = Path(path)
    _write_dir(p, SAELENS_WEIGHTS, saelens_state(model), saelens_config(model, metadata))
    return p


def _write_dir(p: Path, weights_name: str, tensors: dict, cfg: dict) -> None:
    """Weights + ``cfg.json`` as one directory swapped in by one rename (:func:`numerics.io.atomic_dir`)."""
    from safetensors.torch import save_file

    from numerics.io import atomic_dir, dumps, write_file

    flat = {k: v.detach().float().contiguous().cpu() for k, v in tensors.items()}
    text = dumps(cfg)
    with atomic_dir(p) as d:
        write_file(d / weights_name, lambda f: save_file(flat, f))
        write_file(d / "cfg.json", lambda f: Path(f).write_text(text, encoding="utf-8"))


# --------------------------------------------------------------------------------------------- sparsify
def load_sparsify(path: str | os.PathLike) -> Loaded:
    """A sparsify checkpoint directory (``cfg.json`` + ``sae.safetensors``); TopK only."""
    p = Path(path)
    cfg = _read_cfg(p / "cfg.json")
    where = f"sparsify checkpoint {p}"
    if cfg.get("activation", "topk") != "topk":
        raise SDLInputError(f"{where}: activation {cfg.get('activation')!r} is not supported (only 'topk')")
    for key in ("skip_connection", "embed_skip", "gram_lookup"):
        if cfg.get(key):
            raise SDLInputError(f"{where}: {key} = true adds a term outside x̂ = W_D σ(W_E x), which is not supported")
    d_in = cfg.get("d_in")
    if not isinstance(d_in, int) or d_in < 1:
        raise SDLInputError(f"{where}: cfg.json needs a positive integer 'd_in', got {d_in!r}")
    n = int(cfg.get("num_latents") or 0) or d_in * int(cfg.get("expansion_factor", 32))
    k = cfg.get("k", 32)
    if not isinstance(k, int) or not 1 <= k <= n:
        raise SDLInputError(f"{where}: k must be an integer in [1, {n}], got {k!r}")
    t, notes = _read_safetensors(p / SPARSIFY_WEIGHTS)
    _need(t, ["encoder.weight", "encoder.bias", "W_dec", "b_dec"], where)
    if "W_skip" in t:
        raise SDLInputError(f"{where}: has a skip connection W_skip, which is not supported")
    _shape(t["encoder.weight"], (n, d_in), "encoder.weight", where)
    d_out = t["W_dec"].shape[1]
    _shape(t["W_dec"], (n, d_out), "W_dec", where)
    transcode = bool(cfg.get("transcode", False))
    state = {"W_enc": t["encoder.weight"], "b_enc": t["encoder.bias"], "W_dec": t["W_dec"], "b_dec": t["b_dec"]}
    model = _build("topk_relu", d_in, n, d_out, state, where, k=k, apply_b_dec_to_input=not transcode,
                   unit_norm_decoder=bool(cfg.get("normalize_decoder", True)))
    return Loaded(model, "sparsify", cfg, notes)


def save_sparsify(model, path: str | os.PathLike) -> Path:
    """``cfg.json`` + ``sae.safetensors`` for ``sparsify.SparseCoder.load_from_disk`` (TopK models only).

    sparsify subtracts ``b_dec`` from the input exactly when ``transcode`` is false, so a model
    without that convention is written as ``transcode: true`` (same function)."""
    spec = model.spec()
    if spec["name"] != "topk_relu":
        raise SDLInputError(f"sparsify stores TopK sparse coders only; cannot export a {spec['name']!r} model")
    if model.b_enc is None or model.b_dec is None:
        raise SDLInputError("sparsify models have encoder and decoder biases; this model was built with bias=False")
    p = Path(path)
    state = {"encoder.weight": model.W_enc.detach(), "encoder.bias": model.b_enc.detach(),
             "W_dec": model.W_dec.detach(), "b_dec": model.b_dec.detach()}
    cfg = {"activation": "topk", "expansion_factor": max(1, model.n_latents // model.d_in),
           "normalize_decoder": bool(model.unit_norm_decoder), "num_latents": model.n_latents, "k": int(model.k),
           "multi_topk": False, "skip_connection": False, "transcode": not model.apply_b_dec_to_input,
           "d_in": model.d_in}
    _write_dir(p, SPARSIFY_WEIGHTS, state, cfg)
    return p


# --------------------------------------------------------------------------------------------- dictionary_learning
def _torch_load_safe(path: Path) -> dict[str, torch.Tensor]:
    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # weights_only refuses anything but tensors and plain containers
        raise SDLInputError(f"cannot read {path} with torch.load(weights_only=True): {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise SDLInputError(f"{path} is not a state dict of tensors")
    return {k: v.float() if v.is_floating_point() else v for k, v in sd.items()}


def load_dictionary_learning(path: str | os.PathLike) -> Loaded:
    """A dictionary_learning ``ae.pt`` (its directory or the file itself), architecture from its keys."""
    p = Path(path)
    f = p if p.is_file() else p / DL_WEIGHTS
    where = f"dictionary_learning checkpoint {f}"
    cfg_path = f.parent / DL_CONFIG
    cfg = _read_cfg(cfg_path) if cfg_path.is_file() else {}
    trainer = cfg.get("trainer", {}) if isinstance(cfg.get("trainer"), dict) else {}
    dict_class = trainer.get("dict_class")
    t = _torch_load_safe(f)
    t.pop("_hub_mixin_config", None)
    keys = set(t)
    notes: list[str] = []
    if {"encoder.weight", "decoder.weight"} <= keys and "k" in keys:   # AutoEncoderTopK / BatchTopKSAE
        _need(t, ["encoder.bias", "b_dec", "threshold"], where)
        n, d_in = t["encoder.weight"].shape
        _shape(t["decoder.weight"], (d_in, n), "decoder.weight", where)
        k = int(t["k"])
        state = {"W_enc": t["encoder.weight"], "b_enc": t["encoder.bias"], "W_dec": t["decoder.weight"].T, "b_dec": t["b_dec"]}
        batch = dict_class == "BatchTopKSAE"
        if batch:
            # BatchTopKSAE.encode(use_threshold=True) at inference: relu(z)·1{relu(z) > θ}, our BatchTopK's inference
            state["threshold"] = t["threshold"].reshape(())
            model = _build("batchtopk", d_in, n, d_in, state, where, k=k, apply_b_dec_to_input=True, unit_norm_decoder=True)
        else:
            model = _build("topk_relu", d_in, n, d_in, state, where, k=k, apply_b_dec_to_input=True, unit_norm_decoder=True)
            if dict_class is None:
                notes.append("no config.json: read as AutoEncoderTopK (per-sample TopK)")
        arch = dict_class or ("BatchTopKSAE" if batch else "AutoEncoderTopK")
    elif {"W_enc", "b_enc", "W_dec", "b_dec", "threshold"} <= keys:      # JumpReluAutoEncoder
        d_in, n = t["W_enc"].shape
        _shape(t["W_dec"], (n, d_in), "W_dec", where)
        # its encode scales the code by ||d_i|| and decode divides it back: the reconstruction is that of
        # a plain JumpReLU with these weights
        sub = bool(trainer.get("apply_b_dec_to_input", False))
        state = {"W_enc": t["W_enc"].T, "b_enc": t["b_enc"], "W_dec": t["W_dec"], "b_dec": t["b_dec"], "threshold": t["threshold"]}
        model = _build("jumprelu", d_in, n, d_in, state, where, threshold_storage="direct", apply_b_dec_to_input=sub, l0_coeff=0.0)
        notes.append("dictionary_learning scales JumpReLU codes by the decoder norms (undone in decode); codes here are unscaled")
        arch = "JumpReluAutoEncoder"
    elif {"encoder.weight", "r_mag", "gate_bias", "mag_bias", "decoder.weight", "decoder_bias"} <= keys:  # GatedAutoEncoder
        n, d_in = t["encoder.weight"].shape
        state = {"W_enc": t["encoder.weight"], "b_enc": t["gate_bias"], "W_dec": t["decoder.weight"].T,
                 "b_dec": t["decoder_bias"], "r_mag": t["r_mag"], "b_mag": t["mag_bias"]}
        model = _build("gated", d_in, n, d_in, state, where, apply_b_dec_to_input=True, l1_coeff=0.0)
        notes.append("dictionary_learning scales gated codes by the decoder norms (undone in decode); codes here are unscaled")
        arch = "GatedAutoEncoder"
    elif {"encoder.weight", "encoder.bias", "decoder.weight"} <= keys and ("bias" in keys or "decoder.bias" in keys):
        n, d_in = t["encoder.weight"].shape
        _shape(t["decoder.weight"], (d_in, n), "decoder.weight", where)
        old = "bias" in keys   # AutoEncoder: relu(W(x − b) + b_enc), decode W f + b; AutoEncoderNew: no subtraction
        b_dec = t["bias"] if old else t["decoder.bias"]
        state = {"W_enc": t["encoder.weight"], "b_enc": t["encoder.bias"], "W_dec": t["decoder.weight"].T, "b_dec": b_dec}
        model = _build("relu", d_in, n, d_in, state, where, apply_b_dec_to_input=old, l1_coeff=float(trainer.get("l1_penalty", 0.0)))
        arch = "AutoEncoder" if old else "AutoEncoderNew"
    else:
        raise SDLInputError(f"{where}: unknown dictionary_learning layout with tensors {sorted(keys)}; supported: "
                            "AutoEncoder, AutoEncoderNew, AutoEncoderTopK, BatchTopKSAE, JumpReluAutoEncoder, GatedAutoEncoder")
    if dict_class and dict_class != arch:
        notes.append(f"config.json names {dict_class}; the tensors were read as {arch}")
    return Loaded(model, "dictionary_learning", {"architecture": arch, **cfg}, notes)


# --------------------------------------------------------------------------------------------- convert
def convert(src: str | os.PathLike, dst: str | os.PathLike, to: str = "saelens") -> Loaded:
    """Read any supported checkpoint at ``src`` and write it at ``dst`` in format ``to``."""
    if to not in ("sdl", "saelens", "sparsify"):
        raise SDLInputError(f"--to must be one of sdl, saelens, sparsify (dictionary_learning's ae.pt is a pickle and is "
                            f"only read), got {to!r}")
    if Path(dst).exists() and any(Path(dst).iterdir()):
        raise SDLInputError(f"output directory {dst} exists and is not empty; choose a new directory")
    loaded = load_any(src)
    model = loaded.model.cpu()
    if to == "sdl":
        from numerics.io import save_model

        save_model(dst, model, {"converted_from": {"path": str(src), "format": loaded.format,
                                                   "config": loaded.source_config, "notes": loaded.notes}})
    elif to == "saelens":
        save_saelens(model, dst, {"converted_from": str(src), "converted_from_format": loaded.format})
    else:
        save_sparsify(model, dst)
    return loaded


def reconstruction_gap(a, b, n: int = 256, seed: int = 0) -> float:
    """``max ||a(x) − b(x)|| / max ||a(x)||`` over ``n`` seeded inputs at the scale of the model's biases."""
    if (a.d_in, a.d_out) != (b.d_in, b.d_out):
        return float("inf")
    gen = torch.Generator().manual_seed(int(seed))
    x = torch.randn(n, a.d_in, generator=gen)
    if a.b_dec is not None and a.d_in == a.d_out:
        x = x + a.b_dec.detach().cpu()   # around the data's offset, where trained models are used
    a_was, b_was = a.training, b.training
    a.eval(), b.eval()
    try:
        with torch.no_grad():
            ya, yb = a.cpu()(x), b.cpu()(x)
    finally:
        a.train(a_was), b.train(b_was)
    return float((ya - yb).norm(dim=1).max() / ya.norm(dim=1).max().clamp_min(1e-30))
