"""A ``main()`` for every node: ``--help``, Ctrl-C, external shutdown, clean teardown.

Works on Humble through Kilted: it uses only ``rclpy.init``, executors,
``ExternalShutdownException`` and ``rclpy.try_shutdown``, which all of them have.
"""

from __future__ import annotations

import sys
from typing import Callable, List, Optional

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node

__all__ = ['run_node', 'wants_help']


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
        Process exit code: 0 after a normal shutdown, 2 when the node refused to start.

    """
    argv = list(sys.argv if args is None else args)
    if wants_help(argv):
        print(usage.strip())
        print('\nROS arguments: --ros-args -p name:=value -r __ns:=/namespace '
              '--params-file file.yaml')
        return 0
    rclpy.init(args=argv)
    node: Optional[Node] = None
    code = 0
    try:
        node = factory()
        executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else None
        if executor is None:
            rclpy.spin(node)
        else:
            executor.add_node(node)
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, FileNotFoundError) as error:
        # Bad parameters: one clear line, non-zero exit, no traceback.
        print(f'[{factory.__name__}] cannot start: {error}', file=sys.stderr)
        code = 2
    finally:
        if node is not None:
            close = getattr(node, 'close', None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return code
