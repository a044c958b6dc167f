import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: under `pytest -n 2` on 2 cores, two OpenMP threads per worker spin against each
    # other and a 10 s module takes minutes. One thread each is faster, and is restored afterwards.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
