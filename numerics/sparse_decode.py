"""Sparse code paths: only the active latents touch the weights.

A TopK model has ``k`` non-zeros per row out of ``n_q``; decoding it with a dense ``B×n_q`` matmul
wastes ``n_q / k`` of the work, forward and backward. Here a code is kept as COO triples
``(rows, cols, vals)`` with rows sorted, plus a :class:`Layout` built once per batch that holds
the index structure both ways (row-major CSR pointers, and the permutation to column-major), so
the four sparse products of a step share one sort:

* :func:`sparse_decode` forward is ``embedding_bag`` in sum mode with ``vals`` as per-sample
  weights (gathers the ``nnz`` active atoms); its backward forms the atom gradient
  ``Σ_e vals_e g[row_e]`` as an ``embedding_bag`` over the entries in column order
  (:meth:`Layout.scatter_to_latents`; torch's CSR ``(n_q×B)·(B×n_r)`` product costs about twice as
  much, its output being zero-filled and copied) and ``d vals`` as a sampled dense-dense product
  (``torch.sparse.sampled_addmm``: ``<g_b, W_D[c]>`` at the ``nnz`` entries only) — O(nnz·n_r) both;
* :func:`selected_preacts` returns the pre-activations at the selected entries (computed once, by the
  one dense encoder matmul, under ``no_grad``) with a backward that forms the encoder gradient the
  same way, O(nnz·n_p) instead of the dense O(B·n_q·n_p).

So a TopK training step costs the dense encoder matmul plus O(nnz·(n_p + n_r)) work
(``bench/train_throughput.py`` and ``bench/step_compare.py`` measure it).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F


def bag_offsets(rows: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Start offset of each sample's run in the (row-sorted) COO arrays; empty rows are allowed."""
    counts = torch.bincount(rows, minlength=batch_size)
    return torch.cumsum(counts, 0) - counts


def _pointers(major: torch.Tensor, n: int) -> torch.Tensor:
    crow = torch.zeros(n + 1, dtype=torch.long, device=major.device)
    crow[1:] = torch.cumsum(torch.bincount(major, minlength=n), 0)
    return crow


def _csr_tensor(crow, minor, values, shape) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(crow, minor, values, shape, check_invariants=False)


