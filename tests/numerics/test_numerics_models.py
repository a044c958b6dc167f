"""SDL models: registry, shapes, sparse decode = dense decode (values and gradients), estimators, I/O."""
import json

import pytest
import torch

from numerics.io import load_model, save_model
from numerics.models import build_model
from numerics.models.base import Code
from numerics.sparse_decode import selected_preacts, sparse_decode
from theory import registry
from theory.errors import SDLInputError


ARCHS = registry.names(trainable=True)


def k_of(arch, k):
    """``{"k": k}`` for the families whose hyperparameters have a k (the TopK family)."""
    return {"k": k} if "k" in registry.get(arch).hyper_kwargs() else {}


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("d_out", [None, 7])          # SAE and transcoder shapes
@pytest.mark.parametrize("bias", [True, False])
def test_every_arch_trains_one_step(arch, d_out, bias):
    torch.manual_seed(0)
    m = build_model(arch, 12, 30, d_out, bias=bias, **k_of(arch, 3))
    x = torch.randn(16, 12).abs()
    y = torch.randn(16, d_out or 12)
    terms, code, y_hat = m.loss(x, y)
    assert y_hat.shape == y.shape
    loss = sum(terms.values())
    loss.backward()
    assert m.W_enc.grad is not None and m.W_enc.grad.abs().sum() > 0
    assert m.W_dec.grad is not None and m.W_dec.grad.abs().sum() > 0
    assert (m.b_dec is None) == (not bias)


def test_unknown_arch_and_bad_k_are_input_errors():
    with pytest.raises(SDLInputError, match="unknown activation family"):
        build_model("softmax", 4, 8)
    with pytest.raises(SDLInputError, match="k = 9"):
        build_model("topk_relu", 4, 8, k=9)


def dense_topk_reference(m, x):
    z = x @ m.W_enc.T + m.b_enc
    v, i = z.topk(m.k, dim=1)
    acts = torch.zeros_like(z).scatter(1, i, torch.relu(v))
    return acts @ m.W_dec + m.b_dec


def test_sparse_topk_matches_dense_forward_and_backward():
    torch.manual_seed(1)
    m = build_model("topk_relu", 20, 64, k=5)
    with torch.no_grad():
        m.b_enc.normal_()
        m.b_dec.normal_()
    x = torch.randn(32, 20)
    out = m(x)
    (out ** 2).sum().backward()
    g_sparse = [p.grad.clone() for p in (m.W_enc, m.b_enc, m.W_dec, m.b_dec)]
    m.zero_grad()
    ref = dense_topk_reference(m, x)
    (ref ** 2).sum().backward()
    g_dense = [p.grad.clone() for p in (m.W_enc, m.b_enc, m.W_dec, m.b_dec)]
    assert torch.allclose(out, ref, atol=1e-5)
    for a, b in zip(g_sparse, g_dense):
        assert torch.allclose(a, b, atol=1e-4)


def test_sparse_decode_backward_only_touches_active_atoms():
    torch.manual_seed(2)
    W = torch.randn(50, 8, requires_grad=True)
    rows = torch.tensor([0, 0, 1, 1])
    cols = torch.tensor([3, 7, 7, 11])
    vals = torch.rand(4, requires_grad=True)
    sparse_decode(rows, cols, vals, W, 2).sum().backward()
    touched = W.grad.abs().sum(1) > 0
    assert set(touched.nonzero().squeeze(1).tolist()) == {3, 7, 11}
    assert torch.allclose(vals.grad, W.detach()[cols].sum(1))


def test_selected_preacts_gradient_is_sparse_and_correct():
    torch.manual_seed(3)
    x = torch.randn(4, 6)
    W = torch.randn(10, 6, requires_grad=True)
    b = torch.randn(10, requires_grad=True)
    rows, cols = torch.tensor([0, 2, 3]), torch.tensor([1, 1, 9])
    z = (x @ W.T + b).detach()
    selected_preacts(x, W, b, rows, cols, z[rows, cols]).sum().backward()
    expected = torch.zeros(10, 6)
    expected[1] = x[0] + x[2]
    expected[9] = x[3]
    assert torch.allclose(W.grad, expected, atol=1e-6)
    assert torch.allclose(b.grad, torch.tensor([0, 2, 0, 0, 0, 0, 0, 0, 0, 1.0]))


