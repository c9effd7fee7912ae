"""Config validation, defaults, overrides and path resolution."""
import os

import pytest

from gluon_nst import config
from gluon_nst.errors import UserError

BASE = {'content_image': 'c.jpg', 'style_image': 's.jpg'}


def load(*overrides, **data):
    return config.load(data={**BASE, **data}, overrides=list(overrides))


def err(*overrides, **data):
    with pytest.raises(UserError) as e:
        load(*overrides, **data)
    return str(e.value)


def test_defaults_are_the_books_numbers():
    c = load()
    assert c['layers'] == {'content': [25], 'style': [0, 5, 10, 19, 28], 'content_weights': None,
                           'style_weights': None, 'average': False}
    assert (c['loss']['content_weight'], c['loss']['style_weight'], c['loss']['tv_weight']) == (1, 1e3, 10)
    assert c['stages'] == [dict(image_shape=[300, 200], longest_side=None, style_longest_side=None,
                                style_scale=None, steps=500, lr=0.01, lr_decay_epoch=200,
                                lr_decay_factor=0.1)]
    assert c['optimizer']['name'] == 'adam' and c['weights']['source'] == 'caffe-vgg19'


def test_unknown_key_names_it_and_suggests():
    assert "unknown key 'loss.styel_weight'; did you mean 'loss.style_weight'?" in err(
        loss={'styel_weight': 1})
    assert "did you mean 'stages.0.lr_decay_epoch'" in err(stages=[{'lr_decay_epoc': 3}])
    assert "unknown key 'contnet_image'; did you mean 'content_image'" in err(contnet_image='x')


def test_types_and_ranges_name_the_key():
    assert "'stages.0.lr': got -1.0, expected a value > 0" in err('stages.0.lr=-1')
    assert "'stages.0.steps': got 2.5, expected an integer" in err('stages.0.steps=2.5')
    assert "'optimizer.name': got 'sgd', expected one of adam, lbfgs" in err('optimizer.name=sgd')
    assert "'stages.0.lr_decay_factor'" in err('stages.0.lr_decay_factor=2')
    assert "at least 16 pixels" in err(stages=[{'image_shape': [8, 8]}])
    assert "'device'" in err(device='tpu')
    assert "'optimizer.clip': got 'yes', expected true or false" in err(optimizer={'clip': 'yes'})


def test_layers_by_name_or_index():
    c = load(layers={'content': ['conv4_2'], 'style': ['block1_conv1', 'relu2_1', 28]})
    assert c['layers']['content'] == [21]
    assert c['layers']['style'] == [1, 6, 28]      # block1_conv1 is Keras' post-ReLU output
    assert "did you mean 'conv5_1'" in err(layers={'style': ['conv9_1']})
    assert 'out of range' in err(layers={'style': [99]})


def test_per_layer_weights_must_match_layers():
    assert '2 weights for 5 style layers' in err(layers={'style_weights': [1, 2]})


def test_set_overrides_any_key():
    c = load('loss.style_weight=1e4', 'stages.0.steps=7', 'layers.style=[0, 5]',
             'optimizer.clip=true', 'weights.feature_scale=2')
    assert c['loss']['style_weight'] == 1e4
    assert c['stages'][0]['steps'] == 7
    assert c['layers']['style'] == [0, 5]
    assert c['optimizer']['clip'] is True
    assert c['weights']['feature_scale'] == 2.0
    assert 'no item 3' in err('stages.3.lr=1')
    assert 'expected key.path=value' in err('loss.style_weight')


def test_numbers_written_like_1e4_in_yaml_files(tmp_path):
    p = tmp_path / 'c.yaml'
    p.write_text('content_image: c.jpg\nstyle_image: s.jpg\nloss: {style_weight: 1e4}\n')
    assert config.load(str(p))['loss']['style_weight'] == 1e4


def test_init_must_be_content_noise_or_a_file():
    assert "'content', 'noise', 'gray', 'fast' or an existing image file" in err(init='nosie')


def test_required_images():
    with pytest.raises(UserError, match="'content_image' is required"):
        config.load(data={'style_image': 's.jpg'})


def test_stage_shape_or_longest_side():
    c = load(stages=[{'longest_side': 512}])
    assert c['stages'][0]['image_shape'] is None and c['stages'][0]['longest_side'] == 512
    assert 'not both' in err(stages=[{'longest_side': 512, 'image_shape': [100, 100]}])


def test_file_paths_are_relative_to_the_config(tmp_path, monkeypatch):
    d = tmp_path / 'cfgs'
    d.mkdir()
    (d / 'x.yaml').write_text('content_image: ../img/c.jpg\nstyle_image: s.jpg\n')
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'here.png').write_bytes(b'')
    c = config.load(str(d / 'x.yaml'), ['init=here.png'])
    assert c['content_image'] == str(tmp_path / 'img' / 'c.jpg')
    assert c['style_image'] == str(d / 's.jpg')
    assert c['init'] == str(tmp_path / 'here.png')
    assert c['name'] == 'x'


