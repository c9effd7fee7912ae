"""Style-transfer controls: colour (luminance, matching), several styles with blend
weights, style scale, average pooling, gray init, iterate averaging, masks."""
import os

import mxnet as mx
import numpy as np
import pytest
import yaml
from PIL import Image

from gluon_nst import config, image_io
from gluon_nst.errors import UserError
from gluon_nst.style import color
from gluon_nst.style.engine import Session, iterate
from gluon_nst.optim import ImageAverage

SHAPE = (64, 48)                     # (W, H): every run here is this small, <= 3 steps


@pytest.fixture
def base(d2l, vgg_h5):
    return dict(content_image=os.path.join(d2l, 'rainier.jpg'),
                style_image=os.path.join(d2l, 'autumn_oak.jpg'),
                weights=dict(path=os.path.dirname(vgg_h5)),
                stages=[dict(image_shape=list(SHAPE), steps=3, lr=0.05)],
                output=dict(sync_every=1))


def load(base, **data):
    return config.load(data={**base, **data})


def err(base, **data):
    with pytest.raises(UserError) as e:
        Session(load(base, **data))
    text = str(e.value)
    assert '\n' not in text                              # one line
    return text


def run(base, **data):
    """(content, style) per step and the last image as uint8 RGB."""
    its = list(iterate(load(base, **data)))
    losses = np.array([(it.content, it.style) for it in its])
    conv = config.load(data={**base, **data})['preprocess']['convention']
    return losses, image_io.to_uint8(image_io.postprocess(its[-1].image, conv), 1.0)


def gray_png(path, value, hw=(30, 40)):
    Image.fromarray(np.full(hw, value, np.uint8)).save(path)
    return str(path)


def content_at_stage(base):
    """The content image at the stage's size, resized as the engine does (uint8)."""
    img = image_io.read_rgb(base['content_image'])
    return mx.image.imresize(mx.nd.array(img, dtype='uint8'), *SHAPE).asnumpy()


def cov_stats(rgb):
    a = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    return a.mean(axis=0), np.cov(a, rowvar=False)


# Bad input: one-line errors, before any work.

def test_bad_input_is_refused_in_one_line(base, tmp_path):
    two = [base['style_image'], base['content_image']]
    assert "'style_blend_weights': 3 given for 2 style images" in err(
        base, style_image=two, style_blend_weights=[1, 2, 3])
    assert "'style_blend_weights': 2 given for 1 style image;" in err(
        base, style_blend_weights=[1, 2])
    assert "'style_blend_weights': got [0.0, 0.0]" in err(
        base, style_image=two, style_blend_weights=[0, 0])
    white = gray_png(tmp_path / 'white.png', 255)
    assert "'style_masks': 1 given for 2 style images" in err(
        base, style_image=two, style_masks=[white])
    assert "did you mean 'luminance'?" in err(base, color='lumninance')
    assert "did you mean 'histogram'?" in err(base, color_match='histogramm')
    assert "'pooling': got 'average', expected one of max, avg" in err(base, pooling='average')
    assert 'style_scale or style_longest_side, not both' in err(
        base, stages=[dict(style_scale=1.0, style_longest_side=64)])
    assert "'stages.0.style_scale': 0.1 x 64 pixels is under 16" in err(
        base, stages=[dict(image_shape=list(SHAPE), style_scale=0.1)])
    assert "'optimizer.ema_decay': got 1.0, expected a value >= 0 and < 1" in err(
        base, optimizer=dict(ema_decay=1.0))
    assert 'set one of them' in err(base, optimizer=dict(ema_decay=0.9, keep_best=True))
    not_image = tmp_path / 'mask.png'
    not_image.write_text('not an image')
    assert "mask (config key 'style_masks') " in err(base, style_masks=str(not_image))
    assert "mask (config key 'style_masks.1') " in err(
        base, style_image=two, style_masks=[white, str(not_image)])
    assert "mask (config key 'content_mask') " in err(base, content_mask=str(not_image))


def test_style_lists_are_read_from_the_config_folder(base, tmp_path, d2l):
    folder = tmp_path / 'configs'
    folder.mkdir()
    gray_png(folder / 'm.png', 255)
    rel = os.path.relpath(os.path.join(d2l, 'autumn_oak.jpg'), folder)
    (folder / 'c.yaml').write_text(yaml.safe_dump(dict(
        base, style_image=[rel, rel], style_masks=['m.png', 'm.png'])))
    cfg = config.load(str(folder / 'c.yaml'))
    assert cfg['style_image'] == [os.path.normpath(os.path.join(d2l, 'autumn_oak.jpg'))] * 2
    assert cfg['style_masks'] == [str(folder / 'm.png')] * 2