@dataclass
class Layout:
    """Index structure of a ``B × n_q`` sparse code with row-sorted COO entries ``(rows, cols)``.

    ``crow``: row-major CSR pointers (``crow[:-1]`` are the ``embedding_bag`` offsets); ``order``:
    the permutation that sorts the entries by column, ``ccol`` its pointers. CSR·dense is ~3×
    faster than COO·dense on CPU, and building both directions once saves a sort per product.
    """

    rows: torch.Tensor
    cols: torch.Tensor
    batch_size: int
    n_latents: int
    crow: torch.Tensor
    _order: Optional[torch.Tensor] = None
    _ccol: Optional[torch.Tensor] = None
    _rows_by_col: Optional[torch.Tensor] = None
    _parent: Optional[tuple] = None       # (layout, perm) when these entries are a permutation of its entries

    @classmethod
    def build(cls, rows: torch.Tensor, cols: torch.Tensor, batch_size: int, n_latents: int,
              per_row: int | None = None) -> "Layout":
        if per_row is not None:   # TopK: exactly per_row entries in every row, no counting needed
            crow = torch.arange(0, rows.numel() + 1, per_row, device=rows.device)
        else:
            crow = _pointers(rows, batch_size)
        return cls(rows, cols, int(batch_size), int(n_latents), crow)

    @property
    def offsets(self) -> torch.Tensor:
        return self.crow[:-1]

    def regroup(self, perm: torch.Tensor, bags: torch.Tensor, n_bags: int) -> "Layout":
        """The entries ``perm`` (a permutation of all entries) as a layout whose "rows" are ``bags``
        (sorted, ``< n_bags``), e.g. one bag per (prefix group, sample); its column order is derived
        from this layout's, so the two share one sort."""
        return Layout(bags, self.cols[perm], int(n_bags), self.n_latents,
                      _pointers(bags, n_bags), _parent=(self, perm))

    def _by_col(self):
        if self._order is None:
            if self._parent is not None:
                parent, perm = self._parent
                p_order, self._ccol, _ = parent._by_col()
                inv = torch.empty_like(perm)
                inv[perm] = torch.arange(perm.numel(), device=perm.device)
                self._order = inv[p_order]
            else:
                # int32 keys sort about twice as fast; latent indices always fit
                self._order = torch.argsort(self.cols.to(torch.int32), stable=True)
                self._ccol = _pointers(self.cols, self.n_latents)
            self._rows_by_col = self.rows[self._order]
        return self._order, self._ccol, self._rows_by_col

    def row_major(self, values: torch.Tensor) -> torch.Tensor:
        """``B × n_q`` CSR with ``values`` at the entries."""
        return _csr_tensor(self.crow, self.cols, values, (self.batch_size, self.n_latents))

    def scatter_to_latents(self, values: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """``n_q × n`` matrix whose row ``c`` is ``Σ_{e: col_e = c} values_e · dense[row_e]``.

        That is the ``(n_q×B)·(B×n)`` product of the transposed code with ``dense``, computed as an
        ``embedding_bag`` over the entries in column order (one bag per latent, gathering rows of
        ``dense``): torch's CSR product zero-fills its output and copies it once more, which at
        paper sizes costs as much as the product itself.
        """
        order, ccol, rows_by_col = self._by_col()
        return F.embedding_bag(rows_by_col, dense.contiguous(), ccol[:-1], mode="sum",
                               per_sample_weights=values[order])


class _SparseDecode(torch.autograd.Function):
    @staticmethod
    def forward(ctx, vals, W_dec, layout):
        ctx.save_for_backward(vals, W_dec)
        ctx.layout = layout
        # detached: with inputs that require grad, embedding_bag takes its autograd variant, which also builds
        # the bookkeeping its own backward needs (~2× slower); this Function has its own backward
        return F.embedding_bag(layout.cols, W_dec.detach(), layout.offsets, mode="sum", per_sample_weights=vals.detach())

    @staticmethod
    def backward(ctx, g):
        vals, W_dec = ctx.saved_tensors
        lay = ctx.layout
        g = g.contiguous()
        gvals = gW = None
        if ctx.needs_input_grad[0]:
            # d vals_e = <g[row_e], W_D[col_e]>: the dense g·W_Dᵀ sampled at the nnz entries only
            pattern = lay.row_major(torch.ones_like(vals))
            gvals = torch.sparse.sampled_addmm(pattern, g, W_dec.T, beta=0.0).values()
        if ctx.needs_input_grad[1]:
            gW = lay.scatter_to_latents(vals.detach(), g)        # Σ_e vals_e g[row_e] into atom col_e
        return gvals, gW, None


def sparse_decode(rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, W_dec: torch.Tensor,
                  batch_size: int, offsets: torch.Tensor | None = None, layout: Layout | None = None
                  ) -> torch.Tensor:
    """``Σ_j vals_j W_dec[cols_j]`` per row: ``(B, n_r)``; ``W_dec`` is ``n_q × n_r`` (one atom per row).

    ``offsets`` is accepted for callers that already have them; ``layout`` (shared with
    :func:`selected_preacts`) saves rebuilding the index structure.
    """
    if layout is None:
        layout = Layout.build(rows, cols, batch_size, W_dec.shape[0])
    if vals.numel() == 0:  # nothing active (the CSR kernels want entries); embedding_bag handles it
        return F.embedding_bag(cols, W_dec, layout.offsets, mode="sum", per_sample_weights=vals)
    return _SparseDecode.apply(vals, W_dec, layout)


class _SelectedPreacts(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W_enc, b_enc, layout, z_sel):
        ctx.save_for_backward(x, W_enc)
        ctx.layout = layout
        ctx.has_bias = b_enc is not None
        return z_sel.clone()

    @staticmethod
    def backward(ctx, grad):
        x, W_enc = ctx.saved_tensors
        lay = ctx.layout
        gx = gW = gb = None
        if ctx.needs_input_grad[1]:
            gW = lay.scatter_to_latents(grad, x)                 # Σ_e grad_e x[row_e] into row col_e
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = torch.zeros(W_enc.shape[0], dtype=grad.dtype, device=grad.device).index_add_(0, lay.cols, grad)
        if ctx.needs_input_grad[0]:
            gx = F.embedding_bag(lay.cols, W_enc.detach(), lay.offsets, mode="sum", per_sample_weights=grad)
        return gx, gW, gb, None, None


def selected_preacts(x: torch.Tensor, W_enc: torch.Tensor, b_enc: torch.Tensor | None, rows: torch.Tensor,
                     cols: torch.Tensor, z_sel: torch.Tensor, layout: Layout | None = None) -> torch.Tensor:
    """``z_sel = (x W_enc^T + b_enc)[rows, cols]`` (already computed) with a sparse backward."""
    if layout is None:
        layout = Layout.build(rows, cols, x.shape[0], W_enc.shape[0])
    return _SelectedPreacts.apply(x, W_enc, b_enc, layout, z_sel.detach())
