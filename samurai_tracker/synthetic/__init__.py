"""Generated test material: clips with a known truth (no downloads anywhere)."""

from samurai_tracker.synthetic.clip import SyntheticClip
from samurai_tracker.synthetic.media import encode_clip

__all__ = ['SyntheticClip', 'encode_clip']
