"""Build a SAM 2.1 model (tiny, small, base_plus, large) from a checkpoint or at random.

The exporter, the parity checks and the PyTorch backend all start here. The model is the
stock ``sam2.modeling.sam2_base.SAM2Base`` built from the SAM 2.1 configs shipped with the
``sam2`` package, with the image size set to the crop side ``S`` and the video
predictor's post-processing settings (dynamic multimask fallback, binarised memory mask on
prompted frames), so the constants describe what SAMURAI's video predictor does.

A checkpoint's size is read from its weights (trunk width and block count), so a wrong
``config`` is caught before any weight is loaded. ``torch`` and ``sam2`` are imported
inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import os
from typing import Any, Dict, Mapping, Optional, Tuple

from samurai_tracker.engines.contract import SUPPORTED_CROPS

__all__ = [
    'BiasOffsets',
    'apply_bias_offsets',
    'ExportError',
    'SIZES',
    'build_sam2',
    'detect_size',
    'file_sha256',
    'import_torch',
    'load_state_dict',
    'resolve_size',
]


class ExportError(RuntimeError):
    """Export input is unusable; the message says what is wrong and what to do."""


SIZES: Mapping[str, str] = {
    'tiny': 'configs/sam2.1/sam2.1_hiera_t.yaml',
    'small': 'configs/sam2.1/sam2.1_hiera_s.yaml',
    'base_plus': 'configs/sam2.1/sam2.1_hiera_b+.yaml',
    'large': 'configs/sam2.1/sam2.1_hiera_l.yaml',
}
"""Model size -> SAM 2.1 config name inside the ``sam2`` package."""

_ALIASES: Mapping[str, str] = {
    't': 'tiny', 's': 'small', 'b+': 'base_plus', 'base-plus': 'base_plus', 'b': 'base_plus',
    'l': 'large', 'hiera_t': 'tiny', 'hiera_s': 'small', 'hiera_b+': 'base_plus',
    'hiera_l': 'large',
}

# (trunk embed_dim, number of Hiera blocks) -> size; read from a checkpoint's weights.
_SIGNATURES: Mapping[Tuple[int, int], str] = {
    (96, 12): 'tiny', (96, 16): 'small', (112, 24): 'base_plus', (144, 48): 'large',
}

# The video predictor's post-processing overrides (sam2.build_sam.build_sam2_video_predictor).
_VIDEO_OVERRIDES = (
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true',
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05',
    '++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98',
    '++model.binarize_mask_from_pts_for_mem_enc=true',
)


@dataclass(frozen=True)
class BiasOffsets:
    """Offsets added to the output biases of a random model's score heads.

    A random SAM 2.1 gives object-score logits near 0 and low IoU predictions, so
    SAMURAI's memory gates (IoU > 0.5, object score > 0) pass by chance. Adding
    ``object_score`` (e.g. +10) to ``pred_obj_score_head``'s last bias and ``iou`` (e.g. +4)
    to ``iou_prediction_head``'s last bias makes every frame read "object present, IoU
    about sigmoid(4) = 0.98", like a trained model on a visible target; negative values
    script an occlusion.

    Parameters
    ----------
    object_score : float
        Added to the object-score logit, in logits.
    iou : float
        Added to each IoU logit before the sigmoid, in logits.

    """

    object_score: float = 0.0
    iou: float = 0.0

    def __post_init__(self) -> None:
        """Reject non-finite or absurd offsets."""
        for name in ('object_score', 'iou'):
            value = float(getattr(self, name))
            if not abs(value) <= 1000.0:
                raise ValueError(f'bias offset {name} must be finite and within +-1000 '
                                 f'logits, got {value}')

    @property
    def active(self) -> bool:
        """True when any offset is non-zero."""
        return self.object_score != 0.0 or self.iou != 0.0


def import_torch() -> Any:
    """Import torch or raise :class:`ExportError` saying how to install it."""
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ExportError('torch is not installed: pip install torch (CPU build is enough for '
                          'export), then retry') from error
    return torch


def _import_sam2() -> None:
    try:
        import sam2  # noqa: F401  (initialises hydra's config module)
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ExportError('the sam2 package is not installed: SAM2_BUILD_CUDA=0 pip install '
                          '--no-deps sam2==1.1.0 hydra-core iopath') from error


def resolve_size(size: str) -> str:
    """Return the canonical size name (``tiny``, ``small``, ``base_plus``, ``large``).

    Accepts aliases such as ``t``, ``b+`` or a config file name.

    Raises
    ------
    ExportError
        If ``size`` names no SAM 2.1 size.

    """
    key = os.path.basename(str(size)).lower().replace('.yaml', '')
    key = key.replace('sam2.1_', '').replace('sam2_', '')
    key = _ALIASES.get(key, key)
    if key not in SIZES:
        raise ExportError(f'unknown SAM 2.1 size or config {size!r}: use one of '
                          f'{", ".join(SIZES)}')
    return key


def file_sha256(path: str) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def load_state_dict(checkpoint: str) -> Dict[str, Any]:
    """Read a SAM 2.1 checkpoint (``{'model': state_dict}``) onto the CPU.

    Raises
    ------
    ExportError
        If the file is missing, unreadable, not a torch checkpoint, or holds no
        SAM 2 state dict.

    """
    torch = import_torch()
    if not os.path.isfile(checkpoint):
        raise ExportError(f'checkpoint not found: {checkpoint}; pass the path of a SAM 2.1 '
                          '.pt file (e.g. sam2.1_hiera_tiny.pt) or use --random-init')
    try:
        blob = torch.load(checkpoint, map_location='cpu', weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt file
        raise ExportError(f'checkpoint {checkpoint} is not a readable torch checkpoint '
                          f'({type(error).__name__}); re-download it and check its sha256'
                          ) from error
    state = blob.get('model', blob) if isinstance(blob, dict) else None
    if not isinstance(state, dict) or 'image_encoder.trunk.patch_embed.proj.weight' not in state:
        raise ExportError(f'checkpoint {checkpoint} holds no SAM 2 model weights (expected a '
                          "dict with a 'model' state dict); use an official SAM 2.1 checkpoint")
    return state


def detect_size(state: Mapping[str, Any]) -> str:
    """Return the SAM 2.1 size whose architecture matches a state dict.

    Raises
    ------
    ExportError
        If the trunk matches no size, or the weights are SAM 2.0 (no
        ``no_obj_embed_spatial``), which this exporter does not target.

    """
    width = int(state['image_encoder.trunk.patch_embed.proj.weight'].shape[0])
    blocks = {int(k.split('.')[3]) for k in state if k.startswith('image_encoder.trunk.blocks.')}
    size = _SIGNATURES.get((width, len(blocks)))
    if size is None:
        raise ExportError(f'checkpoint trunk (width {width}, {len(blocks)} blocks) matches no '
                          f'SAM 2.1 size ({", ".join(SIZES)})')
    if 'no_obj_embed_spatial' not in state or 'obj_ptr_tpos_proj.weight' not in state:
        raise ExportError('checkpoint is SAM 2.0, not SAM 2.1 (no no_obj_embed_spatial); use a '
                          'sam2.1_hiera_*.pt checkpoint')
    return size


def build_sam2(size: Optional[str] = None, crop: int = 512, checkpoint: Optional[str] = None,
               seed: int = 0, offsets: BiasOffsets = BiasOffsets()) -> Tuple[Any, str]:
    """Build a SAM 2.1 ``SAM2Base`` in eval mode on the CPU.

    Parameters
    ----------
    size : str, optional
        Model size or config; read from the checkpoint when omitted. When both are
        given they must agree.
    crop : int
        Crop side S in pixels (``image_size`` of the model); one of ``SUPPORTED_CROPS``.
    checkpoint : str, optional
        SAM 2.1 ``.pt`` file; ``None`` builds a random model (seeded by ``seed``).
    seed : int
        torch seed of the random initialisation (ignored with a checkpoint).
    offsets : BiasOffsets
        Score-head bias offsets, applied after loading.

    Returns
    -------
    model : sam2.modeling.sam2_base.SAM2Base
        The model, float32, eval mode, CPU.
    size : str
        The canonical size name.

    Raises
    ------
    ExportError
        For an unsupported crop, an unknown size, a missing/corrupt checkpoint, or a
        config that does not match the checkpoint.

    """
    if crop not in SUPPORTED_CROPS:
        raise ExportError(f'unsupported crop size {crop}: use one of '
                          f'{", ".join(map(str, SUPPORTED_CROPS))} (512 crop mode, 1024 '
                          'full-frame mode)')
    torch = import_torch()
    state = load_state_dict(checkpoint) if checkpoint is not None else None
    if state is not None:
        found = detect_size(state)
        if size is not None and resolve_size(size) != found:
            raise ExportError(f'config {size!r} does not match the checkpoint, which is SAM 2.1 '
                              f'{found}; drop --config or pass --config {found}')
        size = found
    elif size is None:
        raise ExportError('no model size: pass --config (tiny, small, base_plus, large) with '
                          '--random-init, or a --checkpoint')
    size = resolve_size(size)
    _import_sam2()
    from hydra import compose
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    overrides = [f'++model.image_size={crop}', *_VIDEO_OVERRIDES]
    cfg = compose(config_name=SIZES[size], overrides=overrides)
    OmegaConf.resolve(cfg)
    with torch.random.fork_rng(devices=[]):  # leave the caller's RNG state alone
        torch.manual_seed(seed)
        model = instantiate(cfg.model, _recursive_=True)
    if state is not None:
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ExportError(f'checkpoint does not fit SAM 2.1 {size}: {len(missing)} missing '
                              f'and {len(unexpected)} unexpected weights (e.g. '
                              f'{(list(missing) + list(unexpected))[:3]})')
    model = model.float().eval().to('cpu')
    apply_bias_offsets(model, offsets)
    return model, size


def apply_bias_offsets(model: Any, offsets: BiasOffsets) -> None:
    """Add ``offsets`` to the last biases of the object-score and IoU heads, in place."""
    if not offsets.active:
        return
    torch = import_torch()
    decoder = model.sam_mask_decoder
    with torch.no_grad():
        if offsets.object_score:
            if not decoder.pred_obj_scores:
                raise ExportError('this model predicts no object score; drop the object-score '
                                  'offset')
            head = decoder.pred_obj_score_head
            last = head.layers[-1] if hasattr(head, 'layers') else head
            last.bias += float(offsets.object_score)
        if offsets.iou:
            decoder.iou_prediction_head.layers[-1].bias += float(offsets.iou)
