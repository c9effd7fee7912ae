"""The fast method's engine: stylisation on arrays (blends, strength, automatic
strength, sizes; `stylize` is the public array API) and a run over one or many
content images (`Session` loads and checks, `iterate` yields an `Iterate` per image).

Style strength and blends work on style vectors (Magenta's own way): a blend is
the weighted mean of the styles' vectors, and strength s gives
s * style + (1 - s) * (the content image's own vector).

Automatic strength: the content measure is the correlation of the result's
luminance with the content's, both at CONTENT_MEASURE_SIDE on their longest side.
Luminance carries the shapes (ridges, tree line, a house); the style may change
the colours freely, and its brush texture is finer than that scale, so the measure
asks "are the content's shapes still where they were", not "is it still a photo".
`auto_strength` finds the largest strength that keeps it at or above a threshold by
bisection on a small copy of the content (one pass at strength 1, then
AUTO_PASSES halvings), before the full-size pass.
"""
import glob
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .. import methods
from ..errors import RunFailed, UserError
from ..imaging import fit_size, to_uint8
from ..models import magenta
from .schema import SCHEMA, style_paths

CONTENT_MEASURE_SIDE = 256     # pixels: the scale of the shapes the measure compares
AUTO_SIDE = 320                # the small copy the automatic strength is searched on
AUTO_PASSES = 5                # bisection halvings after strength 1: a step of 1/32


def blend(vectors, weights=None):
    """Weighted mean of style vectors (weights >= 0, normalised to sum 1)."""
    vectors = [np.asarray(v, np.float32).reshape(magenta.VECTOR_SIZE) for v in vectors]
    if not vectors:
        raise UserError('blend: give at least one style')
    if weights is None:
        weights = [1.0] * len(vectors)
    weights = np.asarray(weights, np.float64)
    if len(weights) != len(vectors):
        raise UserError(f'blend: {len(weights)} weights for {len(vectors)} styles; give one '
                        'weight per style')
    if (weights < 0).any() or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise UserError(f'blend: weights {weights.tolist()} must be >= 0 with a positive sum')
    weights = weights / weights.sum()
    return np.tensordot(weights, np.stack(vectors), axes=1).astype(np.float32)


def check_strength(strength):
    if not (strength == 'auto' or (isinstance(strength, (int, float)) and 0.0 <= strength <= 1.0)):
        raise UserError(f"strength {strength}: give a value in [0, 1] or 'auto'")


def interpolate(style_vector, content_vector, strength):
    """strength 1: the style; 0: the content image's own style vector."""
    check_strength(strength)
    return (strength * np.asarray(style_vector, np.float32)
            + (1.0 - strength) * np.asarray(content_vector, np.float32)).astype(np.float32)


def luminance(rgb):
    """ITU-R BT.601 luma of an RGB image (uint8 or float 0..1), float64 0..1."""
    a = magenta.to_float01(rgb).astype(np.float64)
    return a @ np.array([0.299, 0.587, 0.114])


def content_correlation(result, content, side=CONTENT_MEASURE_SIDE):
    """Pearson correlation of the result's luminance with the content's, both resized to
    `side` on their longest side: 1 the same shapes, 0 none of them."""
    h, w = np.asarray(content).shape[:2]
    width, height = fit_size((w, h), min(side, max(h, w)))
    a, b = (luminance(magenta.resize(x, width, height)).ravel() for x in (result, content))
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else 0.0


def auto_strength(model, content, style_vector, content_vector, threshold,
                  side=AUTO_SIDE, passes=AUTO_PASSES):
    """(strength, its content measure, [(strength, measure) tried]): the largest strength
    whose result on a copy of `content` at `side` keeps `content_correlation` >= threshold.

    Strength 1 first (a gentle style keeps it); else bisection between 0 and 1.  If even
    strength 0 stays below the threshold (the network's own softness), 0 is returned."""
    h, w = np.asarray(content).shape[:2]
    small = magenta.resize(content, *fit_size((w, h), min(side, max(h, w))))
    tried = []

    def measure(s):
        out = model.transform(small, interpolate(style_vector, content_vector, s))
        tried.append((round(s, 4), round(content_correlation(out, small), 4)))
        return tried[-1][1]

    if measure(1.0) >= threshold:
        return 1.0, tried[0][1], tried
    lo, hi, lo_measure = 0.0, 1.0, None
    for _ in range(passes):
        mid = (lo + hi) / 2
        m = measure(mid)
        if m >= threshold:
            lo, lo_measure = mid, m
        else:
            hi = mid
    if lo_measure is None:
        lo_measure = measure(0.0)
    return lo, lo_measure, tried


