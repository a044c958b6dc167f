"""The fast paths give the plain paths' numbers: sparse vs dense ReLU/JumpReLU/Gated codes, the
two-stage exact batch top-k, Matryoshka's grouped prefix decodes."""
import pytest
import torch

from numerics.models import build_model
from numerics.models.base import SparseCoder
from numerics.models.batchtopk import _batch_topk


def _loss_and_grads(m, x):
    m.zero_grad()
    terms, code, y_hat = m.loss(x, x)
    torch.stack(list(terms.values())).sum().backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    return code, {k: float(v.detach()) for k, v in terms.items()}, y_hat.detach(), grads


@pytest.mark.parametrize("arch,kw", [("relu", {"l1_coeff": 0.1}),
                                     ("jumprelu", {"l0_coeff": 0.1, "threshold_init": 0.3, "bandwidth": 0.2}),
                                     ("gated", {"l1_coeff": 0.1})])
def test_sparse_path_matches_dense_path(arch, kw, monkeypatch):
    torch.manual_seed(0)
    m = build_model(arch, 10, 40, **kw)
    with torch.no_grad():                       # biases that switch some latents off, so codes are sparse
        m.b_enc.normal_(-0.5, 0.5)
        if arch == "gated":
            m.b_mag.normal_(0, 0.3)
            m.r_mag.normal_(0, 0.3)
    x = torch.randn(16, 10)
    monkeypatch.setattr(type(m), "sparse_below", 0.0)
    dense = _loss_and_grads(m, x)
    monkeypatch.setattr(type(m), "sparse_below", 1.0)
    sparse = _loss_and_grads(m, x)
    assert not dense[0].sparse and sparse[0].sparse
    assert dense[1].keys() == sparse[1].keys()
    for k in dense[1]:
        assert sparse[1][k] == pytest.approx(dense[1][k], abs=1e-5)
    assert torch.allclose(dense[2], sparse[2], atol=1e-5)
    assert dense[3].keys() == sparse[3].keys()
    for n in dense[3]:
        assert torch.allclose(dense[3][n], sparse[3][n], atol=1e-5), n
    assert dense[0].l0() == sparse[0].l0()
    assert torch.allclose(dense[0].dense(), sparse[0].dense(), atol=1e-6)


def test_switch_follows_the_density():
    m = build_model("relu", 6, 20)
    x = torch.randn(8, 6)
    with torch.no_grad():
        m.b_enc.fill_(-100.0)                   # nothing fires: density 0 < sparse_below
    assert m.encode(x).sparse
    with torch.no_grad():
        m.b_enc.fill_(100.0)                    # everything fires: dense
    assert not m.encode(x).sparse


def _flat_batch_topk(z, kB):
    flat = torch.relu(z).reshape(-1)
    top = flat.topk(min(kB, flat.numel()), sorted=False)
    return top.indices[top.values > 0].sort().values


@pytest.mark.parametrize("seed", range(12))
def test_two_stage_batch_topk_is_exact(seed):
    g = torch.Generator().manual_seed(seed)
    B, n, k = 8, 30, 3
    z = torch.randn(B, n, generator=g)
    if seed % 3 == 0:
        z[0] += 5                               # one row holds most of the batch's top entries: it saturates
    if seed % 4 == 0:
        z -= 2                                  # fewer than kB positive entries
    rows, cols, vals = _batch_topk(z, k * B, 2 * k)
    assert bool((rows[1:] >= rows[:-1]).all())  # row-sorted
    assert torch.equal((rows * n + cols).sort().values, _flat_batch_topk(z, k * B))
    assert torch.equal(vals, z[rows, cols])


@pytest.mark.parametrize("seed", range(6))
def test_batch_topk_with_ties_keeps_exactly_kB_of_the_largest(seed):
    g = torch.Generator().manual_seed(seed)
    B, n, k = 6, 20, 2
    z = torch.randint(-2, 4, (B, n), generator=g).to(torch.float64)   # many ties at every value
    if seed % 2:
        z[1] += 3                               # a saturated row, with ties
    rows, cols, vals = _batch_topk(z, k * B, 2 * k)
    n_pos = int((z > 0).sum())
    assert vals.numel() == min(k * B, n_pos) and bool((vals > 0).all())
    assert len(set((rows * n + cols).tolist())) == vals.numel()        # no entry twice
    flat = torch.relu(z).reshape(-1).topk(min(k * B, n_pos)).values
    assert torch.equal(vals.sort().values, flat.sort().values)        # the same values as the flat top-kB
    assert bool((rows[1:] >= rows[:-1]).all())


