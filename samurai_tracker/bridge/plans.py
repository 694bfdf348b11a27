"""Pipeline plans: which elements, in which order, with which properties (pure data).

A plan is what :mod:`samurai_tracker.bridge.gst_build` instantiates; building it needs no
GStreamer, so every branch (file containers, RTSP, V4L2, CSI, test pattern; hardware or
software codecs; UDP, RTSP or file output) is unit-tested by injecting an
:class:`~samurai_tracker.bridge.elements.ElementRegistry`.

Ingest plans have three parts::

    head                      branches (one is linked per stream)      tail
    filesrc ! qtdemux  ~~>  video/x-h264: h264parse ! <decoder...>  ! videoconvert ! caps ! appsink
                            video/x-h265: h265parse ! <decoder...>

``~~>`` is a dynamic link made when the demuxer (``qtdemux``, ``matroskademux``,
``parsebin``, ``rtspsrc``, ``decodebin``) exposes a pad; the branch is picked by the pad's
caps (:meth:`IngestPlan.branch_for`). Raw ``.h264``/``.h265`` files, CSI cameras and test
patterns link statically.

Output plans are one chain: ``appsrc ! <encoder chain> ! parser ! <payloader ! udpsink |
muxer ! filesink>``; for an RTSP server the chain ends at the payloader named ``pay0`` and
the server builds one such pipeline per shared media.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from samurai_tracker.bridge.elements import (
    CapsSpec, choose_converter, choose_decoder, choose_encoder, ElementError,
    ElementRegistry, ElementSpec, Nick)
from samurai_tracker.bridge.frames import ImageEncoding
from samurai_tracker.bridge.specs import Container, OutputKind, OutputSpec, SourceKind, SourceSpec

__all__ = ['IngestPlan', 'OutputPlan', 'plan_ingest', 'plan_output']

#: Branch key of a raw (already decoded) stream, e.g. a V4L2 camera behind decodebin.
RAW = 'video/x-raw'


@dataclass(frozen=True)
class IngestPlan:
    """The ingest pipeline of one source.

    Parameters
    ----------
    head : tuple of ElementSpec
        Source elements, linked statically in order.
    dynamic : bool
        Whether the last head element exposes its output pads at run time.
    branches : tuple of (str, tuple of ElementSpec)
        Per-stream chains keyed by caps name (``'video/x-h264'``) or, for RTP, by
        ``'application/x-rtp:H264'``; a static plan has exactly one branch.
    tail : tuple of ElementSpec
        Conversion to the published encoding and the ``appsink`` named ``frames``.
    notes : tuple of str
        Why each element was chosen (start-up log).

    """

    head: Tuple[ElementSpec, ...]
    dynamic: bool
    branches: Tuple[Tuple[str, Tuple[ElementSpec, ...]], ...]
    tail: Tuple[ElementSpec, ...]
    notes: Tuple[str, ...] = ()

    def branch_for(self, caps_name: str, encoding_name: str = '') -> Optional[str]:
        """Key of the branch for a pad with ``caps_name`` (and RTP ``encoding_name``)."""
        key = f'{caps_name}:{encoding_name.upper()}' if caps_name == 'application/x-rtp' \
            else caps_name
        return key if key in dict(self.branches) else None

    def branch(self, key: str) -> Tuple[ElementSpec, ...]:
        """Return the chain of branch ``key``."""
        return dict(self.branches)[key]

    def factories(self) -> Tuple[str, ...]:
        """Every factory name the plan may create (head, all branches, tail)."""
        names = [e.factory for e in self.head]
        for _, chain in self.branches:
            names += [e.factory for e in chain]
        return tuple(names + [e.factory for e in self.tail])

    def describe(self) -> str:
        """``gst-launch``-like text of the plan (for logs and the README; never parsed)."""
        head = ' ! '.join(e.describe() for e in self.head)
        tail = ' ! '.join(e.describe() for e in self.tail)
        if not self.dynamic:
            chain = self.branches[0][1] if self.branches else ()
            return ' ! '.join([head] + [e.describe() for e in chain] + [tail])
        branches = ' | '.join(f'[{key}: ' + ' ! '.join(e.describe() for e in chain) + ']'
                              for key, chain in self.branches)
        return f'{head} ~~> {branches} ! {tail}'


def _decode_branch(codec: str, registry: ElementRegistry, prefix: str,
                   depay: bool) -> Tuple[Tuple[ElementSpec, ...], str]:
    parser = registry.require(f'{codec}parse', 'gstreamer1.0-plugins-bad')
    chain: Tuple[ElementSpec, ...] = ()
    if depay:
        depayloader = registry.require(f'rtp{codec}depay', 'gstreamer1.0-plugins-good')
        chain += (ElementSpec.of(depayloader, f'{prefix}_depay'),)
    choice = choose_decoder(codec, registry, prefix)
    chain += (ElementSpec.of(parser, f'{prefix}_parse'),) + choice.elements
    return chain, choice.reason


def _raw_caps(name: str, spec: SourceSpec, features: Optional[str] = None,
              fmt: Optional[str] = None) -> ElementSpec:
    fields: list = []
    if fmt:
        fields.append(('format', fmt))
    if spec.width:
        fields += [('width', spec.width), ('height', spec.height)]
    if spec.fps:
        fields.append(('framerate', (int(round(spec.fps * 1000)), 1000)))
    return ElementSpec.of('capsfilter', name, caps=CapsSpec('video/x-raw', tuple(fields),
                                                            features))


def plan_ingest(spec: SourceSpec, encoding: ImageEncoding,
                registry: ElementRegistry) -> IngestPlan:
    """Plan the ingest pipeline of ``spec`` that delivers ``encoding`` frames.

    Raises
    ------
    ElementError
        When an element the source needs is missing (e.g. a CSI source off a Jetson).
    ValueError
        For a ``none`` source (there is nothing to ingest).

    """
    encoding = ImageEncoding(encoding)
    codecs = ('h264', 'h265')
    notes = []
    branches = []
    head: Tuple[ElementSpec, ...]
    dynamic = True
    if spec.kind is SourceKind.NONE:
        raise ValueError('a none source has no ingest pipeline')
    if spec.kind is SourceKind.FILE:
        filesrc = ElementSpec.of('filesrc', 'source', location=spec.location)
        if spec.container in (Container.H264, Container.H265):
            codec = spec.container.value
            chain, note = _decode_branch(codec, registry, codec, depay=False)
            head, dynamic = (filesrc,), False
            branches.append((f'video/x-{codec}', chain))
            notes.append(note)
        else:
            demuxer = {Container.MP4: ('qtdemux', 'gstreamer1.0-plugins-good'),
                       Container.MKV: ('matroskademux', 'gstreamer1.0-plugins-good'),
                       Container.AUTO: ('parsebin', 'gstreamer1.0-plugins-base')}
            factory, package = demuxer[spec.container]
            head = (filesrc, ElementSpec.of(registry.require(factory, package), 'demux'))
            for codec in codecs:
                chain, note = _decode_branch(codec, registry, codec, depay=False)
                branches.append((f'video/x-{codec}', chain))
                notes.append(note)
    elif spec.kind is SourceKind.RTSP:
        registry.require('rtspsrc', 'gstreamer1.0-plugins-good')
        props: dict = dict(location=spec.location, latency=spec.rtsp_latency_ms,
                           protocols=4 if spec.rtsp_tcp else 7, tcp_timeout=5_000_000,
                           timeout=5_000_000, drop_on_latency=True)
        if spec.credentials is not None:
            props.update(user_id=spec.credentials.user, user_pw=spec.credentials.password)
        head = (ElementSpec.of('rtspsrc', 'source', **props),)
        for codec in codecs:
            chain, note = _decode_branch(codec, registry, codec, depay=True)
            branches.append((f'application/x-rtp:{codec.upper()}', chain))
            notes.append(note)
    elif spec.kind is SourceKind.V4L2:
        registry.require('v4l2src', 'gstreamer1.0-plugins-good')
        head = (ElementSpec.of('v4l2src', 'source', device=spec.location),)
        if spec.width or spec.fps:
            head += (_raw_caps('source_caps', spec),)
        head += (ElementSpec.of(registry.require('decodebin', 'gstreamer1.0-plugins-base'),
                                'demux'),)
        branches.append((RAW, ()))
        notes.append('V4L2 camera: raw or MJPEG frames through decodebin')
    elif spec.kind is SourceKind.CSI:
        registry.require('nvarguscamerasrc', 'the NVIDIA Jetson multimedia API '
                         '(nvarguscamerasrc exists only on Jetson); use a V4L2 or RTSP source '
                         'elsewhere')
        converter = choose_converter(registry)
        if converter is None:
            raise ElementError('a CSI source needs nvvidconv or nvvideoconvert to copy NVMM '
                               'frames to host memory; install the Jetson GStreamer plugins')
        head = (ElementSpec.of('nvarguscamerasrc', 'source', sensor_id=spec.sensor_id),
                _raw_caps('source_caps', spec, 'memory:NVMM', 'NV12'),
                ElementSpec.of(converter, 'source_nvconv'),
                ElementSpec.of('capsfilter', 'source_hostcaps',
                               caps=CapsSpec('video/x-raw', (('format', 'RGBA'),))))
        dynamic = False
        branches.append((RAW, ()))
        notes.append(f'CSI camera through the ISP (nvarguscamerasrc ! {converter})')
    else:  # TEST
        head = (ElementSpec.of('videotestsrc', 'source', pattern=Nick(spec.pattern),
                               is_live=spec.realtime),
                _raw_caps('source_caps', spec))
        dynamic = False
        branches.append((RAW, ()))
        notes.append(f'test pattern {spec.pattern}')
    # The appsink never drops: the ingest thread pulls every sample and hands it on; for
    # live sources the node's hand-off is a latest-wins mailbox that counts what it drops.
    sync = spec.realtime and spec.kind in (SourceKind.FILE, SourceKind.TEST)
    tail = (
        ElementSpec.of('videoconvert', 'convert'),
        ElementSpec.of('capsfilter', 'format',
                       caps=CapsSpec('video/x-raw', (('format', encoding.gst_format),))),
        ElementSpec.of('appsink', 'frames', sync=sync, emit_signals=False,
                       max_buffers=2, drop=False, enable_last_sample=False),
    )
    return IngestPlan(head, dynamic, tuple(branches), tail, tuple(notes))


@dataclass(frozen=True)
class OutputPlan:
    """The output (encode and send) pipeline.

    Parameters
    ----------
    elements : tuple of ElementSpec
        The whole chain from the ``appsrc`` named ``frames`` to the sink (or to the
        payloader ``pay0`` for an RTSP server).
    hardware : bool
        Whether encoding runs on NVENC.
    notes : tuple of str
        Why each element was chosen.

    """

    elements: Tuple[ElementSpec, ...]
    hardware: bool
    notes: Tuple[str, ...] = ()

    def factories(self) -> Tuple[str, ...]:
        """Every factory name in the plan."""
        return tuple(e.factory for e in self.elements)

    def describe(self) -> str:
        """``gst-launch``-like text of the plan (never parsed)."""
        return ' ! '.join(e.describe() for e in self.elements)


def plan_output(spec: OutputSpec, width: int, height: int, fps: float,
                registry: ElementRegistry) -> OutputPlan:
    """Plan the output pipeline for ``width`` x ``height`` RGB frames at about ``fps``.

    ``fps`` only sets the nominal rate in the caps (encoder rate control); buffer times
    come from the frame stamps. A file output blocks the caller while the encoder is
    behind (nothing is lost); network outputs never block (late frames are dropped).

    Raises
    ------
    ValueError
        For a ``none`` output or a frame size out of range.
    ElementError
        When a needed element is missing.

    """
    if spec.kind is OutputKind.NONE:
        raise ValueError('a none output has no pipeline')
    if not (16 <= width <= 16384 and 16 <= height <= 16384):
        raise ValueError(f'output frame size must lie in [16, 16384] px, got {width}x{height}')
    if not 0.0 < fps <= 1000.0:
        raise ValueError(f'output fps must lie in (0, 1000], got {fps}')
    codec = spec.codec
    caps = CapsSpec('video/x-raw', (('format', 'RGB'), ('width', width), ('height', height),
                                    ('framerate', (int(round(fps * 1000)), 1000))))
    source = ElementSpec.of('appsrc', 'frames', caps=caps, format=Nick('time'),
                            is_live=True, do_timestamp=spec.kind is OutputKind.RTSP,
                            block=spec.kind is OutputKind.FILE,
                            max_bytes=width * height * 3 * 4)
    choice = choose_encoder(codec, registry, spec.bitrate_kbps, spec.keyframe_interval)
    parser = registry.require(f'{codec}parse', 'gstreamer1.0-plugins-bad')
    chain = (source,) + choice.elements
    if spec.kind in (OutputKind.UDP, OutputKind.RTSP):
        payloader = registry.require(f'rtp{codec}pay', 'gstreamer1.0-plugins-good')
        chain += (ElementSpec.of(parser, 'parse'),
                  ElementSpec.of(payloader, 'pay0', config_interval=1, pt=96))
        if spec.kind is OutputKind.UDP:
            chain += (ElementSpec.of(registry.require('udpsink', 'gstreamer1.0-plugins-good'),
                                     'sink', host=spec.host, port=spec.port, sync=False,
                                     async_=False),)
    else:
        suffix = spec.path.lower().rsplit('.', 1)[-1]
        muxer = {'mp4': 'mp4mux', 'mkv': 'matroskamux', 'ts': 'mpegtsmux'}.get(suffix)
        if suffix in ('h264', 'h265') and suffix != codec:
            raise ValueError(f'output path {spec.path!r} ends in .{suffix} but the output '
                             f'codec is {codec}; make them agree')
        chain += (ElementSpec.of(parser, 'parse'),)
        if muxer is not None:
            chain += (ElementSpec.of(registry.require(muxer, 'gstreamer1.0-plugins-good'),
                                     'mux'),)
        chain += (ElementSpec.of('filesink', 'sink', location=spec.path, sync=False,
                                 async_=False),)
    return OutputPlan(chain, choice.hardware, (choice.reason,))
