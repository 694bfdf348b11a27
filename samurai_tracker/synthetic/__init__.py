"""Generated test material: clips with a known truth (no downloads anywhere)."""

from samurai_tracker.synthetic.clip import SyntheticClip

__all__ = ['SyntheticClip']
