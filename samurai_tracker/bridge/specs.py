"""What to read and where to send it: validated source and output specifications.

Every string that ends up in a GStreamer element property passes through here first.
Pipelines are built from element objects with typed properties (never from a
``gst-launch`` description), so a parameter cannot add elements or properties; on top of
that each value is checked for what it claims to be (an existing file, an ``rtsp://``
URL, a ``/dev`` path, a host name or IP address, a port in range), so a bad parameter
fails at start-up with a message that says what was expected, not deep inside GStreamer.

Source strings (the ``source`` parameter):

==============================  ===========================================================
``/path/clip.mp4``              file (``file://`` prefix optional): mp4/mov, mkv/webm,
                                raw ``.h264``/``.264``, raw ``.h265``/``.265``/``.hevc``
``rtsp://[user:pw@]host/path``  RTSP camera or server (``rtsps://`` too)
``/dev/video0``                 V4L2 device (``v4l2:///dev/video0`` too)
``csi://0``                     CSI camera by sensor id (Jetson ``nvarguscamerasrc``)
``test://`` / ``test://ball``   GStreamer test pattern (``videotestsrc``)
``none`` or empty               no ingest: the node consumes images from its topic
==============================  ===========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
import enum
import ipaddress
import os
import re
from typing import Optional, Tuple
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    'Container',
    'OutputKind',
    'OutputSpec',
    'RtspCredentials',
    'SourceKind',
    'SourceSpec',
    'SpecError',
    'TEST_PATTERNS',
    'parse_source',
    'redact_url',
]


class SpecError(ValueError):
    """A source or output parameter is invalid; the message says what was expected."""


class SourceKind(str, enum.Enum):
    """Kind of ingest source."""

    NONE = 'none'
    FILE = 'file'
    RTSP = 'rtsp'
    V4L2 = 'v4l2'
    CSI = 'csi'
    TEST = 'test'

    @property
    def live(self) -> bool:
        """Whether the source is live (reconnected on failure rather than ended)."""
        return self in (SourceKind.RTSP, SourceKind.V4L2, SourceKind.CSI, SourceKind.TEST)


class Container(str, enum.Enum):
    """How a file's video is packaged (chosen from the file name extension)."""

    MP4 = 'mp4'
    MKV = 'mkv'
    H264 = 'h264'
    H265 = 'h265'
    AUTO = 'auto'


_EXTENSIONS = {
    '.mp4': Container.MP4, '.mov': Container.MP4, '.m4v': Container.MP4,
    '.mkv': Container.MKV, '.webm': Container.MKV,
    '.h264': Container.H264, '.264': Container.H264, '.avc': Container.H264,
    '.h265': Container.H265, '.265': Container.H265, '.hevc': Container.H265,
}

#: ``videotestsrc`` patterns a ``test://`` source may name.
TEST_PATTERNS = ('smpte', 'ball', 'snow', 'black', 'white', 'red', 'green', 'blue',
                 'checkers-8', 'circular', 'gradient', 'pinwheel', 'colors', 'smpte100')

_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_DEVICE = re.compile(r'^/dev/[A-Za-z0-9_.\-/]+$')
_HOSTNAME = re.compile(r'^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)'
                       r'(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$')
_MOUNT = re.compile(r'^(/[A-Za-z0-9_\-.]+)+$')
_USER = re.compile(r'^[A-Za-z0-9_.\-@]{1,64}$')


def _no_control(text: str, what: str) -> None:
    if _CONTROL.search(text):
        raise SpecError(f'{what} must not contain control characters (newlines, tabs, NUL), '
                        f'got {text!r}')


def check_host(host: str, what: str = 'host') -> str:
    """Return ``host`` if it is an IP address or a DNS host name, else raise SpecError."""
    _no_control(host, what)
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise SpecError(f'{what} must be an IP address or a host name (letters, digits, '
                        f'dots, dashes), got {host!r}')
    return host


