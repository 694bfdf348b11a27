"""Run real ROS 2 nodes in their own processes and talk to them from the test process.

Nothing here is a mock: nodes are started as ``python -m <module> --ros-args ...`` and
communicate over Fast DDS with an rclpy node in the test process. Every test session uses
its own ``ROS_DOMAIN_ID`` and localhost-only discovery, so parallel runs and other ROS
graphs on the machine do not interfere. Processes are killed (whole process group) when
the ``with`` block ends, also when the test fails.

Usage::

    with NodeProcess('samurai_tracker.tracker.tracker_node', name='tracker',
                     params={'model_dir': path}) as proc, RosClient() as ros:
        client = ros.node.create_client(Reseed, '/tracker/reseed')
        assert ros.wait_for_service(client, 20)
        response = ros.call(client, request)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Type

__all__ = ['NodeProcess', 'RosClient', 'ros_environment', 'wait_until']


def _session_domain_id() -> int:
    # One domain per test session (1..99 avoids the default 0 and the upper range limits).
    return 1 + os.getpid() % 99


def ros_environment(domain_id: Optional[int] = None) -> Dict[str, str]:
    """Environment for a node process: isolated domain, localhost discovery, unbuffered."""
    env = dict(os.environ)
    env['ROS_DOMAIN_ID'] = str(domain_id if domain_id is not None else _session_domain_id())
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env.pop('ROS_LOCALHOST_ONLY', None)
    env['PYTHONUNBUFFERED'] = '1'
    env.setdefault('RCUTILS_COLORIZED_OUTPUT', '0')
    return env


# The test process itself must be in the same domain as the nodes it starts.
os.environ.update({k: v for k, v in ros_environment().items()
                   if k in ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE')})
os.environ.pop('ROS_LOCALHOST_ONLY', None)


def _param_arg(name: str, value: Any) -> str:
    if isinstance(value, bool):
        text = 'true' if value else 'false'
    elif isinstance(value, (list, tuple)):
        text = '[' + ','.join(repr(v) if isinstance(v, str) else str(v) for v in value) + ']'
    elif isinstance(value, str):
        text = value if value else "''"
    else:
        text = repr(value)
    return f'{name}:={text}'


class NodeProcess:
    """A node running in its own process for the duration of a ``with`` block.

    Parameters
    ----------
    module : str
        Python module with a ``main()`` (run as ``python -m module``).
    name : str, optional
        Node name remap (``__node:=name``).
    namespace : str, optional
        Namespace remap (``__ns:=/ns``).
    params : dict, optional
        Parameters, passed as ``-p name:=value``.
    extra_args : list of str, optional
        More arguments after ``--ros-args`` (remaps, ``--params-file``).
    env : dict, optional
        Extra environment variables.

    """

    def __init__(self, module: str, name: Optional[str] = None,
                 namespace: Optional[str] = None, params: Optional[Dict[str, Any]] = None,
                 extra_args: Optional[List[str]] = None,
                 env: Optional[Dict[str, str]] = None) -> None:
        args = [sys.executable, '-m', module, '--ros-args']
        if name:
            args += ['-r', f'__node:={name}']
        if namespace:
            args += ['-r', f'__ns:={namespace}']
        for key, value in (params or {}).items():
            args += ['-p', _param_arg(key, value)]
        args += list(extra_args or [])
        self.args = args
        self.env = ros_environment()
        self.env.update(env or {})
        self._log = tempfile.NamedTemporaryFile(prefix='node-', suffix='.log', delete=False)
        self.process: Optional[subprocess.Popen] = None

    def __enter__(self) -> 'NodeProcess':
        """Start the process."""
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Stop the process (SIGINT, then SIGKILL) and keep its log for failure messages."""
        self.stop()

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        with open(self._log.name, 'r', errors='replace') as handle:
            return handle.read()

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """Interrupt the node like Ctrl-C and return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)
                self.process.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=5)
        return self.process.returncode

    def wait_exit(self, timeout: float) -> Optional[int]:
        """Wait for the process to exit on its own; return its code (None on timeout)."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


def wait_until(predicate: Callable[[], bool], timeout: float, period: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return predicate()


class RosClient:
    """An rclpy node in the test process, spun on a background thread.

    Subscriptions record every message in ``received[topic]``.
    """

    def __init__(self, name: str = 'test_client') -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.received: Dict[str, list] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._running = True

    def _spin(self) -> None:
        while self._running and self.context.ok():
            self.executor.spin_once(timeout_sec=0.05)

    def __enter__(self) -> 'RosClient':
        """Start spinning."""
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Stop spinning and shut the context down."""
        self._running = False
        self._thread.join(timeout=5)
        self.executor.shutdown()
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self.context)

    def subscribe(self, msg_type: Type, topic: str, qos: Any = 10) -> List[Any]:
        """Record every message on ``topic``; returns the live list."""
        with self._lock:
            messages = self.received.setdefault(topic, [])
        self.node.create_subscription(msg_type, topic, messages.append, qos)
        return messages

    def publisher(self, msg_type: Type, topic: str, qos: Any = 10) -> Any:
        """Create a publisher."""
        return self.node.create_publisher(msg_type, topic, qos)

    def wait_for_subscribers(self, publisher: Any, count: int = 1,
                             timeout: float = 20.0) -> bool:
        """Wait until ``publisher`` is matched with ``count`` subscriptions."""
        return wait_until(lambda: publisher.get_subscription_count() >= count, timeout)

    def wait_for_service(self, client: Any, timeout: float = 20.0) -> bool:
        """Wait until the service server is discovered."""
        return wait_until(lambda: client.service_is_ready(), timeout, period=0.1)

    def call(self, client: Any, request: Any, timeout: float = 20.0) -> Any:
        """Call a service and return its response (raises TimeoutError)."""
        future = client.call_async(request)
        if not wait_until(future.done, timeout):
            raise TimeoutError(f'service {client.srv_name} did not answer in {timeout} s')
        return future.result()

    def node_names(self) -> List[str]:
        """Fully qualified names of the nodes discovered on the graph."""
        return [ns.rstrip('/') + '/' + name
                for name, ns in self.node.get_node_names_and_namespaces()]
