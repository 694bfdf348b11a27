"""Element choice by probing the GStreamer registry: NVIDIA hardware where present.

The bridge never assumes which plugins exist. It asks an :class:`ElementRegistry` (the set
of available element factory names) and picks, per stage, the first candidate present:

=============  ================================  ==========================================
stage          Jetson / DeepStream (hardware)    software fallback
=============  ================================  ==========================================
H.264 decode   ``nvv4l2decoder`` (NVDEC)         ``avdec_h264`` (libav), ``openh264dec``
H.265 decode   ``nvv4l2decoder`` (NVDEC)         ``avdec_h265`` (libav), ``libde265dec``
NVMM -> host   ``nvvidconv`` or                  (not needed)
               ``nvvideoconvert`` (VIC)
host -> NVMM   ``nvvidconv`` / ``nvvideoconvert``  (not needed)
H.264 encode   ``nvv4l2h264enc`` (NVENC)         ``x264enc`` (tune=zerolatency),
                                                 ``openh264enc``
H.265 encode   ``nvv4l2h265enc`` (NVENC)         ``x265enc`` (tune=zerolatency)
CSI camera     ``nvarguscamerasrc`` (ISP)        none: a CSI source needs a Jetson
=============  ================================  ==========================================

In production the registry is filled by probing ``Gst.ElementFactory.find`` for every
name in :data:`CANDIDATES` (see :func:`samurai_tracker.bridge.gst_build.probe_registry`);
tests inject a set of names instead, the one seam that lets the Jetson branches be
checked on a machine without NVIDIA plugins.

Element descriptions (:class:`ElementSpec`, :class:`CapsSpec`) are plain data: the
factory name, an instance name and typed property values. They are turned into
``Gst.Element`` objects by ``gst_build``; nothing is ever parsed from a text description.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import FrozenSet, Iterable, Mapping, Optional, Tuple, Union

__all__ = [
    'CANDIDATES',
    'CapsSpec',
    'Choice',
    'ElementError',
    'ElementRegistry',
    'ElementSpec',
    'Nick',
    'choose_converter',
    'choose_decoder',
    'choose_encoder',
]


_TOKEN = re.compile(r'^[A-Za-z0-9_.:\-]{1,64}$')
_MEDIA = re.compile(r'^[a-z]+/[A-Za-z0-9_.+\-]+$')


class ElementError(RuntimeError):
    """A needed GStreamer element is missing; the message names the package to install."""


@dataclass(frozen=True)
class Nick:
    """An enum or flags property value given by its nick (e.g. ``tune=zerolatency``).

    Only constants written in this package are ever wrapped in ``Nick``; user values never
    are, so no parameter reaches GStreamer's string deserialiser.
    """

    value: str


@dataclass(frozen=True)
class CapsSpec:
    """A single-structure caps description, built field by field (never parsed).

    Parameters
    ----------
    media : str
        Media type, e.g. ``'video/x-raw'``.
    fields : tuple of (str, value)
        Field names and values: str, int, or a ``(num, den)`` tuple for fractions.
    features : str, optional
        A caps feature such as ``'memory:NVMM'`` (Jetson device memory).

    """

    media: str
    fields: Tuple[Tuple[str, Union[str, int, Tuple[int, int]]], ...] = ()
    features: Optional[str] = None

    def to_string(self) -> str:
        """Serialise to GStreamer caps text, validating every token first.

        The GStreamer Python overrides (``Gst.Fraction``) are not available in every
        environment, so caps are handed to ``Gst.Caps.from_string``; this is safe because
        every token is checked here: names and string values are plain identifiers, numbers
        are formatted from ints, and nothing can add a field or a structure.

        Raises
        ------
        ValueError
            When a name or value is not a plain token or a number is out of range.

        """
        if not _MEDIA.match(self.media):
            raise ValueError(f'caps media type must look like video/x-raw, got {self.media!r}')
        if self.features is not None and not _TOKEN.match(self.features):
            raise ValueError(f'caps feature must be a plain token, got {self.features!r}')
        parts = [self.media + (f'({self.features})' if self.features else '')]
        for key, value in self.fields:
            if not _TOKEN.match(key):
                raise ValueError(f'caps field name must be a plain token, got {key!r}')
            if isinstance(value, tuple):
                num, den = (int(v) for v in value)
                if num < 0 or den <= 0:
                    raise ValueError(f'caps fraction {key} must be num >= 0, den > 0, got {value}')
                parts.append(f'{key}=(fraction){num}/{den}')
            elif isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ValueError(f'caps field {key} must be str, int or (num, den), got {value!r}')
            elif isinstance(value, int):
                if not 0 <= value <= 2 ** 31 - 1:
                    raise ValueError(f'caps field {key} must lie in [0, 2^31), got {value}')
                parts.append(f'{key}=(int){value}')
            else:
                if not _TOKEN.match(value):
                    raise ValueError(f'caps field {key} must be a plain token, got {value!r}')
                parts.append(f'{key}=(string){value}')
        return ', '.join(parts)

    def describe(self) -> str:
        """Human-readable caps text (for logs)."""
        media = self.media + (f'({self.features})' if self.features else '')
        parts = []
        for key, value in self.fields:
            text = f'{value[0]}/{value[1]}' if isinstance(value, tuple) else str(value)
            parts.append(f'{key}={text}')
        return ','.join([media] + parts)


PropValue = Union[bool, int, float, str, Nick, CapsSpec]


@dataclass(frozen=True)
class ElementSpec:
    """One element to create: factory, instance name and property values.

    Parameters
    ----------
    factory : str
        GStreamer element factory name.
    name : str
        Instance name inside the pipeline (unique within it).
    props : tuple of (str, PropValue)
        Properties in the order they are set.

    """

    factory: str
    name: str
    props: Tuple[Tuple[str, PropValue], ...] = ()

    @classmethod
    def of(cls, factory: str, name: str, **props: PropValue) -> 'ElementSpec':
        """Make a spec from keyword properties (``_`` becomes ``-``; a trailing ``_`` goes)."""
        return cls(factory, name,
                   tuple((k.rstrip('_').replace('_', '-'), v) for k, v in props.items()))

    def prop(self, key: str) -> Optional[PropValue]:
        """Return the value of property ``key``, or None when it is not set."""
        return dict(self.props).get(key)

    def describe(self) -> str:
        """``gst-launch``-like text for logs and docs (never parsed back)."""
        if self.factory == 'capsfilter':
            caps = self.prop('caps')
            return caps.describe() if isinstance(caps, CapsSpec) else 'capsfilter'
        shown = []
        for key, value in self.props:
            if self.factory == 'rtspsrc' and key == 'user-pw':
                value = '***'
            text: object = value
            if isinstance(value, Nick):
                text = value.value
            elif isinstance(value, CapsSpec):
                text = f'"{value.describe()}"'
            if isinstance(text, bool):
                text = str(text).lower()
            shown.append(f'{key}={text}')
        return ' '.join([self.factory] + shown)


#: Every factory name a chooser may ask for (what production probing checks).
CANDIDATES: Tuple[str, ...] = (
    'nvv4l2decoder', 'nvvidconv', 'nvvideoconvert', 'nvv4l2h264enc', 'nvv4l2h265enc',
    'nvarguscamerasrc', 'avdec_h264', 'avdec_h265', 'openh264dec', 'libde265dec',
    'x264enc', 'x265enc', 'openh264enc', 'h264parse', 'h265parse', 'qtdemux',
    'matroskademux', 'parsebin', 'decodebin', 'rtspsrc', 'rtph264depay', 'rtph265depay',
    'rtph264pay', 'rtph265pay', 'udpsink', 'filesrc', 'filesink', 'v4l2src',
    'videotestsrc', 'videoconvert', 'capsfilter', 'appsrc', 'appsink', 'mp4mux',
    'matroskamux', 'mpegtsmux', 'queue',
)


class ElementRegistry:
    """The set of element factories available on this machine.

    Parameters
    ----------
    available : iterable of str
        Factory names that exist (probed, or injected by tests).

    """

    def __init__(self, available: Iterable[str]) -> None:
        self.available: FrozenSet[str] = frozenset(available)

    def has(self, factory: str) -> bool:
        """Whether ``factory`` exists."""
        return factory in self.available

    def first(self, candidates: Iterable[str]) -> Optional[str]:
        """Return the first of ``candidates`` that exists, or None."""
        return next((c for c in candidates if c in self.available), None)

    def require(self, factory: str, package: str) -> str:
        """Return ``factory`` if present, else raise ElementError naming ``package``."""
        if factory not in self.available:
            raise ElementError(f'GStreamer element {factory!r} is missing; install {package}')
        return factory

    @property
    def hardware(self) -> bool:
        """Whether the NVIDIA V4L2 codec elements are present (a Jetson/DeepStream host)."""
        return self.has('nvv4l2decoder') or self.has('nvv4l2h264enc')


@dataclass(frozen=True)
class Choice:
    """A chosen element chain for one stage and why.

    Parameters
    ----------
    elements : tuple of ElementSpec
        The chain, upstream first.
    hardware : bool
        Whether it runs on the NVIDIA codec/VIC engines.
    reason : str
        One line for the start-up log.

    """

    elements: Tuple[ElementSpec, ...]
    hardware: bool
    reason: str


_SW_DECODERS: Mapping[str, Tuple[str, ...]] = {
    'h264': ('avdec_h264', 'openh264dec'),
    'h265': ('avdec_h265', 'libde265dec'),
}
_SW_ENCODERS: Mapping[str, Tuple[str, ...]] = {
    'h264': ('x264enc', 'openh264enc'),
    'h265': ('x265enc',),
}


def _check_codec(codec: str) -> None:
    if codec not in ('h264', 'h265'):
        raise ValueError(f"codec must be 'h264' or 'h265', got {codec!r}")


def choose_converter(registry: ElementRegistry) -> Optional[str]:
    """Return the VIC converter present: ``nvvidconv`` (Jetson) or ``nvvideoconvert``."""
    return registry.first(('nvvidconv', 'nvvideoconvert'))


def choose_decoder(codec: str, registry: ElementRegistry, prefix: str = 'dec') -> Choice:
    """Choose the decoder chain for ``codec`` ('h264' or 'h265').

    Returns ``nvv4l2decoder`` followed by the VIC converter and RGBA host-memory caps when
    both exist (NVMM frames must be copied to host memory for the appsink), else the
    libav software decoder.

    Raises
    ------
    ElementError
        When no decoder for ``codec`` exists.

    """
    _check_codec(codec)
    converter = choose_converter(registry)
    if registry.has('nvv4l2decoder') and converter is not None:
        return Choice((
            ElementSpec.of('nvv4l2decoder', f'{prefix}_decoder'),
            ElementSpec.of(converter, f'{prefix}_nvconv'),
            ElementSpec.of('capsfilter', f'{prefix}_hostcaps',
                           caps=CapsSpec('video/x-raw', (('format', 'RGBA'),))),
        ), True, f'{codec} decode on NVDEC (nvv4l2decoder ! {converter} -> RGBA host memory)')
    software = registry.first(_SW_DECODERS[codec])
    if software is None:
        raise ElementError(f'no {codec} decoder found (tried nvv4l2decoder, '
                           f'{", ".join(_SW_DECODERS[codec])}); install gstreamer1.0-libav')
    return Choice((ElementSpec.of(software, f'{prefix}_decoder'),), False,
                  f'{codec} decode in software ({software}); no nvv4l2decoder+VIC converter')


def choose_encoder(codec: str, registry: ElementRegistry, bitrate_kbps: int,
                   keyframe_interval: int) -> Choice:
    """Choose the encoder chain for ``codec``, fed with host-memory raw video.

    Hardware: ``nvvidconv`` to NV12 in NVMM, then ``nvv4l2h26Xenc`` (CBR, SPS/PPS with
    every IDR so receivers can join mid-stream, no B-frames). Software: ``videoconvert``
    to I420, then ``x264enc``/``x265enc`` tuned for zero latency (no look-ahead, no
    B-frames) at the ultrafast preset.

    Raises
    ------
    ElementError
        When no encoder for ``codec`` exists.

    """
    _check_codec(codec)
    hw_name = f'nvv4l2{codec}enc'
    converter = choose_converter(registry)
    if registry.has(hw_name) and converter is not None:
        return Choice((
            ElementSpec.of(converter, 'enc_nvconv'),
            ElementSpec.of('capsfilter', 'enc_nvcaps',
                           caps=CapsSpec('video/x-raw', (('format', 'NV12'),), 'memory:NVMM')),
            ElementSpec.of(hw_name, 'encoder', bitrate=bitrate_kbps * 1000, control_rate=1,
                           insert_sps_pps=True, idrinterval=keyframe_interval,
                           iframeinterval=keyframe_interval, maxperf_enable=True),
        ), True, f'{codec} encode on NVENC ({converter} -> NV12 NVMM ! {hw_name})')
    software = registry.first(_SW_ENCODERS[codec])
    if software is None:
        raise ElementError(f'no {codec} encoder found (tried {hw_name}, '
                           f'{", ".join(_SW_ENCODERS[codec])}); install '
                           'gstreamer1.0-plugins-ugly (x264enc) or gstreamer1.0-plugins-bad')
    convert = (ElementSpec.of('videoconvert', 'enc_convert'),
               ElementSpec.of('capsfilter', 'enc_caps',
                              caps=CapsSpec('video/x-raw', (('format', 'I420'),))))
    if software == 'openh264enc':
        encoder = ElementSpec.of(software, 'encoder', bitrate=bitrate_kbps * 1000,
                                 gop_size=keyframe_interval)
    else:
        encoder = ElementSpec.of(software, 'encoder', bitrate=bitrate_kbps,
                                 tune=Nick('zerolatency'), speed_preset=Nick('ultrafast'),
                                 key_int_max=keyframe_interval)
    return Choice(convert + (encoder,), False,
                  f'{codec} encode in software ({software}); no {hw_name}+VIC converter')
