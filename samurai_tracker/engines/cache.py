"""A cache of random-init exports, so tests, benchmarks and the demo export only once.

:func:`cached_random_export` returns a model directory under ``root/<key>/`` where the key
names the sam2 and torch versions, the size, the crop, the bias offsets, the seed and a
hash of the exporter's own source (``samurai_tracker/engines/*.py``), so a changed exporter
re-exports. The export is written to a temporary sibling and renamed into place under a
file lock, so concurrent test processes neither duplicate the work nor see half a
directory.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import shutil
import tempfile

from samurai_tracker.engines.contract import MANIFEST_FILE
from samurai_tracker.engines.sam2_model import BiasOffsets

__all__ = ['cache_key', 'cached_random_export', 'exporter_source_hash']

_DONE = '.complete'


def exporter_source_hash() -> str:
    """Return a short SHA-256 over the exporter's Python sources (file names and bytes)."""
    digest = hashlib.sha256()
    folder = os.path.dirname(os.path.abspath(__file__))
    for path in sorted(glob.glob(os.path.join(folder, '*.py'))):
        digest.update(os.path.basename(path).encode())
        with open(path, 'rb') as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:12]


def _version(module: str) -> str:
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # not installed
        return 'none'


def cache_key(size: str, crop: int, offsets: BiasOffsets, seed: int = 0) -> str:
    """Return the directory name of one cached export (file-system safe)."""
    return (f'sam2-{_version("sam2")}_torch-{_version("torch")}_{size}_s{crop}'
            f'_obj{offsets.object_score:+g}_iou{offsets.iou:+g}_seed{seed}'
            f'_src-{exporter_source_hash()}').replace('/', '-')


def cached_random_export(root: str, size: str = 'tiny', crop: int = 512,
                         offsets: BiasOffsets = BiasOffsets(10.0, 4.0), seed: int = 0) -> str:
    """Return a random-init export directory, exporting it first if it is not cached.

    Parameters
    ----------
    root : str
        Cache folder (created if missing), e.g. ``artifacts/test_models``.
    size, crop, offsets, seed
        As for :func:`samurai_tracker.engines.export.export_models`.

    Returns
    -------
    str
        The model directory (five ONNX files, constants, manifest).

    """
    from samurai_tracker.engines.export import export_models

    os.makedirs(root, exist_ok=True)
    target = os.path.join(root, cache_key(size, crop, offsets, seed))
    if os.path.isfile(os.path.join(target, _DONE)):
        return target
    with open(os.path.join(root, '.lock'), 'w', encoding='utf-8') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if os.path.isfile(os.path.join(target, _DONE)):
                return target
            staging = tempfile.mkdtemp(prefix='.staging-', dir=root)
            try:
                export_models(staging, size=size, crop=crop, random_init=True,
                              offsets=offsets, seed=seed)
                if not os.path.isfile(os.path.join(staging, MANIFEST_FILE)):
                    raise RuntimeError(f'export into {staging} wrote no manifest')
                with open(os.path.join(staging, _DONE), 'w', encoding='utf-8') as handle:
                    handle.write('ok\n')
                if os.path.isdir(target):
                    shutil.rmtree(target)  # an interrupted earlier export
                os.replace(staging, target)
            finally:
                if os.path.isdir(staging):
                    shutil.rmtree(staging, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target
