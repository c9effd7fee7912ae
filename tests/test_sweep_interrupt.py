"""An interrupted sweep still writes results.csv (and the contact sheet) for the runs
that finished before the interrupt."""
import os

import pytest

from gluon_nst import sweep
from test_sweep import rows, write_sweep


@pytest.mark.orchestration
def test_an_interrupted_sweep_writes_the_table_of_finished_runs(tmp_path, d2l, vgg_h5, monkeypatch):
    p = write_sweep(tmp_path, d2l, vgg_h5, grid={'loss.tv_weight': [0, 10, 20]})
    real_run_one, started = sweep.run_one, []

    def run_then_interrupt(cmd, run_dir):
        """The first run is real; Ctrl-C arrives while the second would start."""
        started.append(run_dir)
        if len(started) > 1:
            raise KeyboardInterrupt
        return real_run_one(cmd, run_dir)
    monkeypatch.setattr(sweep, 'run_one', run_then_interrupt)
    out = str(tmp_path / 'out')
    with pytest.raises(KeyboardInterrupt):
        sweep.sweep(p, out, workers=1, threads=1, log=lambda *a: None)
    table = rows(out)
    assert [r['loss.tv_weight'] for r in table] == ['0', '10', '20']
    assert [r['status'] for r in table] == ['finished', 'not run', 'not run']
    assert float(table[0]['total']) > 0
    assert os.path.getsize(os.path.join(out, 'contact_sheet.png')) > 0
