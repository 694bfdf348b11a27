"""The target's offset from the image centre, normalised for gimbal and autopilot loops.

A gimbal controller wants "how far off centre, as a fraction of the half-frame", not
pixels, so the same gains work at any resolution:

* ``x = (cx - W/2) / (W/2)``, positive to the right, in [-1, 1];
* ``y = (cy - H/2) / (H/2)``, positive downwards (image rows), in [-1, 1];
* ``z = box area / image area``, in [0, 1]: a range cue (it grows as the target comes
  closer), for a follow-distance loop.

Values are clipped to their ranges, so a box partly outside the image still yields a
usable command.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from samurai_tracker.records import Box

__all__ = ['target_offset']


def target_offset(box: Box, image_width: int, image_height: int) -> Tuple[float, float, float]:
    """Return ``(x, y, z)`` of ``box`` in a ``image_width`` x ``image_height`` image.

    Raises
    ------
    ValueError
        If the image size is not positive.

    """
    if image_width <= 0 or image_height <= 0:
        raise ValueError(f'image size must be positive, got {image_width}x{image_height}')
    half_w, half_h = image_width / 2, image_height / 2
    x = float(np.clip((box.cx - half_w) / half_w, -1.0, 1.0))
    y = float(np.clip((box.cy - half_h) / half_h, -1.0, 1.0))
    z = float(np.clip(box.area / (image_width * image_height), 0.0, 1.0))
    return x, y, z
