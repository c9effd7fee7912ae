"""Figures of a run: the loss curves and the content | style | result sheet.

Every figure the package writes comes from `subplots()`: a bare matplotlib Figure,
never pyplot, so that writing files neither switches the backend nor leaves figures
open (a notebook's inline display keeps working after a run).
"""
import numpy as np


def subplots(nrows=1, ncols=1, **kwargs):
    """(figure, axes) as pyplot.subplots gives them, for files only (fig.savefig)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=kwargs.pop('figsize', None))
    return fig, fig.subplots(nrows, ncols, **kwargs)


NOISE_FLOOR = 1e-6     # relative to a term's largest value: float noise, not a loss


def meaningful(values):
    """Values with float-noise entries (e.g. the content term of a run that starts from
    the content image: ~1e-11) as NaN, so a log axis is scaled by the curves that matter."""
    v = np.asarray(values, dtype=np.float64)
    top = np.nanmax(np.abs(v)) if v.size and np.isfinite(v).any() else 0.0
    return np.where(np.abs(v) > NOISE_FLOOR * top, v, np.nan)


def loss_curves(rows, path, title='', columns=('content', 'style', 'tv', 'total'),
                phase='stage', ylabel='weighted loss', log=True):
    """Curves of losses.csv `rows` over all phases (stages, octaves...), a dotted line
    where a phase starts.  The last column is drawn in black (the total).
    Returns the y-axis limits."""
    fig, ax = subplots(figsize=(8, 4.5))
    ph = np.array([str(r[phase]) for r in rows])
    x = np.arange(len(rows))                     # steps counted over all phases
    for i, key in enumerate(columns):
        color = 'k' if i == len(columns) - 1 and len(columns) > 1 else f'C{i}'
        y = np.array([float(r[key]) for r in rows])
        y = meaningful(y) if log else y
        for k, p in enumerate(dict.fromkeys(ph)):
            on = ph == p
            ax.plot(x[on], y[on], color=color, lw=1, label=key if k == 0 else None)
    for t in np.flatnonzero(ph[1:] != ph[:-1]) + 1:
        ax.axvline(t, color='grey', ls=':', lw=1)
    if log:
        ax.set_yscale('log')
    ax.set_xlabel(f'step (all {phase}s)')
    ax.set_ylabel(ylabel)
    ax.set_title(title or 'losses')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return ax.get_ylim()


def figure_sheet(images, titles, path):
    """Images side by side at a common height, with titles."""
    ratios = [img.shape[1] / img.shape[0] for img in images]      # width per unit height
    fig, axes = subplots(1, len(images), figsize=(3 * sum(ratios) + 0.5, 3.5),
                         gridspec_kw={'width_ratios': ratios})
    for ax, img, t in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(img)
        ax.set_title(t)
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