def test_yaml_errors_are_one_line(tmp_path):
    p = tmp_path / 'bad.yaml'
    p.write_text('content_image: [unclosed\n')
    with pytest.raises(UserError, match='not valid YAML at line'):
        config.load(str(p))
    p.write_text('!!python/object/apply:os.system ["echo hi"]\n')
    with pytest.raises(UserError):   # safe_load refuses python tags
        config.load(str(p))
    with pytest.raises(UserError, match='does not exist'):
        config.load(str(tmp_path / 'missing.yaml'))


def test_unreadable_config_is_one_line(tmp_path, monkeypatch):
    p = tmp_path / 'locked.yaml'
    p.write_text('content_image: a.jpg\n')

    def denied(*a, **k):
        raise PermissionError(13, 'Permission denied')
    monkeypatch.setattr(config, 'open', denied, raising=False)
    with pytest.raises(UserError, match='cannot be read .Permission denied.'):
        config.load(str(p))


def test_set_suggests_sections_the_file_does_not_have(tmp_path):
    p = tmp_path / 'min.yaml'
    p.write_text('content_image: c.jpg\nstyle_image: s.jpg\n')
    with pytest.raises(UserError, match="did you mean 'loss'"):
        config.load(str(p), ['los.style_weight=3'])
    assert config.load(str(p), ['loss.style_weight=3'])['loss']['style_weight'] == 3


def test_shipped_configs_validate():
    root = os.path.join(os.path.dirname(__file__), '..', 'configs')
    names = [os.path.relpath(os.path.join(d, n), root) for d, _, files in os.walk(root)
             for n in files if n.endswith('.yaml') and 'sweeps' not in d]
    assert 'rainier.yaml' in names and os.path.join('style', 'preview.yaml') in names
    for n in names:
        config.load(os.path.join(root, n))


def test_old_stage_key_epochs_still_works_with_a_one_line_warning(capsys):
    c = load('stages.0.epochs=7')
    assert c['stages'][0]['steps'] == 7 and 'epochs' not in c['stages'][0]
    warning = capsys.readouterr().err.strip()
    assert warning == ("warning: config key 'stages.0.epochs' is now 'stages.0.steps' "
                       "(optimisation steps; srcnn's train.epochs are real epochs): rename it")
    c = load(stages=[{'image_shape': [30, 20], 'epochs': 3}, {'image_shape': [60, 40], 'steps': 4}])
    assert [st['steps'] for st in c['stages']] == [3, 4]
    assert "'stages.0': give steps (epochs is its old name), not both" in \
        err(stages=[{'image_shape': [30, 20], 'epochs': 3, 'steps': 4}])


def test_shipped_configs_have_distinct_run_names():
    """Each shipped config's default run folder (runs/<name>) is its own: a run of one
    never lands in runs/<name>-2 because another config ran first."""
    root = os.path.join(os.path.dirname(__file__), '..', 'configs')
    owners = {}
    for d, _, files in os.walk(root):
        for n in files:
            if n.endswith('.yaml') and 'sweeps' not in d:
                path = os.path.join(d, n)
                name = config.load(path)['name']
                owners.setdefault(name, []).append(os.path.relpath(path, root))
    assert 'style_blend' in owners and 'rainier' in owners
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_rainier_is_the_press_edition():
    c = config.load(os.path.join(os.path.dirname(__file__), '..', 'configs', 'rainier.yaml'))
    s1, s2 = c['stages']
    assert (s1['image_shape'], s1['steps'], s1['lr'], s1['lr_decay_epoch']) == ([300, 200], 500, 0.01, 200)
    assert (s2['image_shape'], s2['steps'], s2['lr'], s2['lr_decay_epoch']) == ([1200, 800], 300, 0.01, 100)


def test_loss_weights_use_the_feature_scales_at_each_stage_size():
    from gluon_nst.style.calibration import CAFFE_FEATURE_SCALE
    from gluon_nst.style.engine import loss_spec
    cfg = load()
    for hw, k in (((200, 300), 0), ((800, 1200), 1)):
        spec = loss_spec(cfg['layers'], cfg['loss'], cfg['weights'], hw)
        s = [CAFFE_FEATURE_SCALE[i][k] for i in [25, 0, 5, 10, 19, 28]]
        assert spec['feature_scales'] == pytest.approx(s)
        assert spec['content_weights'] == pytest.approx([1.0 / s[0] ** 2])
        assert spec['style_weights'] == pytest.approx([1e3 / v ** 4 for v in s[1:]])