# Colour.

def test_linear_color_transfer_gives_the_contents_mean_and_covariance(base):
    content = image_io.read_rgb(base['content_image'])[::4, ::4]
    style = image_io.read_rgb(base['style_image'])[::4, ::4]
    out = color.linear_color_transfer(style / 255.0, content / 255.0)
    mean, cov = cov_stats(out)
    mean_c, cov_c = cov_stats(content / 255.0)
    assert mean == pytest.approx(mean_c, abs=1e-9)
    assert np.abs(cov - cov_c).max() < 1e-3 * np.abs(cov_c).max()
    assert np.abs(cov_stats(style / 255.0)[1] - cov_c).max() > 0.3 * np.abs(cov_c).max()
    # As 8-bit pixels (clipped to 0..255): within a level or two where little is clipped.
    soft = (content * 0.5 + 60).astype(np.uint8)           # a low-contrast content
    matched = color.match_colors(style, soft)
    mean, cov = cov_stats(matched)
    mean_c, cov_c = cov_stats(soft)
    assert np.abs(mean - mean_c).max() < 1.0
    assert np.abs(cov - cov_c).max() < 0.03 * np.abs(cov_c).max()


def test_histogram_matching_is_scikit_images(base):
    exposure = pytest.importorskip('skimage.exposure')
    content = image_io.read_rgb(base['content_image'])[::4, ::4]
    style = image_io.read_rgb(base['style_image'])[::4, ::4]
    ours = color.histogram_match(style, content)
    ref = exposure.match_histograms(style.astype(np.float64), content.astype(np.float64),
                                    channel_axis=-1)
    assert np.abs(ours - ref).max() < 1e-9
    matched = color.match_colors(style, content, 'histogram')
    for k in range(3):                 # the same quantiles as the content's, per channel
        q = np.linspace(20, 80, 7)         # (a tail has a single level holding > 10%)
        assert np.abs(np.percentile(matched[..., k], q) - np.percentile(content[..., k], q)).max() <= 2


def test_match_mode_recolours_the_style_before_the_run(base):
    s = Session(load(base, color='match'))
    assert s.loss_content is s.content and s.styles[0] is s.style
    got, want = cov_stats(s.loss_styles[0])[0], cov_stats(s.content)[0]
    assert np.abs(got - want).max() < np.abs(cov_stats(s.style)[0] - want).max() / 5


def test_with_chroma_keeps_the_contents_chroma_even_out_of_gamut():
    rng = np.random.RandomState(0)
    content = rng.uniform(0, 1, (20, 30, 3))
    result = rng.uniform(-0.2, 1.2, (20, 30, 3))       # also Y that no RGB pixel of that chroma has
    out = color.with_chroma(result, content)
    assert out.min() >= 0 and out.max() <= 1
    assert np.abs(color.rgb_to_ycbcr(out)[..., 1:] - color.rgb_to_ycbcr(content)[..., 1:]).max() < 1e-9


