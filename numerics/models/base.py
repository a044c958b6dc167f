"""The unified SDL model ``x̂_r = W_D σ(W_E x_p)`` (THEORY.md section 2) and its small base class.

SAE, transcoder and crosscoder differ only in what ``x_p`` and ``x_r`` are (``d_in`` vs ``d_out``; a
crosscoder's are stacked sources), so one class per *activation family* covers all three.
Subclasses implement ``encode`` (pre-activations → :class:`Code`) and may add ``penalty`` /
``extra_losses``; ``decode`` and the reconstruction loss are shared.

Storage: ``W_enc`` is ``n_q × n_p`` (rows = encoder rows ``w_E^i``), ``W_dec`` is ``n_q × n_r``
(rows = decoder atoms, i.e. the columns of the paper's ``W_D``; row-major atoms are what the sparse
decode gathers). Reconstruction losses are fractions of variance unexplained (sum of squared errors
over the batch divided by the batch's total variance), as in sparsify, so penalty coefficients do not
depend on the data's scale.

Conventions of other libraries, as options (``numerics.foreign`` converts their checkpoints):
``apply_b_dec_to_input`` subtracts the decoder bias from the input before encoding, as SAELens,
sparsify (SAEs) and dictionary_learning do: ``z = W_E (x − b_dec) + b_enc``. It is the affine
reparametrisation ``b_enc ← b_enc − W_E b_dec`` of the same function, so the theory (which has no
decoder bias, THEORY.md section 2) sees the folded encoder bias (``effective_encoder_bias``).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, Optional

import torch
import torch.nn.functional as F
from torch import nn

from numerics.sparse_decode import Layout, sparse_decode


@dataclass
class Code:
    """A batch of latent codes: dense ``acts`` or sparse COO ``(rows, cols, vals)``, plus pre-activations."""

    pre: torch.Tensor
    acts: Optional[torch.Tensor] = None
    rows: Optional[torch.Tensor] = None
    cols: Optional[torch.Tensor] = None
    vals: Optional[torch.Tensor] = None
    offsets: Optional[torch.Tensor] = None
    layout: Optional[Layout] = None       # index structure shared by the sparse products of one step
    gate_vals: Optional[torch.Tensor] = None  # Gated, sparse path: relu(π_gate) at the entries
    on: Optional[torch.Tensor] = None     # B × n_q: which units are on, where an on unit's output may be ≤ 0
                                          # (a theory Gated unit outputs its magnitude, of either sign)

    @property
    def batch_size(self) -> int:
        return self.pre.shape[0]

    @property
    def sparse(self) -> bool:
        return self.acts is None

    def dense(self) -> torch.Tensor:
        """``B × n_q`` activations (materialised; for metrics, not for the training hot path)."""
        if self.acts is not None:
            return self.acts
        out = torch.zeros_like(self.pre)
        out[self.rows, self.cols] = self.vals.to(out.dtype)
        return out

    def fired(self) -> torch.Tensor:
        """Boolean ``n_q`` vector: which latents were non-zero (on, where :attr:`on` is given) on at least one sample."""
        if self.on is not None:
            return self.on.any(0)
        if self.acts is not None:
            if self.acts.shape[0] == 0:
                return torch.zeros(self.acts.shape[1], dtype=torch.bool, device=self.acts.device)
            return self.acts.amax(0) > 0          # = (acts > 0).any(0), one reduction, no B×n_q mask
        fired = torch.zeros(self.pre.shape[1], dtype=torch.bool, device=self.pre.device)
        fired[self.cols[self.vals > 0]] = True
        return fired

    def l0(self) -> float:
        # count_nonzero of a mask: summing a bool tensor widens it to int64 first (~5× slower)
        nnz = torch.count_nonzero(self.on if self.on is not None else self.acts > 0 if self.acts is not None
                                  else self.vals > 0)
        return float(nnz) / max(1, self.batch_size)


def fvu(y: torch.Tensor, y_hat: torch.Tensor, total_var: torch.Tensor) -> torch.Tensor:
    """Fraction of variance unexplained of the batch (``mse_loss`` fuses the difference, square and sum,
    forward and backward, into one pass each)."""
    if y.shape != y_hat.shape:
        return (y - y_hat).pow(2).sum() / total_var
    return F.mse_loss(y_hat, y, reduction="sum") / total_var


def total_variance(y: torch.Tensor) -> torch.Tensor:
    return (y - y.mean(0, keepdim=True)).pow(2).sum().clamp_min(1e-12)


class SparseCoder(nn.Module):
    """Encoder ``W_E``, activation σ, decoder ``W_D``, optional biases; subclasses choose σ and its loss."""

    name: ClassVar[str] = "base"
    sparse_code: ClassVar[bool] = False   # True: codes are COO and decode only touches active atoms
    # ReLU / JumpReLU / Gated: below this fraction of non-zero entries in a batch the code is built as
    # COO and decoded sparsely (same values and gradients as the dense path). The ReLU step's cross-over
    # measured by bench/step_compare.py --crossover at paper sizes (results/throughput/STEP_COMPARE.md):
    # sparse faster at densities 0.005, 0.02, 0.04 and 0.08 (4.5× vs 5.0× of a matmul), dense faster at
    # 0.12 (5.5× vs 7.4×); so the switch sits at 0.08. 0 = always dense.
    sparse_below: ClassVar[float] = 0.08

    def __init__(self, d_in: int, n_latents: int, d_out: int | None = None, *, bias: bool = True,
                 unit_norm_decoder: bool = False, seed: int = 0, apply_b_dec_to_input: bool = False, **hyper):
        super().__init__()
        d_out = d_out or d_in
        if apply_b_dec_to_input and (d_out != d_in or not bias):
            from theory.errors import SDLInputError

            raise SDLInputError(f"apply_b_dec_to_input needs a decoder bias in the input space (bias=True, d_out = d_in); "
                                f"got bias={bias}, d_in={d_in}, d_out={d_out}")
        self.apply_b_dec_to_input = bool(apply_b_dec_to_input)
        self.d_in, self.n_latents, self.d_out = d_in, n_latents, d_out
        self.bias, self.unit_norm_decoder, self.seed = bias, unit_norm_decoder, seed
        self.hyper = dict(hyper)
        gen = torch.Generator().manual_seed(int(seed))
        # Gao et al. 2024: unit-norm random atoms, encoder initialised as the decoder transpose
        # (when d_in == d_out; a transcoder's encoder gets its own random unit rows).
        W_dec = torch.randn(n_latents, d_out, generator=gen)
        W_dec = W_dec / W_dec.norm(dim=1, keepdim=True)
        if d_in == d_out:
            W_enc = W_dec.clone()
        else:
            W_enc = torch.randn(n_latents, d_in, generator=gen)
            W_enc = W_enc / W_enc.norm(dim=1, keepdim=True)
        self.W_enc = nn.Parameter(W_enc)
        self.W_dec = nn.Parameter(W_dec)
        self.b_enc = nn.Parameter(torch.zeros(n_latents)) if bias else None
        self.b_dec = nn.Parameter(torch.zeros(d_out)) if bias else None

    # ------------------------------------------------------------------ description / persistence
    def spec(self) -> dict:
        """Family name and constructor arguments: enough to rebuild the model (``io.load_model``)."""
        return {"name": getattr(self, "family", self.name), "d_in": self.d_in, "n_latents": self.n_latents, "d_out": self.d_out,
                "bias": self.bias, "unit_norm_decoder": self.unit_norm_decoder, "seed": self.seed,
                **({"apply_b_dec_to_input": True} if self.apply_b_dec_to_input else {}), **self.hyper}

    def theory_activation(self) -> tuple[object, list[str]]:
        """σ as a theory activation for ``inspect``, and what that reading had to assume.

        Default: the family's activation built from the hyperparameters it shares with the model
        (e.g. ``k``); families whose trained σ differs (per-neuron θ, batch thresholds) override this."""
        from theory import registry

        family = registry.get(getattr(self, "family", self.name))
        params = {k: v for k, v in self.hyper.items() if k in family.parameter_names()}
        return family.make(**params), []

    def encoder_directions(self) -> torch.Tensor:
        """Rows ``w_E^i`` that decide firing (``n_q × n_p``); the gate path for Gated models."""
        return self.W_enc

    def encoder_rows(self, units: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The rows of :meth:`encoder_directions` that belong to ``units``, one index tensor per pre-activation
        of a unit (the first: the rows that decide firing); one row per unit by default."""
        return (units,)

    def theory_encoder(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(W_E, b_E)`` in the theory's layout for ``inspect`` (one row per pre-activation of
        :meth:`theory_activation`'s units): the encoder rows and the effective bias by default."""
        return self.encoder_directions(), (None if self.b_enc is None else self.effective_encoder_bias())

    def effective_encoder_bias(self) -> torch.Tensor | None:
        """``b_enc − W_E b_dec`` when the decoder bias is subtracted before encoding, else ``b_enc``."""
        if not self.apply_b_dec_to_input:
            return self.b_enc
        return self.b_enc - self.encoder_directions() @ self.b_dec

    # ------------------------------------------------------------------ forward
    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.b_dec if self.apply_b_dec_to_input else x

    def preacts(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder_input(x)
        buf = getattr(self, "_preact_buffer", None)
        out = buf.take((x.shape[0], self.n_latents), x) if buf is not None and not torch.is_grad_enabled() else None
        # addmm fuses the bias add into the matmul: a separate B×n_q add costs ~10% of a TopK step
        if self.b_enc is not None:
            return torch.addmm(self.b_enc, x, self.W_enc.T, out=out) if out is not None else torch.addmm(self.b_enc, x, self.W_enc.T)
        return torch.mm(x, self.W_enc.T, out=out) if out is not None else x @ self.W_enc.T

    @contextmanager
    def reusing_preacts(self, buf: "PreactBuffer"):
        """Within the block, the first pre-activation matmul without a graph writes into ``buf``'s tensor
        instead of a fresh ``B × n_q`` one (the training engine uses it once per step): at paper sizes a
        fresh 262 MB output costs its page faults, a few % of the matmul, on every step. The returned
        code's ``pre`` is then that buffer, overwritten by the next step's."""
        old = getattr(self, "_preact_buffer", None)
        self._preact_buffer, buf.armed = buf, True
        try:
            yield
        finally:
            self._preact_buffer, buf.armed = old, False

    def encode(self, x: torch.Tensor) -> Code:  # pragma: no cover - abstract
        raise NotImplementedError

    def preacts_nograd(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-activations without a graph: the caller decides dense or sparse, then attaches one."""
        with torch.no_grad():
            return self.preacts(x)

    def use_sparse(self, on: torch.Tensor) -> bool:
        """Build the code sparsely on the entries where ``on``? (below ``sparse_below`` of the batch's entries)"""
        # count_nonzero, not on.sum(): summing a bool tensor widens it to int64 first (~20× slower at paper sizes)
        return self.sparse_below > 0 and int(torch.count_nonzero(on)) <= self.sparse_below * on.numel()

    def with_dense_grad(self, x: torch.Tensor, z: torch.Tensor, bias: bool = True) -> torch.Tensor:
        """``z`` (already computed) with the dense backward of ``x W_Eᵀ (+ b_E)``."""
        return _DensePreacts.apply(self.encoder_input(x), self.W_enc, self.b_enc if bias else None, z)

    def decode(self, code: Code, W_dec: torch.Tensor | None = None, b_dec: torch.Tensor | None = None,
               with_bias: bool = True) -> torch.Tensor:
        W = self.W_dec if W_dec is None else W_dec
        if code.sparse:
            if code.layout is None:
                code.layout = Layout.build(code.rows, code.cols, code.batch_size, self.n_latents)
            out = sparse_decode(code.rows, code.cols, code.vals, W, code.batch_size, layout=code.layout)
        else:
            out = code.acts @ W
        b = self.b_dec if b_dec is None else b_dec
        return out + b if (with_bias and b is not None) else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    # ------------------------------------------------------------------ training hooks
    def penalty(self, code: Code) -> dict[str, torch.Tensor]:
        """Sparsity penalties added to the loss (none by default: TopK-style σ is sparse by construction)."""
        return {}

    def extra_losses(self, x: torch.Tensor, y: torch.Tensor, code: Code, y_hat: torch.Tensor,
                     total_var: torch.Tensor) -> dict[str, torch.Tensor]:
        """Architecture-specific reconstruction terms (Matryoshka prefixes, Gated auxiliary)."""
        return {}

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[dict[str, torch.Tensor], Code, torch.Tensor]:
        """Loss terms (FVU reconstruction, penalties, extras); the trainer sums them and adds aux-k / anchors."""
        code = self.encode(x)
        y_hat = self.decode(code)
        tv = total_variance(y)
        terms = {"fvu": fvu(y, y_hat, tv)}
        terms.update(self.penalty(code))
        terms.update(self.extra_losses(x, y, code, y_hat, tv))
        return terms, code, y_hat

    def after_step(self, code: Code, step: int) -> None:
        """Hook run after each optimizer step; ``step`` counts the steps before this one (BatchTopK updates
        its inference threshold)."""

    # ------------------------------------------------------------------ decoder norm
    @torch.no_grad()
    def normalize_decoder(self) -> None:
        # in place, one norm pass and one scaling pass (no n_q × n_r temporaries)
        self.W_dec.div_(torch.linalg.vector_norm(self.W_dec, dim=1, keepdim=True).clamp_min_(1e-8))

    @torch.no_grad()
    def remove_parallel_decoder_grad(self) -> None:
        """Drop each atom's gradient component along the atom (it only changes the norm, Gao et al.)."""
        g = self.W_dec.grad
        if g is None:
            return
        W = self.W_dec
        # g_i -= (<g_i, w_i> / ||w_i||²) w_i, with the row dots as a batched matvec and the update in place
        dots = torch.bmm(g.unsqueeze(1), W.unsqueeze(2)).squeeze(2)
        sq = torch.bmm(W.unsqueeze(1), W.unsqueeze(2)).squeeze(2).clamp_min_(1e-16)
        g.addcmul_(W, dots.div_(sq), value=-1.0)


class PreactBuffer:
    """One reusable output tensor for the encoder matmul (:meth:`SparseCoder.reusing_preacts`); handed out
    at most once per arming, so a second matmul in the same block never overwrites the first's result."""

    def __init__(self):
        self.tensor: Optional[torch.Tensor] = None
        self.armed = False

    def take(self, shape: tuple[int, int], like: torch.Tensor) -> Optional[torch.Tensor]:
        if not self.armed:
            return None
        self.armed = False
        t = self.tensor
        if t is None or tuple(t.shape) != tuple(shape) or t.dtype != like.dtype or t.device != like.device:
            self.tensor = t = torch.empty(shape, dtype=like.dtype, device=like.device)
        return t


class _DensePreacts(torch.autograd.Function):
    """Identity on a precomputed ``z = x W_Eᵀ + b_E`` whose backward is that of the matmul."""

    @staticmethod
    def forward(ctx, x, W_enc, b_enc, z):
        ctx.save_for_backward(x, W_enc)
        ctx.has_bias = b_enc is not None
        return z.detach().view_as(z)

    @staticmethod
    def backward(ctx, g):
        x, W_enc = ctx.saved_tensors
        gx = g @ W_enc if ctx.needs_input_grad[0] else None
        gW = g.T @ x if ctx.needs_input_grad[1] else None
        gb = g.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return gx, gW, gb, None


def entries_code(model: SparseCoder, x: torch.Tensor, z: torch.Tensor, on: torch.Tensor, bias: bool = True
                 ) -> tuple[Code, torch.Tensor]:
    """Sparse code skeleton on the entries where ``on`` (row-sorted), and ``z`` there with a sparse backward
    to ``W_E`` (and ``b_E`` when ``bias``); the caller turns those pre-activations into values."""
    from numerics.sparse_decode import selected_preacts

    rows, cols = on.nonzero(as_tuple=True)
    layout = Layout.build(rows, cols, z.shape[0], z.shape[1])
    b = model.b_enc if bias else None
    z_sel = z[rows, cols] if (bias or model.b_enc is None) else z[rows, cols] - model.b_enc.detach()[cols]
    pre = selected_preacts(model.encoder_input(x), model.W_enc, b, rows, cols, z_sel, layout=layout)
    return Code(pre=z, rows=rows, cols=cols, offsets=layout.offsets, layout=layout), pre


def topk_code(model: SparseCoder, x: torch.Tensor, z: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
              z_sel: torch.Tensor | None = None, per_row: int | None = None) -> Code:
    """Code with the entries ``(rows, cols)`` of ``relu(z)`` kept, gradients flowing sparsely to W_E.

    ``z_sel`` (``z[rows, cols]``) may be passed when the selection already produced it (``topk``
    values); ``per_row`` when every row has exactly that many entries.
    """
    from numerics.sparse_decode import selected_preacts

    layout = Layout.build(rows, cols, z.shape[0], z.shape[1], per_row=per_row)
    if z_sel is None:
        z_sel = z[rows, cols]
    vals = torch.relu(selected_preacts(model.encoder_input(x), model.W_enc, model.b_enc, rows, cols, z_sel, layout=layout))
    return Code(pre=z, rows=rows, cols=cols, vals=vals, offsets=layout.offsets, layout=layout)


def default_k(n_latents: int) -> int:
    return max(1, min(n_latents, int(math.sqrt(n_latents))))
