"""The output side: encode RGB frames and send them (RTP/UDP or file).

:class:`OutputStream` builds its pipeline from an
:class:`~samurai_tracker.bridge.plans.OutputPlan` when the first frame arrives (the caps
need the frame size), pushes frames into its ``appsrc`` with presentation times taken
from the frame stamps (so the stream keeps the camera's timing, gaps included), and
recovers from pipeline errors by rebuilding after a backoff, without blocking the caller:
frames pushed while a network encoder is behind are dropped and counted, never queued
without bound (a file output blocks instead: a recording loses nothing). A file output
is finalised (EOS, muxer index written) on :meth:`close`.

The RTSP server output, which shares the same plans and the same :meth:`push` contract,
lives in :mod:`samurai_tracker.bridge.rtsp_output`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Optional, Tuple

import numpy as np
import numpy.typing as npt

from samurai_tracker.bridge.backoff import Backoff, BackoffPolicy
from samurai_tracker.bridge.elements import ElementError, ElementRegistry
from samurai_tracker.bridge.gst_build import build_output_pipeline, gst_init, probe_registry
from samurai_tracker.bridge.plans import OutputPlan, plan_output
from samurai_tracker.bridge.specs import OutputKind, OutputSpec

__all__ = ['OutputStream', 'check_rgb']

LogFn = Callable[[str, str], None]
_logger = logging.getLogger(__name__)


def _default_log(level: str, text: str) -> None:
    _logger.log({'info': logging.INFO, 'warn': logging.WARNING}.get(level, logging.ERROR), text)


def check_rgb(image: npt.NDArray[np.uint8]) -> Tuple[int, int]:
    """Return ``(width, height)`` of an (H, W, 3) uint8 image, else raise ValueError."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'output frames must be (H, W, 3) uint8 RGB, got {image.shape} '
                         f'{image.dtype}')
    return int(image.shape[1]), int(image.shape[0])


class OutputStream:
    """Encode and send frames to UDP or a file.

    Parameters
    ----------
    spec : OutputSpec
        Where to send (kind udp or file).
    fps : float
        Nominal frame rate for the caps (encoder rate control), in (0, 1000].
    registry : ElementRegistry, optional
        Available elements; probed when None.
    backoff : BackoffPolicy
        Delay before rebuilding a failed pipeline.
    log : callable
        ``log(level, text)``.

    """

    def __init__(self, spec: OutputSpec, *, fps: float = 30.0,
                 registry: Optional[ElementRegistry] = None,
                 backoff: BackoffPolicy = BackoffPolicy(), log: LogFn = _default_log) -> None:
        if spec.kind not in (OutputKind.UDP, OutputKind.FILE):
            raise ValueError(f'OutputStream handles udp and file outputs, got {spec.kind.value}')
        self.spec = spec
        self.fps = fps
        self.registry = registry if registry is not None else probe_registry()
        self.plan: Optional[OutputPlan] = None
        self._backoff = Backoff(backoff)
        self._log = log
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._appsrc: Any = None
        self._size: Optional[Tuple[int, int]] = None
        self._first_stamp: Optional[int] = None
        self._last_pts = -1
        self._retry_at = 0.0
        self.frames_sent = 0
        self.drops = 0
        self.errors = 0
        self.last_error = ''
        # Validate the plan now (with a placeholder size) so a missing encoder fails early.
        plan_output(spec, 64, 64, fps, self.registry)

    def _start(self, width: int, height: int) -> None:
        gst = gst_init()
        self.plan = plan_output(self.spec, width, height, self.fps, self.registry)
        pipeline, appsrc = build_output_pipeline(self.plan)
        if pipeline.set_state(gst.State.PLAYING) == gst.StateChangeReturn.FAILURE:
            pipeline.set_state(gst.State.NULL)
            raise ElementError(f'cannot start the output pipeline ({self.spec.describe()})')
        self._pipeline, self._appsrc = pipeline, appsrc
        self._log('info', f'output: {self.spec.describe()}: {self.plan.describe()}')

    def _teardown(self) -> None:
        if self._pipeline is not None:
            self._pipeline.set_state(gst_init().State.NULL)
        self._pipeline = self._appsrc = None

    def _check_bus(self) -> None:
        gst = gst_init()
        bus = self._pipeline.get_bus()
        while True:
            message = bus.pop_filtered(gst.MessageType.ERROR | gst.MessageType.WARNING)
            if message is None:
                return
            if message.type == gst.MessageType.WARNING:
                warning, _ = message.parse_warning()
                self._log('warn', f'output {message.src.get_name()}: {warning.message}')
                continue
            error, _ = message.parse_error()
            raise ElementError(f'{message.src.get_name()}: {error.message}')

    def push(self, image: npt.NDArray[np.uint8], stamp_ns: int) -> bool:
        """Encode and send one RGB frame; return whether it was accepted.

        A frame is refused (False, counted in ``drops``) while the pipeline waits to be
        rebuilt after an error, while the encoder queue is full, or when its size differs
        from the first frame's (the caps are fixed; the reason goes to the log once).

        Raises
        ------
        ValueError
            When ``image`` is not (H, W, 3) uint8.

        """
        gst = gst_init()
        size = check_rgb(image)
        with self._lock:
            if self._size is None:
                self._size = size
            elif size != self._size:
                self.drops += 1
                if self.last_error != 'size':
                    self._log('error', f'output frame size changed from {self._size} to {size};'
                                       ' the encoder caps are fixed, restart the node to change')
                    self.last_error = 'size'
                return False
            try:
                if self._pipeline is None:
                    if time.monotonic() < self._retry_at:
                        self.drops += 1
                        return False
                    self._start(*size)
                self._check_bus()
            except ElementError as error:
                self._fail(str(error))
                return False
            if self.spec.kind is not OutputKind.FILE and \
                    self._appsrc.get_property('current-level-bytes') > \
                    self._appsrc.get_property('max-bytes'):
                self.drops += 1
                return False
            if self._first_stamp is None:
                self._first_stamp = stamp_ns
            pts = max(stamp_ns - self._first_stamp, self._last_pts + 1)
            self._last_pts = pts
            buffer = gst.Buffer.new_wrapped(np.ascontiguousarray(image).tobytes())
            buffer.pts = pts
            buffer.dts = pts
            buffer.duration = int(1e9 / self.fps)
            result = self._appsrc.emit('push-buffer', buffer)
            if result != gst.FlowReturn.OK:
                self._fail(f'output pipeline refused a frame ({result.value_nick})')
                return False
            self.frames_sent += 1
            self._backoff.reset()
            return True

    def _fail(self, reason: str) -> None:
        self.errors += 1
        self.last_error = reason
        self._teardown()
        delay = self._backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        self._log('error', f'output {self.spec.describe()}: {reason}; rebuilding in {delay:.2f} s')

    def close(self, timeout_s: float = 5.0) -> None:
        """Finish the stream: send EOS (so a file gets its index) and release the pipeline."""
        gst = gst_init()
        with self._lock:
            if self._pipeline is None:
                return
            self._appsrc.emit('end-of-stream')
            bus = self._pipeline.get_bus()
            bus.timed_pop_filtered(int(timeout_s * 1e9),
                                   gst.MessageType.EOS | gst.MessageType.ERROR)
            self._teardown()
