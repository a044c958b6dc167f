"""A claim of your own, checked like C1–C9: rescaling a neuron does not change L̃.

Claim: for a positively homogeneous σ without encoder bias, scaling every encoder row by ``c > 0``
and the decoder by ``1/c`` leaves the approximate objective unchanged,
``L̃(W_D / c, c W_E) = L̃(W_D, W_E)``, since ``σ(c z) = c σ(z)``. With this directory on ``PYTHONPATH``::

    sdl-theory verify rescaling_claim:RescalingInvariance C5

runs it with the same seeded search, shrinking, verdict and report as the built-in claims; the
search space is built from :mod:`theory.strategies`, the hypotheses are predicates on one example.
``WithoutHomogeneity`` drops the hypothesis (JumpReLU with θ > 0 then breaks it, and the search
shrinks the counterexample).
"""
from __future__ import annotations

from hypothesis import strategies as st

from proofs_check.claim import Claim, SearchClaim
from theory.objective import approx_loss
from theory.strategies import instances, parameters


@st.composite
def rescaled_points(draw):
    inst = draw(instances(max_n=3, max_dim=3, bias=False))
    W_D, W_E, _ = draw(parameters(inst, max_q=3))
    return inst, W_D, W_E, draw(st.sampled_from([0.25, 0.5, 2.0, 4.0]))


class RescalingInvariance(SearchClaim):
    CLAIM = Claim(
        id="R1", title="Rescaling a neuron leaves L̃ unchanged", paper_ref="ours",
        statement="For a positively homogeneous σ and no encoder bias, L̃(W_D / c, c W_E) = L̃(W_D, W_E) for every c > 0.")

    def space(self):
        return rescaled_points()

    def hypotheses(self, example) -> list[str]:
        inst = example[0]
        unmet = []
        if not inst.activation.positively_homogeneous:
            unmet.append(f"{inst.activation.describe()} is not positively homogeneous")
        if inst.encoder_bias:
            unmet.append("the model has an encoder bias")
        return unmet

    def check(self, example):
        inst, W_D, W_E, c = example
        before, after = approx_loss(inst, W_D, W_E), approx_loss(inst, W_D / c, c * W_E)
        if abs(after - before) <= 1e-9 * (1.0 + before):
            return None
        return {"instance": inst.to_json(), "c": c, "loss": before, "rescaled_loss": after}


class WithoutHomogeneity(RescalingInvariance):
    CLAIM = Claim(id="R2", title="Rescaling a neuron leaves L̃ unchanged (any σ)", paper_ref="ours",
                  statement="For every σ and no encoder bias, L̃(W_D / c, c W_E) = L̃(W_D, W_E) for every c > 0.")

    def hypotheses(self, example) -> list[str]:
        return ["the model has an encoder bias"] if example[0].encoder_bias else []
