"""Coarse-to-fine stages and the learning-rate schedule.

The book decays the learning rate *after* step i when
`i % lr_decay_epoch == 0 and i != 0`, so step i runs at
lr * factor ** ((i - 1) // lr_decay_epoch) for i >= 1 and lr at step 0.
"""
from dataclasses import dataclass

from ..errors import UserError
from ..image_io import MIN_SIDE, postprocess, preprocess
from ..imaging import fit_size


@dataclass
class Stage:
    index: int            # 1-based, as written in losses.csv and file names
    width: int
    height: int
    steps: int            # optimisation steps (L-BFGS: rounds)
    lr: float
    lr_decay_epoch: int
    lr_decay_factor: float
    style_longest_side: int = None
    style_scale: float = None

    @property
    def shape(self):
        """The stage's size, (width, height)."""
        return self.width, self.height

    def style_shape(self, style_size):
        """(width, height) of a style image of size (width, height) at this stage: stretched
        to the stage's shape (the book), or at a longest side given in pixels or as a factor
        of the stage's."""
        if self.style_longest_side:
            return fit_size(style_size, self.style_longest_side, MIN_SIDE)
        if self.style_scale:
            return fit_size(style_size, round(self.style_scale * max(self.width, self.height)), MIN_SIDE)
        return self.shape

    def lr_at(self, step):
        """Learning rate used by optimisation step `step` (0-based)."""
        if not self.lr_decay_epoch or step == 0:
            return self.lr
        return self.lr * self.lr_decay_factor ** ((step - 1) // self.lr_decay_epoch)


def plan(stage_cfgs, content_size):
    """Stage objects from the config's stage list and the content image's (width, height):
    each stage at its image_shape, or at its longest_side with the content's aspect."""
    out = []
    for i, s in enumerate(stage_cfgs, start=1):
        w, h = tuple(s['image_shape']) if s['image_shape'] else \
            fit_size(content_size, s['longest_side'], MIN_SIDE)
        scale = s.get('style_scale')
        if scale and round(scale * max(w, h)) < MIN_SIDE:
            raise UserError(f"config key 'stages.{i - 1}.style_scale': {scale} x {max(w, h)} "
                            f'pixels is under {MIN_SIDE}; give a larger style_scale')
        out.append(Stage(i, int(w), int(h), s['steps'], s['lr'], s['lr_decay_epoch'],
                         s['lr_decay_factor'], s.get('style_longest_side'), scale))
    return out


def hand_over(x, stage, convention, ctx=None):
    """The book's coarse-to-fine hand-over: preprocess(postprocess(x) * 255, new shape).

    Bilinear resize of the clipped float image (no rounding to 8 bits).
    """
    return preprocess(postprocess(x, convention) * 255, stage.shape, convention, ctx)