def test_jumprelu_straight_through_threshold_gradient():
    m = build_model("jumprelu", 3, 4, l0_coeff=1.0, threshold_init=0.5, bandwidth=0.2)
    z = torch.tensor([[0.45, 0.55, 0.9, 0.1]])          # within ε/2 of θ: entries 0 and 1 only
    code = Code(pre=z, acts=None)
    l0 = m.penalty(code)["l0"]
    assert l0.item() == pytest.approx(2.0)              # H(z − θ) is on for 0.55 and 0.9
    l0.backward()
    g = m.log_threshold.grad                           # d/dlogθ = θ · (−1/ε) K((z−θ)/ε)
    assert g[0].item() == pytest.approx(-0.5 / 0.2)
    assert g[1].item() == pytest.approx(-0.5 / 0.2)
    assert g[2].item() == 0 and g[3].item() == 0


def test_batchtopk_keeps_k_times_batch_in_training_and_thresholds_at_inference():
    torch.manual_seed(4)
    m = build_model("batchtopk", 10, 40, k=3)
    x = torch.randn(16, 10).abs()
    m.train()
    code = m.encode(x)
    assert int((code.vals > 0).sum()) == 3 * 16
    assert code.l0() == pytest.approx(3.0)
    per_row = torch.bincount(code.rows, minlength=16)
    assert per_row.max() > per_row.min()                # the budget is shared across the batch
    m.after_step(code, 0)
    theta = float(m.threshold)
    assert theta == pytest.approx(float(code.vals.detach().min()))
    m.eval()
    ev = m.encode(x).dense()
    assert ((ev == 0) | (ev > theta)).all()
    # inference is per-sample: a row's code does not depend on the rest of the batch
    assert torch.allclose(m.encode(x[:1]).dense(), ev[:1])


def test_gated_gate_losses_do_not_train_the_decoder_through_the_aux_path():
    torch.manual_seed(5)
    m = build_model("gated", 6, 12)
    x = torch.randn(8, 6)
    terms, code, _ = m.loss(x, x)
    terms["gate_aux"].backward()
    assert m.W_dec.grad is None or m.W_dec.grad.abs().sum() == 0
    assert m.W_enc.grad.abs().sum() > 0
    # magnitudes use the tied weights exp(r_mag) ⊙ W_gate
    m.zero_grad()
    with torch.no_grad():
        m.r_mag.fill_(float(torch.log(torch.tensor(2.0))))
        m.b_enc.fill_(10.0)                               # all gates open
        m.b_mag.zero_()
    assert torch.allclose(m.encode(x).acts, torch.relu(2 * (x @ m.W_enc.T)), atol=1e-5)


def test_matryoshka_prefix_losses():
    m = build_model("matryoshka", 8, 32, k=4)
    assert m.prefixes == [2, 4, 8, 16]
    terms, _, _ = m.loss(torch.randn(10, 8).abs(), torch.randn(10, 8))
    assert "matryoshka" in terms and terms["matryoshka"] > 0


@pytest.mark.parametrize("arch", ARCHS)
def test_save_load_roundtrip_is_exact_and_pickle_free(arch, tmp_path):
    torch.manual_seed(6)
    m = build_model(arch, 9, 20, 5, **k_of(arch, 4))
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(7, 9).abs()
    if arch in ("batchtopk", "matryoshka"):
        m.train()
        m.after_step(m.encode(x), 0)
    m.eval()
    save_model(tmp_path / "m", m, {"note": "test"})
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["cfg.json", "model.safetensors"]
    assert json.loads((tmp_path / "m" / "cfg.json").read_text())["model"]["name"] == arch
    m2, cfg = load_model(tmp_path / "m")
    m2.eval()
    assert cfg == {"note": "test"}
    assert torch.equal(m(x), m2(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("arch", ARCHS)
def test_same_code_runs_on_cuda(arch):
    torch.manual_seed(7)
    m = build_model(arch, 12, 30, **k_of(arch, 3))
    x = torch.randn(16, 12).abs()
    ref = m(x)
    mc = m.to("cuda")
    out = mc(x.cuda())
    assert torch.allclose(out.cpu(), ref, atol=1e-4)
    sum(mc.loss(x.cuda(), x.cuda())[0].values()).backward()
