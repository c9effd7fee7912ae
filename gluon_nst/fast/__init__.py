"""Fast arbitrary style transfer: Magenta's feed-forward network (Ghiasi et al. 2017).

The `fast` method: one forward pass per content image through
`gluon_nst.models.magenta` (ONNX Runtime), for one image or a folder / glob of
them.  A style vector per style image (blended by weights), interpolated with
each content image's own vector for `strength` < 1 (`engine`; `strength: auto`
searches the strength per image).  `engine.iterate` yields an Iterate per
content image; `FastJob` (a methods.Job) says how the run folder shows them:
losses.csv has a row per image (strength, content measure, timing), in folder
mode each result is `<name>_styled.png` in the run folder, and an image that
cannot be read is reported and skipped.
"""

from ..methods import Job, Method
from . import engine, schema
from .engine import load_model, stylize  # noqa: F401  (the public array API)

# losses.csv: column -> format of its numbers (empty where a skipped image has none).
COLUMNS = {'batch': '', 'index': '', 'file': '', 'width': '', 'height': '', 'strength': '.4g',
           'content_measure': '.4f', 'read_s': '.4f', 'predict_s': '.4f', 'transform_s': '.4f',
           'seconds': '.3f', 'status': ''}
SHEET_RESULTS, THUMBNAIL_SIDE = 5, 384      # folder mode: the sheet shows the first results


class FastJob(Job):
    content = None

    def open_session(self, cfg):
        self.written, self.strengths, self.thumbnails, self.skipped = [], [], [], []
        return engine.Session(cfg)

    def work(self):
        return len(self.session.files)

    def iterates(self):
        for it in engine.iterate(self.cfg, self.session):
            self._note(it)
            yield it

    def _note(self, it):
        """What record.json and the sheet say of the run, kept as the images go by."""
        if it.status != 'ok':
            self.skipped.append(dict(file=self.session.files[it.index], error=it.status[len('skipped: '):]))
            return
        self.strengths.append(dict(file=it.file, strength=it.strength,
                                   content_measure=round(it.content_measure, 4), **it.auto))
        self.content = it.content
        self.written.append(it.save_as or 'result.png')
        if it.save_as and len(self.thumbnails) < SHEET_RESULTS:
            from ..imaging import fit_size, to_uint8
            from ..models import magenta
            tw, th = fit_size((it.width, it.height), THUMBNAIL_SIDE)
            self.thumbnails.append((it.save_as, to_uint8(magenta.resize(it.image, tw, th), 1.0)))

    def present(self, it, count):
        text = f'{it.width}x{it.height} {it.transform_s:.2f} s' if it.status == 'ok' else 'skipped'
        return dict(desc=f'image {count}/{len(self.session.files)} {it.file}', text=text, log=True,
                    save_as=(it.save_as,) if it.save_as else ())

    def record(self):
        c, s = self.cfg, self.session
        weights = c['style_blend_weights'] or [1.0] * len(s.style_paths)
        total = sum(weights)
        return dict(model=s.model.record,
                    content=dict(path=c['content_image'], mode=s.mode, images=len(s.files),
                                 written=len(self.written), skipped=self.skipped),
                    styles=[dict(path=p, weight=round(w / total, 6))
                            for p, w in zip(s.style_paths, weights)],
                    strength=c['strength'], auto_threshold=c['auto_threshold'],
                    strengths=self.strengths, precision=c['precision'],
                    longest_side=c['longest_side'], style_fit=c['style_fit'], timing=s.timing)

    def quality(self, result):
        """record.json's `quality` (gluon_nst/quality.py), as the style method's; one
        content image only (a folder has many results)."""
        if self.session.mode != 'file' or self.content is None:
            return None
        from ..quality import for_run
        return for_run(result, self.content, self.session.styles, self.cfg['style_blend_weights'],
                       self.cfg['weights']['path'])

    def sheet(self, result, status):
        weights, styles = self.cfg['style_blend_weights'], self.session.styles
        if self.thumbnails:             # folder mode: style(s) | the first results
            images = list(styles) + [t for _, t in self.thumbnails]
            titles = [f'style {k + 1}' if len(styles) > 1 else 'style'
                      for k in range(len(styles))] + [n for n, _ in self.thumbnails]
            return images, titles
        images = [self.content] if self.content is not None else []
        titles = ['content'] if images else []
        for k, s in enumerate(styles):
            images.append(s)
            titles.append('style' if len(styles) == 1 else
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


METHOD = Method(
    name='fast', schema=schema.SCHEMA, check=schema.check, job=FastJob, columns=COLUMNS,
    summary=['transform_s', 'seconds'], curve='transform_s', phase_column='batch',
    output_patterns=('*' + engine.RESULT_SUFFIX,))