def test_luminance_mode_keeps_the_contents_chroma(base):
    losses, img = run(base, color='luminance')
    content = content_at_stage(base)
    ycc, ycc_c = color.rgb_to_ycbcr(img / 255.0), color.rgb_to_ycbcr(content / 255.0)
    assert np.abs(ycc[..., 1:] - ycc_c[..., 1:]).max() <= 1 / 255
    assert np.abs(ycc[..., 0] - ycc_c[..., 0]).mean() > 1 / 255          # the luminance moved
    assert losses[-1].sum() < losses[0].sum()
    s = Session(load(base, color='luminance'))
    assert all((im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all()
               for im in [s.loss_content, *s.loss_styles])          # optimised on luminance
    y_style = color.rgb_to_ycbcr(s.loss_styles[0] / 255.0)[..., 0]
    y_content = color.rgb_to_ycbcr(s.content / 255.0)[..., 0]
    # Matched to the content's, up to clipping to 0..255 (the style's own: mean 0.05 higher,
    # std half the content's 0.31; matched: 0.004 higher, std 0.28).
    y_original = color.rgb_to_ycbcr(s.style / 255.0)[..., 0]
    assert abs(y_style.mean() - y_content.mean()) < 0.2 * abs(y_original.mean() - y_content.mean())
    assert abs(y_style.std() - y_content.std()) < 0.25 * abs(y_original.std() - y_content.std())


# Several styles.

def test_two_styles_weighted_one_and_zero_are_the_first_alone(base):
    from gluon_nst.style.objective import Objective
    two = load(base, style_image=[base['style_image'], base['content_image']],
               style_blend_weights=[1, 0])
    s1, s2 = Session(load(base)), Session(two)
    stage = s1.stages[0]
    xs = [image_io.preprocess(img, stage.shape, s1.convention) for img in s2.loss_styles]
    c = image_io.preprocess(s1.content, stage.shape, s1.convention)
    t1 = Objective(s1.features, s1.spec_for(stage), SHAPE).targets(c, xs[0])
    t2 = Objective(s2.features, s2.spec_for(stage), SHAPE).targets(c, xs)
    assert len(t1) == len(t2) == 6
    for a, b in zip(t1, t2):
        assert np.abs(a.asnumpy() - b.asnumpy()).max() <= 1e-6 * np.abs(a.asnumpy()).max()
    l1, _ = run(base)
    l2, _ = run(base, style_image=[base['style_image'], base['content_image']],
                style_blend_weights=[1, 0])
    assert l2 == pytest.approx(l1, rel=1e-4, abs=1e-6)
    # Equal weights: the target is the mean of the two Grams.
    half = Session(load(base, style_image=two['style_image']))
    assert half.blend_weights == [0.5, 0.5]
    t3 = Objective(half.features, half.spec_for(stage), SHAPE).targets(c, xs)
    t_other = Objective(s1.features, s1.spec_for(stage), SHAPE).targets(c, xs[1])
    for a, b, o in zip(t3[1:], t1[1:], t_other[1:]):
        assert np.abs(a.asnumpy() - (b.asnumpy() + o.asnumpy()) / 2).max() \
            <= 1e-5 * np.abs(a.asnumpy()).max()


def test_style_scale_sizes_the_style_by_the_stage(base):
    s = Session(load(base, stages=[dict(image_shape=list(SHAPE), style_scale=0.5),
                                   dict(image_shape=[128, 96], style_scale=2.0)]))
    h, w = s.style.shape[:2]                               # 1200 x 1717
    assert s.stages[0].style_shape((w, h)) == (32, round(32 * h / w))
    assert s.stages[1].style_shape((w, h)) == (256, round(256 * h / w))
    assert s.stages[0].style_shape((h, w)) == (round(32 * h / w), 32)   # a portrait style
    losses, _ = run(base, stages=[dict(image_shape=list(SHAPE), steps=1, style_scale=0.5)])
    base_losses, _ = run(base, stages=[dict(image_shape=list(SHAPE), steps=1)])
    assert losses[0, 1] != pytest.approx(base_losses[0, 1], rel=1e-2)   # other style targets


# Pooling.

def test_average_pooling_changes_features_and_keeps_shapes(vgg_h5):
    from gluon_nst.models import features
    layers = [0, 5, 10, 19, 25, 28]
    x = mx.nd.random.uniform(-2, 2, shape=(1, 3, 48, 64))
    out = {}
    for pooling in ('max', 'avg'):
        net = features.load('vgg19', layers, path=os.path.dirname(vgg_h5), convention='book',
                            pooling=pooling)
        assert net.record['pooling'] == pooling
        out[pooling] = [f.asnumpy() for f in net.extractor()(x)]
    for layer, a, b in zip(layers, out['max'], out['avg']):
        assert a.shape == b.shape, layer
        if layer < 4:                                      # before the first pool: the same
            assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max()
        else:
            assert np.abs(a - b).mean() > 0.05 * np.abs(a).mean(), layer


# Init.

def test_gray_init_is_uniform_mid_gray(base):
    for mode in ('transfer', 'luminance'):
        s = Session(load(base, init='gray', color=mode))
        x = s.initial_image(s.stages[0])
        assert x.shape == (1, 3, SHAPE[1], SHAPE[0])
        assert np.abs(image_io.postprocess(x, s.convention).asnumpy() - 0.5).max() < 1e-6


def test_an_init_image_of_another_size_is_resized_to_the_first_stage(base):
    s = Session(load(base, init=base['style_image']))
    assert s.initial_image(s.stages[0]).shape == (1, 3, SHAPE[1], SHAPE[0])


# Iterate averaging.

def test_average_of_a_constant_sequence_is_that_constant():
    for decay in (0.5, 0.9, 0.99):
        c = np.random.RandomState(1).uniform(-3, 3, (2, 3)).astype(np.float32)
        avg = ImageAverage(mx.nd.array(c), decay)
        for _ in range(50):
            avg.update(mx.nd.array(c))
        assert np.abs(avg.get().asnumpy() - c).max() <= 1e-5 * np.abs(c).max()
        avg = ImageAverage(c.astype(np.float64), decay)
        avg.update(c.astype(np.float64))
        assert np.abs(avg.get() - c).max() < 1e-12


def test_the_averaged_image_is_the_result(base):
    """The same three Adam steps with and without EMA: the EMA run's result is the
    bias-corrected average of the plain run's iterates (the start included)."""
    plain = list(iterate(load(base)))
    averaged = list(iterate(load(base, optimizer=dict(ema_decay=0.6))))
    assert [(i.content, i.style) for i in averaged] == pytest.approx(
        [(i.content, i.style) for i in plain], rel=1e-4, abs=1e-6)   # losses of the iterates
    s = Session(load(base))
    want = ImageAverage(s.initial_image(s.stages[0]).asnumpy().astype(np.float64), 0.6)
    for it in plain:
        want.update(it.image.asnumpy())
    got = averaged[-1].image.asnumpy()
    assert np.abs(got - want.get()).max() < 1e-4
    assert np.abs(got - plain[-1].image.asnumpy()).max() > 1e-3


def test_lbfgs_with_averaging_yields_the_average(base):
    stages = [dict(image_shape=list(SHAPE), steps=1)]
    opt = dict(name='lbfgs', lbfgs_maxfun=4)
    plain = list(iterate(load(base, stages=stages, optimizer=opt)))
    averaged = list(iterate(load(base, stages=stages, optimizer=dict(opt, ema_decay=0.5))))
    a, b = plain[-1].image.asnumpy(), averaged[-1].image.asnumpy()
    assert np.isfinite(b).all() and np.abs(a - b).max() > 1e-3


# Masks.

def test_a_black_style_mask_switches_its_style_off(base, tmp_path):
    black, white = gray_png(tmp_path / 'black.png', 0), gray_png(tmp_path / 'white.png', 255)
    losses, _ = run(base, style_masks=black)
    assert (losses[:, 1] == 0).all() and losses[-1, 0] > 0
    alone, _ = run(base)
    whole, _ = run(base, style_masks=white, content_mask=black)        # masks that keep all
    assert whole == pytest.approx(alone, rel=1e-4, abs=1e-6)
    # Two styles, the second masked off: the style term is the first's at its blend weight.
    two, _ = run(base, style_image=[base['style_image'], base['content_image']],
                 style_masks=[white, black], style_blend_weights=[3, 1],
                 stages=[dict(image_shape=list(SHAPE), steps=1)])
    assert two[0, 1] == pytest.approx(0.75 * alone[0, 1], rel=1e-4)


def test_a_white_content_mask_keeps_the_content_there(base, tmp_path):
    white = gray_png(tmp_path / 'white.png', 255, hw=(300, 20))     # another size: stretched
    losses, img = run(base, content_mask=white)
    assert (losses[:, 1] == 0).all()
    no_style, want = run(base, loss=dict(style_weight=0))       # the content weight is kept
    assert losses == pytest.approx(no_style, rel=1e-4, abs=1e-6)
    assert np.abs(img.astype(int) - want).max() <= 1


def test_half_masks_act_on_their_half(base, tmp_path):
    """Style on the left half only: the right half stays closer to the content."""
    mask = np.zeros((48, 64), np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / 'left.png')
    _, img = run(base, style_masks=str(tmp_path / 'left.png'), loss=dict(style_weight=1e4),
                 stages=[dict(image_shape=list(SHAPE), steps=3, lr=0.1)])
    diff = np.abs(img.astype(int) - content_at_stage(base)).mean(axis=(0, 2))
    assert diff[:16].mean() > 1.5 * diff[48:].mean()        # the outer quarters
