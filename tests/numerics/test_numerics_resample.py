"""numerics.resample: the Bricken et al. recipe, shared by the trainer and the studies (THEORY.md §8)."""
import torch

from numerics.models import build_model
from numerics.resample import resample_dead


def test_dead_latents_are_reinitialised_by_the_recipe():
    torch.manual_seed(0)
    model = build_model("relu", 6, 5, 6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = torch.randn(64, 6)
    (x - model(x)).pow(2).sum().backward()
    opt.step()  # populate Adam's state
    live_norm = model.encoder_directions()[2:].norm(dim=1).mean()
    dead = torch.tensor([0, 1])
    n = resample_dead(model, opt, dead, x, x, torch.Generator().manual_seed(0), scale=0.2)
    assert n == 2
    W_dec, enc = model.W_dec.detach(), model.encoder_directions().detach()
    assert torch.allclose(W_dec[dead].norm(dim=1), torch.ones(2), atol=1e-6)
    # decoder atom = normalised input; encoder row = the same direction at 0.2 × mean live norm
    assert torch.allclose(enc[dead] / enc[dead].norm(dim=1, keepdim=True), W_dec[dead], atol=1e-6)
    assert torch.allclose(enc[dead].norm(dim=1), 0.2 * live_norm.expand(2), atol=1e-5)
    assert torch.all(model.b_enc.detach()[dead] == 0)
    for p in (model.W_dec, model.W_enc):
        for v in opt.state[p].values():
            if v.dim() > 0:
                assert torch.all(v[dead] == 0) and torch.any(v[2:] != 0)


def test_nothing_to_sample_from_a_perfect_batch():
    # without biases x = 0 is reconstructed exactly: every per-input loss is 0, so no input can be sampled
    model = build_model("relu", 3, 4, 3, bias=False)
    opt = torch.optim.Adam(model.parameters())
    zero = torch.zeros(8, 3)
    before = model.W_dec.detach().clone()
    assert resample_dead(model, opt, torch.tensor([0]), zero, zero, torch.Generator().manual_seed(0)) == 0
    assert torch.equal(before, model.W_dec.detach())
