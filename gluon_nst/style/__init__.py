"""Optimisation-based style transfer (Gatys et al.; the D2L chapter).

The `style` method: `engine.iterate(cfg)` yields an Iterate per optimisation
step over the coarse-to-fine stages; `StyleJob` turns them into run-folder
steps; `engine.stylize()` is the keyword API.
"""
import math

from ..methods import Job, Method
from . import schema

COLUMNS = ['stage', 'step', 'lr', 'content', 'style', 'tv', 'total', 'seconds']


class StyleJob(Job):
    def __init__(self, cfg):
        from .engine import Session
        self.cfg = cfg
        self.session = Session(cfg)
        self.device, self.threads = self.session.ctx, self.session.threads
        self.total_work = sum(st.epochs * st.width * st.height for st in self.session.stages)

    def steps(self):
        from ..errors import RunFailed
        from ..image_io import postprocess
        from ..imaging import to_uint8
        from ..run import Step
        from .engine import iterate
        from .optimize import NonFiniteLoss
        s, out = self.session, self.cfg['output']
        n_stages, total_steps, done = len(s.stages), sum(st.epochs for st in s.stages), 0
        try:
            for it in iterate(self.cfg, s):
                stage = s.stages[it.stage - 1]
                done += 1
                lr = '' if math.isnan(it.lr) else f'{it.lr:.6g}'          # L-BFGS has no lr
                row = dict(stage=it.stage, step=it.step, lr=lr, content=f'{it.content:.6g}',
                           style=f'{it.style:.6g}', tv=f'{it.tv:.6g}', total=f'{it.total:.6g}',
                           seconds=f'{it.seconds:.3f}')
                last = it.step == stage.epochs - 1 or 'stopped' in it.extra   # lbfgs_torch
                image, save_as = None, ()
                if it.image is not None:
                    image = to_uint8(postprocess(it.image, s.convention), 1.0)
                    every = out['save_every']
                    if last:
                        save_as = (f'stage{it.stage}.png',)
                    elif every and (it.step + 1) % every == 0:
                        save_as = (f'stage{it.stage}_step{it.step + 1:05d}.png',)
                yield Step(row, it.stage, it.step, it.seconds, work=stage.width * stage.height,
                           desc=(f'stage {it.stage}/{n_stages} {stage.width}x{stage.height} '
                                 f'step {done}/{total_steps}'),
                           label=f'stage {it.stage} step {it.step:5d} lr {lr or "-"}',
                           text=f'c {it.content:.3g} s {it.style:.3g} tv {it.tv:.3g}',
                           log=it.step % out['log_every'] == 0 or last, image=image,
                           save_as=save_as, phase_end=last)
        except NonFiniteLoss as e:
            err = RunFailed(str(e))
            if getattr(e, 'image', None) is not None:
                err.image = to_uint8(postprocess(e.image, s.convention), 1.0)
            raise err from None

    def record(self):
        s = self.session
        return dict(stages=[dict(index=st.index, width=st.width, height=st.height,
                                 epochs=st.epochs, lr=st.lr) for st in s.stages],
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