def stylize_vector(model, content, vector, strength=1.0, size=None, style_fit='crop',
                   threshold=None):
    """Stylise one content image with a (blended) style vector: (uint8 result, info).

    content: (H, W, 3) uint8 or float 0..1; size: (width, height) of the result (None:
    the content's); strength: 0..1 or 'auto' (then `threshold` is the content measure
    to keep).  info: strength (the one used), for 'auto' the measure and the tries, and
    the seconds before the transformer (predict_s: style vector, search) and in it."""
    check_strength(strength)
    info, start = dict(strength=strength), time.perf_counter()
    if strength != 1.0:
        own = model.style_vector(content, style_fit)
        if strength == 'auto':
            if threshold is None:
                raise UserError("strength 'auto' needs a threshold (the content measure to keep)")
            strength, measure, tried = auto_strength(model, content, vector, own, threshold)
            info.update(strength=strength, auto_measure=measure, auto_tried=tried)
        vector = interpolate(vector, own, strength)
    h, w = np.asarray(content).shape[:2]
    width, height = size or (w, h)
    x = magenta.resize(content, width, height)
    info['predict_s'], start = time.perf_counter() - start, time.perf_counter()
    result = to_uint8(model.transform(x, vector), 1.0)
    info['transform_s'] = time.perf_counter() - start
    return result, info


def load_model(path=None, threads=0, device='cpu', precision=SCHEMA['precision'].default):
    """Magenta's networks as the fast method runs them (its default precision); cached."""
    return magenta.load(path, threads, device, precision)


def stylize(content_rgb, style_rgbs, weights=None, strength=1.0, longest_side=None,
            style_fit='crop', path=None, threads=0, model=None, size=None,
            precision=SCHEMA['precision'].default, threshold=SCHEMA['auto_threshold'].default):
    """Stylise one image in one forward pass: (H', W', 3) uint8.

    content_rgb: (H, W, 3) uint8 (or float 0..1); style_rgbs: one such image or a
    list (blended with `weights`, default equal); strength in [0, 1] or 'auto' (the
    content measure `threshold` kept); longest_side: resize the content first (None: its own size); size:
    (width, height) exactly instead (e.g. a style stage's shape).  `path`: the weights
    (a folder holding magenta/ or the files); `model`: a loaded Magenta (else loaded
    with `threads` and `precision`)."""
    check_strength(strength)                # before any work
    m = model or load_model(path, threads, precision=precision)
    if isinstance(style_rgbs, np.ndarray) and style_rgbs.ndim == 3:
        style_rgbs = [style_rgbs]
    vector = blend([m.style_vector(s, style_fit) for s in style_rgbs], weights)
    h, w = np.asarray(content_rgb).shape[:2]
    return stylize_vector(m, content_rgb, vector, strength, size or fit_size((w, h), longest_side),
                          style_fit, threshold)[0]


IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.ppm',
                    '.pgm')
RESULT_SUFFIX = '_styled.png'


def content_files(path):
    """(files, mode): a file ('file'), a folder's images ('folder') or a glob's files ('glob')."""
    if os.path.isfile(path):
        return [path], 'file'
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if not f.startswith('.') and f.lower().endswith(IMAGE_EXTENSIONS)
                       and os.path.isfile(os.path.join(path, f)))
        if not files:
            raise UserError(f"config key 'content_image': folder {path} has no images "
                            f"({', '.join(IMAGE_EXTENSIONS)}): point it at a folder of images")
        return files, 'folder'
    if glob.has_magic(path):
        files = sorted(f for f in glob.glob(path) if os.path.isfile(f))
        if not files:
            raise UserError(f"config key 'content_image': the pattern {path} matches no file: "
                            'check the folder and the pattern')
        return files, 'glob'
    raise UserError(f"config key 'content_image': {path} does not exist: give an image file, "
                    'a folder of images or a glob (relative paths in a config file are read '
                    'from its folder)')


def result_names(files):
    """`<stem>_styled.png` per content file; the extension is kept where stems collide."""
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    names = []
    for f, stem in zip(files, stems):
        if stems.count(stem) > 1:
            stem = os.path.basename(f).replace('.', '_')
        names.append(stem + RESULT_SUFFIX)
    return names


