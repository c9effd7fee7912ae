"""`upscale IMAGE --scale 3 [--model RUN_DIR_OR_FILE]`: enlarge any image with SRCNN.

The whole image goes through the network at once (it is fully convolutional);
Y through SRCNN, CbCr bicubic (MATLAB's kernel), PNG out.  Without --model the
x2/x3/x4 model shipped in the package is used, if there is one.
"""
import argparse
import os
import sys


def parser(prog='upscale.py'):
    ap = argparse.ArgumentParser(prog=prog, description='Enlarge an image with a trained SRCNN '
                                 '(Y through the network, colour bicubic).')
    ap.add_argument('image', help='any image Pillow reads (RGB, greyscale, palette...)')
    ap.add_argument('--scale', type=int, choices=[2, 3, 4],
                    help="enlargement factor (default: the model's)")
    ap.add_argument('--model', help='a run folder of configs/sr/*.yaml (its best.params) or a '
                    '.params file (default: the model shipped for --scale)')
    ap.add_argument('--output', '-o', help='PNG to write (default: IMAGE_x{scale}.png beside it)')
    ap.add_argument('--bicubic', action='store_true', help='also write the bicubic enlargement '
                    '(IMAGE_x{scale}_bicubic.png) to compare')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (0: every core)')
    return ap


def _run(a):
    from ..runtime import configure_threads
    configure_threads(a.threads)
    import numpy as np
    from PIL import Image

    from ..errors import UserError
    from ..image_io import read_rgb
    from ..models import srcnn
    if a.scale is None and a.model is None:
        raise UserError('give --scale 2|3|4 (a model shipped with the package) or --model RUN_DIR')
    rgb = read_rgb(a.image, 'image')
    with Image.open(a.image) as im:
        grey = im.mode in ('L', 'LA', 'I', 'I;16', 'F', '1')
    net, meta = srcnn.get_model(a.model, a.scale)
    scale = a.scale or meta['scale']
    out = srcnn.upscale(rgb, scale, net=net, meta=meta)
    stem = os.path.splitext(a.image)[0]
    path = a.output or f'{stem}_x{scale}.png'
    _save(out, path, grey)
    print(f'{path}: {out.shape[1]}x{out.shape[0]} (x{scale}, model {meta["path"]})')
    if a.bicubic:
        ycc = srcnn.imresize(rgb.astype(np.float64), shape=out.shape[:2])
        bic = np.clip(np.round(ycc), 0, 255).astype(np.uint8)
        _save(bic, f'{os.path.splitext(path)[0]}_bicubic.png', grey)
    return 0


def _save(rgb, path, grey):
    from PIL import Image
    img = Image.fromarray(rgb[..., 0] if grey else rgb)
    tmp = path + '.tmp.png'
    img.save(tmp)
    os.replace(tmp, path)


def main(argv=None, prog='upscale.py'):
    from ..cli import _guard
    return _guard(_run, parser(prog).parse_args(sys.argv[1:] if argv is None else argv))
