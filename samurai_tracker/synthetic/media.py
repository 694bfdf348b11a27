"""Encode a generated clip into a video file with software GStreamer (x264).

The bridge's file source, its benchmark and its tests all need real encoded media made
from a :class:`~samurai_tracker.synthetic.clip.SyntheticClip`; this is the one encoder.
It builds its pipeline from element objects (no parsed descriptions) and needs the
GStreamer Python bindings and ``x264enc`` (gstreamer1.0-plugins-ugly).
"""

from __future__ import annotations

from typing import Any, Optional

from samurai_tracker.synthetic.clip import SyntheticClip

__all__ = ['encode_clip']

_TIMEOUT_S = 120


def _element(gst: Any, factory: str, **props: Any) -> Any:
    element = gst.ElementFactory.make(factory, None)
    if element is None:
        raise RuntimeError(f'GStreamer element {factory!r} is missing; install '
                           'gstreamer1.0-plugins-base/good/ugly')
    for key, value in props.items():
        element.set_property(key.replace('_', '-'), value)
    return element


def encode_clip(clip: SyntheticClip, path: str, key_int_max: int = 10,
                speed_preset: Optional[str] = None) -> str:
    """Encode every frame of ``clip`` with x264 into ``path`` and return ``path``.

    Parameters
    ----------
    clip : SyntheticClip
        Frames and stamps (buffer timestamps are ``clip.stamp_ns``).
    path : str
        ``.mp4`` or ``.mkv`` (muxed) or anything else for a raw byte-stream H.264 file.
    key_int_max : int
        Largest distance between key frames, in frames.
    speed_preset : str, optional
        x264 speed preset (for example ``'veryfast'``); x264's default when None.

    Raises
    ------
    RuntimeError
        If an element is missing or the pipeline does not reach end-of-stream.

    """
    from samurai_tracker.bridge.gst_build import gst_init

    gst = gst_init()
    pipeline = gst.Pipeline.new('encode')
    caps = gst.Caps.from_string(f'video/x-raw,format=RGB,width={clip.width},'
                                f'height={clip.height},framerate={int(clip.fps)}/1')
    src = _element(gst, 'appsrc', caps=caps, format=3)  # GST_FORMAT_TIME
    encoder = _element(gst, 'x264enc', key_int_max=key_int_max)
    if speed_preset is not None:
        gst.util_set_object_arg(encoder, 'speed-preset', speed_preset)
    chain = [src, _element(gst, 'videoconvert'), encoder, _element(gst, 'h264parse')]
    if path.endswith('.mp4'):
        chain.append(_element(gst, 'mp4mux'))
    elif path.endswith('.mkv'):
        chain.append(_element(gst, 'matroskamux'))
    else:
        chain.append(_element(gst, 'capsfilter', caps=gst.Caps.from_string(
            'video/x-h264,stream-format=byte-stream')))
    chain.append(_element(gst, 'filesink', location=path))
    for element in chain:
        pipeline.add(element)
    for up, down in zip(chain, chain[1:]):
        if not up.link(down):
            raise RuntimeError(f'cannot link {up.get_name()} to {down.get_name()}')
    pipeline.set_state(gst.State.PLAYING)
    for index in range(clip.num_frames):
        buffer = gst.Buffer.new_wrapped(clip.frame(index).tobytes())
        buffer.pts = clip.stamp_ns(index)
        buffer.duration = int(1e9 / clip.fps)
        src.emit('push-buffer', buffer)
    src.emit('end-of-stream')
    message = pipeline.get_bus().timed_pop_filtered(
        _TIMEOUT_S * gst.SECOND, gst.MessageType.EOS | gst.MessageType.ERROR)
    pipeline.set_state(gst.State.NULL)
    if message is None or message.type != gst.MessageType.EOS:
        detail = message.parse_error()[0].message if message is not None else 'timeout'
        raise RuntimeError(f'encoding {path} failed: {detail}')
    return path
