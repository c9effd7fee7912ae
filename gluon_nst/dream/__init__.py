"""DeepDream (Mordvintsev et al. 2015; google/deepdream, the TF2 cookbook's chapter 4).

The `dream` method: gradient ascent on an image to amplify what chosen layers
of a pretrained network (BVLC GoogLeNet, or VGG-19) respond to, over octaves,
with jitter, optional tiles and guided objectives.  `engine.iterate(cfg)`
yields an Iterate per step; `DreamJob` turns them into run-folder steps.
"""
from ..methods import Job, Method
from . import schema

COLUMNS = ['octave', 'step', 'width', 'height', 'objective', 'grad_scale', 'seconds']


class DreamJob(Job):
    def __init__(self, cfg):
        from .engine import Session
        self.cfg = cfg
        self.session = Session(cfg)
        self.device, self.threads = self.session.ctx, self.session.threads
        self.total_work = cfg['steps'] * sum(h * w for h, w in self.session.sizes)

    def steps(self):
        from ..imaging import to_uint8
        from ..run import Step
        from .engine import iterate
        s, cfg = self.session, self.cfg
        n, total, done = len(s.sizes), cfg['steps'] * len(s.sizes), 0
        every = cfg['output']['log_every']
        for it in iterate(cfg, s):
            done += 1
            row = dict(octave=it.octave, step=it.step, width=it.width, height=it.height,
                       objective=f'{it.objective:.6g}', grad_scale=f'{it.grad_scale:.6g}',
                       seconds=f'{it.seconds:.3f}')
            image, save_as = None, ()
            if it.image is not None:
                image = to_uint8(it.image, 255)
                save_as = (f'octave{it.octave}.png',) if it.octave_end else \
                    (f'octave{it.octave}_step{it.step + 1:04d}.png',)
            yield Step(row, it.octave, it.step, it.seconds, work=it.width * it.height,
                       desc=f'octave {it.octave}/{n} {it.width}x{it.height} step {done}/{total}',
                       label=f'octave {it.octave} step {it.step:4d}',
                       text=f'objective {it.objective:.4g}',
                       log=it.step % every == 0 or it.octave_end, image=image, save_as=save_as,
                       phase_end=it.octave_end)

    def record(self):
        s, cfg = self.session, self.cfg
        return dict(network=cfg['network'], layers=s.layers, objective=cfg['objective'],
                    input_size=[int(s.input.shape[1]), int(s.input.shape[0])],
                    octaves=[dict(octave=k + 1, width=w, height=h) for k, (w, h) in enumerate(s.sizes)],
                    tiles=dict(tile_size=s.tile, margin=s.margin) if s.tile else None,
                    onednn=s.onednn,
                    weights=s.net.record)

    def sheet(self, result, status):
        return [s for s in (self.session.input, self.session.guide) if s is not None] + [result], \
            ['input'] + (['guide'] if self.session.guide is not None else []) + [status]

    def plot(self, rows, path, title):
        from ..plots import loss_curves
        loss_curves(rows, path, title, columns=('objective',), phase='octave',
                    ylabel='objective (per octave size)', log=False)


METHOD = Method(
    name='dream', schema=schema.SCHEMA, check=schema.check, job=DreamJob, columns=COLUMNS,
    summary=['objective'], curve='objective', phase_column='octave',
    output_patterns=('octave[0-9]*.png',))
