"""The notebooks run, top to bottom, at their tiny CI size (GLUON_NST_NOTEBOOK_QUICK=1), in a real
Jupyter kernel driven by nbclient; the committed files carry no outputs."""
import base64
import io
import os

import numpy as np
import pytest
from PIL import Image

nbformat = pytest.importorskip('nbformat', reason='needs the notebook extra (pip install .[notebook])')
nbclient = pytest.importorskip('nbclient', reason='needs the notebook extra (pip install .[notebook])')

# Kernels in child processes; nothing asserted depends on float rounding: CI runs these once.
pytestmark = pytest.mark.orchestration
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = os.path.join(ROOT, 'notebooks')
NAMES = ['neural_style', 'methods']


def read(name):
    return nbformat.read(os.path.join(NOTEBOOKS, f'{name}.ipynb'), as_version=4)


def execute(name, shared, runs):
    nb = read(name)
    env = dict(os.environ, GLUON_NST_NOTEBOOK_QUICK='1', GLUON_NST_SHARED=shared,
               GLUON_NST_NOTEBOOK_RUNS=str(runs), MPLBACKEND='module://matplotlib_inline.backend_inline',
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep))
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',
                                     resources={'metadata': {'path': NOTEBOOKS}})
    client.execute(env=env)
    return nb


def live_outputs(cell):
    """The images and plots a cell left (the live view's are updated in place, so each
    view leaves one image and one SVG plot however many times it drew)."""
    return [o for o in cell.outputs if o.output_type == 'display_data'
            and {'image/png', 'image/svg+xml'} & set(o.data)]


def decode_png(text):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))))


def cells_calling(nb, text):
    return [c for c in nb.cells if c.cell_type == 'code' and text in c.source]


@pytest.mark.parametrize('name', NAMES)
def test_committed_notebook_has_no_outputs(name):
    nb = read(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == 'code':
            assert cell.outputs == [] and cell.execution_count is None, \
                f'{name}.ipynb is committed with outputs: strip them (Kernel > Restart & Clear Output)'


def test_neural_style_notebook_runs_and_reports(shared, d2l, tmp_path):
    nb = execute('neural_style', shared, tmp_path)
    # The live view left exactly one image and one loss plot, updated in place.
    (train_cell,) = cells_calling(nb, 'run.train(')
    shown = live_outputs(train_cell)
    assert [sorted(o.data) for o in shown] == [['image/png', 'text/plain'], ['image/svg+xml', 'text/plain']]
    assert '<polyline' in shown[1].data['image/svg+xml']
    run_dir = tmp_path / 'neural_style'
    # What the view shows last is the run's result (60x40: not thumbnailed).
    assert (decode_png(shown[0].data['image/png']) == np.asarray(Image.open(run_dir / 'stage1.png'))).all()
    report = (run_dir / 'report.md').read_text()
    assert 'neural-style-1.png' in report and 'not the book\'s recipe' in report
    (report_cell,) = cells_calling(nb, 'compare_run(')
    assert any('image/png' in o.get('data', {}) for o in report_cell.outputs)


def test_methods_notebook_runs_every_method(shared, tmp_path):
    nb = execute('methods', shared, tmp_path)
    for folder in ('gatys', 'dream', 'fast_0.0', 'fast_1.0'):
        assert (tmp_path / folder / 'result.png').is_file(), folder
    gatys, dream, fast = cells_calling(nb, "train('../configs/")
    assert len(live_outputs(gatys)) == len(live_outputs(dream)) == 2      # one live view each
    assert len(live_outputs(fast)) == 2 * 2 + 1         # a view per strength, then the row
    (sr_cell,) = cells_calling(nb, 'upscale(small, 3)')
    assert any('image/png' in o.get('data', {}) for o in sr_cell.outputs)
