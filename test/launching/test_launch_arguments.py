"""Launch arguments fail early with the argument's name and the fix; plans wire the graph."""

import pytest

from samurai_tracker.launching import (LaunchArgumentError, parse_arguments, pipeline_plan,
                                       replay_plan, ros_args, tracker_plan)
from samurai_tracker.launching.composed import split_launch_arguments

MODELS = ('image_encoder', 'prompt_encoder', 'mask_decoder', 'memory_encoder',
          'memory_attention')


@pytest.fixture
def model_dir(tmp_path):
    for name in MODELS:
        (tmp_path / f'{name}.onnx').write_bytes(b'onnx')
    return tmp_path


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / 'clip.mp4'
    path.write_bytes(b'video')
    return path


def _error(**given):
    with pytest.raises(LaunchArgumentError) as info:
        parse_arguments({k: str(v) for k, v in given.items()})
    return str(info.value)


def test_unknown_argument_is_named(model_dir):
    message = _error(model_dir=model_dir, modle_dir='x')
    assert "'modle_dir'" in message and 'model_dir' in message


def test_missing_source_names_the_argument_and_the_fix(model_dir):
    message = _error(source='/nonexistent/clip.mp4', model_dir=model_dir)
    assert message.startswith("source:='/nonexistent/clip.mp4' does not exist")
    assert 'rtsp://' in message


def test_models_directory_without_the_models(tmp_path, clip):
    empty = tmp_path / 'empty'
    empty.mkdir()
    message = _error(source=clip, model_dir=empty)
    assert 'image_encoder.onnx' in message and 'samurai-export' in message
    assert 'does not exist' in _error(source=clip, model_dir=tmp_path / 'missing')
    assert 'model_dir is required' in _error(source=clip)


def test_tensorrt_backend_needs_engines(model_dir, clip):
    message = _error(source=clip, model_dir=model_dir, backend='tensorrt')
    assert 'image_encoder.engine' in message and 'samurai-build-engines' in message


@pytest.mark.parametrize('name, value, expected', [
    ('max_kf', '31', 'max_kf:=31 is out of range: use 0..30'),
    ('rtp_port', '0', 'rtp_port:=0 is out of range: use 1..65535'),
    ('target_class', 'person', "target_class:='person' is not an integer"),
    ('composed', 'maybe', "composed:='maybe' is not a boolean"),
    ('seed_roi', '10,10,0,5', "seed_roi:='10,10,0,5' must be 'x,y,width,height'"),
    ('backend', 'cuda', "backend:='cuda' is unknown"),
])
def test_out_of_range_values(model_dir, clip, name, value, expected):
    assert expected in _error(source=clip, model_dir=model_dir, **{name: value})


def test_pipeline_plan_wires_the_graph(model_dir, clip):
    args = parse_arguments({'source': str(clip), 'model_dir': str(model_dir),
                            'detector_model': str(clip), 'seed_roi': '1,2,30,40',
                            'namespace': 'cam1', 'max_kf': '2'})
    plan = {spec.name: spec for spec in pipeline_plan(args)}
    assert list(plan) == ['camera_bridge', 'detector', 'tracker', 'fusion']
    assert all(spec.namespace == '/cam1' for spec in plan.values())
    assert plan['tracker'].parameters['seed_roi'] == [1.0, 2.0, 30.0, 40.0]
    assert plan['tracker'].parameters['max_kf'] == 2
    assert ('track_status', 'fusion/status') in plan['camera_bridge'].remappings
    assert ('track_status', 'tracker/status') in plan['detector'].remappings
    assert plan['fusion'].parameters['reseed_service'] == 'tracker/reseed'
    words = ros_args(plan['tracker'])
    assert words[:3] == ['--ros-args', '-r', '__node:=tracker']
    assert 'seed_roi:=[1.0,2.0,30.0,40.0]' in words


def test_composed_mode_passes_frames_by_reference(model_dir, clip):
    args = parse_arguments({'source': str(clip), 'model_dir': str(model_dir),
                            'composed': 'true'})
    plan = {spec.name: spec for spec in pipeline_plan(args)}
    assert plan['camera_bridge'].parameters['frame_transport'] == 'composed'
    assert plan['tracker'].parameters['frame_transport'] == 'composed'
    assert 'detector' not in plan or plan['detector'].parameters['frame_transport'] == 'composed'
    assert 'detector' not in plan  # no detector model given


def test_tracker_and_replay_plans(model_dir):
    args = parse_arguments({'model_dir': str(model_dir), 'use_sim_time': 'true'})
    assert [s.name for s in tracker_plan(args)] == ['tracker', 'fusion']
    assert all(s.parameters['use_sim_time'] for s in replay_plan(args))
    plain = parse_arguments({'model_dir': str(model_dir)})
    with pytest.raises(ValueError, match='use_sim_time'):
        replay_plan(plain)


def test_composed_command_line_words():
    assert split_launch_arguments(['source:=a.mp4', 'max_kf:=2', '--ros-args', '-p', 'x:=1']) \
        == {'source': 'a.mp4', 'max_kf': '2'}
    with pytest.raises(LaunchArgumentError, match='name:=value'):
        split_launch_arguments(['source=a.mp4'])
