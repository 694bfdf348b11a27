"""Declare ROS parameters with descriptors (description, range, read-only) in one line each.

Every node declares all its parameters first, through :func:`declare`, so that
``ros2 param describe`` shows the unit and range of each and an out-of-range value is
refused by rclpy itself with a message that names the parameter and the range.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.node import Node

__all__ = ['declare', 'choices_validator']


def declare(node: Node, name: str, default: Any, description: str, *,
            value_range: Optional[Tuple[float, float]] = None, step: float = 0,
            read_only: bool = False, choices: Optional[Sequence[str]] = None) -> Any:
    """Declare one parameter and return its value.

    Parameters
    ----------
    node : rclpy.node.Node
    name : str
        Parameter name (snake_case, the same word as in the docs and config files).
    default : bool, int, float, str or list
        Default value; its type is the parameter's type.
    description : str
        What it does, with its unit.
    value_range : tuple of (number, number), optional
        Inclusive range, for int and float parameters.
    step : number
        Range step (0 = continuous).
    read_only : bool
        True for parameters that cannot change once the node runs (model paths, sizes).
    choices : sequence of str, optional
        Allowed values of a string parameter (listed in the description and checked by
        :func:`choices_validator` and at declaration).

    Raises
    ------
    ValueError
        If the value given on the command line or in a parameter file is not one of
        ``choices``.

    """
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if choices:
        descriptor.additional_constraints = 'one of: ' + ', '.join(choices)
    if value_range is not None:
        low, high = value_range
        if isinstance(default, bool):
            raise TypeError(f'{name}: a bool parameter has no range')
        if isinstance(default, int):
            descriptor.integer_range = [IntegerRange(
                from_value=int(low), to_value=int(high), step=int(step))]
        else:
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(low), to_value=float(high), step=float(step))]
    value = node.declare_parameter(name, default, descriptor).value
    if choices and value not in choices:
        raise ValueError(f"parameter '{name}' is '{value}', expected one of {list(choices)}")
    return value


def choices_validator(node: Node, allowed: dict) -> None:
    """Refuse run-time updates of string parameters to values outside their choices.

    Parameters
    ----------
    node : rclpy.node.Node
    allowed : dict of str to sequence of str
        Parameter name -> allowed values.

    """
    def check(params: list) -> SetParametersResult:
        for param in params:
            if param.name in allowed and param.value not in allowed[param.name]:
                return SetParametersResult(
                    successful=False,
                    reason=f"'{param.name}' must be one of {list(allowed[param.name])}")
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(check)
