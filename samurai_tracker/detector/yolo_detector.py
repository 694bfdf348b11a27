"""The ROS-free YOLO detector: image in, detections in original-image pixels out.

It glues the pieces of this package together around any
:class:`~samurai_tracker.backends.ModelBackend` (ONNX Runtime on a CPU, TensorRT on a
Jetson): letterbox the RGB image, run the model, decode ``[1, 4 + nc, N]``, map the boxes
back to the image. The model's input and output shapes are checked once when the detector
is built, so a wrong model file fails at start-up with a message, not on the first image.
"""

from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence

import numpy as np
import numpy.typing as npt

from samurai_tracker.backends import BackendError, ModelBackend, OnnxRuntimeBackend
from samurai_tracker.detector.class_names import load_class_names
from samurai_tracker.detector.letterbox import letterbox
from samurai_tracker.detector.yolo_decode import check_output_shape, DecodeConfig, \
    decode_yolo_output
from samurai_tracker.records import Detections

__all__ = ['YoloDetector', 'open_detector_backend']


def open_detector_backend(model_path: str, providers: Optional[Sequence[str]] = None
                          ) -> ModelBackend:
    """Open a detector model file with the backend its extension calls for.

    Parameters
    ----------
    model_path : str
        ``.onnx`` runs on ONNX Runtime; ``.engine`` / ``.plan`` need a TensorRT backend
        in :mod:`samurai_tracker.backends` (``TensorRtBackend``) and TensorRT installed.
    providers : sequence of str, optional
        ONNX Runtime execution providers in order of preference (default CPU).

    Raises
    ------
    BackendError
        If the file is missing, its extension is unknown or the backend is unavailable.

    """
    extension = os.path.splitext(model_path)[1].lower()
    if extension == '.onnx':
        return OnnxRuntimeBackend(model_path, providers=providers)
    if extension in ('.engine', '.plan'):
        from samurai_tracker import backends
        engine_backend: Any = getattr(backends, 'TensorRtBackend', None)
        if engine_backend is None:
            raise BackendError(f'{model_path}: TensorRT engines need '
                               'samurai_tracker.backends.TensorRtBackend, which this install '
                               'lacks; use the .onnx file instead')
        return engine_backend(model_path)
    raise BackendError(f'{model_path}: unknown model type {extension!r}; '
                       'expected .onnx, .engine or .plan')


class YoloDetector:
    """Run an Ultralytics YOLO (v8 / 11) detection model on RGB images.

    Parameters
    ----------
    backend : ModelBackend
        The loaded model: one input ``[1, 3, S, S]`` float32 (RGB 0..1), one (first) output
        ``[1, 4 + nc, N]``.
    class_names : sequence of str, optional
        Names in class-id order; default the 80 COCO names. ``nc`` must match the model.
    input_size : int, optional
        S; read from the model when its input is static, required when it is dynamic.
    config : DecodeConfig, optional
        Confidence and IoU thresholds, class filter.

    Raises
    ------
    ValueError
        If the model's input or output breaks the contract, the class count differs from the
        names, or ``input_size`` disagrees with a static model input.

    """

    def __init__(self, backend: ModelBackend, class_names: Optional[Sequence[str]] = None,
                 input_size: Optional[int] = None,
                 config: Optional[DecodeConfig] = None) -> None:
        self.backend = backend
        self.class_names: List[str] = list(class_names or load_class_names())
        self.config = config or DecodeConfig()
        if not backend.inputs or not backend.outputs:
            raise ValueError('the detector model must have one input and at least one output')
        spec = backend.inputs[0]
        dims = list(spec.shape)
        if len(dims) != 4 or (isinstance(dims[1], int) and dims[1] != 3):
            raise ValueError(f'detector input {spec.name!r} must be [1, 3, S, S] RGB, '
                             f'got {dims}')
        static = [d for d in dims[2:] if isinstance(d, int)]
        if len(static) == 2 and static[0] != static[1]:
            raise ValueError(f'detector input must be square [1, 3, S, S], got {dims}')
        if static and input_size is not None and int(input_size) != static[0]:
            raise ValueError(f'input_size {input_size} disagrees with the model input {dims}; '
                             f'set input_size to {static[0]} or re-export with imgsz='
                             f'{input_size}')
        size = input_size if input_size is not None else (static[0] if static else None)
        if size is None or int(size) < 32 or int(size) % 32:
            raise ValueError(f'input_size must be a multiple of 32 >= 32 (the model input is '
                             f'{dims}), got {size}')
        self.input_size = int(size)
        self.input_name = spec.name
        self.output_name = backend.outputs[0].name
        check_output_shape(backend.outputs[0].shape, len(self.class_names))

    @property
    def num_classes(self) -> int:
        """Number of classes the model predicts."""
        return len(self.class_names)

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Detect objects in one RGB image.

        Parameters
        ----------
        image : numpy.ndarray, shape (H, W, 3), uint8
            RGB image.

        Returns
        -------
        Detections
            Boxes in ``image`` pixels (clipped to it), scores, class ids; highest score first.
            Boxes that collapse to nothing after clipping (entirely in the padding) are dropped.

        Raises
        ------
        ValueError
            If the image is not (H, W, 3) uint8 or the output breaks the contract.
        BackendError
            If the backend cannot run.

        """
        blob, transform = letterbox(image, self.input_size)
        outputs = self.backend.run({self.input_name: blob})
        raw = np.asarray(outputs[self.output_name])
        found = decode_yolo_output(raw, self.config, self.num_classes)
        xyxy = transform.to_original(found.xyxy)
        size = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
        keep = size > 0
        return Detections(xyxy[keep], found.scores[keep], found.class_ids[keep])
