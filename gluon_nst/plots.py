"""Figures of a run: the loss curves and the content | style | result sheet."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def loss_curves(rows, path, title=''):
    """rows: dicts with stage, step, content, style, tv, total (losses.csv rows)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    offset, ticks = 0, []
    stages = sorted({int(r['stage']) for r in rows})
    for st in stages:
        rs = [r for r in rows if int(r['stage']) == st]
        x = np.array([offset + int(r['step']) for r in rs])
        for key, color in (('content', 'C0'), ('style', 'C1'), ('tv', 'C2'), ('total', 'k')):
            ax.plot(x, [float(r[key]) for r in rs], color=color, lw=1,
                    label=key if st == stages[0] else None)
        ticks.append(offset)
        offset += len(rs)
    for t in ticks[1:]:
        ax.axvline(t, color='grey', ls=':', lw=1)
    ax.set_yscale('log')
    ax.set_xlabel('step (all stages)')
    ax.set_ylabel('weighted loss')
    ax.set_title(title or 'losses')
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def figure_sheet(images, titles, path):
    """Images side by side at a common height, with titles."""
    ratios = [img.shape[1] / img.shape[0] for img in images]      # width per unit height
    fig, axes = plt.subplots(1, len(images), figsize=(3 * sum(ratios) + 0.5, 3.5),
                             gridspec_kw={'width_ratios': ratios})
    for ax, img, t in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(img)
        ax.set_title(t)
        ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
