"""Element choice and pipeline plans, with and without the NVIDIA Jetson elements."""

import pytest

from samurai_tracker.bridge.elements import (
    CANDIDATES, CapsSpec, choose_decoder, choose_encoder, ElementError, ElementRegistry)
from samurai_tracker.bridge.frames import ImageEncoding
from samurai_tracker.bridge.plans import plan_ingest, plan_output
from samurai_tracker.bridge.specs import OutputSpec, parse_source

NVIDIA = {'nvv4l2decoder', 'nvvidconv', 'nvvideoconvert', 'nvv4l2h264enc', 'nvv4l2h265enc',
          'nvarguscamerasrc'}
SOFTWARE = ElementRegistry(set(CANDIDATES) - NVIDIA)
JETSON = ElementRegistry(CANDIDATES)


@pytest.fixture()
def mp4(tmp_path):
    path = tmp_path / 'clip.mp4'
    path.write_bytes(b'\0')
    return str(path)


def test_decoder_prefers_nvdec_with_a_vic_converter_and_falls_back_to_libav():
    hw = choose_decoder('h264', JETSON)
    assert hw.hardware
    assert [e.factory for e in hw.elements] == ['nvv4l2decoder', 'nvvidconv', 'capsfilter']
    # nvv4l2decoder alone is useless without a converter to host memory.
    no_conv = ElementRegistry(set(CANDIDATES) - {'nvvidconv', 'nvvideoconvert'})
    assert [e.factory for e in choose_decoder('h265', no_conv).elements] == ['avdec_h265']
    # DeepStream installs have nvvideoconvert only.
    deepstream = ElementRegistry(set(CANDIDATES) - {'nvvidconv'})
    assert choose_decoder('h264', deepstream).elements[1].factory == 'nvvideoconvert'
    sw = choose_decoder('h264', SOFTWARE)
    assert not sw.hardware and [e.factory for e in sw.elements] == ['avdec_h264']
    with pytest.raises(ElementError, match='gstreamer1.0-libav'):
        choose_decoder('h264', ElementRegistry({'h264parse'}))
    with pytest.raises(ValueError, match="'h264' or 'h265'"):
        choose_decoder('vp9', SOFTWARE)


def test_encoder_choice_and_properties():
    hw = choose_encoder('h265', JETSON, bitrate_kbps=4000, keyframe_interval=15)
    encoder = hw.elements[-1]
    assert encoder.factory == 'nvv4l2h265enc'
    assert encoder.prop('bitrate') == 4_000_000          # NVENC takes bit/s
    assert encoder.prop('insert-sps-pps') is True
    assert encoder.prop('idrinterval') == 15
    caps = hw.elements[1].prop('caps')
    assert isinstance(caps, CapsSpec) and caps.features == 'memory:NVMM'
    sw = choose_encoder('h264', SOFTWARE, bitrate_kbps=4000, keyframe_interval=15)
    encoder = sw.elements[-1]
    assert encoder.factory == 'x264enc'
    assert encoder.prop('bitrate') == 4000               # x264enc takes kbit/s
    assert encoder.prop('tune').value == 'zerolatency'
    assert encoder.prop('key-int-max') == 15
    with pytest.raises(ElementError, match='x264enc'):
        choose_encoder('h264', ElementRegistry({'videoconvert'}), 1000, 30)


def test_ingest_plans_per_source_kind(mp4, tmp_path):
    plan = plan_ingest(parse_source(mp4), ImageEncoding.BGR8, SOFTWARE)
    assert [e.factory for e in plan.head] == ['filesrc', 'qtdemux'] and plan.dynamic
    assert plan.branch_for('video/x-h264') == 'video/x-h264'
    assert plan.branch_for('video/x-vp9') is None
    assert plan.tail[1].prop('caps').fields == (('format', 'BGR'),)
    raw = tmp_path / 'clip.h265'
    raw.write_bytes(b'\0')
    plan = plan_ingest(parse_source(str(raw)), ImageEncoding.RGB8, JETSON)
    assert not plan.dynamic
    assert [e.factory for e in plan.branches[0][1]][:2] == ['h265parse', 'nvv4l2decoder']
    plan = plan_ingest(parse_source('rtsp://cam.local:554/live'), ImageEncoding.RGB8, SOFTWARE)
    assert plan.branch_for('application/x-rtp', 'H265') == 'application/x-rtp:H265'
    assert [e.factory for e in plan.branch('application/x-rtp:H264')] == [
        'rtph264depay', 'h264parse', 'avdec_h264']
    plan = plan_ingest(parse_source('test://ball', width=320, height=240, fps=15),
                       ImageEncoding.RGB8, SOFTWARE)
    assert plan.head[1].prop('caps').to_string() == (
        'video/x-raw, width=(int)320, height=(int)240, framerate=(fraction)15000/1000')
    csi = plan_ingest(parse_source('csi://1'), ImageEncoding.RGB8, JETSON)
    assert [e.factory for e in csi.head][:3] == ['nvarguscamerasrc', 'capsfilter', 'nvvidconv']
    assert csi.head[0].prop('sensor-id') == 1
    with pytest.raises(ElementError, match='Jetson'):
        plan_ingest(parse_source('csi://0'), ImageEncoding.RGB8, SOFTWARE)


def test_output_plans_end_in_the_right_sink(tmp_path):
    udp = plan_output(OutputSpec('udp', host='10.0.0.2', port=5000), 320, 240, 30, SOFTWARE)
    assert udp.factories()[-3:] == ('h264parse', 'rtph264pay', 'udpsink')
    pay = udp.elements[-2]
    assert pay.prop('config-interval') == 1 and pay.prop('pt') == 96
    assert udp.elements[-1].prop('host') == '10.0.0.2'
    assert udp.elements[-1].prop('async') is False
    rtsp = plan_output(OutputSpec('rtsp', codec='h265'), 320, 240, 30, JETSON)
    assert rtsp.hardware and rtsp.elements[-1].name == 'pay0'
    assert 'nvv4l2h265enc' in rtsp.factories()
    mkv = plan_output(OutputSpec('file', path=str(tmp_path / 'o.mkv')), 320, 240, 30, SOFTWARE)
    assert mkv.factories()[-2:] == ('matroskamux', 'filesink')
    with pytest.raises(ValueError, match='codec'):
        plan_output(OutputSpec('file', path=str(tmp_path / 'o.h265')), 320, 240, 30, SOFTWARE)
    with pytest.raises(ValueError, match='frame size'):
        plan_output(OutputSpec('udp'), 8, 8, 30, SOFTWARE)


def test_describe_never_shows_an_rtsp_password():
    plan = plan_ingest(parse_source('rtsp://user:topsecret@cam.local/live'),
                       ImageEncoding.RGB8, SOFTWARE)
    assert plan.head[0].prop('user-pw') == 'topsecret'
    assert 'topsecret' not in plan.describe()
    assert 'topsecret' not in parse_source('rtsp://user:topsecret@cam.local/live').describe()
