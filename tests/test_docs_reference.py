"""The manual's configuration reference is generated from the schemas and kept current."""
import subprocess
import sys
from pathlib import Path

from gluon_nst import config, docs_reference, methods

ROOT = Path(__file__).resolve().parents[1]


def test_committed_reference_matches_the_schemas():
    # A schema change without regenerating the page fails here, with the command to run.
    reason = docs_reference.stale(ROOT)
    assert reason is None, reason


def test_reference_holds_every_method_as_help_config_prints_it():
    page = docs_reference.render()
    for name in methods.names():
        assert f'## `method: {name}`' in page
        assert config.describe(name) in page


def test_stale_page_is_reported_and_rewritten(tmp_path):
    page = tmp_path / docs_reference.PAGE
    assert 'missing' in docs_reference.stale(tmp_path)
    docs_reference.write(tmp_path)
    assert docs_reference.stale(tmp_path) is None
    page.write_text(page.read_text().replace('style_weight', 'style_wieght', 1))
    assert docs_reference.COMMAND in docs_reference.stale(tmp_path)


def test_script_check_exit_codes():
    script = [sys.executable, str(ROOT / 'scripts' / 'config_reference.py'), '--check']
    done = subprocess.run(script, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
