"""A fifth method, for the tests only: the input image, unchanged, `steps` times.

It is the recipe of the development docs in the smallest form: a schema (the
one source of its keys and defaults), an Iterate record (numbers only), a
Session (what a run needs, checked before the run folder exists), a Job that
says how the run folder shows each iterate, and METHOD.  Nothing in gluon_nst
changes for it but one registry line (here `methods.register`, in the test).
"""
import time
from dataclasses import dataclass

import numpy as np

from gluon_nst import methods, runtime
from gluon_nst.config import Field, common_fields, output_fields
from gluon_nst.image_io import read_rgb

SCHEMA = {
    **common_fields(),
    'image': Field(None, 'path', 'input image file', required=True),
    'steps': Field(3, 'int', 'how many times the image is handed back', lo=1),
    'output': output_fields(),
}


@dataclass
class Iterate(methods.Iterate):
    step: int
    mean: float               # the image's mean value (0..255)
    seconds: float
    image: object = None
    end: bool = False
    phase = 1                 # one phase
    INDEX = 'step'


class Session:
    def __init__(self, cfg):
        self.ctx, self.threads = 'cpu', runtime.thread_count(cfg['threads'])
        self.image = read_rgb(cfg['image'], 'image')        # a bad file fails here


class IdentityJob(methods.Job):
    def open_session(self, cfg):
        return Session(cfg)

    def work(self):
        return self.cfg['steps']

    def iterates(self):
        start, img, n = time.perf_counter(), self.session.image, self.cfg['steps']
        for i in range(n):
            yield Iterate(i, float(np.mean(img)), time.perf_counter() - start, img.copy(),
                          end=i == n - 1)

    def present(self, it, count):
        return dict(desc=f'step {count}/{self.cfg["steps"]}', text=f'mean {it.mean:.1f}',
                    save_as=('identity.png',) if it.end else ())


METHOD = methods.Method(
    name='identity', schema=SCHEMA, job=IdentityJob,
    columns={'step': '', 'mean': '.2f', 'seconds': '.3f'}, summary=['mean'], curve='mean',
    phase_column='phase', output_patterns=('identity.png',))
