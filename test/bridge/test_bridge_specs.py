"""Parameter validation: nothing a parameter says can add elements or properties."""

import pytest

from samurai_tracker.bridge.elements import CapsSpec, ElementRegistry, CANDIDATES
from samurai_tracker.bridge.frames import ImageEncoding
from samurai_tracker.bridge.plans import plan_ingest, plan_output
from samurai_tracker.bridge.specs import (
    Container, OutputSpec, parse_source, redact_url, RtspCredentials, SourceKind, SpecError)

REGISTRY = ElementRegistry(CANDIDATES)


def test_source_forms(tmp_path):
    clip = tmp_path / 'a.MKV'
    clip.write_bytes(b'\0')
    spec = parse_source(f'file://{clip}', loop=True)
    assert spec.kind is SourceKind.FILE and spec.container is Container.MKV and spec.loop
    assert parse_source('/dev/video2').location == '/dev/video2'
    assert parse_source('v4l2:///dev/video0').kind is SourceKind.V4L2
    assert parse_source('csi://3').sensor_id == 3
    assert parse_source('test://').pattern == 'smpte'
    assert parse_source('none').kind is SourceKind.NONE
    spec = parse_source('rtsp://me:p%40ss@10.1.2.3:8554/cam?x=1')
    assert spec.location == 'rtsp://10.1.2.3:8554/cam?x=1'
    assert spec.credentials == RtspCredentials('me', 'p@ss')
    assert 'p@ss' not in repr(spec.credentials)


@pytest.mark.parametrize('text, message', [
    ('/tmp/clip.mp4 ! fakesink', 'does not exist'),
    ('rtsp://cam/live ! filesink location=/etc/x', 'white space'),
    ('rtsp://:554/live', 'needs a host'),
    ('rtsp://cam:99999/live', 'port'),
    ('rtsp://cam;rm -rf/live', 'white space'),
    ('rtsp://ca$m/live', 'host name'),
    ('/dev/video0 ! fakesink', 'V4L2 device'),
    ('/dev/../etc/passwd', 'V4L2 device'),
    ('csi://0 ! x', 'csi://'),
    ('test://ball num-buffers=1', 'test pattern'),
    ('http://example.com/x.mp4', 'unsupported source scheme'),
    ('/tmp/a.mp4\nfakesink', 'control characters'),
])
def test_bad_sources_are_refused_with_the_reason(text, message):
    with pytest.raises(SpecError, match=message):
        parse_source(text)


def test_spaces_and_bangs_in_a_file_name_stay_one_location(tmp_path):
    weird = tmp_path / 'my clip ! fakesink name=x.mp4'
    weird.write_bytes(b'\0')
    plan = plan_ingest(parse_source(str(weird)), ImageEncoding.RGB8, REGISTRY)
    # The whole name is one property value of one filesrc; no extra element appears.
    assert plan.head[0].prop('location') == str(weird)
    assert [e.factory for e in plan.head] == ['filesrc', 'qtdemux']


@pytest.mark.parametrize('kwargs, message', [
    (dict(kind='udp', host='127.0.0.1 ! filesink location=/tmp/x'), 'host'),
    (dict(kind='udp', host='1.2.3.4', port=0), 'port'),
    (dict(kind='udp', host='a b'), 'host'),
    (dict(kind='udp', codec='vp8'), 'codec'),
    (dict(kind='udp', bitrate_kbps=10), 'bitrate'),
    (dict(kind='rtsp', mount='/x ! y'), 'mount'),
    (dict(kind='rtsp', mount='live'), 'mount'),
    (dict(kind='file', path='/tmp/out.avi'), 'must end in'),
    (dict(kind='file', path='/no/such/folder/out.mp4'), 'does not exist'),
    (dict(kind='tcp'), 'one of none'),
    (dict(kind='udp', credentials=RtspCredentials('u', 'p')), 'rtsp output only'),
])
def test_bad_outputs_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        OutputSpec(**kwargs)


def test_credentials_are_validated():
    with pytest.raises(SpecError, match='user'):
        RtspCredentials('bad user', 'pw')
    with pytest.raises(SpecError, match='empty'):
        RtspCredentials('user', '')
    with pytest.raises(SpecError, match='control'):
        RtspCredentials('user', 'pw\nextra')


def test_caps_tokens_are_validated_before_serialising():
    assert CapsSpec('video/x-raw', (('format', 'RGB'),)).to_string() == \
        'video/x-raw, format=(string)RGB'
    for bad in [CapsSpec('video/x-raw', (('format', 'RGB, width=1'),)),
                CapsSpec('video/x-raw; other', ()),
                CapsSpec('video/x-raw', (('width', -1),)),
                CapsSpec('video/x-raw', (('framerate', (30, 0)),))]:
        with pytest.raises(ValueError):
            bad.to_string()


def test_output_plan_carries_values_as_typed_properties():
    spec = OutputSpec('udp', host='example.org', port=6000, bitrate_kbps=1500)
    plan = plan_output(spec, 640, 480, 25.0, REGISTRY)
    sink = plan.elements[-1]
    assert sink.props == (('host', 'example.org'), ('port', 6000), ('sync', False),
                          ('async', False))


def test_redact_url():
    assert redact_url('rtsp://u:secret@h/p') == 'rtsp://u:***@h/p'
    assert redact_url('rtsp://h/p') == 'rtsp://h/p'
