"""Serve the annotated video over RTSP (gst-rtsp-server), optionally behind a login.

One shared media per mount: the first client makes the server build the encoder pipeline
(from the same :class:`~samurai_tracker.bridge.plans.OutputPlan` as the UDP output,
ending at the payloader ``pay0``), later clients join it, and the pipeline is torn down
when the last one leaves. Frames pushed while no client watches are discarded (counted in
``frames_unwatched``), so an idle server costs no encoding.

The media's element is built by overriding ``RTSPMediaFactory.do_create_element`` with
element objects; no launch description is ever given to the server. With credentials,
the server requires HTTP basic authentication and only that user may access and
construct the media. The server runs on its own GLib main context and thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

from samurai_tracker.bridge.elements import ElementError, ElementRegistry
from samurai_tracker.bridge.gst_build import build_output_bin, gst_init, probe_registry
from samurai_tracker.bridge.output import check_rgb
from samurai_tracker.bridge.plans import plan_output
from samurai_tracker.bridge.specs import OutputKind, OutputSpec

__all__ = ['RtspServerOutput']

LogFn = Callable[[str, str], None]
_logger = logging.getLogger(__name__)


def _default_log(level: str, text: str) -> None:
    _logger.log({'info': logging.INFO, 'warn': logging.WARNING}.get(level, logging.ERROR), text)


def _import_server() -> Any:
    try:
        import gi
        gi.require_version('GstRtspServer', '1.0')
        from gi.repository import GLib, GstRtspServer
    except (ImportError, ValueError) as error:
        raise ElementError('RTSP output needs gst-rtsp-server for Python: apt-get install '
                           f'gir1.2-gst-rtsp-server-1.0 ({error})') from error
    return GLib, GstRtspServer


class RtspServerOutput:
    """An RTSP server streaming pushed RGB frames.

    Parameters
    ----------
    spec : OutputSpec
        Kind rtsp: ``host`` (bind address), ``port``, ``mount``, codec, bitrate and
        optional credentials.
    fps : float
        Nominal frame rate for the caps, in (0, 1000].
    registry : ElementRegistry, optional
        Available elements; probed when None.
    log : callable
        ``log(level, text)``.

    Raises
    ------
    ElementError
        When gst-rtsp-server or an encoder is missing, or the port cannot be bound.

    """

    def __init__(self, spec: OutputSpec, *, fps: float = 30.0,
                 registry: Optional[ElementRegistry] = None,
                 log: LogFn = _default_log) -> None:
        if spec.kind is not OutputKind.RTSP:
            raise ValueError(f'RtspServerOutput handles rtsp outputs, got {spec.kind.value}')
        gst = gst_init()
        glib, server_mod = _import_server()
        self.spec = spec
        self.fps = fps
        self.registry = registry if registry is not None else probe_registry()
        plan_output(spec, 64, 64, fps, self.registry)  # fail now if an element is missing
        self._log = log
        self._lock = threading.Lock()
        self._size: Optional[tuple] = None
        self._appsrc: Any = None
        self.frames_sent = 0
        self.frames_unwatched = 0
        self.drops = 0
        self.clients = 0
        owner = self

        class _Factory(server_mod.RTSPMediaFactory):  # type: ignore[misc, name-defined]
            def do_create_element(self, _url: Any) -> Any:
                return owner._create_bin()

        factory = _Factory()
        factory.set_shared(True)
        factory.connect('media-configure', self._on_media_configure)
        server = server_mod.RTSPServer.new()
        server.set_address(spec.host)
        server.set_service(str(spec.port))
        if spec.credentials is not None:
            auth = server_mod.RTSPAuth.new()
            token = server_mod.RTSPToken()
            token.set_string('media.factory.role', spec.credentials.user)
            basic = server_mod.RTSPAuth.make_basic(spec.credentials.user,
                                                   spec.credentials.password)
            auth.add_basic(basic, token)
            server.set_auth(auth)
            permissions = server_mod.RTSPPermissions.new()
            permissions.add_role_from_structure(gst.Structure.new_empty(spec.credentials.user))
            permissions.add_permission_for_role(spec.credentials.user,
                                                'media.factory.access', True)
            permissions.add_permission_for_role(spec.credentials.user,
                                                'media.factory.construct', True)
            factory.set_permissions(permissions)
        server.get_mount_points().add_factory(spec.mount, factory)
        server.connect('client-connected', self._on_client)
        self._context = glib.MainContext.new()
        self._loop = glib.MainLoop.new(self._context, False)
        self._source_id = server.attach(self._context)
        if self._source_id == 0:
            raise ElementError(f'cannot serve RTSP on {spec.host}:{spec.port} (port in use or '
                               'address not local?)')
        self._server, self._factory, self._gst = server, factory, gst
        self._thread = threading.Thread(target=self._loop.run, name='bridge-rtsp', daemon=True)
        self._thread.start()
        self._log('info', f'output: {spec.describe()}')

    @property
    def url(self) -> str:
        """The URL clients open."""
        return f'rtsp://{self.spec.host}:{self.spec.port}{self.spec.mount}'

    def _create_bin(self) -> Any:
        with self._lock:
            width, height = self._size if self._size is not None else (640, 480)
        plan = plan_output(self.spec, width, height, self.fps, self.registry)
        self._log('info', f'RTSP media: {plan.describe()}')
        return build_output_bin(plan)

    def _on_client(self, _server: Any, client: Any) -> None:
        with self._lock:
            self.clients += 1
        client.connect('closed', self._on_client_closed)

    def _on_client_closed(self, _client: Any) -> None:
        with self._lock:
            self.clients = max(0, self.clients - 1)

    def _on_media_configure(self, _factory: Any, media: Any) -> None:
        appsrc = media.get_element().get_by_name('frames')
        media.connect('unprepared', self._on_media_unprepared)
        with self._lock:
            self._appsrc = appsrc

    def _on_media_unprepared(self, _media: Any) -> None:
        with self._lock:
            self._appsrc = None

    def push(self, image: npt.NDArray[np.uint8], stamp_ns: int) -> bool:
        """Stream one RGB frame to the connected clients; return whether it was sent.

        The first frame fixes the stream size; frames of another size are dropped.
        ``stamp_ns`` is unused: the media pipeline timestamps buffers on arrival.

        Raises
        ------
        ValueError
            When ``image`` is not (H, W, 3) uint8.

        """
        size = check_rgb(image)
        with self._lock:
            if self._size is None:
                self._size = size
            if size != self._size:
                self.drops += 1
                return False
            appsrc = self._appsrc
        if appsrc is None:
            self.frames_unwatched += 1
            return False
        if appsrc.get_property('current-level-bytes') > appsrc.get_property('max-bytes'):
            self.drops += 1
            return False
        buffer = self._gst.Buffer.new_wrapped(np.ascontiguousarray(image).tobytes())
        result = appsrc.emit('push-buffer', buffer)
        if result != self._gst.FlowReturn.OK:
            self.drops += 1
            return False
        self.frames_sent += 1
        return True

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop serving and join the server thread."""
        self._loop.quit()
        self._thread.join(timeout_s)