def _dense_reference(arch, m, x):
    """The plain dense computation in float64: mask of the selected entries, ``relu(z)·mask @ W_D``,
    FVU (+ the prefix FVUs), gradients by autograd."""
    params = {n: p.detach().clone().requires_grad_(True) for n, p in m.named_parameters()}
    z = x @ params["W_enc"].T + params["b_enc"]
    B, n_q = z.shape
    with torch.no_grad():
        if arch == "topk_relu":
            mask = torch.zeros_like(z, dtype=torch.bool).scatter_(1, z.topk(m.k, dim=1).indices, True)
        else:
            mask = torch.zeros(B * n_q, dtype=torch.bool)
            mask[z.reshape(-1).topk(m.k * B).indices] = True
            mask = mask.view(B, n_q)
    acts = torch.relu(z) * mask
    tv = (x - x.mean(0)).pow(2).sum()
    fvu = lambda upto: (x - acts[:, :upto] @ params["W_dec"][:upto] - params["b_dec"]).pow(2).sum() / tv
    terms = {"fvu": fvu(n_q)}
    if arch == "matryoshka":
        terms["matryoshka"] = sum(fvu(p) for p in m.prefixes)
    loss = sum(terms.values())
    grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
    return {k: float(v.detach()) for k, v in terms.items()}, grads


@pytest.mark.parametrize("arch", ["topk_relu", "batchtopk", "matryoshka"])
def test_topk_family_loss_and_gradients_equal_the_dense_computation_in_float64(arch):
    torch.manual_seed(1)
    m = build_model(arch, 12, 64, k=4).double()
    x = torch.randn(32, 12, dtype=torch.float64) * torch.rand(32, 1, dtype=torch.float64) * 3   # rows of unequal norm
    x[0] *= 20                                  # one row that holds many of the batch's largest entries
    with torch.no_grad():
        m.b_enc.normal_(0, 0.1)
        m.b_dec.normal_(0, 0.1)
    code, terms, _, grads = _loss_and_grads(m, x)
    want_terms, want_grads = _dense_reference(arch, m, x)
    assert terms.keys() == want_terms.keys()
    for k in terms:
        assert terms[k] == pytest.approx(want_terms[k], rel=1e-12)
    assert grads.keys() == want_grads.keys()
    for n in grads:
        assert grads[n].dtype == torch.float64 and torch.allclose(grads[n], want_grads[n], atol=1e-12), n
    if arch != "topk_relu":
        assert int(code.rows.eq(0).sum()) > 2 * m.k   # the saturated-row path was taken


def test_matryoshka_grouped_loss_equals_prefix_by_prefix():
    torch.manual_seed(0)
    m = build_model("matryoshka", 12, 64, k=4)
    x = torch.randn(32, 12).abs()
    grouped = _loss_and_grads(m, x)
    m.zero_grad()
    terms, _, y_hat = SparseCoder.loss(m, x, x)   # full decode + one masked decode per prefix
    torch.stack(list(terms.values())).sum().backward()
    assert grouped[1]["matryoshka"] == pytest.approx(float(terms["matryoshka"].detach()), rel=1e-5)
    assert grouped[1]["fvu"] == pytest.approx(float(terms["fvu"].detach()), rel=1e-5)
    assert torch.allclose(grouped[2], y_hat.detach(), atol=1e-5)
    for n, p in m.named_parameters():
        if p.grad is not None:
            assert torch.allclose(grouped[3][n], p.grad, atol=1e-5), n


def test_bag_offsets_and_topk_pointers_by_hand():
    from numerics.sparse_decode import Layout, bag_offsets

    rows = torch.tensor([0, 0, 2, 2, 2])
    assert bag_offsets(rows, 4).tolist() == [0, 2, 2, 5]  # rows 1 and 3 are empty
    assert Layout.build(rows, torch.tensor([1, 3, 0, 2, 4]), 4, 5).crow.tolist() == [0, 2, 2, 5, 5]
    for k in (1, 2):  # TopK: k entries per row, pointers without counting
        r = torch.arange(3).repeat_interleave(k)
        assert Layout.build(r, torch.zeros(3 * k, dtype=torch.long), 3, 4, per_row=k).crow.tolist() == [0, k, 2 * k, 3 * k]


def _sparse_pattern():
    # 5 samples, 7 latents from 3 inputs; rows sorted, samples 1 and 4 without entries
    rows = torch.tensor([0, 0, 2, 2, 2, 3])
    cols = torch.tensor([1, 6, 0, 3, 6, 2])
    return rows, cols