@dataclass
class Iterate(methods.Iterate):
    """One content image: stylised (status 'ok') or skipped (status says why)."""
    file: str                          # the content file's name
    seconds: float                     # since the run started
    index: int = 0                     # the content image's position (0-based)
    batch: int = 1
    width: int = None                  # the result's size
    height: int = None
    strength: float = None             # the strength used (auto: the one found)
    content_measure: float = None      # of the result (content_correlation)
    read_s: float = None
    predict_s: float = None            # style vector and automatic strength search
    transform_s: float = None          # the transformer pass
    status: str = 'ok'
    image: object = None               # uint8 RGB result
    end: bool = False                  # the last content image
    save_as: str = None                # folder mode: the result's file name
    auto: dict = field(default_factory=dict)   # strength auto: auto_measure, auto_tried
    content: object = None             # the content image (the sheet, record.json's quality)
    PHASE = 'batch'


class Session:
    """The content files, style images and loaded network of a run, checked before any work."""

    def __init__(self, cfg):
        from .. import runtime
        from ..image_io import read_rgb
        self.cfg = cfg
        self.files, self.mode = content_files(cfg['content_image'])
        self.names = result_names(self.files)
        self.style_paths = style_paths(cfg)
        self.styles = [read_rgb(p, 'style image') for p in self.style_paths]
        # One image: read now, so a bad file stops the run before any work.
        self.first = self.read(self.files[0]) if self.mode == 'file' else None
        # ONNX Runtime takes the config's count even where MXNet was imported first
        # (configure_threads then reports MXNet's, which does not run here).
        self.threads = cfg['threads'] or runtime.configure_threads(cfg['threads'])
        device = 'cpu' if cfg['device'] == 'auto' else cfg['device']
        self.model = load_model(cfg['weights']['path'], self.threads, device, cfg['precision'])
        self.ctx = 'gpu' if 'CUDAExecutionProvider' in self.model.providers else 'cpu'
        self.timing = {}

    def read(self, path):
        from ..image_io import read_rgb
        content = read_rgb(path, 'content image')
        magenta.check_memory(*fit_size(content.shape[1::-1], self.cfg['longest_side']),
                             f'content image {path}')
        return content

    def style_vector(self):
        t = time.perf_counter()
        vectors = [self.model.style_vector(s, self.cfg['style_fit']) for s in self.styles]
        vector = blend(vectors, self.cfg['style_blend_weights'])
        self.timing['style_vectors_s'] = round(time.perf_counter() - t, 4)
        return vector


def iterate(cfg, session=None):
    """Yield an Iterate per content image; in folder mode an image that cannot be read or
    stylised is reported and skipped (a RunFailed only when none could be)."""
    s = session or Session(cfg)
    n, start, written = len(s.files), time.perf_counter(), 0
    vector = s.style_vector()
    folder = s.mode != 'file'
    for i, (path, name) in enumerate(zip(s.files, s.names)):
        it = Iterate(os.path.basename(path), 0.0, index=i, end=i == n - 1)
        t = time.perf_counter()
        try:
            content = s.first if s.first is not None else s.read(path)
            read_s = time.perf_counter() - t
            w, h = fit_size(content.shape[1::-1], cfg['longest_side'])
            result, info = stylize_vector(s.model, content, vector, cfg['strength'], (w, h),
                                          cfg['style_fit'], cfg['auto_threshold'])
        except (UserError, RunFailed) as e:
            if not folder:
                raise
            it.status, it.seconds = f'skipped: {e}', time.perf_counter() - start
            report(f'skipped: {e}')
            yield it
            continue
        it.width, it.height, it.read_s = w, h, read_s
        it.strength, it.predict_s, it.transform_s = info['strength'], info['predict_s'], info['transform_s']
        it.seconds = time.perf_counter() - start
        it.content_measure = content_correlation(result, content)
        it.image, it.save_as = result, name if folder else None
        if 'auto_measure' in info:
            report(auto_line(it.file, info, it.content_measure, cfg['auto_threshold']))
        it.auto = {k: info[k] for k in ('auto_measure', 'auto_tried') if k in info}
        it.content = content
        written += 1
        yield it
    if not written:
        raise RunFailed(f'no content image could be read ({n} skipped: see record.json)')


def auto_line(name, info, kept, threshold):
    """What `strength: auto` chose for one image, in a line."""
    if info['auto_measure'] < threshold:
        return (f"{name}: strength auto -> 0: the content measure stays below {threshold:g} "
                f"even at 0 ({info['auto_measure']:.2f}); lower auto_threshold")
    return (f"{name}: strength auto -> {info['strength']:.3g} (content measure "
            f"{info['auto_measure']:.2f} >= {threshold:g} on the small copy, {kept:.2f} on "
            'the result)')


def report(message):
    """A line above the progress bar (or on its own with --quiet)."""
    from tqdm import tqdm
    tqdm.write(message, file=sys.stderr)
