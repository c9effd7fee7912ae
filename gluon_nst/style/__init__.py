"""Optimisation-based style transfer (Gatys et al.; the D2L chapter).

The `style` method: `engine.iterate(cfg)` yields an `optimize.Iterate` per
optimisation step over the coarse-to-fine stages; `StyleJob` (a methods.Job)
says how the run folder shows them; `engine.stylize()` is the keyword API.
"""
import math

from ..methods import Job, Method
from . import schema

# losses.csv: column -> format of its numbers (lr: none with L-BFGS-B).
COLUMNS = {'stage': '', 'step': '', 'lr': '.6g', 'content': '.6g', 'style': '.6g', 'tv': '.6g',
           'total': '.6g', 'seconds': '.3f'}


class StyleJob(Job):
    def open_session(self, cfg):
        from .engine import Session
        return Session(cfg)

    def work(self):
        return sum(st.steps * st.width * st.height for st in self.session.stages)

    def iterates(self):
        from .engine import iterate
        return iterate(self.cfg, self.session)

    def picture(self, image):
        from ..image_io import postprocess
        from ..imaging import to_uint8
        return to_uint8(postprocess(image, self.session.convention), 1.0)

    def present(self, it, count):
        stages, out = self.session.stages, self.cfg['output']
        stage, every = stages[it.stage - 1], out['save_every']
        save_as = ()
        if it.image is not None:
            if it.end:
                save_as = (f'stage{it.stage}.png',)
            elif every and (it.step + 1) % every == 0:
                save_as = (f'stage{it.stage}_step{it.step + 1:05d}.png',)
        lr = '-' if math.isnan(it.lr) else f'{it.lr:.6g}'
        return dict(work=stage.width * stage.height, save_as=save_as,
                    desc=(f'stage {it.stage}/{len(stages)} {stage.width}x{stage.height} '
                          f'step {count}/{sum(st.steps for st in stages)}'),
                    label=f'stage {it.stage} step {it.step:5d} lr {lr}',
                    text=f'c {it.content:.3g} s {it.style:.3g} tv {it.tv:.3g}',
                    log=it.step % out['log_every'] == 0 or it.end)

    def record(self):
        s = self.session
        return dict(stages=[dict(index=st.index, width=st.width, height=st.height,
                                 steps=st.steps, lr=st.lr) for st in s.stages],
                    weights=s.weights_record,
                    feature_scales=[s.spec_for(st)['feature_scales'] for st in s.stages])

    def quality(self, result):
        """record.json's `quality`: the result against the content and the style(s),
        measured the same way whatever the settings (gluon_nst/quality.py)."""
        if not self.cfg['output']['quality']:
            return None
        from ..quality import for_run
        s = self.session
        return for_run(result, s.content, s.styles, s.blend_weights, self.cfg['weights']['path'])

    def sheet(self, result, status):
        styles = self.session.styles
        names = ['style'] if len(styles) == 1 else [f'style {i}' for i in range(1, len(styles) + 1)]
        return [self.session.content, *styles, result], ['content', *names, status]

    def plot(self, rows, path, title):
        from ..plots import loss_curves
        loss_curves(rows, path, title)


METHOD = Method(
    name='style', schema=schema.SCHEMA, check=schema.check, job=StyleJob, columns=COLUMNS,
    summary=['content', 'style', 'tv', 'total'], curve='total', phase_column='stage',
    output_patterns=('stage[0-9].png', 'stage[0-9][0-9].png', 'stage[0-9]*_step[0-9]*.png',
                     'report.md', 'report.png'))
