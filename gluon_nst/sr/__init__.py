"""SRCNN super-resolution (Dong et al.; the TF2 cookbook's last recipe).

The `srcnn` method: `engine.iterate` trains on sub-images of T91 and yields
an Iterate every few batches and one per epoch (PSNR on Set5); `SrJob` (a
methods.Job) says how the run folder shows them (losses.csv holds loss and
PSNR per epoch), keeps best.params and a checkpoint in the run folder, and
writes the Set5/Set14 table at the end.  `upscale.upscale` enlarges any image
with a result (in tiles).
"""
import os

from ..methods import Job, Method
from . import schema

# losses.csv: column -> format of its numbers (empty where an iterate has none).
COLUMNS = {'epoch': '', 'batch': '', 'lr': '.6g', 'loss': '.6g', 'psnr': '.4f',
           'bicubic_psnr': '.4f', 'best_psnr': '.4f', 'seconds': '.3f', 'patches_per_s': '.0f'}


class SrJob(Job):
    sheet_images, table, best_epoch = None, None, None

    def open_session(self, cfg):
        from .engine import Session
        return Session(cfg)

    def work(self):
        n, t = len(self.session.inputs), self.cfg['train']
        per_epoch = n - n % t['batch_size'] if n >= t['batch_size'] else n
        done = self.session.resume['epoch'] if self.session.resume else 0
        return per_epoch * (t['epochs'] - done)

    def iterates(self):
        from . import engine
        for it in engine.iterate(self.cfg, self.session, self.run_dir):
            if it.end:
                self.best_epoch = it.epoch if it.psnr >= it.best else self.best_epoch
            yield it
        self._finish_tables()

    def present(self, it, count):
        if it.resumed:
            return dict(work=0, desc=f'epoch {it.epoch} (resumed)')
        desc = f'epoch {it.epoch}/{self.cfg["train"]["epochs"]} batch {it.batch}/{it.batches}'
        text = f'loss {it.loss:.3g}'
        if it.end:
            text += (f' {self.session.eval_set[0]} {it.psnr:.2f} dB (bicubic {it.bicubic:.2f}, '
                     f'best {it.best:.2f})')
        return dict(work=it.patches, desc=desc, label=desc, text=text,
                    log=it.end or it.index % self.cfg['output']['log_every'] == 0,
                    save_as=('epoch_result.png',) if it.end else ())

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
