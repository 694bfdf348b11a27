"""A stand-alone RTSP server for the reconnect test: ``python rtsp_server_helper.py PORT``.

Serves a live generated clip (moving ball, 320x240, 30 fps, H.264) at
``rtsp://127.0.0.1:PORT/clip`` until killed. Test-only: the launch description is a
constant written here, not built from parameters.
"""

import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

LAUNCH = ('( videotestsrc is-live=true pattern=ball ! '
          'video/x-raw,width=320,height=240,framerate=30/1 ! '
          'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! '
          'rtph264pay name=pay0 pt=96 config-interval=1 )')


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    Gst.init(None)
    server = GstRtspServer.RTSPServer.new()
    server.set_address('127.0.0.1')
    server.set_service(sys.argv[1])
    factory = GstRtspServer.RTSPMediaFactory.new()
    factory.set_launch(LAUNCH)
    factory.set_shared(True)
    server.get_mount_points().add_factory('/clip', factory)
    if server.attach(None) == 0:
        sys.exit('cannot bind the RTSP port')
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print('serving', flush=True)
    loop.run()


if __name__ == '__main__':
    main()
