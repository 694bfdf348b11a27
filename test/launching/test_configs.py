"""config/*.yaml list every parameter of every node, with the nodes' own descriptions."""

import os
import subprocess
import sys

import yaml
from ros_harness import ros_environment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETUPS = ('cpu_onnxruntime', 'x86_gpu', 'jetson_orin_tensorrt')


def test_config_files_match_the_nodes_parameters():
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'tools', 'make_configs.py'),
                             '--check'], env=ros_environment(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_config_files_are_parameter_files_for_the_four_nodes():
    for setup in SETUPS:
        with open(os.path.join(ROOT, 'config', f'{setup}.yaml')) as handle:
            doc = yaml.safe_load(handle)
        assert set(doc) == {'camera_bridge', 'detector', 'tracker', 'fusion'}
        for node, section in doc.items():
            assert 'ros__parameters' in section and section['ros__parameters'], node
    with open(os.path.join(ROOT, 'config', 'jetson_orin_tensorrt.yaml')) as handle:
        jetson = yaml.safe_load(handle)
    assert jetson['tracker']['ros__parameters']['backend'] == 'tensorrt'
    assert jetson['tracker']['ros__parameters']['max_kf'] == 2
