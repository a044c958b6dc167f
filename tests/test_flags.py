"""sdl_theory.flags: bench's and study's flags come from the config fields (types and help included)."""
import pytest

from sdl_theory.cli import build_parser, main


def test_bench_flags_are_the_config_fields_with_their_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--help"])
    out = capsys.readouterr().out
    assert "--n-features" in out and "--signed-interference, --no-signed-interference" in out
    assert "--l1-coeff" in out and "(relu, gated)" in out  # a family hyperparameter, and who takes it
    assert "probability that a feature is on" in out       # the help text declared with the field


def test_bench_resolves_typed_values_over_the_preset(capsys):
    assert main(["bench", "--dry-run", "--taus", "0.5", "0.75", "--k", "3", "--no-bias", "--methods", "relu", "topk_sae"]) == 0
    out = capsys.readouterr().out
    assert '"taus":[0.5,0.75]' in out and '"bias":false' in out and '"k":3' in out and '"l1_coeff":0.1' in out
    assert main(["bench", "--dry-run", "--hyper", "k=x"]) == 2
    assert "cannot read 'x' as int" in capsys.readouterr().err


def test_study_flags_are_its_config_fields(tmp_path, capsys):
    from sdl_theory.commands.study import make_config, study_parser

    ns = study_parser("absorption").parse_args(["--out", str(tmp_path), "--lams", "0.3", "2.5", "--ks", "1", "--seeds", "2"])
    from sdl_theory.flags import given
    import studies

    values = given(ns, studies.get("absorption").config)
    assert values == {"lams": (0.3, 2.5), "ks": (1,), "seeds": 2}
    _, cfg = make_config("absorption", given=values, overrides=["steps=7"])
    assert (cfg.lams, cfg.ks, cfg.seeds, cfg.steps) == ((0.3, 2.5), (1,), 2, 7)
    with pytest.raises(SystemExit):
        main(["study", "absorption", "--help"])
    assert "L1 coefficients λ of the ReLU SAEs" in capsys.readouterr().out
