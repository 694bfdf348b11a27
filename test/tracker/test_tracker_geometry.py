"""Crop geometry round trips, the preprocessing it drives, and mask -> box."""

import numpy as np
import pytest

from samurai_tracker.records import Box
from samurai_tracker.tracker.array_ops import crop_and_resize, NumpyOps, TorchOps
from samurai_tracker.tracker.geometry import (crop_window, full_frame_window, mask_box,
                                              ViewWindow)


def test_round_trip_frame_input_frame():
    rng = np.random.default_rng(0)
    for _ in range(50):
        window = ViewWindow(*rng.uniform(-300, 300, 2), *rng.uniform(10, 900, 2), 512)
        boxes = np.sort(rng.uniform(-500, 1500, (7, 2, 2)), axis=1).transpose(0, 2, 1)
        boxes = boxes.reshape(7, 4)[:, [0, 2, 1, 3]]
        np.testing.assert_allclose(window.to_frame(window.to_input(boxes)), boxes, atol=1e-9)


def test_crop_window_is_square_centred_and_kept_inside_the_frame():
    box = Box.from_cxcywh(320, 240, 60, 40)
    window = crop_window(box, 640, 480, 512, context_factor=2.0, min_side=32)
    assert window.width == window.height == 120
    assert (window.x0 + 60, window.y0 + 60) == (320, 240)
    np.testing.assert_allclose(window.to_input(box.xyxy), [128, 170.667, 384, 341.333],
                               atol=1e-3)
    corner = crop_window(Box.from_xyxy(0, 0, 20, 20), 640, 480, 512, 3.0, 32)
    assert (corner.x0, corner.y0) == (0, 0)  # shifted inside instead of padded
    tiny = crop_window(Box.from_cxcywh(100, 100, 2, 2), 640, 480, 512, 2.0, 96)
    assert tiny.width == 96
    huge = crop_window(Box.from_cxcywh(500, 100, 300, 200), 640, 480, 512, 3.0, 96)
    # never more than the whole frame: the longer side, centred on the frame where longer
    assert (huge.width, huge.x0, huge.y0) == (640, 0, -80)
    tall = crop_window(Box.from_cxcywh(30, 200, 50, 50), 100, 400, 512, 3.0, 96)
    assert (tall.width, tall.x0, tall.y0) == (150, -25, 125)


def test_affine_maps_pixel_centres_like_the_resize():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[200:210, 300:310] = 255  # a 10x10 white square
    window = ViewWindow(250.0, 150.0, 128.0, 128.0, 512)  # 4x enlargement
    crop = crop_and_resize(frame, (250, 150, 128, 128), 512, (0, 0, 0))
    ys, xs = np.nonzero(crop[:, :, 0] > 127)
    expected = window.to_input([300, 200, 310, 210])
    assert abs(xs.min() - expected[0]) <= 2 and abs(xs.max() + 1 - expected[2]) <= 2
    assert abs(ys.min() - expected[1]) <= 2 and abs(ys.max() + 1 - expected[3]) <= 2
    centre = window.affine() @ np.array([304.5, 204.5, 1.0])
    np.testing.assert_allclose(centre, [(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2],
                               atol=1.0)


def test_padding_outside_the_frame_is_the_mean_colour():
    frame = np.full((100, 100, 3), 200, np.uint8)
    crop = crop_and_resize(frame, (-100, -100, 200, 200), 64, (124, 116, 104))
    np.testing.assert_array_equal(crop[0, 0], [124, 116, 104])
    np.testing.assert_array_equal(crop[-1, -1], [200, 200, 200])
    image = NumpyOps().preprocess(frame, (-100, -100, 200, 200), 64,
                                  (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert image.shape == (1, 3, 64, 64) and image.dtype == np.float32
    assert np.all(np.abs(image[0, :, 0, 0]) < 0.01)  # mean colour normalises to ~0
    far = crop_and_resize(frame, (500, 500, 50, 50), 32, (1, 2, 3))
    np.testing.assert_array_equal(far[5, 5], [1, 2, 3])


def test_full_frame_window_and_mask_box():
    window = full_frame_window(640, 480, 512)
    np.testing.assert_allclose(window.to_input([0, 0, 640, 480]), [0, 0, 512, 512])
    mask = np.zeros((512, 512), bool)
    assert mask_box(mask) is None
    mask[100:201, 50:61] = True
    np.testing.assert_array_equal(mask_box(mask), [50, 100, 61, 201])
    np.testing.assert_allclose(window.to_frame(mask_box(mask)), [62.5, 93.75, 76.25, 188.4375])
    with pytest.raises(ValueError, match='2-D'):
        mask_box(np.zeros(5, bool))
    with pytest.raises(ValueError, match='positive'):
        ViewWindow(0, 0, 0, 10, 512)


def test_numpy_and_torch_ops_agree():
    torch = pytest.importorskip('torch')
    rng = np.random.default_rng(1)
    numpy_ops, torch_ops = NumpyOps(), TorchOps('cpu')
    low = rng.normal(size=(1, 3, 16, 16)).astype(np.float32)
    np.testing.assert_allclose(numpy_ops.upsample(low, 64),
                               torch_ops.upsample(torch.from_numpy(low), 64).numpy(), atol=1e-5)
    logits = rng.normal(size=(32, 32)).astype(np.float32) - 2.0
    np.testing.assert_array_equal(numpy_ops.mask_box(logits),
                                  torch_ops.mask_box(torch.from_numpy(logits)))
    assert torch_ops.mask_box(torch.full((8, 8), -1.0)) is None
    assert numpy_ops.stability(logits, 0.05) == pytest.approx(
        torch_ops.stability(torch.from_numpy(logits), 0.05))
    feat = rng.normal(size=(1, 8, 4, 4)).astype(np.float32)
    tokens = numpy_ops.tokens(feat)
    np.testing.assert_array_equal(tokens, torch_ops.tokens(torch.from_numpy(feat)).numpy())
    np.testing.assert_array_equal(numpy_ops.untokens(tokens, 4, 4), feat)
    yy, xx = np.mgrid[0:90, 0:120]
    smooth = 127 + 100 * np.sin(xx / 9.0)[:, :, None] * np.cos(yy / 7.0)[:, :, None]
    frame = np.repeat(smooth, 3, axis=2).astype(np.uint8)  # resampling-friendly content
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    for window in [(10, 5, 40, 40), (-20, -20, 100, 100), (0, 0, 120, 90)]:
        a = numpy_ops.preprocess(frame, window, 64, mean, std)
        b = torch_ops.preprocess(frame, window, 64, mean, std).numpy()
        assert a.shape == b.shape == (1, 3, 64, 64)
        assert np.abs(a - b).mean() < 0.05  # OpenCV vs torch resampling, same geometry
