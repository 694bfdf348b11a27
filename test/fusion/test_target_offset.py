"""The normalised gimbal offset of the target."""

import pytest

from samurai_fusion import target_offset
from samurai_tracker.records import Box


def test_centre_corners_and_area():
    assert target_offset(Box.from_cxcywh(320, 240, 64, 48), 640, 480) == \
        pytest.approx((0.0, 0.0, 0.01))
    x, y, z = target_offset(Box.from_cxcywh(480, 60, 10, 10), 640, 480)
    assert (x, y) == pytest.approx((0.5, -0.75)) and z == pytest.approx(100 / 307200)


def test_clipped_to_range():
    x, y, z = target_offset(Box.from_xyxy(-500, 900, 2000, 2000), 640, 480)
    assert (x, y, z) == (1.0, 1.0, 1.0)  # centre (750, 1450) is right of and below the image
    with pytest.raises(ValueError, match='positive'):
        target_offset(Box.from_cxcywh(1, 1, 1, 1), 0, 480)
