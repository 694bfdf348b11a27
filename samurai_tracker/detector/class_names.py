"""Class-name lists: one name per line, the line number (from 0) is the class id.

The detector's class ids mean nothing without the list the model was trained with; the
default is the 80 COCO names that Ultralytics' pretrained YOLO models use, shipped next to
this module as ``coco_names.txt``.
"""

from __future__ import annotations

import os
from typing import List, Optional, Sequence

__all__ = ['COCO_NAMES_PATH', 'load_class_names', 'resolve_class_filter']

COCO_NAMES_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'coco_names.txt')
"""Path of the shipped list of the 80 COCO class names."""


def load_class_names(path: Optional[str] = None) -> List[str]:
    """Read a class-names file.

    Parameters
    ----------
    path : str, optional
        Text file with one class name per line; blank lines and lines starting with ``#``
        are skipped. Empty or None reads the shipped COCO list.

    Returns
    -------
    list of str
        Names in class-id order (at least one).

    Raises
    ------
    ValueError
        If the file is missing, unreadable, empty, or lists a name twice.

    """
    path = path or COCO_NAMES_PATH
    try:
        with open(path, encoding='utf-8') as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise ValueError(f'cannot read class-names file {path!r}: {error}') from error
    names = [line.strip() for line in lines if line.strip() and not line.startswith('#')]
    if not names:
        raise ValueError(f'class-names file {path!r} lists no names (one name per line)')
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f'class-names file {path!r} lists {name!r} twice')
        seen.add(name)
    return names


def resolve_class_filter(filter_items: Sequence[str], names: Sequence[str]) -> List[int]:
    """Turn a class filter given as ids or names into class ids.

    Parameters
    ----------
    filter_items : sequence of str
        Each item is a class id (``'0'``) or a class name (``'person'``); empty keeps all.
    names : sequence of str
        The class names, in id order.

    Returns
    -------
    list of int
        Class ids, in the order given.

    Raises
    ------
    ValueError
        If an item is neither a valid id nor a known name.

    """
    ids: List[int] = []
    for item in filter_items:
        text = str(item).strip()
        if text.lstrip('-').isdigit():
            value = int(text)
            if not 0 <= value < len(names):
                raise ValueError(f'class filter id {value} is outside [0, {len(names) - 1}]')
            ids.append(value)
        elif text in names:
            ids.append(list(names).index(text))
        else:
            raise ValueError(f'class filter item {text!r} is neither a class id nor one of the '
                             f'{len(names)} class names')
    return ids
