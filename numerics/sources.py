"""Activations that are not ours: a source interface, and evaluation without ground truth (issue 9).

An :class:`ActivationSource` yields batches ``(x, y)`` of model inputs and targets (``y is x`` for an
SAE; a transcoder's target is another site, e.g. an MLP's output for its input). Three sources:

- :class:`TensorSource`: tensors already in memory;
- :class:`SafetensorsShards`: a directory (or list) of ``.safetensors`` shards, each holding the tensors
  ``x`` (and ``y``); shards are opened lazily with ``safe_open`` and only the rows of the current batch
  are read, so a dataset larger than memory streams;
- :class:`TransformersHooks`: forward hooks on modules of a ``transformers`` model (residual stream,
  MLP input/output of several layers), fed with tokenised text; nothing is downloaded — the caller
  passes a model it has loaded (e.g. from a package that ships the weights).

:func:`evaluate_without_ground_truth` gives what can be measured without true features: explained
variance ``1 − Σ||y − ŷ||² / Σ||y − ȳ||²``, L0 (mean active latents per sample), dead latents (never
active on the evaluated data), and shrinkage ``E <ŷ − b_dec, y − b_dec> / ||y − b_dec||²`` (1 = none;
an L1 penalty pulls it below 1, THEORY.md section 7).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import torch

from theory.errors import SDLInputError


class ActivationSource(Protocol):
    d_in: int
    d_out: int

    def __len__(self) -> int: ...

    def batches(self, batch_size: int, *, start: int = 0, stop: int | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]: ...


def _check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise SDLInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _range(n: int, start: int, stop: int | None) -> tuple[int, int]:
    stop = n if stop is None else stop
    if not 0 <= start <= stop <= n:
        raise SDLInputError(f"sample range [{start}, {stop}) must lie inside [0, {n}]")
    return start, stop


@dataclass
class TensorSource:
    """``x`` (N × d_in) and optional ``y`` (N × d_out, default ``x``) in memory, served in order."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    def __post_init__(self):
        if self.x.ndim != 2:
            raise SDLInputError(f"x must be a 2-d tensor (samples × d_in), got shape {tuple(self.x.shape)}")
        if self.y is not None and (self.y.ndim != 2 or self.y.shape[0] != self.x.shape[0]):
            raise SDLInputError(f"y must be samples × d_out with {self.x.shape[0]} rows, got shape {tuple(self.y.shape)}")

    @property
    def d_in(self) -> int:
        return self.x.shape[1]

    @property
    def d_out(self) -> int:
        return self.x.shape[1] if self.y is None else self.y.shape[1]

    def __len__(self) -> int:
        return self.x.shape[0]

    def batches(self, batch_size: int, *, start: int = 0, stop: int | None = None):
        batch_size = _check_batch_size(batch_size)
        start, stop = _range(len(self), start, stop)
        for i in range(start, stop, batch_size):
            x = self.x[i:min(i + batch_size, stop)].float()
            yield x, (x if self.y is None else self.y[i:min(i + batch_size, stop)].float())


class SafetensorsShards:
    """Shards ``*.safetensors`` each with tensors ``x_key`` (rows = samples) and optionally ``y_key``.

    Only shapes are read when the source is built; a batch reads its rows from the open shard with
    ``get_slice`` (no shard is ever loaded whole)."""

    def __init__(self, paths: str | Path | Sequence[str | Path], x_key: str = "x", y_key: str | None = None):
        from safetensors import safe_open

        if isinstance(paths, (str, Path)) and Path(paths).is_dir():
            files = sorted(Path(paths).glob("*.safetensors"))
        elif isinstance(paths, (str, Path)):
            files = [Path(paths)]
        else:
            files = [Path(p) for p in paths]
        if not files:
            raise SDLInputError(f"no .safetensors shards found in {paths}")
        self.files, self.x_key, self.y_key = files, x_key, y_key
        self.rows: list[int] = []
        dims = set()
        for f in files:
            if not f.is_file():
                raise SDLInputError(f"shard {f} does not exist")
            with safe_open(str(f), framework="pt", device="cpu") as h:
                keys = set(h.keys())
                for k in (x_key,) + ((y_key,) if y_key else ()):
                    if k not in keys:
                        raise SDLInputError(f"shard {f} has no tensor {k!r}; it has {sorted(keys)}")
                xs = h.get_slice(x_key).get_shape()
                ys = h.get_slice(y_key).get_shape() if y_key else xs
            if len(xs) != 2 or len(ys) != 2 or ys[0] != xs[0]:
                raise SDLInputError(f"shard {f}: {x_key} and {y_key or x_key} must be 2-d with the same rows, "
                                    f"got {xs} and {ys}")
            self.rows.append(int(xs[0]))
            dims.add((int(xs[1]), int(ys[1])))
        if len(dims) != 1:
            raise SDLInputError(f"shards disagree on their widths: {sorted(dims)}")
        (self.d_in, self.d_out), = dims

    def __len__(self) -> int:
        return sum(self.rows)

    def _read(self, lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor]:
        from safetensors import safe_open

        xs, ys, offset = [], [], 0
        for f, n in zip(self.files, self.rows):
            a, b = max(lo, offset), min(hi, offset + n)
            if a < b:
                with safe_open(str(f), framework="pt", device="cpu") as h:
                    xs.append(h.get_slice(self.x_key)[a - offset:b - offset])
                    if self.y_key:
                        ys.append(h.get_slice(self.y_key)[a - offset:b - offset])
            offset += n
        x = torch.cat(xs).float()
        return x, (torch.cat(ys).float() if self.y_key else x)

    def batches(self, batch_size: int, *, start: int = 0, stop: int | None = None):
        batch_size = _check_batch_size(batch_size)
        start, stop = _range(len(self), start, stop)
        for i in range(start, stop, batch_size):
            yield self._read(i, min(i + batch_size, stop))


