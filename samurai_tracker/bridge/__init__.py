"""Camera bridge: GStreamer ingest (file, RTSP, V4L2, CSI, test) and annotated output.

The ROS-free core lives here (plans, element choice, overlay, stamp matching, backoff,
health); ``bridge_node.py`` wires it to topics.
"""

from samurai_tracker.bridge.backoff import Backoff, BackoffPolicy
from samurai_tracker.bridge.elements import (
    CANDIDATES, CapsSpec, Choice, choose_converter, choose_decoder, choose_encoder,
    ElementError, ElementRegistry, ElementSpec, Nick)
from samurai_tracker.bridge.frames import Frame, FrameConsumer, ImageEncoding, LatestFrameMailbox
from samurai_tracker.bridge.health import HealthLevel, HealthSnapshot, StreamHealth
from samurai_tracker.bridge.overlay import DETECTION_COLOUR, draw_overlay, STATE_COLOURS
from samurai_tracker.bridge.plans import IngestPlan, OutputPlan, plan_ingest, plan_output
from samurai_tracker.bridge.specs import (
    Container, OutputKind, OutputSpec, parse_source, redact_url, RtspCredentials, SourceKind,
    SourceSpec, SpecError)
from samurai_tracker.bridge.stamp_match import MatchedFrame, StampMatcher
from samurai_tracker.bridge.stamps import StampMapper
from samurai_tracker.bridge.watchdog import Watchdog

__all__ = [
    'Backoff', 'BackoffPolicy', 'CANDIDATES', 'CapsSpec', 'Choice', 'Container',
    'DETECTION_COLOUR', 'ElementError', 'ElementRegistry', 'ElementSpec', 'Frame',
    'FrameConsumer', 'HealthLevel', 'HealthSnapshot', 'ImageEncoding', 'IngestPlan',
    'LatestFrameMailbox', 'MatchedFrame', 'Nick', 'OutputKind', 'OutputPlan', 'OutputSpec',
    'RtspCredentials', 'STATE_COLOURS', 'SourceKind', 'SourceSpec', 'SpecError', 'StampMapper',
    'StampMatcher', 'StreamHealth', 'Watchdog', 'choose_converter', 'choose_decoder',
    'choose_encoder', 'draw_overlay', 'parse_source', 'plan_ingest', 'plan_output',
    'redact_url',
]
