"""SAMURAI follow-one-object suite: camera bridge -> detector -> tracker (-> samurai_fusion).

The subpackages read as the pipeline. Everything here but the ``*_node`` modules and
``samurai_tracker.ros`` is a ROS-free core that never imports rclpy.
"""

__version__ = '0.1.0'
