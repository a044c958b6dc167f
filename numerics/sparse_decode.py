"""Sparse code paths for TopK-family models: only the active latents touch the weights.

A TopK model has ``k`` non-zeros per row out of ``n_q``; decoding it with a dense ``B×n_q`` matmul
wastes ``n_q / k`` of the work, forward and backward. Here a code is kept as COO triples
``(rows, cols, vals)`` with rows sorted, and

* :func:`sparse_decode` is ``embedding_bag`` in sum mode with ``vals`` as per-sample weights: the
  forward gathers the ``nnz`` active decoder rows, the backward scatters into those rows and gives
  ``d vals`` by dot products with those rows only (O(nnz·n_r) both ways);
* :func:`selected_preacts` returns the pre-activations at the selected entries (computed once, by the
  one dense encoder matmul, under ``no_grad``) with a backward that forms the encoder gradient as a
  sparse ``(n_q×B)·(B×n_p)`` product, O(nnz·n_p) instead of the dense O(B·n_q·n_p).

So a TopK training step costs the dense encoder matmul plus O(nnz·(n_p + n_r)) work
(``bench/train_throughput.py`` measures it).
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F


def bag_offsets(rows: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Start offset of each sample's run in the (row-sorted) COO arrays; empty rows are allowed."""
    counts = torch.bincount(rows, minlength=batch_size)
    return torch.cumsum(counts, 0) - counts


def sparse_decode(rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, W_dec: torch.Tensor,
                  batch_size: int, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """``Σ_j vals_j W_dec[cols_j]`` per row: ``(B, n_r)``; ``W_dec`` is ``n_q × n_r`` (one atom per row)."""
    if offsets is None:
        offsets = bag_offsets(rows, batch_size)
    return F.embedding_bag(cols, W_dec, offsets, mode="sum", per_sample_weights=vals)


def _csr(major: torch.Tensor, minor: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """CSR matrix from COO triples (sorted here). CSR·dense is ~3× faster than COO·dense on CPU."""
    order = torch.argsort(major, stable=True)
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=major.device)
    crow[1:] = torch.cumsum(torch.bincount(major, minlength=shape[0]), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(crow, minor[order], values[order], shape, check_invariants=False)


class _SelectedPreacts(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W_enc, b_enc, rows, cols, z_sel):
        ctx.save_for_backward(x, W_enc, rows, cols)
        ctx.has_bias = b_enc is not None
        return z_sel.clone()

    @staticmethod
    def backward(ctx, grad):
        x, W_enc, rows, cols = ctx.saved_tensors
        B, n_q = x.shape[0], W_enc.shape[0]
        gx = gW = gb = None
        if ctx.needs_input_grad[1]:
            gW = _csr(cols, rows, grad, (n_q, B)) @ x          # (n_q×B, nnz entries)·(B×n_p)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = torch.zeros(n_q, dtype=grad.dtype, device=grad.device).index_add_(0, cols, grad)
        if ctx.needs_input_grad[0]:
            gx = _csr(rows, cols, grad, (B, n_q)) @ W_enc
        return gx, gW, gb, None, None, None


def selected_preacts(x: torch.Tensor, W_enc: torch.Tensor, b_enc: torch.Tensor | None, rows: torch.Tensor,
                     cols: torch.Tensor, z_sel: torch.Tensor) -> torch.Tensor:
    """``z_sel = (x W_enc^T + b_enc)[rows, cols]`` (already computed) with a sparse backward."""
    return _SelectedPreacts.apply(x, W_enc, b_enc, rows, cols, z_sel.detach())
