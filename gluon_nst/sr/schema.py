"""The srcnn method's config keys and defaults: the one source of both.

The defaults are the paper's protocol (Dong et al.): Y only, T91, 33x33 input
/ 21x21 label sub-images at stride 14, MATLAB bicubic degradation, the 9-1-5
network, PSNR on Y of Set5 with a border of `scale` pixels shaved.  The
optimiser is Adam (the paper's SGD needs ~10^8 back-propagations).
"""
import os

from ..config import Field, common_fields, name_list, output_fields
from ..errors import UserError


def _kernels(v):
    if (not isinstance(v, list) or len(v) != 3
            or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 for k in v)):
        raise ValueError('three odd kernel sizes, e.g. [9, 1, 5] or [9, 5, 5]')
    return v


SCHEMA = {
    **common_fields(),
    'scale': Field(3, 'choice', 'upscaling factor', choices=[2, 3, 4]),
    'data': {
        'root': Field(None, 'path', 'folder holding the train/eval/test sets (default: '
                      '$GLUON_NST_SR_DATA)', nullable=True),
        'train': Field('T91', 'str', 'training set: a folder under data.root (or a path)'),
        'train_limit': Field(0, 'int', 'use only the first N training images (0: all)', lo=0),
        'eval': Field('Set5', 'str', 'evaluated after every epoch (PSNR on Y)'),
        'test': Field(['Set5', 'Set14'], 'custom', 'sets of the final PSNR table',
                      convert=name_list('Set14')),
        'color': Field('y', 'choice', 'y: luminance only (the paper); rgb: three channels '
                       '(the cookbook)', choices=['y', 'rgb']),
        'degradation': Field('matlab', 'choice', "bicubic down and up: matlab (imresize with "
                             "antialiasing, the paper's) or pil (Pillow, 8-bit)",
                             choices=['matlab', 'pil']),
        'input_size': Field(33, 'int', 'training sub-image side (network input)', lo=8),
        'stride': Field(14, 'int', 'distance between training sub-images', lo=1),
    },
    'model': {
        'kernels': Field([9, 1, 5], 'custom', 'kernel sizes of the three layers (9-1-5: the '
                         "paper's T91 network; 9-5-5 its best)", convert=_kernels),
        'padding': Field('valid', 'choice', 'training convolutions: valid (33 in, 21 out, as '
                         'the paper) or same (output the input size)', choices=['valid', 'same']),
        'init': Field('he', 'choice', "he (Kaiming normal) or paper (Gaussian std 0.001)",
                      choices=['he', 'paper']),
    },
    'train': {
        'epochs': Field(45, 'int', 'passes over the training sub-images', lo=1),
        'batch_size': Field(64, 'int', 'sub-images per batch', lo=1),
        'optimizer': Field('adam', 'choice', 'adam or sgd (momentum 0.9)', choices=['adam', 'sgd']),
        'lr': Field(1e-3, 'float', 'learning rate', lo=0, lo_open=True),
        'last_layer_lr_mult': Field(1.0, 'float', "the reconstruction layer's lr multiplier "
                                    "(the paper: 0.1)", lo=0, lo_open=True),
        'lr_decay_epoch': Field(15, 'int', 'multiply lr by lr_decay_factor every N epochs '
                                '(0: never)', lo=0),
        'lr_decay_factor': Field(0.5, 'float', 'step decay factor', lo=0, hi=1, lo_open=True),
        'inverse_time_decay': Field(0.0, 'float', "Keras' legacy `decay`: lr / (1 + decay * "
                                    "batches) (the cookbook's)", lo=0),
        'log_every': Field(50, 'int', 'a losses.csv row every N batches (and one per epoch)',
                           lo=1),
        'resume': Field(None, 'path', 'a run folder of this config to go on from (its '
                        'checkpoint.*)', nullable=True),
    },
    'output': output_fields(
        sheet=Field(['butterfly_GT', 'zebra'], 'custom', 'test images (file stems) on the '
                    'sheet: bicubic | SRCNN | ground truth', convert=name_list('butterfly_GT'))),
}


def label_size(cfg):
    """The label side: the input side less what valid convolutions lose."""
    from ..models.srcnn import border
    d = cfg['data']
    if cfg['model']['padding'] == 'same':
        return d['input_size']
    return d['input_size'] - 2 * border(cfg['model']['kernels'])


def check(cfg):
    """Checks across keys, after each key passed its own."""
    if label_size(cfg) < 1:
        raise UserError(f"config key 'data.input_size': {cfg['data']['input_size']} is smaller than "
                        f"what valid {cfg['model']['kernels']} convolutions remove; use at least "
                        f"{cfg['data']['input_size'] - label_size(cfg) + 1}")
    resume = cfg['train']['resume']
    if resume is not None and not os.path.isfile(os.path.join(resume, 'checkpoint.json')):
        raise UserError(f"config key 'train.resume': {resume} holds no checkpoint.json: give the "
                        'folder of an earlier run of this config that finished an epoch')
