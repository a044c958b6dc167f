"""C10's trend directions at their margins (issue 12, part 5: the fifth session's seed-53 sample of c10_recovery had
``d_ip < −0.01`` for ``<=``). The module's docstring: M_GT "drops by at least 0.05 (or, when M_GT moves by less than
0.05, M_IP drops by at least 0.01)" — a drop or rise of exactly the margin counts. The differences below are exact in
binary floating point (x − 0 = x), so each sits exactly on its margin."""
import pytest

from proofs_check import c10_recovery as c10


def _run(gt, ip):
    return {"m_gt_decoder": gt, "m_gt_encoder": gt, "m_ip_decoder": ip, "m_ip_encoder": ip}


@pytest.mark.parametrize("first, last, want", [
    (_run(0.05, 0.5), _run(0.0, 0.5), "falls"),      # M_GT drops by exactly 0.05
    (_run(0.0, 0.5), _run(0.05, 0.5), "rises"),      # rises by exactly 0.05
    (_run(0.5, 0.01), _run(0.5, 0.0), "falls"),      # M_GT flat, M_IP drops by exactly 0.01
    (_run(0.5, 0.0), _run(0.5, 0.01), "rises"),      # M_IP rises by exactly 0.01
    (_run(0.5, 0.0), _run(0.5, 0.005), "flat"),
])
def test_a_move_of_exactly_the_margin_counts(first, last, want):
    for reading in ("decoder", "encoder"):
        assert c10._direction(first, last, reading) == want
