"""DeepDream (Mordvintsev et al. 2015; google/deepdream, the TF2 cookbook's chapter 4).

The `dream` method: gradient ascent on an image to amplify what chosen layers
of a pretrained network (BVLC GoogLeNet, or VGG-19) respond to, over octaves,
with jitter, optional tiles and guided objectives.  `engine.iterate(cfg)`
yields an Iterate per step; `DreamJob` (a methods.Job) says how the run folder
shows them.
"""
from ..methods import Job, Method
from . import schema

# losses.csv: column -> format of its numbers.
COLUMNS = {'octave': '', 'step': '', 'width': '', 'height': '', 'objective': '.6g',
           'grad_scale': '.6g', 'seconds': '.3f'}


class DreamJob(Job):
    def open_session(self, cfg):
        from .engine import Session
        return Session(cfg)

    def work(self):
        return self.cfg['steps'] * sum(h * w for h, w in self.session.sizes)

    def iterates(self):
        from .engine import iterate
        return iterate(self.cfg, self.session)

    def picture(self, image):
        from ..imaging import to_uint8
        return to_uint8(image, 255)

    def present(self, it, count):
        n, steps = len(self.session.sizes), self.cfg['steps']
        save_as = ()
        if it.image is not None:
            save_as = (f'octave{it.octave}.png',) if it.end else \
                (f'octave{it.octave}_step{it.step + 1:04d}.png',)
        return dict(work=it.width * it.height, save_as=save_as,
                    desc=f'octave {it.octave}/{n} {it.width}x{it.height} step {count}/{steps * n}',
                    label=f'octave {it.octave} step {it.step:4d}',
                    text=f'objective {it.objective:.4g}',
                    log=it.step % self.cfg['output']['log_every'] == 0 or it.end)

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
