"""Shared pytest set-up: the test folder on sys.path, session fixtures of every area.

Each area owns one clearly delimited block below; add yours as a new block.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# ---- lead: nothing else yet (ROS helpers live in ros_harness.py) ------------------------
