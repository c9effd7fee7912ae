"""notebook.live(): one image and one loss plot, updated in place through IPython's display
machinery, drawn only when due; fed by run.train's per-step callback."""
import base64
import io
import os

import numpy as np
import pytest
from PIL import Image

pytest.importorskip('IPython', reason='needs the notebook extra (pip install .[notebook])')

from gluon_nst import methods, notebook  # noqa: E402


@pytest.fixture(scope='module')
def shell(tmp_path_factory):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    os.environ.setdefault('IPYTHONDIR', str(tmp_path_factory.mktemp('ipython')))
    c = Config()
    c.HistoryManager.enabled = False
    return InteractiveShell.instance(config=c)


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, shell, shared, d2l):
    """A two-stage style run through run.train with a live view: (run folder, the steps
    the callback received, the outputs the view published)."""
    from IPython.utils.capture import capture_output

    from gluon_nst import config, run
    out = tmp_path_factory.mktemp('live') / 'run'
    cfg = config.load(overrides=[
        ('content_image', os.path.join(d2l, 'rainier.jpg')),
        ('style_image', os.path.join(d2l, 'autumn_oak.jpg')),
        ('weights.path', os.path.join(shared, 'weights')), ('output.dir', str(out)),
        ('output.sync_every', 3), ('output.quality', False),
        ('stages', [dict(image_shape=[48, 32], steps=7), dict(image_shape=[72, 48], steps=5)])])
    steps = []
    view = notebook.live(every_steps=1)      # draws at every step

    def record_and_show(step):
        steps.append(step)
        view(step)
    with capture_output() as captured:
        run_dir = run.train(cfg, quiet=True, callback=record_and_show)
    return run_dir, steps, captured.outputs, view


def png_pixels(output):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(output.data['image/png']))))


def test_callback_gets_every_step_the_run_recorded(tiny_run):
    run_dir, steps, _, view = tiny_run
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        rows = f.read().splitlines()[1:]
    assert len(steps) == len(rows) == 7 + 5 == view.steps
    assert [s.phase for s in steps] == [1] * 7 + [2] * 5


def test_one_image_and_one_plot_updated_in_place(tiny_run):
    run_dir, steps, outputs, view = tiny_run
    ids = [o.transient['display_id'] for o in outputs]
    first_image, first_plot = outputs[0], outputs[1]
    assert not first_image.update and not first_plot.update
    assert len(set(ids)) == 2 and all(o.update for o in outputs[2:])
    images = [o for o in outputs if 'image/png' in o.data]
    plots = [o for o in outputs if 'image/svg+xml' in o.data]
    assert {o.transient['display_id'] for o in images} == {ids[0]}
    assert {o.transient['display_id'] for o in plots[1:]} == {ids[1]}
    # An image is sent only when a new one arrived (sync steps and stage ends), not every draw.
    assert len(images) == sum(s.image is not None for s in steps) < len(plots) == view.draws + 1
    # The last image shown is the result.
    assert (png_pixels(images[-1]) == np.asarray(Image.open(os.path.join(run_dir, 'result.png')))).all()
    svg = plots[-1].data['image/svg+xml']
    for column in methods.get('style').summary:
        assert f'>{column} ' in svg
    assert svg.count('<polyline') == len(methods.get('style').summary)
    assert 'stroke-dasharray' in svg                      # where stage 2 starts


def test_draws_only_when_due(tiny_run, shell):
    from IPython.utils.capture import capture_output
    _, steps, _, _ = tiny_run
    hourly = notebook.live(every_seconds=3600)
    with capture_output():
        for s in steps:
            hourly(s)
    assert hourly.draws == 1 + 2           # the first step, then each stage's end
    every_4 = notebook.live(every_steps=4)
    with capture_output():
        for s in steps:
            every_4(s)
    assert every_4.draws == len({4, 8, 12} | {7, 12})          # every 4th step and the stage ends


def test_plotted_columns_are_each_methods_summary():
    for name in methods.names():
        method = methods.get(name)
        row = dict.fromkeys(method.columns, '')
        assert notebook._columns_of(row) == list(method.summary), name


def test_loss_plot_is_log_scaled_without_its_zeros():
    svg = notebook.loss_svg({'content': [(0, 0.0), (1, 10.0), (2, 1.0)], 'style': [(0, 100.0), (2, 5.0)]})
    assert '(log y)' in svg and svg.count('<polyline') == 2
    assert '>100<' in svg and '>1<' in svg                 # the axis spans the positive values
    linear = notebook.loss_svg({'objective': [(0, -1.0), (1, 2.0)]})
    assert '(log y)' not in linear and '>-1<' in linear


def test_big_images_are_shown_small():
    big = np.zeros((900, 1200, 3), dtype=np.uint8)
    assert Image.open(io.BytesIO(notebook.png_bytes(big, 480))).size == (480, 360)
    floats = np.full((10, 20, 3), 0.5)
    assert Image.open(io.BytesIO(notebook.png_bytes(floats, 480))).size == (20, 10)
