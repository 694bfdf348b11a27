"""Turn pipeline plans into live GStreamer objects (the only module that builds elements).

Every element is made with ``Gst.ElementFactory.make`` and configured through typed
``set_property`` calls; caps come from :meth:`CapsSpec.to_string` (validated tokens only);
enum and flags nicks (:class:`~samurai_tracker.bridge.elements.Nick`) are package constants.
No ``gst-launch`` description is ever parsed, so no parameter can add elements.

Dynamic pads (demuxers, ``parsebin``, ``decodebin``, ``rtspsrc``) are linked when they
appear: the branch is chosen from the pad's caps and built on the spot.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, List, Optional, Tuple

from samurai_tracker.bridge.elements import (
    CANDIDATES, CapsSpec, ElementError, ElementRegistry, ElementSpec, Nick)
from samurai_tracker.bridge.plans import IngestPlan, OutputPlan

__all__ = ['Gst', 'build_ingest', 'build_output_bin', 'build_output_pipeline', 'gst_init',
           'make_element', 'probe_registry']

Gst: Any = None
_init_lock = threading.Lock()


def gst_init() -> Any:
    """Import and initialise GStreamer once; return the ``Gst`` module.

    Raises
    ------
    ElementError
        When PyGObject or the GStreamer typelibs are missing, with the install command.

    """
    global Gst
    with _init_lock:
        if Gst is None:
            try:
                import gi
                gi.require_version('Gst', '1.0')
                gi.require_version('GstApp', '1.0')
                gi.require_version('GstVideo', '1.0')
                from gi.repository import Gst as _gst
                from gi.repository import GstApp, GstVideo  # noqa: F401  (register types)
            except (ImportError, ValueError) as error:
                raise ElementError(
                    'GStreamer for Python is missing: apt-get install gir1.2-gstreamer-1.0 '
                    'gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-good '
                    'gstreamer1.0-plugins-bad gstreamer1.0-libav and pip install '
                    f'"PyGObject<3.51" ({error})') from error
            _gst.init(None)
            Gst = _gst
    return Gst


def probe_registry(candidates: Tuple[str, ...] = CANDIDATES) -> ElementRegistry:
    """Probe ``Gst.ElementFactory.find`` for each candidate and return what exists."""
    gst = gst_init()
    return ElementRegistry(name for name in candidates if gst.ElementFactory.find(name))


def make_caps(spec: CapsSpec) -> Any:
    """Build ``Gst.Caps`` from a validated :class:`CapsSpec`."""
    gst = gst_init()
    caps = gst.Caps.from_string(spec.to_string())
    if caps is None:
        raise ElementError(f'GStreamer refused caps {spec.describe()!r}')
    return caps


def make_element(spec: ElementSpec) -> Any:
    """Create and configure one element from its spec.

    Raises
    ------
    ElementError
        When the factory is missing or a property does not exist or rejects the value.

    """
    gst = gst_init()
    element = gst.ElementFactory.make(spec.factory, spec.name)
    if element is None:
        raise ElementError(f'cannot create GStreamer element {spec.factory!r}; is its plugin '
                           'installed? (gst-inspect-1.0 ' + spec.factory + ')')
    for key, value in spec.props:
        if element.find_property(key) is None:
            raise ElementError(f'element {spec.factory!r} has no property {key!r} '
                               '(GStreamer version mismatch?)')
        try:
            if isinstance(value, CapsSpec):
                element.set_property(key, make_caps(value))
            elif isinstance(value, Nick):
                gst.util_set_object_arg(element, key, value.value)
            else:
                element.set_property(key, value)
        except (TypeError, ValueError, OverflowError) as error:
            raise ElementError(f'cannot set {spec.factory}.{key}: {error}') from error
    return element


def _add_chain(bin_: Any, specs: Tuple[ElementSpec, ...]) -> List[Any]:
    elements = [make_element(s) for s in specs]
    for element in elements:
        bin_.add(element)
    for up, down in zip(elements, elements[1:]):
        if not up.link(down):
            raise ElementError(f'cannot link {up.get_name()} to {down.get_name()} '
                               '(caps do not match)')
    return elements


def _pad_key(plan: IngestPlan, pad: Any) -> Tuple[Optional[str], str]:
    caps = pad.get_current_caps() or pad.query_caps(None)
    if caps is None or caps.get_size() == 0:
        return None, 'no caps'
    structure = caps.get_structure(0)
    name = structure.get_name()
    encoding = ''
    if name == 'application/x-rtp':
        encoding = structure.get_string('encoding-name') or ''
        if (structure.get_string('media') or 'video') != 'video':
            return None, 'not video'
    return plan.branch_for(name, encoding), name + (f' {encoding}' if encoding else '')


def build_ingest(plan: IngestPlan,
                 on_unsupported: Optional[Callable[[str], None]] = None) -> Tuple[Any, Any]:
    """Build the ingest pipeline of ``plan``.

    Parameters
    ----------
    plan : IngestPlan
    on_unsupported : callable, optional
        Called (from a streaming thread) with a description when the source exposes a
        video stream no branch can decode (e.g. VP9), so the caller can report it.

    Returns
    -------
    (Gst.Pipeline, GstApp.AppSink)
        The pipeline in NULL state and its ``frames`` appsink.

    """
    gst = gst_init()
    pipeline = gst.Pipeline.new('ingest')
    head = _add_chain(pipeline, plan.head)
    tail = _add_chain(pipeline, plan.tail)
    linked = threading.Event()

    def attach(key: str, pad: Any) -> None:
        chain = _add_chain(pipeline, plan.branch(key))
        last = chain[-1] if chain else None
        if last is not None and not last.link(tail[0]):
            raise ElementError(f'cannot link {last.get_name()} to {tail[0].get_name()}')
        target = chain[0] if chain else tail[0]
        result = pad.link(target.get_static_pad('sink'))
        if result != gst.PadLinkReturn.OK:
            raise ElementError(f'cannot link the {key} stream to {target.get_name()}: {result}')
        for element in chain:
            element.sync_state_with_parent()

    if plan.dynamic:
        def on_pad_added(_element: Any, pad: Any) -> None:
            if pad.get_direction() != gst.PadDirection.SRC or linked.is_set():
                return
            key, what = _pad_key(plan, pad)
            if key is None:
                if on_unsupported is not None and what.startswith(('video/', 'application/')):
                    on_unsupported(f'unsupported stream {what}; the bridge decodes '
                                   'H.264 and H.265 only')
                return
            linked.set()
            try:
                attach(key, pad)
            except ElementError as error:
                linked.clear()
                if on_unsupported is not None:
                    on_unsupported(str(error))
        head[-1].connect('pad-added', on_pad_added)
    else:
        chain = _add_chain(pipeline, plan.branches[0][1]) if plan.branches else []
        pairs = [(head[-1], chain[0]), (chain[-1], tail[0])] if chain else [(head[-1], tail[0])]
        for up, down in pairs:
            if not up.link(down):
                raise ElementError(f'cannot link {up.get_name()} to {down.get_name()}')
    return pipeline, tail[-1]


def build_output_pipeline(plan: OutputPlan) -> Tuple[Any, Any]:
    """Build the output pipeline; return ``(pipeline, appsrc)`` in NULL state."""
    gst = gst_init()
    pipeline = gst.Pipeline.new('output')
    elements = _add_chain(pipeline, plan.elements)
    return pipeline, elements[0]


def build_output_bin(plan: OutputPlan) -> Any:
    """Build the plan into a ``Gst.Bin`` (an RTSP media's element; it ends at ``pay0``)."""
    gst = gst_init()
    bin_ = gst.Bin.new('media')
    _add_chain(bin_, plan.elements)
    return bin_
