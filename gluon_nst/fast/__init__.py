"""Fast arbitrary style transfer: Magenta's feed-forward network (Ghiasi et al. 2017).

The `fast` method: one forward pass per content image through
`gluon_nst.models.magenta` (ONNX Runtime), for one image or a folder / glob of
them.  A style vector per style image (blended by weights), interpolated with
each content image's own vector for `strength` < 1 (`engine`; `strength: auto`
searches the strength per image).  losses.csv has a row per image (strength,
content measure, timing); in folder mode each result is `<name>_styled.png` in
the run folder, and an image that cannot be read is reported and skipped.
"""
import glob
import os
import sys
import time

from ..errors import RunFailed, UserError
from ..imaging import fit_size
from ..methods import Job, Method
from . import engine, schema
from .engine import stylize  # noqa: F401  (the public array API: gluon_nst.fast.stylize)

COLUMNS = ['batch', 'index', 'file', 'width', 'height', 'strength', 'content_measure', 'read_s',
           'predict_s', 'transform_s', 'seconds', 'status']
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.ppm',
                    '.pgm')
RESULT_SUFFIX = '_styled.png'
SHEET_RESULTS, THUMBNAIL_SIDE = 5, 384      # folder mode: the sheet shows the first results


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


class FastJob(Job):
    def __init__(self, cfg):
        from .. import runtime
        from ..image_io import read_rgb
        from ..models import magenta
        self.cfg = cfg
        self.files, self.mode = content_files(cfg['content_image'])
        self.names = result_names(self.files)
        self.style_paths = schema.style_paths(cfg)
        self.styles = [read_rgb(p, 'style image') for p in self.style_paths]
        # One image: read now, so a bad file stops the run before any work.
        self.first = None
        if self.mode == 'file':
            self.first = read_rgb(self.files[0], 'content image')
            magenta.check_memory(*fit_size(self.first.shape[1::-1], cfg['longest_side']),
                                 f'content image {self.files[0]}')
        # ONNX Runtime takes the config's count even where MXNet was imported first
        # (configure_threads then reports MXNet's, which does not run here).
        self.threads = cfg['threads'] or runtime.configure_threads(cfg['threads'])
        device = 'cpu' if cfg['device'] == 'auto' else cfg['device']
        self.model = magenta.load(cfg['weights']['path'], self.threads, device, cfg['precision'])
        self.device = 'gpu' if 'CUDAExecutionProvider' in self.model.providers else 'cpu'
        self.total_work = len(self.files)
        self.content, self.skipped, self.written, self.timing = None, [], [], {}
        self.strengths = []            # (file, strength used, auto search info) per image
        self.thumbnails = []           # folder mode: the first results, for the sheet

    def _style_vector(self):
        t = time.perf_counter()
        vectors = [self.model.style_vector(s, self.cfg['style_fit']) for s in self.styles]
        vector = engine.blend(vectors, self.cfg['style_blend_weights'])
        self.timing['style_vectors_s'] = round(time.perf_counter() - t, 4)
        return vector

    def steps(self):
        from ..image_io import read_rgb
        from ..imaging import to_uint8
        from ..models import magenta
        from ..methods import Step
        cfg, n, start = self.cfg, len(self.files), time.perf_counter()
        vector = self._style_vector()
        folder = self.mode != 'file'
        for i, (path, name) in enumerate(zip(self.files, self.names)):
            row = dict(batch=1, index=i, file=os.path.basename(path), width='', height='',
                       strength='', content_measure='', read_s='', predict_s='', transform_s='',
                       seconds='', status='ok')
            desc = f'image {i + 1}/{n} {os.path.basename(path)}'
            t = time.perf_counter()
            try:
                content = self.first
                if content is None:
                    content = read_rgb(path, 'content image')
                    magenta.check_memory(*fit_size(content.shape[1::-1], cfg['longest_side']),
                                         f'content image {path}')
            except UserError as e:
                yield self._skip(row, i, n, path, desc, e, start)
                continue
            read_s = time.perf_counter() - t
            w, h = fit_size(content.shape[1::-1], cfg['longest_side'])
            try:
                result, info = engine.stylize_vector(self.model, content, vector, cfg['strength'],
                                                     (w, h), cfg['style_fit'], cfg['auto_threshold'])
            except RunFailed as e:
                if not folder:
                    raise
                yield self._skip(row, i, n, path, desc, e, start)      # the others still run
                continue
            transform_s = info['transform_s']
            seconds = time.perf_counter() - start
            kept = engine.content_correlation(result, content)
            row.update(width=w, height=h, strength=f"{info['strength']:.4g}",
                       content_measure=f'{kept:.4f}', read_s=f'{read_s:.4f}',
                       predict_s=f"{info['predict_s']:.4f}", transform_s=f'{transform_s:.4f}',
                       seconds=f'{seconds:.3f}')
            self.strengths.append(dict(file=os.path.basename(path), strength=info['strength'],
                                       content_measure=round(kept, 4)))
            if 'auto_measure' in info:
                self.strengths[-1].update(auto_measure=info['auto_measure'],
                                          auto_tried=info['auto_tried'])
                _report(self._auto_line(path, info, kept))
            self.content = content
            self.written.append(name if folder else 'result.png')
            if folder and len(self.thumbnails) < SHEET_RESULTS:
                tw, th = fit_size((w, h), THUMBNAIL_SIDE)
                self.thumbnails.append((name, to_uint8(magenta.resize(result, tw, th), 1.0)))
            yield Step(row, 1, i, seconds, desc=desc, text=f'{w}x{h} {transform_s:.2f} s',
                       log=True, image=result, save_as=(name,) if folder else (),
                       phase_end=i == n - 1)
        if not self.written:
            raise RunFailed(f'no content image could be read ({len(self.skipped)} skipped: '
                            'see record.json)')

    def _auto_line(self, path, info, kept):
        threshold, name = self.cfg['auto_threshold'], os.path.basename(path)
        if info['auto_measure'] < threshold:
            return (f"{name}: strength auto -> 0: the content measure stays below {threshold:g} "
                    f"even at 0 ({info['auto_measure']:.2f}); lower auto_threshold")
        return (f"{name}: strength auto -> {info['strength']:.3g} (content measure "
                f"{info['auto_measure']:.2f} >= {threshold:g} on the small copy, {kept:.2f} on "
                'the result)')

    def _skip(self, row, i, n, path, desc, error, start):
        from ..methods import Step
        seconds = time.perf_counter() - start
        row.update(status=f'skipped: {error}', seconds=f'{seconds:.3f}')
        self.skipped.append(dict(file=path, error=str(error)))
        _report(f'skipped: {error}')
        return Step(row, 1, i, seconds, desc=desc, text='skipped', log=True, phase_end=i == n - 1)

    def record(self):
        c = self.cfg
        weights = c['style_blend_weights'] or [1.0] * len(self.style_paths)
        total = sum(weights)
        return dict(model=self.model.record,
                    content=dict(path=c['content_image'], mode=self.mode, images=len(self.files),
                                 written=len(self.written), skipped=self.skipped),
                    styles=[dict(path=p, weight=round(w / total, 6))
                            for p, w in zip(self.style_paths, weights)],
                    strength=c['strength'], auto_threshold=c['auto_threshold'],
                    strengths=self.strengths, precision=c['precision'],
                    longest_side=c['longest_side'], style_fit=c['style_fit'], timing=self.timing)

    def quality(self, result):
        """record.json's `quality` (gluon_nst/quality.py), as the style method's; one
        content image only (a folder has many results)."""
        if self.mode != 'file' or self.content is None:
            return None
        from ..quality import for_run
        return for_run(result, self.content, self.styles, self.cfg['style_blend_weights'],
                       self.cfg['weights']['path'])

    def sheet(self, result, status):
        weights = self.cfg['style_blend_weights']
        if self.thumbnails:             # folder mode: style(s) | the first results
            images = list(self.styles) + [t for _, t in self.thumbnails]
            titles = [f'style {k + 1}' if len(self.styles) > 1 else 'style'
                      for k in range(len(self.styles))] + [n for n, _ in self.thumbnails]
            return images, titles
        images = [self.content] if self.content is not None else []
        titles = ['content'] if images else []
        for k, s in enumerate(self.styles):
            images.append(s)
            titles.append('style' if len(self.styles) == 1 else
                          f'style {k + 1}' + (f' ({weights[k]:g})' if weights else ''))
        strength = self.strengths[-1]['strength'] if self.strengths else self.cfg['strength']
        auto = ' auto' if self.cfg['strength'] == schema.AUTO else ''
        return images + [result], titles + [status + (f' (strength{auto} {strength:.2g})'
                                                      if strength != 1 or auto else '')]

    def plot(self, rows, path, title):
        from ..plots import loss_curves
        done = [r for r in rows if r['status'] == 'ok']
        if done:
            loss_curves(done, path, title or 'seconds per image', columns=('transform_s',),
                        phase='batch', ylabel='transform seconds per image', log=False)


def _report(message):
    """A line above the progress bar (or on its own with --quiet)."""
    from tqdm import tqdm
    tqdm.write(message, file=sys.stderr)


METHOD = Method(
    name='fast', schema=schema.SCHEMA, check=schema.check, job=FastJob, columns=COLUMNS,
    summary=['transform_s', 'seconds'], curve='transform_s', phase_column='batch',
    output_patterns=('*' + RESULT_SUFFIX,))
