"""The ingest side: run the source pipeline, deliver frames, recover from failures.

:class:`Ingest` owns one GStreamer pipeline built from an
:class:`~samurai_tracker.bridge.plans.IngestPlan` and one thread that pulls decoded
samples from its ``appsink``, polls the bus and watches the frame watchdog. It never
blocks the caller and never gives up:

* a bus **error**, an unexpected **EOS** from a live source, an undecodable stream or a
  silent source (**watchdog**) tears the pipeline down and rebuilds it after a capped
  exponential backoff (:mod:`~samurai_tracker.bridge.backoff`); each rebuild counts as
  a reconnect in :class:`~samurai_tracker.bridge.health.StreamHealth`;
* a **file** at its end either loops (flushing seek to 0) or finishes cleanly;
* every frame gets a ROS stamp mapped from its pipeline time
  (:class:`~samurai_tracker.bridge.stamps.StampMapper`) and goes to the consumer callable
  (the frame hand-off seam, :mod:`~samurai_tracker.bridge.frames`).

The consumer runs on the ingest thread: a blocking consumer back-pressures the decoder
(what a file wants: nothing lost); a live source should use a non-blocking consumer such
as :class:`~samurai_tracker.bridge.frames.LatestFrameMailbox`.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from typing import Any, Callable, Optional, Tuple

import numpy as np

from samurai_tracker.bridge.backoff import Backoff, BackoffPolicy
from samurai_tracker.bridge.elements import ElementError, ElementRegistry
from samurai_tracker.bridge.frames import Frame, FrameConsumer, ImageEncoding
from samurai_tracker.bridge.gst_build import build_ingest, gst_init, probe_registry
from samurai_tracker.bridge.health import StreamHealth
from samurai_tracker.bridge.plans import IngestPlan, plan_ingest
from samurai_tracker.bridge.specs import SourceKind, SourceSpec
from samurai_tracker.bridge.stamps import StampMapper
from samurai_tracker.bridge.watchdog import Watchdog

__all__ = ['Ingest', 'IngestState', 'LogFn', 'sample_to_array']

#: ``log(level, text)`` with level one of 'info', 'warn', 'error'.
LogFn = Callable[[str, str], None]

_logger = logging.getLogger(__name__)


def _default_log(level: str, text: str) -> None:
    _logger.log({'info': logging.INFO, 'warn': logging.WARNING}.get(level, logging.ERROR), text)


class IngestState(str, enum.Enum):
    """Where the ingest loop is."""

    STOPPED = 'stopped'
    CONNECTING = 'connecting'
    STREAMING = 'streaming'
    BACKOFF = 'backoff'
    FINISHED = 'finished'


def sample_to_array(sample: Any, channels: int) -> np.ndarray:
    """Copy a raw-video ``Gst.Sample`` into an (H, W, C) or (H, W) uint8 array.

    Rows are padded to 4 bytes by GStreamer for packed 3-byte and 1-byte formats; the
    padding is removed here using the stride from ``GstVideo.VideoInfo``.
    """
    from gi.repository import GstVideo

    gst = gst_init()
    info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
    width, height, stride = info.width, info.height, info.stride[0]
    buffer = sample.get_buffer()
    ok, mapping = buffer.map(gst.MapFlags.READ)
    if not ok:
        raise ElementError('cannot map a decoded GStreamer buffer for reading')
    try:
        data = np.frombuffer(mapping.data, dtype=np.uint8)
    finally:
        buffer.unmap(mapping)
    if data.size < stride * height:
        raise ElementError(f'decoded buffer holds {data.size} bytes, expected stride {stride} '
                           f'x height {height}')
    rows = data[:stride * height].reshape(height, stride)[:, :width * channels]
    image = np.ascontiguousarray(rows)
    return image if channels == 1 else image.reshape(height, width, channels)


class Ingest:
    """Run a source until stopped, delivering :class:`Frame` objects to ``consumer``.

    Parameters
    ----------
    spec : SourceSpec
        What to read.
    consumer : callable
        Called with every :class:`Frame`, on the ingest thread.
    encoding : ImageEncoding
        Pixel layout of delivered frames.
    registry : ElementRegistry, optional
        Available elements; probed from GStreamer when None.
    backoff : BackoffPolicy
        Reconnect delays.
    watchdog_s : float
        Seconds without a frame (also right after a (re)start) before the source is
        restarted; > 0.
    health : StreamHealth, optional
        Counters to update (a new one when None).
    now_ns : callable
        ROS time source (ns); the node passes its clock, tests ``time.time_ns``.
    log : callable
        ``log(level, text)``; defaults to the ``logging`` module.

    Raises
    ------
    ElementError, ValueError
        When the plan cannot be made (missing element, ``none`` source): at construction,
        so a misconfigured node fails at start-up with the reason.

    """

    def __init__(self, spec: SourceSpec, consumer: FrameConsumer, *,
                 encoding: ImageEncoding = ImageEncoding.RGB8,
                 registry: Optional[ElementRegistry] = None,
                 backoff: BackoffPolicy = BackoffPolicy(), watchdog_s: float = 5.0,
                 health: Optional[StreamHealth] = None,
                 now_ns: Callable[[], int] = time.time_ns, log: LogFn = _default_log) -> None:
        self.spec = spec
        self.encoding = ImageEncoding(encoding)
        self.registry = registry if registry is not None else probe_registry()
        self.plan: IngestPlan = plan_ingest(spec, self.encoding, self.registry)
        self.health = health if health is not None else StreamHealth(stale_after_s=watchdog_s)
        self.stamps = StampMapper()
        self._consumer = consumer
        self._backoff = Backoff(backoff)
        self._watchdog = Watchdog(watchdog_s)
        self._now_ns = now_ns
        self._log = log
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._unsupported: Optional[str] = None
        self.state = IngestState.STOPPED
        self.frames = 0
        self.loops = 0

    # -- public API ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the ingest thread (returns at once)."""
        if self._thread is not None:
            raise RuntimeError('Ingest.start() called twice')
        self._thread = threading.Thread(target=self._run, name='bridge-ingest', daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and release the pipeline."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.state = IngestState.STOPPED

    def wait_finished(self, timeout_s: float) -> bool:
        """Wait until a non-looping file has ended; return whether it did."""
        return self._finished.wait(timeout_s)

    # -- the loop -----------------------------------------------------------------------
    def _run(self) -> None:
        gst = gst_init()
        while not self._stop.is_set():
            self.state = IngestState.CONNECTING
            self._unsupported = None
            outcome: Tuple[str, str]
            pipeline = None
            try:
                pipeline, appsink = build_ingest(self.plan, self._on_unsupported)
                if pipeline.set_state(gst.State.PLAYING) == gst.StateChangeReturn.FAILURE:
                    outcome = ('retry', self._bus_error(pipeline) or
                               f'cannot start {self.spec.describe()}')
                else:
                    self._watchdog.arm(time.monotonic())
                    outcome = self._pump(gst, pipeline, appsink)
            except ElementError as error:
                outcome = ('retry', str(error))
            finally:
                self._watchdog.disarm()
                if pipeline is not None:
                    pipeline.set_state(gst.State.NULL)
            kind, reason = outcome
            if kind == 'finished':
                self.state = IngestState.FINISHED
                self.health.finished()
                self._log('info', f'{self.spec.describe()}: end of file after '
                                  f'{self.frames} frames')
                self._finished.set()
                return
            if kind == 'stop':
                return
            delay = self._backoff.next_delay()
            self.health.reconnect(reason)
            self.state = IngestState.BACKOFF
            self._log('warn', f'{self.spec.describe()}: {reason}; reconnecting in '
                              f'{delay:.2f} s (attempt {self._backoff.attempts})')
            self._stop.wait(delay)

    def _on_unsupported(self, reason: str) -> None:
        self._unsupported = reason

    def _bus_error(self, pipeline: Any) -> Optional[str]:
        gst = gst_init()
        message = pipeline.get_bus().pop_filtered(gst.MessageType.ERROR)
        if message is None:
            return None
        error, _debug = message.parse_error()
        return f'{message.src.get_name()}: {error.message}'

    def _pump(self, gst: Any, pipeline: Any, appsink: Any) -> Tuple[str, str]:
        bus = pipeline.get_bus()
        started = False
        mask = gst.MessageType.ERROR | gst.MessageType.EOS | gst.MessageType.WARNING
        while not self._stop.is_set():
            sample = appsink.try_pull_sample(20 * gst.MSECOND)
            if sample is not None:
                self._deliver(pipeline, sample)
                # appsink reuses its internal sample object only when nobody else holds it.
                del sample
                if not started:
                    started = True
                    self.state = IngestState.STREAMING
                    self._backoff.reset()
            while True:
                message = bus.pop_filtered(mask)
                if message is None:
                    break
                if message.type == gst.MessageType.ERROR:
                    error, debug = message.parse_error()
                    return 'retry', f'{message.src.get_name()}: {error.message}'
                if message.type == gst.MessageType.WARNING:
                    warning, _ = message.parse_warning()
                    self._log('warn', f'{message.src.get_name()}: {warning.message}')
                    continue
                # EOS
                if self.spec.kind is SourceKind.FILE and self.spec.loop:
                    flags = gst.SeekFlags.FLUSH | gst.SeekFlags.KEY_UNIT
                    if not pipeline.seek_simple(gst.Format.TIME, flags, 0):
                        return 'retry', 'cannot seek back to the start of the file to loop'
                    self.loops += 1
                    self._watchdog.feed(time.monotonic())
                elif self.spec.kind.live:
                    return 'retry', 'the live source ended its stream'
                else:
                    return 'finished', 'end of file'
            if self._unsupported is not None:
                return 'retry', self._unsupported
            now = time.monotonic()
            if self._watchdog.expired(now):
                return 'retry', (f'no frame for {self._watchdog.silence(now):.1f} s '
                                 f'(watchdog {self._watchdog.timeout_s:.1f} s)')
        return 'stop', 'stopped'

    def _deliver(self, pipeline: Any, sample: Any) -> None:
        gst = gst_init()
        decoded_ns = time.monotonic_ns()
        image = sample_to_array(sample, self.encoding.channels)
        buffer = sample.get_buffer()
        running = None
        if buffer.pts != gst.CLOCK_TIME_NONE:
            running = sample.get_segment().to_running_time(gst.Format.TIME, buffer.pts)
        clock = pipeline.get_clock()
        stamp = self.stamps.stamp(self._now_ns(), running, pipeline.get_base_time(),
                                  clock.get_time() if clock is not None else None)
        frame = Frame(image, stamp, self.encoding, self.frames, decoded_ns)
        self.frames += 1
        now = time.monotonic()
        self._watchdog.feed(now)
        self.health.frame(now)
        try:
            self._consumer(frame)
        except Exception as error:  # noqa: BLE001 - a consumer bug must not kill ingest
            self.health.error(f'frame consumer failed: {error!r}')
            self._log('error', f'frame consumer failed on frame {frame.index}: {error!r}')
