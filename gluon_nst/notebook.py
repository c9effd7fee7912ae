"""A live view of a run in Jupyter: one image and one loss plot, updated in place.

    from gluon_nst import config, notebook, run
    run.train(config.load('configs/rainier.yaml'), quiet=True, callback=notebook.live())

Works for every method (the callback reads methods.Step objects).  It uses IPython's
display machinery only (`display(..., display_id=True)` and `.update()`), so it
needs no browser server or widgets, and a notebook rendered later keeps the last
image and plot.  Drawing is throttled: at most every `every_seconds` and never
more than `max_share` of the run's time, plus at every phase end (stage, octave,
epoch), so the last image of a run is always shown.
"""
import io
import math
import time

from . import methods

PLOT_W, PLOT_H = 440, 250          # SVG size in pixels
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 58, 10, 30, 30
MAX_POINTS = 600                   # per curve: longer runs are drawn with a stride
COLOURS = ('#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b')


def _columns_of(row):
    """The plotted columns of the method whose losses.csv columns are this row's keys."""
    keys = list(row)
    for name in methods.names():
        method = methods.get(name)
        if list(method.columns) == keys:
            return list(method.summary)
    return [k for k, v in row.items() if _number(v) is not None]


def _number(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _escape(text):
    return str(text).replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')


def loss_svg(curves, phase_starts=(), title=''):
    """An SVG line plot of {column: [(x, y), ...]}: log y when no value is negative,
    dashed lines where a phase (stage, octave, epoch) starts.  Drawn by hand: it costs
    about a millisecond, where a matplotlib figure costs about a hundred."""
    points = [p for pts in curves.values() for p in pts]
    log = bool(points) and all(y >= 0 for _, y in points) and any(y > 0 for _, y in points)
    if log:            # a loss that starts at exactly 0 (content at step 0) has no log
        curves = {k: [p for p in pts if p[1] > 0] for k, pts in curves.items()}
        points = [p for p in points if p[1] > 0]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{PLOT_W}" height="{PLOT_H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{PLOT_W}" height="{PLOT_H}" fill="white"/>',
             f'<text x="{MARGIN_L}" y="14">{_escape(title)}</text>']
    if points:
        f = math.log10 if log else float
        xs = [x for x, _ in points]
        ys = [f(y) for _, y in points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
        w, h = PLOT_W - MARGIN_L - MARGIN_R, PLOT_H - MARGIN_T - MARGIN_B

        def px(x):
            return MARGIN_L + (x - x0) / (x1 - x0) * w

        def py(y):
            return MARGIN_T + (1 - (f(y) - y0) / (y1 - y0)) * h
        bottom = MARGIN_T + h
        parts.append(f'<rect x="{MARGIN_L}" y="{MARGIN_T}" width="{w}" height="{h}" fill="none" '
                     'stroke="#888"/>')
        for x in phase_starts:
            if x0 < x < x1:
                parts.append(f'<line x1="{px(x):.1f}" y1="{MARGIN_T}" x2="{px(x):.1f}" '
                             f'y2="{bottom}" stroke="#bbb" stroke-dasharray="3,3"/>')
        for y, anchor in ((y1, MARGIN_T + 4), (y0, bottom)):
            value = 10 ** y if log else y
            parts.append(f'<text x="{MARGIN_L - 4}" y="{anchor}" text-anchor="end">'
                         f'{value:.3g}</text>')
        parts.append(f'<text x="{MARGIN_L}" y="{bottom + 14}">{x0:g}</text>'
                     f'<text x="{MARGIN_L + w}" y="{bottom + 14}" text-anchor="end">{x1:g}</text>'
                     f'<text x="{MARGIN_L + w / 2}" y="{bottom + 24}" text-anchor="middle">'
                     f'step{" (log y)" if log else ""}</text>')
        for i, (name, pts) in enumerate(curves.items()):
            colour = COLOURS[i % len(COLOURS)]
            stride = max(1, math.ceil(len(pts) / MAX_POINTS))
            shown = pts[::stride] + ([pts[-1]] if (len(pts) - 1) % stride else [])
            if shown:
                line = ' '.join(f'{px(x):.1f},{py(y):.1f}' for x, y in shown)
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                             f'points="{line}"/>')
            last = f' {pts[-1][1]:.4g}' if pts else ''
            parts.append(f'<text x="{MARGIN_L + 6 + 100 * i}" y="{MARGIN_T + 14}" '
                         f'fill="{colour}">{_escape(name)}{last}</text>')
    parts.append('</svg>')
    return ''.join(parts)


def png_bytes(image, side):
    """An RGB image (uint8, or float 0..1) as PNG bytes, its longest side at most `side`."""
    import numpy as np
    from PIL import Image

    from .imaging import to_uint8
    a = image if isinstance(image, np.ndarray) and image.dtype == np.uint8 else to_uint8(image, 1.0)
    im = Image.fromarray(a)
    if max(im.size) > side:
        im.thumbnail((side, side), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format='PNG', compress_level=1)      # fast: the view is redrawn often
    return buf.getvalue()


class LiveView:
    """A run.train / Job callback that shows the run in the notebook (see `live`)."""

    def __init__(self, every_seconds=1.0, every_steps=None, max_share=0.01, columns=None,
                 image_side=480):
        self.every_seconds, self.every_steps = every_seconds, every_steps
        self.max_share, self.columns, self.image_side = max_share, columns, image_side
        self.curves, self.phase_starts = {}, []
        self.steps, self.phase = 0, None
        self.image, self.image_shown = None, True
        self.image_handle = self.plot_handle = None
        self.next_draw = 0.0
        self.draws, self.draw_seconds = 0, 0.0        # what the view cost, for the curious

    def __call__(self, step):
        if self.columns is None:
            self.columns = _columns_of(step.row)
            self.curves = {c: [] for c in self.columns}
        if step.phase != self.phase:
            if self.phase is not None:
                self.phase_starts.append(self.steps)
            self.phase = step.phase
        for c in self.columns:
            v = _number(step.row.get(c))
            if v is not None:
                self.curves[c].append((self.steps, v))
        self.steps += 1
        if step.image is not None:
            self.image, self.image_shown = step.image, False
        if self.every_steps:
            due = self.steps % self.every_steps == 0
        else:
            due = time.perf_counter() >= self.next_draw
        if due or step.phase_end:
            self.draw(f'{step.desc}  {step.text}'.strip())

    def draw(self, title=''):
        """Show the latest image (if new) and the curves now."""
        from IPython.display import SVG, display
        from IPython.display import Image as PngImage
        start = time.perf_counter()
        if self.image_handle is None:
            self.image_handle = display('waiting for the first image...', display_id=True)
            self.plot_handle = display(SVG(data=loss_svg({}, title=title)), display_id=True)
        if self.image is not None and not self.image_shown:
            self.image_handle.update(PngImage(data=png_bytes(self.image, self.image_side),
                                              format='png'))
            self.image_shown = True
        self.plot_handle.update(SVG(data=loss_svg(self.curves, self.phase_starts, title)))
        cost = time.perf_counter() - start
        self.draws += 1
        self.draw_seconds += cost
        # The next draw waits long enough that drawing stays under max_share of the run; the
        # first draw (display handles, imports) says nothing about the cost of the others.
        budget = cost / self.max_share if self.draws > 1 else 0.0
        self.next_draw = time.perf_counter() + max(self.every_seconds, budget)


def live(every_seconds=1.0, every_steps=None, max_share=0.01, columns=None, image_side=480):
    """A callback for `run.train(cfg, callback=...)` that shows the run in Jupyter: one
    image (the latest, longest side at most `image_side` pixels) and one SVG plot of the
    method's loss columns (default: its summary columns, e.g. content, style, tv, total),
    each updated in place.  It draws at most every `every_seconds` (or every `every_steps`
    steps when given), never more than `max_share` of the run's time, and at every
    phase end."""
    return LiveView(every_seconds, every_steps, max_share, columns, image_side)
