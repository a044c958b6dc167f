"""theory.registry._import on a reference without ``:attr``: the module itself (no attribute is looked up), so
``get("module:")`` reaches the "neither a Family nor an activation class" refusal about the module, not a
"has no ''" lookup failure."""
import theory.activations
from theory import registry


def test_a_bare_module_reference_is_the_module_itself():
    assert registry._import("theory.activations", what="x") is theory.activations
    assert registry._import("theory.activations:", what="x") is theory.activations
    assert registry._import("theory.activations:ReLU", what="x") is theory.activations.ReLU


def test_an_empty_attribute_is_refused_as_not_a_family(refuses):
    refuses(lambda: registry.get("theory.activations:"),
            "'theory.activations:' is neither a theory.registry.Family nor an activation class")