def write_shards(path: str | Path, x: torch.Tensor, y: torch.Tensor | None = None, rows_per_shard: int = 65536,
                 metadata: dict[str, str] | None = None) -> list[Path]:
    """Write activations as numbered shards ``shard-00000.safetensors`` … (atomically, one file each)."""
    from numerics.io import save_tensors_atomic

    rows_per_shard = _check_batch_size(rows_per_shard)
    out = []
    for j, i in enumerate(range(0, x.shape[0], rows_per_shard)):
        t = {"x": x[i:i + rows_per_shard].contiguous()}
        if y is not None:
            t["y"] = y[i:i + rows_per_shard].contiguous()
        p = Path(path) / f"shard-{j:05d}.safetensors"
        save_tensors_atomic(p, t, metadata=metadata)
        out.append(p)
    return out


class TransformersHooks:
    """Activations of a loaded ``transformers`` model captured by forward hooks.

    ``sites`` maps a name to ``(module_path, "input"|"output")``, e.g. the residual stream after layer 2
    of a BERT-style encoder is ``("encoder.layer.2", "output")`` and that layer's MLP input/output are
    ``("encoder.layer.2.intermediate", "input")`` / ``("encoder.layer.2.output.dense", "output")``.
    :meth:`harvest` runs the model on ``texts`` (no gradients) and returns one tensor per site, one row
    per non-padding token."""

    def __init__(self, model, tokenizer, sites: dict[str, tuple[str, str]], max_length: int = 64):
        self.model, self.tokenizer, self.sites, self.max_length = model, tokenizer, dict(sites), int(max_length)
        modules = dict(model.named_modules())
        for name, (path, where) in self.sites.items():
            if path not in modules:
                raise SDLInputError(f"site {name!r}: the model has no module {path!r}")
            if where not in ("input", "output"):
                raise SDLInputError(f"site {name!r}: where must be 'input' or 'output', got {where!r}")

    def harvest(self, texts: Sequence[str], batch_size: int = 64) -> dict[str, torch.Tensor]:
        batch_size = _check_batch_size(batch_size)
        modules = dict(self.model.named_modules())
        got: dict[str, list[torch.Tensor]] = {n: [] for n in self.sites}
        current: dict[str, torch.Tensor] = {}

        def hook_for(name, where):
            def hook(mod, inputs, output):
                t = inputs[0] if where == "input" else (output[0] if isinstance(output, tuple) else output)
                current[name] = t.detach()
            return hook

        handles = [modules[p].register_forward_hook(hook_for(n, w)) for n, (p, w) in self.sites.items()]
        was = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for i in range(0, len(texts), batch_size):
                    enc = self.tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True,
                                         max_length=self.max_length, return_tensors="pt")
                    current.clear()
                    self.model(**enc)
                    keep = enc["attention_mask"].bool()
                    for n in self.sites:
                        got[n].append(current[n][keep].float().cpu())
        finally:
            for h in handles:
                h.remove()
            self.model.train(was)
        return {n: torch.cat(v) for n, v in got.items()}


@torch.no_grad()
def evaluate_without_ground_truth(model, source, *, batch_size: int = 4096, start: int = 0,
                                  stop: int | None = None) -> dict:
    """Explained variance, L0, dead latents and shrinkage of ``model`` on ``source`` (no true features)."""
    if (source.d_in, source.d_out) != (model.d_in, model.d_out):
        raise SDLInputError(f"the model maps {model.d_in} → {model.d_out} dimensions but the source gives "
                            f"{source.d_in} → {source.d_out}")
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    n = 0
    sse = 0.0
    sum_y = torch.zeros(model.d_out, dtype=torch.float64)
    sum_y2 = 0.0
    nnz = 0
    shrink_num = shrink_den = 0.0
    fired = torch.zeros(model.n_latents, dtype=torch.bool, device=dev)
    b_dec = model.b_dec.detach() if model.b_dec is not None else torch.zeros(model.d_out, device=dev)
    try:
        for x, y in source.batches(batch_size, start=start, stop=stop):
            x, y = x.to(dev), y.to(dev)
            code = model.encode(x)
            y_hat = model.decode(code)
            sse += float((y - y_hat).double().pow(2).sum())
            sum_y += y.double().sum(0).cpu()
            sum_y2 += float(y.double().pow(2).sum())
            nnz += code.l0() * x.shape[0]
            fired |= code.fired()
            yc, hc = y - b_dec, y_hat - b_dec
            shrink_num += float((hc * yc).sum())
            shrink_den += float(yc.pow(2).sum())
            n += x.shape[0]
    finally:
        model.train(was)
    if n == 0:
        raise SDLInputError("the source gave no samples to evaluate")
    total_var = sum_y2 - float(sum_y.pow(2).sum()) / n     # Σ||y − ȳ||², streamed
    dead = (~fired).nonzero().squeeze(1).tolist()
    return {"samples": n, "explained_variance": 1.0 - sse / max(total_var, 1e-30), "l0": nnz / n,
            "dead_latents": len(dead), "dead_fraction": len(dead) / model.n_latents, "dead": dead[:1000],
            "shrinkage": shrink_num / max(shrink_den, 1e-30), "mse": sse / (n * model.d_out)}


def n_batches(source, batch_size: int) -> int:
    return math.ceil(len(source) / _check_batch_size(batch_size))
