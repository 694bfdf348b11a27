"""Run a launch plan as processes where the Python launch stack is not installed.

This is what CI and the demo use instead of ``ros2 launch``: the same
:class:`~samurai_tracker.launching.plan.NodeSpec` list the launch files turn into
``launch_ros`` actions becomes one ``python -m <module> --ros-args ...`` process per node
(or one ``samurai_tracker.launching.composed`` process when ``composed`` is set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Mapping, Optional

from samurai_tracker.launching.plan import NodeSpec

__all__ = ['ProcessLauncher', 'ros_args']


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_value(v) for v in value) + ']'
    if isinstance(value, str):
        return value if value else "''"
    return repr(value)


def ros_args(spec: NodeSpec) -> List[str]:
    """Command-line ``--ros-args`` that give a node its name, namespace, remaps, parameters."""
    args = ['--ros-args', '-r', f'__node:={spec.name}']
    if spec.namespace:
        args += ['-r', f'__ns:={spec.namespace}']
    for source, target in spec.remappings:
        args += ['-r', f'{source}:={target}']
    for name, value in spec.parameters.items():
        args += ['-p', f'{name}:={_value(value)}']
    return args


class ProcessLauncher:
    """Start every node of a plan in its own process; stop them all like Ctrl-C.

    Parameters
    ----------
    plan : list of NodeSpec
    env : mapping, optional
        Environment of the processes (default: this process's).
    log_dir : str, optional
        Where each node's output goes (``<name>.log``); default a temporary folder.

    """

    def __init__(self, plan: List[NodeSpec], env: Optional[Mapping[str, str]] = None,
                 log_dir: Optional[str] = None) -> None:
        self.plan = plan
        self.env: Dict[str, str] = dict(env if env is not None else os.environ)
        self.env.setdefault('PYTHONUNBUFFERED', '1')
        self.log_dir = log_dir or tempfile.mkdtemp(prefix='samurai-launch-')
        os.makedirs(self.log_dir, exist_ok=True)
        self.processes: Dict[str, subprocess.Popen] = {}

    def start(self) -> 'ProcessLauncher':
        """Start all processes."""
        for spec in self.plan:
            log = open(os.path.join(self.log_dir, f'{spec.name}.log'), 'w')
            command = [sys.executable, '-m', spec.module] + ros_args(spec)
            self.processes[spec.name] = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
            log.close()
        return self

    def log(self, name: str) -> str:
        """Everything node ``name`` printed so far."""
        with open(os.path.join(self.log_dir, f'{name}.log'), errors='replace') as handle:
            return handle.read()

    def exited(self) -> Dict[str, int]:
        """Nodes that have exited, with their exit codes."""
        return {name: proc.returncode for name, proc in self.processes.items()
                if proc.poll() is not None}

    def stop(self, timeout: float = 15.0) -> Dict[str, Optional[int]]:
        """Send SIGINT to every node, wait, kill stragglers; returns the exit codes."""
        for proc in self.processes.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
        codes: Dict[str, Optional[int]] = {}
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
                codes[name] = None
        return codes

    def __enter__(self) -> 'ProcessLauncher':
        """Start all processes."""
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        """Stop all processes."""
        self.stop()
