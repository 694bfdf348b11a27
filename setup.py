"""Install the samurai_tracker ament_python package (Python packages, launch, config)."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'samurai_tracker'


def _files(pattern: str) -> list:
    return sorted(path for path in glob(pattern) if os.path.isfile(path))


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(include=['samurai_tracker', 'samurai_tracker.*',
                                    'samurai_fusion', 'samurai_fusion.*']),
    package_data={'samurai_tracker': ['gpu/*.cu', 'detector/*.txt']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        ('share/' + PACKAGE + '/launch', _files('launch/*.launch.py')),
        ('share/' + PACKAGE + '/config', _files('config/*.yaml') + _files('config/*.rviz')),
    ],
    install_requires=['setuptools', 'numpy'],
    zip_safe=True,
    maintainer='samurai_tracker maintainers',
    maintainer_email='maintainers@samurai-tracker.dev',
    description='Follow one chosen object: camera bridge, YOLO detector, SAMURAI tracker, '
                'fusion Kalman filter with honest loss and reseed.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'camera_bridge_node = samurai_tracker.bridge.bridge_node:main',
            'detector_node = samurai_tracker.detector.detector_node:main',
            'tracker_node = samurai_tracker.tracker.tracker_node:main',
            'fusion_node = samurai_fusion.fusion_node:main',
            'samurai-export = samurai_tracker.engines.export_cli:main',
            'samurai-build-engines = samurai_tracker.engines.trt_build:main',
            'samurai-eval = samurai_tracker.evaluation.cli:main',
            'samurai_pipeline = samurai_tracker.launching.composed:main',
            'samurai-demo = samurai_tracker.demo:main',
        ],
    },
)
