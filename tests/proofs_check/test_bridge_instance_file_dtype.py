"""An instance file written by hand with integer entries (JSON ints) loads as float arrays, and one whose W_p holds a
word is refused in one line by the loader (not passed on as an array of strings)."""
import json
import types

import numpy as np
import pytest

from proofs_check import bridge
from theory import Instance
from theory.errors import SDLInputError


def test_integer_entries_of_an_instance_file_load_as_floats(tmp_path, monkeypatch):
    import numerics.foreign

    (tmp_path / "instance.json").write_text(json.dumps({"W_p": [[1, 0], [0, 1]], "W_r": [[0, 1], [1, 0]],
                                                        "weights": [1, 3]}))
    monkeypatch.setattr(numerics.foreign, "load_any", lambda path: types.SimpleNamespace(model="m"))
    model, W_p, W_r, w, how = bridge.load_checkpoint_instance(tmp_path)
    assert model == "m" and how == f"instance file {tmp_path / 'instance.json'}"
    for got, want in ((W_p, [[1.0, 0.0], [0.0, 1.0]]), (W_r, [[0.0, 1.0], [1.0, 0.0]]), (w, [1.0, 3.0])):
        assert got.dtype == np.float64 and got.tolist() == want
    # downstream: the instance built from them has unit float columns and the file's weights
    inst = Instance(W_p=W_p, W_r=W_r, weights=w)
    assert inst.W_p.dtype == np.float64 and inst.weights.tolist() == [1.0, 3.0]


def test_a_word_in_W_p_is_refused_by_the_loader(tmp_path):
    bad = tmp_path / "word.json"
    bad.write_text('{"W_p": [["one", 0], [0, 1]]}')
    with pytest.raises(SDLInputError) as info:
        bridge._read_instance_file(bad)
    assert str(info.value) == (f"{bad} is not a valid instance file (JSON with W_p, optional W_r and weights): could not "
                               "convert string to float: 'one'")
