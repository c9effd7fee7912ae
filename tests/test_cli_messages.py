"""Bad command lines get one line that names the problem and the fix, and exit code 2."""
import os

import pytest

from gluon_nst import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(ROOT, 'configs')


def one_line_error(capsys, code):
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1, err
    return err


def test_a_folder_for_a_config_says_to_give_a_file(capsys):
    err = one_line_error(capsys, cli.main(['train', CONFIGS + os.sep]))
    assert f'config file {CONFIGS}{os.sep} is a folder: give a config file, e.g. ' in err
    assert os.path.isfile(err.split('e.g. ')[1].strip())


def test_a_sweep_file_for_a_config_says_how_to_run_it(capsys):
    sweep_file = os.path.join(CONFIGS, 'sweeps', 'example.yaml')
    err = one_line_error(capsys, cli.main_train([sweep_file]))
    assert 'is a sweep file (base: with grid:/zip:)' in err
    assert f'python scripts/sweep.py {sweep_file} (or gluon-nst sweep {sweep_file})' in err
    assert 'unknown key' not in err


def test_set_with_broken_yaml_says_where(capsys):
    err = one_line_error(capsys, cli.main_train([
        os.path.join(CONFIGS, 'style', 'preview.yaml'), '--set', 'stages=[{image_shape: [600, 400]']))
    assert "--set stages: the value '[{image_shape: [600, 400]' is not valid YAML at character 26" in err
    assert 'close every [ and {' in err


def test_set_with_a_plain_word_is_still_text():
    from gluon_nst.config import parse_override
    assert parse_override('output.dir=a: b: c') == ('output.dir', 'a: b: c')
    assert parse_override('stages.0.epochs=5') == ('stages.0.epochs', 5)


@pytest.mark.parametrize('typo, near', [('trian', 'train'), ('upscael', 'upscale'), ('sweap', 'sweep')])
def test_a_mistyped_command_gets_a_suggestion(capsys, typo, near):
    err = one_line_error(capsys, cli.main([typo, 'x.yaml']))
    assert err == f"error: unknown command '{typo}'; did you mean '{near}'?\n"


def test_an_unknown_command_lists_the_commands(capsys):
    err = one_line_error(capsys, cli.main(['xyz']))
    assert 'commands: train, sweep, compare, bench, upscale, quality' in err


def test_bench_help_names_every_method_before_the_style_options(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(['bench', '--help'])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith('gluon-nst bench [style|fast|srcnn|dream] [options]')
    assert 'usage: gluon-nst bench style' in out


def test_bench_of_an_unknown_method_lists_the_methods(capsys):
    err = one_line_error(capsys, cli.main(['bench', 'sr']))
    assert "unknown method 'sr'" in err and 'srcnn' in err
