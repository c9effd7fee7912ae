"""`gluon-nst upscale IMAGE [--scale 3] [--model RUN_DIR_OR_FILE]`: enlarge any image
with SRCNN (sr/upscale.py), in tiles, to a PNG in the current folder.

Without --model the x2/x3/x4 model shipped in the package is used; with --model its
scale is the one it was trained for.
"""
import argparse
import os
import sys

from ..errors import UserError
from ..guard import guard


def parser(prog='upscale.py'):
    from .upscale import TILE
    ap = argparse.ArgumentParser(prog=prog, description='Enlarge an image with a trained SRCNN '
                                 '(Y through the network, colour bicubic), tile by tile.')
    ap.add_argument('image', help='any image Pillow reads (RGB, greyscale, palette...)')
    ap.add_argument('--scale', type=int, choices=[2, 3, 4],
                    help='enlargement factor; with --model, default the scale it was trained '
                    'for; without --model, required (picks the shipped model)')
    ap.add_argument('--model', help='a run folder of configs/sr/*.yaml (its best.params) or a '
                    '.params file (default: the model shipped for --scale)')
    ap.add_argument('--output', '-o', help='PNG to write (default: IMAGE\'s name + _x{scale}.png '
                    'in the current folder)')
    ap.add_argument('--bicubic', action='store_true', help='also write the bicubic enlargement '
                    '(OUTPUT\'s name + _bicubic.png) to compare')
    ap.add_argument('--tile', type=int, default=TILE, metavar='PIXELS',
                    help=f'output tile side (default {TILE}; 0: the whole image at once); the '
                    'result is the same, only memory and speed change')
    ap.add_argument('--threads', type=int, default=0, help='CPU threads (0: every core)')
    return ap


def output_path(image, scale, output=None):
    """--output, or IMAGE's file name + _x{scale}.png in the current folder (never the
    input's folder: it may be read-only or shared)."""
    return output or f'{os.path.splitext(os.path.basename(image))[0]}_x{scale}.png'


def check_writable(path):
    """UserError naming `path` when a file cannot be created there (before any work)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UserError(f'output {path} is a folder: give a file name, e.g. {path}/out.png')
    if not os.path.isdir(folder):
        raise UserError(f'output {path}: folder {folder} does not exist: create it or give '
                        'another --output')
    probe = f'{path}.tmp.png'
    try:
        with open(probe, 'wb'):
            pass
        os.remove(probe)
    except OSError as e:
        raise UserError(f'output {path} cannot be written ({e.strerror}): give --output in a '
                        'folder you can write to') from None


def save(rgb, path, grey):
    """Write uint8 `rgb` as PNG atomically (a temporary file renamed)."""
    from PIL import Image
    tmp = f'{path}.tmp.png'
    try:
        Image.fromarray(rgb[..., 0] if grey else rgb).save(tmp)
        os.replace(tmp, path)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise UserError(f'output {path} cannot be written ({e.strerror or e}): free some '
                        'space or give --output elsewhere') from None


def _run(a):
    from ..runtime import configure_threads
    configure_threads(a.threads)
    from PIL import Image

    from ..image_io import read_rgb
    from ..models import srcnn
    from . import upscale
    if a.scale is None and a.model is None:
        raise UserError('give --scale 2|3|4 (a model shipped with the package) or --model RUN_DIR')
    if a.tile < 0:
        raise UserError(f'--tile {a.tile}: give 0 (whole image) or a tile side in pixels, e.g. 1024')
    path, meta = srcnn.find_model(a.model, a.scale)
    scale = a.scale or meta['scale']
    out_path = output_path(a.image, scale, a.output)
    rgb = read_rgb(a.image, 'image')
    with Image.open(a.image) as im:
        grey = im.mode in ('L', 'LA', 'I', 'I;16', 'F', '1')
    h, w = rgb.shape[:2]
    # The PNG encoder copies the output once more.
    upscale.check_memory((h, w), (h * scale, w * scale), a.tile, extra_output_copies=1)
    check_writable(out_path)
    net, meta = srcnn.get_model(a.model, a.scale)
    out = upscale.upscale(rgb, scale, net=net, meta=meta, tile=a.tile, progress=True)
    save(out, out_path, grey)
    print(f'{out_path}: {out.shape[1]}x{out.shape[0]} (x{scale}, model {meta["path"]})')
    if a.bicubic:
        del out
        bicubic_path = f'{os.path.splitext(out_path)[0]}_bicubic.png'
        save(upscale.enlarge(rgb, (h * scale, w * scale), tile=a.tile), bicubic_path, grey)
        print(bicubic_path)
    return 0


def main(argv=None, prog='upscale.py'):
    return guard(_run, parser(prog).parse_args(sys.argv[1:] if argv is None else argv))
