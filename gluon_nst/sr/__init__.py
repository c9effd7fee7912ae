"""SRCNN super-resolution (Dong et al.; the TF2 cookbook's last recipe).

The `srcnn` method: `engine.iterate` trains on sub-images of T91 and yields
an Iterate every few batches and one per epoch (PSNR on Set5); `SrJob` turns
them into run-folder steps (losses.csv holds loss and PSNR per epoch), keeps
best.params and a checkpoint in the run folder, and writes the Set5/Set14
table at the end.  `upscale.upscale` enlarges any image with a result (in tiles).
"""
import math
import os

from ..methods import Job, Method
from . import schema

COLUMNS = ['epoch', 'batch', 'lr', 'loss', 'psnr', 'bicubic_psnr', 'best_psnr', 'seconds',
           'patches_per_s']


def _fmt(v, spec):
    return '' if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


class SrJob(Job):
    def __init__(self, cfg):
        from .engine import Session
        self.cfg = cfg
        self.session = Session(cfg)
        self.device, self.threads = self.session.ctx, self.session.threads
        n, t = len(self.session.inputs), cfg['train']
        self.patches_per_epoch = n - n % t['batch_size'] if n >= t['batch_size'] else n
        done = self.session.resume['epoch'] if self.session.resume else 0
        self.total_work = self.patches_per_epoch * (t['epochs'] - done)
        self.sheet_images, self.table, self.best_epoch = None, None, None

    def steps(self):
        from ..run import Step
        from . import engine
        s, t, out = self.session, self.cfg['train'], self.cfg['output']
        epochs = t['epochs']
        bicubic = float('nan')
        for row in (s.resume or {}).get('rows', []):      # the history of a resumed run
            yield Step(dict(epoch=row['epoch'], batch='', lr='', loss=_fmt(row['loss'], '.6g'),
                            psnr=_fmt(row['psnr'], '.4f'), bicubic_psnr='', best_psnr='',
                            seconds=_fmt(row['seconds'], '.3f'), patches_per_s=''),
                       row['epoch'], 0, row['seconds'], work=0, desc=f'epoch {row["epoch"]} (resumed)')
        index, done = {}, {}
        for it in engine.iterate(s, self.run_dir):
            index[it.epoch] = index.get(it.epoch, -1) + 1      # 0: includes building the graph
            done[it.epoch] = done.get(it.epoch, 0) + it.patches  # it.seconds is since the epoch began
            if it.end:
                bicubic = it.bicubic
                self.best_epoch = it.epoch if it.psnr >= it.best else self.best_epoch
            rate = done[it.epoch] / max(it.seconds, 1e-9)
            row = dict(epoch=it.epoch, batch=it.batch, lr=f'{it.lr:.6g}', loss=f'{it.loss:.6g}',
                       psnr=_fmt(it.psnr, '.4f'), bicubic_psnr=_fmt(bicubic, '.4f') if it.end else '',
                       best_psnr=_fmt(it.best, '.4f'), seconds=f'{it.seconds:.3f}',
                       patches_per_s=f'{rate:.0f}')
            desc = f'epoch {it.epoch}/{epochs} batch {it.batch}/{it.batches}'
            text = f'loss {it.loss:.3g}'
            if it.end:
                text += f' {s.eval_set[0]} {it.psnr:.2f} dB (bicubic {bicubic:.2f}, best {it.best:.2f})'
            yield Step(row, it.epoch, index[it.epoch], it.seconds,
                       work=it.patches, desc=desc, label=desc, text=text,
                       log=it.end or index[it.epoch] % out['log_every'] == 0,
                       image=it.image, save_as=('epoch_result.png',) if it.end else (),
                       phase_end=it.end)
        self._finish_tables()

    def _finish_tables(self):
        from . import engine
        if not os.path.isfile(os.path.join(self.run_dir, 'best.params')):
            return
        evs = engine.final_evaluation(self.session, self.run_dir)
        engine.write_table(evs, self.session.scale, os.path.join(self.run_dir, 'psnr_table.md'),
                           os.path.join(self.run_dir, 'psnr_table.csv'), self.best_epoch)
        self.table = {ev.set_name: dict(bicubic=round(ev.mean_bicubic, 4),
                                        srcnn=round(ev.mean_srcnn, 4)) for ev in evs}
        self.sheet_images = [im for ev in evs for im in ev.images.items()]

    def record(self):
        s = self.session
        return dict(scale=s.scale, model=s.model_meta(), train_files=len(s.train_files),
                    patches=len(s.inputs), skipped_small_images=s.skipped,
                    patch_cache=s.cache_path, patch_cache_hit=s.cached,
                    resumed_from=s.resume['folder'] if s.resume else None,
                    best_epoch=self.best_epoch, psnr_table=self.table)

    def sheet(self, result, status):
        if not self.sheet_images:
            return [result], [f'{self.session.eval_set[0]} ({status})']
        from .plots import crop_centre
        images, titles = [], []
        for name, (bic, sr, truth) in self.sheet_images:
            for img, what in ((bic, 'bicubic'), (sr, 'SRCNN'), (truth, 'ground truth')):
                images.append(crop_centre(img, 160))
                titles.append(f'{name}: {what}')
        return images, titles

    def plot(self, rows, path, title):
        from .plots import training_curves
        training_curves(rows, path, title, self.session.scale, self.session.eval_set[0])


METHOD = Method(
    name='srcnn', schema=schema.SCHEMA, check=schema.check, job=SrJob, columns=COLUMNS,
    summary=['loss', 'psnr', 'best_psnr'], curve='psnr', phase_column='epoch',
    output_patterns=('epoch_result.png', 'psnr_table.md', 'psnr_table.csv', 'best.params',
                     'best.json'))