@pytest.mark.parametrize("frozen_encoder", [False, True])
def test_selected_preacts_and_sparse_decode_match_dense_autograd_in_float64(frozen_encoder):
    from numerics.sparse_decode import selected_preacts, sparse_decode

    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    W_enc = torch.randn(7, 3, generator=g, dtype=torch.float64, requires_grad=not frozen_encoder)
    b_enc = torch.randn(7, generator=g, dtype=torch.float64, requires_grad=True)
    W_dec = torch.randn(7, 4, generator=g, dtype=torch.float64, requires_grad=True)
    rows, cols = _sparse_pattern()
    leaves = [t for t in (x, W_enc, b_enc, W_dec) if t.requires_grad]

    z = x @ W_enc.T + b_enc  # the dense reference: the same entries of the pre-activations, decoded densely
    mask = torch.zeros(5, 7, dtype=torch.float64)
    mask[rows, cols] = 1.0
    ref = ((z * mask) @ W_dec).pow(3).sum()
    want = torch.autograd.grad(ref, leaves)

    vals = selected_preacts(x, W_enc, b_enc, rows, cols, z[rows, cols])  # no layout given: it builds one
    y = sparse_decode(rows, cols, vals, W_dec, 5)
    got = torch.autograd.grad(y.pow(3).sum(), leaves)
    assert float(y.pow(3).sum()) == pytest.approx(float(ref), rel=1e-12)
    for a, b in zip(got, want):
        assert a.dtype == torch.float64 and torch.allclose(a, b, atol=1e-10)


def test_sparse_decode_of_an_empty_code_is_zero():
    from numerics.sparse_decode import sparse_decode

    empty = torch.zeros(0, dtype=torch.long)
    W_dec = torch.randn(7, 4, dtype=torch.float64)
    out = sparse_decode(empty, empty, torch.zeros(0, dtype=torch.float64), W_dec, 3)
    assert out.shape == (3, 4) and out.dtype == torch.float64 and not out.any()


def test_preact_buffer_is_reused_once_per_arming_and_changes_no_number():
    from numerics.data import Batch
    from numerics.engine import FVU, Engine
    from numerics.models.base import PreactBuffer

    torch.manual_seed(0)
    m = build_model("topk_relu", 8, 24, k=3)
    x = torch.randn(16, 8)
    want = m.loss(x, x)[0]["fvu"].item()
    buf = PreactBuffer()
    with m.reusing_preacts(buf):
        first, second = m.encode(x), m.encode(x)
    assert first.pre.data_ptr() == buf.tensor.data_ptr()       # the first matmul wrote into the buffer
    assert second.pre.data_ptr() != buf.tensor.data_ptr()      # a second one in the same block did not
    assert torch.equal(first.pre, second.pre)
    assert m.encode(x).pre.data_ptr() != buf.tensor.data_ptr() # outside the block: a fresh tensor
    with torch.enable_grad(), m.reusing_preacts(buf):
        assert buf.take((16, 24), x) is not None and buf.take((16, 24), x) is None

    batch = Batch(x=None, x_p=x, x_r=x)
    eng = Engine(m, FVU(), lambda i, size, stream: batch, steps=3, batch_size=16, lr=1e-3)
    got = eng.train_step()["fvu"]
    ptr = eng._preacts.tensor.data_ptr()
    eng.train_step()
    assert got == pytest.approx(want, rel=1e-6) and eng._preacts.tensor.data_ptr() == ptr


def test_prefix_fvu_function_passes_gradcheck_with_the_reconstruction_output():
    from numerics.models.matryoshka import _PrefixFVU

    g = torch.Generator().manual_seed(0)
    D = torch.randn(3, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 5, generator=g, dtype=torch.float64)
    tv = torch.tensor(7.0, dtype=torch.float64)
    per, y_hat = _PrefixFVU.apply(D, b, y, tv)
    S = D.detach().cumsum(0) + b.detach()
    assert torch.allclose(per, (S - y).pow(2).sum((1, 2)) / 7.0) and torch.allclose(y_hat, S[-1])
    assert torch.autograd.gradcheck(lambda D, b: _PrefixFVU.apply(D, b, y, tv), (D, b))


def test_matryoshka_without_biases_matches_prefix_by_prefix():
    torch.manual_seed(0)
    m = build_model("matryoshka", 12, 64, k=4, bias=False).double()
    x = torch.randn(32, 12, dtype=torch.float64).abs()
    grouped = _loss_and_grads(m, x)
    m.zero_grad()
    terms, _, y_hat = SparseCoder.loss(m, x, x)
    torch.stack(list(terms.values())).sum().backward()
    for k in terms:
        assert grouped[1][k] == pytest.approx(float(terms[k].detach()), rel=1e-12)
    for n, p in m.named_parameters():
        assert torch.allclose(grouped[3][n], p.grad, atol=1e-12), n
