"""Figures of an SRCNN run: loss and PSNR per epoch, and sheet crops."""
import os

from .engine import PAPER


def crop_centre(img, side):
    h, w = img.shape[:2]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return img[top:top + side, left:left + side]


def epoch_rows(rows):
    """The per-epoch rows (those with a PSNR)."""
    return [r for r in rows if str(r.get('psnr', '')) not in ('', 'nan')]


def epoch_positions(rows):
    """Each row's place in epochs: epoch - 1 + batch / batches (replayed rows: the epoch)."""
    last = {}
    for r in rows:
        if str(r.get('batch', '')) != '':
            last[r['epoch']] = max(last.get(r['epoch'], 0), int(r['batch']))
    return [int(r['epoch']) - 1 + int(r['batch']) / last[r['epoch']] if str(r.get('batch', '')) != ''
            else float(r['epoch']) for r in rows]


def training_curves(rows, path, title, scale, eval_name):
    from ..plots import subplots
    ends = epoch_rows(rows)
    fig, (a1, a2) = subplots(1, 2, figsize=(10, 4))
    a1.semilogy(epoch_positions(rows), [float(r['loss']) for r in rows], '.-', lw=1, ms=3)
    a1.set_xlabel('epoch')
    a1.set_ylabel('training MSE (0..1 pixels)')
    a1.set_title(title or 'loss')
    if ends:
        ep = [int(r['epoch']) for r in ends]
        a2.plot(ep, [float(r['psnr']) for r in ends], 'o-', ms=3, label='SRCNN (ours)')
        bic = [float(r['bicubic_psnr']) for r in ends if r.get('bicubic_psnr') not in ('', None)]
        if bic:
            a2.axhline(bic[-1], color='grey', ls=':', label=f'bicubic {bic[-1]:.2f}')
        paper = PAPER.get((os.path.basename(eval_name), scale))
        if paper:
            a2.axhline(paper[1], color='k', ls='--', lw=1, label=f'paper {paper[1]:.2f}')
        a2.set_xlabel('epoch')
        a2.set_ylabel(f'{os.path.basename(eval_name)} x{scale} PSNR on Y (dB)')
        a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def comparison_strip(model, image_path, scale, box, path, gap=4):
    """bicubic | SRCNN | ground truth of one crop, side by side at pixel size (for
    docs/methods/srcnn.md): `box` = (top, left, side) in the modcropped ground truth."""
    import numpy as np

    from ..image_io import save_png
    from . import data
    from .resize import imresize
    from .upscale import upscale
    truth = data.modcrop(data.read_image(image_path), scale)
    small = np.clip(np.round(imresize(truth.astype(float), 1 / scale)), 0, 255).astype(np.uint8)
    out = upscale(small, scale, params=model)
    bicubic = np.clip(np.round(imresize(small.astype(float), shape=truth.shape[:2])),
                      0, 255).astype(np.uint8)
    top, left, side = box
    crops = [a[top:top + side, left:left + side] for a in (bicubic, out, truth)]
    white = np.full((side, gap, 3), 255, np.uint8)
    save_png(np.concatenate([crops[0], white, crops[1], white, crops[2]], axis=1), path)
    return path
