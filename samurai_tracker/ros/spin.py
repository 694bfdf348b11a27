"""A ``main()`` for every node: ``--help``, Ctrl-C, external shutdown, clean teardown.

Works on Humble through Kilted: it uses only ``rclpy.init``, executors,
``ExternalShutdownException`` and ``rclpy.try_shutdown``, which all of them have.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable, List, Optional, Sequence

import rclpy
from rclpy.executors import (Executor, ExternalShutdownException, MultiThreadedExecutor,
                             SingleThreadedExecutor)
from rclpy.node import Node

_EXECUTORS: List[Executor] = []

__all__ = ['exit_process', 'install_stop_handlers', 'run_node', 'run_nodes', 'shutdown_nodes',
           'spin_until_stopped', 'wants_help']


def wants_help(argv: List[str]) -> bool:
    """Whether ``--help``/``-h`` was given before any ``--ros-args``."""
    user_args = argv[1:argv.index('--ros-args')] if '--ros-args' in argv else argv[1:]
    return '--help' in user_args or '-h' in user_args


def run_node(factory: Callable[[], Node], usage: str, args: Optional[List[str]] = None,
             threads: int = 1) -> int:
    """Create a node, spin it until shutdown, and tear it down cleanly.

    Parameters
    ----------
    factory : callable
        Builds the node (after ``rclpy.init``); may raise to refuse bad parameters.
    usage : str
        Printed for ``--help`` (the node module's docstring: topics and parameters).
    args : list of str, optional
        Command line; default ``sys.argv``.
    threads : int
        Executor threads (> 1 for nodes that call services from callbacks).

    Returns
    -------
    int
        0 after ``--help``. Otherwise the process ends here (:func:`exit_process`) with
        0 after a normal shutdown, 2 when the node refused to start.

    """
    argv = list(sys.argv if args is None else args)
    if wants_help(argv):
        print(usage.strip())
        print('\nROS arguments: --ros-args -p name:=value -r __ns:=/namespace '
              '--params-file file.yaml')
        return 0
    exit_process(run_nodes([factory], argv, f'[{factory.__name__}]', threads))
    return 0  # not reached


def run_nodes(factories: Sequence[Callable[[], Node]], argv: List[str], label: str,
              threads: int = 1) -> int:
    """Initialise rclpy, build the nodes, spin them until stopped, shut everything down.

    Parameters
    ----------
    factories : sequence of callables
        Build the nodes in order (the camera first in a composed pipeline, so it is also
        the first to stop handing out frames).
    argv : list of str
        Command line for ``rclpy.init`` (``--ros-args`` ...).
    label : str
        Prefix of the one-line error when a node refuses its parameters.
    threads : int
        Executor threads.

    Returns
    -------
    int
        0 after a normal shutdown, 2 when a node refused to start. rclpy is shut down;
        end the process with :func:`exit_process`.

    """
    code = 0
    nodes: List[Node] = []
    stop = install_stop_handlers(argv)
    try:
        for factory in factories:
            nodes.append(factory())
        spin_until_stopped(nodes, stop, threads)
    except ExternalShutdownException:
        pass
    except (ValueError, FileNotFoundError) as error:
        # Bad parameters: one clear line, non-zero exit, no traceback.
        print(f'{label} cannot start: {error}', file=sys.stderr)
        code = 2
    finally:
        shutdown_nodes(nodes)
    return code


def install_stop_handlers(argv: List[str]) -> threading.Event:
    """Initialise rclpy so that SIGINT/SIGTERM only set the returned event.

    rclpy's own handler shuts the context down inside the signal, while the nodes' worker
    threads (inference, GStreamer) may still be publishing, which aborts the process. Here
    the signal only asks the spin loop to stop; the nodes then stop their threads, and
    rclpy is shut down last.
    """
    stop = threading.Event()
    # Let rclpy install its handlers (its executors expect them: with
    # SignalHandlerOptions.NO, destroying an executor aborts on Kilted), then take SIGINT
    # and SIGTERM over at the Python level.
    rclpy.init(args=argv)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


def spin_until_stopped(nodes: List[Node], stop: threading.Event, threads: int = 1) -> None:
    """Spin ``nodes`` in 0.1 s slices until ``stop`` is set or rclpy shuts down."""
    executor: Executor = (MultiThreadedExecutor(num_threads=threads) if threads > 1
                          else SingleThreadedExecutor())
    for node in nodes:
        executor.add_node(node)
    # Kept alive until the process ends: with SIGINT taken over, destroying an executor
    # (explicitly or by the garbage collector) aborts inside rclpy on Kilted.
    _EXECUTORS.append(executor)
    while not stop.is_set() and rclpy.ok():
        executor.spin_once(timeout_sec=0.1)
    for node in nodes:
        executor.remove_node(node)


def exit_process(code: int) -> None:
    """End the process with ``code`` once the nodes and rclpy are shut down.

    Skips interpreter finalisation, which would destroy the executors kept alive by
    :func:`spin_until_stopped` after rclpy is gone. Everything that matters (node
    threads, GStreamer pipelines, output files, rclpy) is already closed by then.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def shutdown_nodes(nodes: List[Node]) -> None:
    """Stop every node's threads (``close()``), destroy the nodes, then shut rclpy down."""
    for node in nodes:
        close = getattr(node, 'close', None)
        if callable(close):
            close()
    for node in reversed(nodes):
        node.destroy_node()
    rclpy.try_shutdown()