def check_port(port: int, what: str = 'port') -> int:
    """Return ``port`` if it lies in [1, 65535], else raise SpecError."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SpecError(f'{what} must be an integer in [1, 65535], got {port!r}')
    return port


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (for logs and diagnostics)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit('@', 1)[1]
    user = parts.username or ''
    return urlunsplit((parts.scheme, f'{user}:***@{netloc}', parts.path, parts.query,
                       parts.fragment))


@dataclass(frozen=True)
class RtspCredentials:
    """A user name and password for RTSP (client login or server authentication).

    Parameters
    ----------
    user : str
        1-64 characters of letters, digits and ``_ . - @``.
    password : str
        Non-empty, without control characters. Never logged (``repr`` hides it).

    """

    user: str
    password: str

    def __post_init__(self) -> None:
        """Validate both fields."""
        if not _USER.match(self.user):
            raise SpecError('RTSP user must be 1-64 letters, digits or _ . - @, '
                            f'got {self.user!r}')
        if not self.password:
            raise SpecError('RTSP password must not be empty')
        _no_control(self.password, 'RTSP password')

    def __repr__(self) -> str:
        """Hide the password."""
        return f'RtspCredentials(user={self.user!r}, password=***)'


@dataclass(frozen=True)
class SourceSpec:
    """A validated ingest source.

    Parameters
    ----------
    kind : SourceKind
    location : str
        File path, RTSP URL without credentials, or device path; empty otherwise.
    container : Container
        For files: how the video is packaged.
    sensor_id : int
        CSI sensor index in [0, 15].
    pattern : str
        Test pattern name (one of :data:`TEST_PATTERNS`).
    credentials : RtspCredentials, optional
        RTSP login taken from the URL.
    width, height : int
        Requested capture size for cameras and test patterns, pixels; 0 = the
        source's default. Files and RTSP streams keep their own size.
    fps : float
        Requested capture rate for cameras and test patterns, frames/s; 0 = default.
    loop : bool
        Files only: start again at the end instead of ending.
    realtime : bool
        Files and test patterns: deliver frames at their native rate (True) or as fast
        as the decoder can (False, for benchmarks and tests).
    rtsp_latency_ms : int
        Jitter buffer of ``rtspsrc``, ms in [0, 10000].
    rtsp_tcp : bool
        Force RTP over the RTSP TCP connection (robust through NAT and lossy links).

    """

    kind: SourceKind
    location: str = ''
    container: Container = Container.AUTO
    sensor_id: int = 0
    pattern: str = 'smpte'
    credentials: Optional[RtspCredentials] = None
    width: int = 0
    height: int = 0
    fps: float = 0.0
    loop: bool = False
    realtime: bool = True
    rtsp_latency_ms: int = 100
    rtsp_tcp: bool = True

    def __post_init__(self) -> None:
        """Validate the fields that every kind shares."""
        object.__setattr__(self, 'kind', SourceKind(self.kind))
        _no_control(self.location, 'source location')
        if not (0 <= self.width <= 16384 and 0 <= self.height <= 16384):
            raise SpecError(f'capture width/height must lie in [0, 16384] px, '
                            f'got {self.width}x{self.height}')
        if (self.width == 0) != (self.height == 0):
            raise SpecError('give both capture width and height, or neither (0 = default)')
        if not 0.0 <= self.fps <= 1000.0:
            raise SpecError(f'capture fps must lie in [0, 1000], got {self.fps}')
        if not 0 <= self.sensor_id <= 15:
            raise SpecError(f'CSI sensor id must lie in [0, 15], got {self.sensor_id}')
        if self.pattern not in TEST_PATTERNS:
            raise SpecError(f'test pattern must be one of {", ".join(TEST_PATTERNS)}, '
                            f'got {self.pattern!r}')
        if not 0 <= self.rtsp_latency_ms <= 10000:
            raise SpecError(f'rtsp latency must lie in [0, 10000] ms, got {self.rtsp_latency_ms}')

    def describe(self) -> str:
        """One-line description for logs (passwords never appear)."""
        if self.kind is SourceKind.CSI:
            return f'csi://{self.sensor_id}'
        if self.kind is SourceKind.TEST:
            return f'test://{self.pattern}'
        if self.kind is SourceKind.RTSP and self.credentials is not None:
            return f'{self.location} (as user {self.credentials.user!r})'
        return f'{self.kind.value}:{self.location}' if self.location else self.kind.value


def _parse_rtsp(text: str) -> Tuple[str, Optional[RtspCredentials]]:
    if re.search(r'\s', text):
        raise SpecError(f'RTSP URL must not contain white space, got {redact_url(text)!r}')
    parts = urlsplit(text)
    if not parts.hostname:
        raise SpecError(f'RTSP URL needs a host, like rtsp://192.168.1.10:554/live; '
                        f'got {redact_url(text)!r}')
    check_host(parts.hostname, 'RTSP host')
    try:
        port = parts.port
    except ValueError:
        raise SpecError(f'RTSP port must be an integer in [1, 65535], '
                        f'got {redact_url(text)!r}') from None
    if port is not None:
        check_port(port, 'RTSP port')
    credentials = None
    if parts.username is not None:
        credentials = RtspCredentials(unquote(parts.username), unquote(parts.password or ''))
    netloc = parts.netloc.rsplit('@', 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, '')), credentials


def parse_source(text: str, *, check_exists: bool = True, **options: object) -> SourceSpec:
    """Parse the ``source`` parameter into a :class:`SourceSpec`.

    Parameters
    ----------
    text : str
        The source string; see the module docstring for the accepted forms.
    check_exists : bool
        Files only: fail when the file does not exist (devices are not checked, because
        a camera that is not plugged in yet is retried with backoff).
    **options
        The other :class:`SourceSpec` fields (width, height, fps, loop, realtime,
        rtsp_latency_ms, rtsp_tcp).

    Raises
    ------
    SpecError
        With the reason and the expected form.

    """
    text = text.strip() if isinstance(text, str) else text
    if not isinstance(text, str):
        raise SpecError(f'source must be a string, got {type(text).__name__}')
    _no_control(text, 'source')
    kw = dict(options)
    lowered = text.lower()
    if lowered in ('', 'none'):
        return SourceSpec(SourceKind.NONE, **kw)  # type: ignore[arg-type]
    if lowered.startswith(('rtsp://', 'rtsps://')):
        url, credentials = _parse_rtsp(text)
        return SourceSpec(SourceKind.RTSP, url, credentials=credentials,
                          **kw)  # type: ignore[arg-type]
    if lowered.startswith('csi://'):
        rest = text[len('csi://'):] or '0'
        if not rest.isdigit():
            raise SpecError(f'CSI source must be csi://<sensor id 0-15>, got {text!r}')
        return SourceSpec(SourceKind.CSI, sensor_id=int(rest), **kw)  # type: ignore[arg-type]
    if lowered.startswith('test://'):
        pattern = text[len('test://'):] or 'smpte'
        return SourceSpec(SourceKind.TEST, pattern=pattern, **kw)  # type: ignore[arg-type]
    if lowered.startswith('v4l2://'):
        text = text[len('v4l2://'):]
        lowered = text.lower()
        if not text.startswith('/dev/'):
            raise SpecError(f'V4L2 source must be v4l2:///dev/videoN, got {text!r}')
    if text.startswith('/dev/'):
        if not _DEVICE.match(text) or '..' in text:
            raise SpecError(f'V4L2 device must be a /dev path like /dev/video0, got {text!r}')
        return SourceSpec(SourceKind.V4L2, text, **kw)  # type: ignore[arg-type]
    if '://' in text and not lowered.startswith('file://'):
        raise SpecError(f'unsupported source scheme in {redact_url(text)!r}; use a file path, '
                        'rtsp://, /dev/videoN, csi://N, test:// or none')
    path = unquote(text[len('file://'):]) if lowered.startswith('file://') else text
    path = os.path.abspath(os.path.expanduser(path))
    if check_exists and not os.path.isfile(path):
        raise SpecError(f'source file {path!r} does not exist or is not a regular file; '
                        'give an existing video file (mp4, mkv, h264, h265)')
    container = _EXTENSIONS.get(os.path.splitext(path)[1].lower(), Container.AUTO)
    return SourceSpec(SourceKind.FILE, path, container=container,
                      **kw)  # type: ignore[arg-type]


class OutputKind(str, enum.Enum):
    """Where the annotated video goes."""

    NONE = 'none'
    UDP = 'udp'
    RTSP = 'rtsp'
    FILE = 'file'


_FILE_SUFFIXES = ('.mp4', '.mkv', '.h264', '.h265', '.ts')


@dataclass(frozen=True)
class OutputSpec:
    """A validated output: RTP/UDP stream, RTSP server, or file.

    Parameters
    ----------
    kind : OutputKind
    codec : str
        ``'h264'`` or ``'h265'``.
    bitrate_kbps : int
        Target bit rate in kbit/s, in [64, 100000].
    host : str
        UDP: destination address. RTSP: address to bind ('0.0.0.0' = all interfaces).
    port : int
        UDP destination port or RTSP server port, in [1, 65535].
    mount : str
        RTSP mount point, like ``/track``.
    path : str
        File output path ending in .mp4, .mkv, .h264, .h265 or .ts.
    keyframe_interval : int
        Frames between key frames, in [1, 600] (short GOPs let a receiver join fast).
    credentials : RtspCredentials, optional
        RTSP only: clients must log in with these (basic authentication).

    """

    kind: OutputKind
    codec: str = 'h264'
    bitrate_kbps: int = 2000
    host: str = '127.0.0.1'
    port: int = 5600
    mount: str = '/track'
    path: str = ''
    keyframe_interval: int = 30
    credentials: Optional[RtspCredentials] = None

    def __post_init__(self) -> None:
        """Validate every field that reaches an element property."""
        try:
            object.__setattr__(self, 'kind', OutputKind(self.kind))
        except ValueError:
            raise SpecError(f'output must be one of none, udp, rtsp, file; '
                            f'got {self.kind!r}') from None
        if self.codec not in ('h264', 'h265'):
            raise SpecError(f"output codec must be 'h264' or 'h265', got {self.codec!r}")
        if isinstance(self.bitrate_kbps, bool) or not 64 <= self.bitrate_kbps <= 100000:
            raise SpecError(f'output bitrate must lie in [64, 100000] kbit/s, '
                            f'got {self.bitrate_kbps}')
        if not 1 <= self.keyframe_interval <= 600:
            raise SpecError(f'keyframe interval must lie in [1, 600] frames, '
                            f'got {self.keyframe_interval}')
        if self.kind in (OutputKind.UDP, OutputKind.RTSP):
            check_host(self.host, 'output host')
            check_port(self.port, 'output port')
        if self.kind is OutputKind.RTSP and not _MOUNT.match(self.mount):
            raise SpecError(f'RTSP mount must look like /name (letters, digits, _ - .), '
                            f'got {self.mount!r}')
        if self.kind is OutputKind.FILE:
            _no_control(self.path, 'output path')
            if not self.path.lower().endswith(_FILE_SUFFIXES):
                raise SpecError(f'output path must end in one of {", ".join(_FILE_SUFFIXES)}, '
                                f'got {self.path!r}')
            folder = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(folder):
                raise SpecError(f'output folder {folder!r} does not exist; create it first')
        if self.credentials is not None and self.kind is not OutputKind.RTSP:
            raise SpecError('output credentials apply to rtsp output only')

    def describe(self) -> str:
        """One-line description for logs."""
        if self.kind is OutputKind.UDP:
            return f'RTP/UDP {self.codec} to {self.host}:{self.port} at {self.bitrate_kbps} kbit/s'
        if self.kind is OutputKind.RTSP:
            auth = ' (login required)' if self.credentials else ''
            return (f'RTSP server rtsp://{self.host}:{self.port}{self.mount} {self.codec} '
                    f'at {self.bitrate_kbps} kbit/s{auth}')
        if self.kind is OutputKind.FILE:
            return f'file {self.path} ({self.codec}, {self.bitrate_kbps} kbit/s)'
        return 'none'
