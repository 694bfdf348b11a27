"""Letterbox: aspect ratio kept, grey padding, boxes mapped back exactly."""

import numpy as np
import pytest

from samurai_tracker.detector import Letterbox, letterbox, LETTERBOX_PAD_VALUE


@pytest.mark.parametrize('width,height,size', [(640, 480, 320), (1920, 1080, 640),
                                               (480, 640, 640), (100, 50, 64), (64, 64, 64)])
def test_fit_keeps_aspect_ratio_and_centres(width, height, size):
    transform = Letterbox.fit(width, height, size)
    expected_scale = min(size / width, size / height)
    assert transform.scale == pytest.approx(expected_scale)
    new_w, new_h = transform.scaled_size
    assert max(new_w, new_h) == size
    assert new_w / new_h == pytest.approx(width / height, rel=0.03)
    # centred: the two pads on each axis differ by at most one pixel
    assert abs((size - new_w - transform.pad_x) - transform.pad_x) <= 1
    assert abs((size - new_h - transform.pad_y) - transform.pad_y) <= 1


@pytest.mark.parametrize('width,height,size', [(640, 480, 320), (1280, 720, 640), (333, 777, 96)])
def test_boxes_round_trip_exactly(width, height, size):
    rng = np.random.default_rng(3)
    corner = rng.uniform(0, [width * 0.8, height * 0.8], size=(50, 2))
    extent = rng.uniform(1, [width * 0.2, height * 0.2], size=(50, 2))
    boxes = np.concatenate([corner, corner + extent], axis=1)
    transform = Letterbox.fit(width, height, size)
    there = transform.to_input(boxes)
    back = transform.to_original(there)
    np.testing.assert_allclose(back, boxes, rtol=0, atol=1e-9)
    # forward map by hand: one scale, then the pad offset
    manual = boxes * min(size / width, size / height)
    manual[:, [0, 2]] += transform.pad_x
    manual[:, [1, 3]] += transform.pad_y
    np.testing.assert_allclose(there, manual, atol=1e-9)


def test_to_original_clips_to_the_image():
    transform = Letterbox.fit(640, 480, 320)
    inside_pad = np.array([[-10.0, 0.0, 330.0, 20.0]])
    back = transform.to_original(inside_pad)
    assert back[0, 0] == 0 and back[0, 2] == 640 and back[0, 1] == 0
    unclipped = transform.to_original(inside_pad, clip=False)
    assert unclipped[0, 0] < 0 and unclipped[0, 2] > 640


def test_blob_layout_and_padding():
    image = np.zeros((100, 200, 3), np.uint8)
    image[..., 0] = 255  # pure red
    blob, transform = letterbox(image, 64)
    assert blob.shape == (1, 3, 64, 64) and blob.dtype == np.float32
    assert transform.scaled_size == (64, 32) and transform.pad_y == 16
    grey = LETTERBOX_PAD_VALUE / 255
    np.testing.assert_allclose(blob[0, :, :16, :], grey, atol=1e-6)
    np.testing.assert_allclose(blob[0, :, 48:, :], grey, atol=1e-6)
    # content in RGB order, channels first, scaled to 0..1
    np.testing.assert_allclose(blob[0, 0, 16:48, :], 1.0, atol=1e-6)
    np.testing.assert_allclose(blob[0, 1:, 16:48, :], 0.0, atol=1e-6)


@pytest.mark.parametrize('bad', [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32),
                                 np.zeros((0, 10, 3), np.uint8)])
def test_bad_images_are_refused_with_the_expected_layout(bad):
    with pytest.raises(ValueError, match=r'\(H, W, 3\)|empty'):
        letterbox(bad, 64)


def test_bad_transform_values_are_refused():
    with pytest.raises(ValueError, match='scale'):
        Letterbox(scale=0.0, pad_x=0, pad_y=0, image_width=1, image_height=1, input_size=32)
    with pytest.raises(ValueError, match='shape'):
        Letterbox.fit(10, 10, 32).to_original(np.zeros(4))
