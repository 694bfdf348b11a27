"""SamuraiTracker: the per-frame SAMURAI loop over five models (ROS-free).

One :meth:`SamuraiTracker.track` call is either

- a *full inference*: crop (or resize) -> ``image_encoder`` -> memory bank ->
  ``memory_attention`` -> ``mask_decoder`` (empty prompt) -> SAMURAI candidate choice
  -> mask -> box -> ``memory_encoder`` -> new memory; or
- a *coasted* frame (``max_kf``): the Kalman prediction alone, reported as
  :attr:`~samurai_tracker.records.BoxSource.PREDICTED`.

:meth:`SamuraiTracker.seed` runs the prompted variant (``prompt_encoder`` with the box,
``no_mem_embed`` instead of memory attention) and replaces the memory bank. Every input is
validated before any state changes, and a frame's results are committed only after all
its models ran, so a bad frame or a failing backend leaves the tracker as it was.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple

import cv2
import numpy as np
import numpy.typing as npt

from samurai_tracker.records import Box, BoxSource, Detections, SeedPolicy, Track, TrackState
from samurai_tracker.tracker import kalman
from samurai_tracker.tracker.config import CROP, TrackerConfig
from samurai_tracker.tracker.errors import TrackerInputError
from samurai_tracker.tracker.fused_step import FusedTrackingStep, StepResult
from samurai_tracker.tracker.geometry import crop_window, full_frame_window, ViewWindow
from samurai_tracker.tracker.glue import FrameGlue, NO_OBJ_SCORE, tracking_candidates
from samurai_tracker.tracker.inputs import check_frame, check_seed_box, check_stamp
from samurai_tracker.tracker.lifecycle import (after_coast, after_measurement, after_seed,
                                               confidence, LifeState)
from samurai_tracker.tracker.memory import MemoryBank, MemoryEntry
from samurai_tracker.tracker.models import open_models, SamuraiModels
from samurai_tracker.tracker.selection import (Choice, choose_candidate, kalman_scored,
                                               SelectionState)

__all__ = ['LARGE_KF_SCORE_WEIGHT', 'STAGES', 'SamuraiTracker', 'load_tracker']

STAGES = ('preprocess', 'image_encoder', 'memory_attention', 'prompt_encoder', 'mask_decoder',
          'memory_encoder', 'fused_step', 'glue', 'total')
"""Keys of :attr:`SamuraiTracker.timings` (milliseconds of the last frame).

With the fused tracking step the four models of a tracking frame run as one device
program: their own keys stay 0 and ``fused_step`` holds the wall time from its launch to
its results on the host.
"""

UInt8Image = npt.NDArray[np.uint8]


def _make_glue(models: SamuraiModels, ops: Any) -> FrameGlue:
    """FrameGlue, or its device variant (memory bank by one kernel) on the CUDA glue ops."""
    if getattr(ops, 'name', '') == 'cuda-glue':
        from samurai_tracker.gpu.device_glue import DeviceFrameGlue

        return DeviceFrameGlue(models.constants, ops)
    return FrameGlue(models.constants, ops)


def _extent_in_frame(extent: Optional[npt.NDArray[np.float64]], window: ViewWindow,
                     width: int, height: int) -> Optional[Box]:
    """Frame box of a mask extent in input pixels, clipped; None when empty or degenerate."""
    if extent is None:
        return None
    box = Box(window.to_frame(extent)).clip(width, height)
    return box if box.width > 0 and box.height > 0 else None


class _Clock:
    """Accumulates wall time per stage, synchronising the device at each boundary."""

    def __init__(self, sync: Any) -> None:
        self.sync = sync
        self.times: Dict[str, float] = {s: 0.0 for s in STAGES}
        self.start = time.perf_counter()
        self.mark = self.start

    def lap(self, stage: str) -> None:
        self.sync()
        now = time.perf_counter()
        self.times[stage] += (now - self.mark) * 1e3
        self.mark = now

    def finish(self) -> Dict[str, float]:
        self.lap('glue')
        self.times['total'] = (self.mark - self.start) * 1e3
        return dict(self.times)


class SamuraiTracker:
    """Follow one object with SAMURAI (SAM 2.1 + Kalman motion-aware memory).

    Parameters
    ----------
    models : SamuraiModels
        The five sub-models and constants (see :func:`~samurai_tracker.tracker.models.
        open_models`).
    config : TrackerConfig, optional
        Every knob; defaults to ``TrackerConfig()`` with ``crop_size`` taken from the
        models.
    fused : bool, optional
        Run tracking frames with :class:`~samurai_tracker.tracker.fused_step.
        FusedTrackingStep` (two programs, CUDA graphs on a GPU). Default: on for the torch
        backend on CUDA, off otherwise; True on the CPU runs the same programs eagerly.

    Raises
    ------
    TrackerInputError
        If ``config.crop_size`` differs from the models' input size.
    ModelSetError
        If ``fused`` is True for models that are not PyTorch backends.

    """

    def __init__(self, models: SamuraiModels, config: Optional[TrackerConfig] = None,
                 fused: Optional[bool] = None) -> None:
        if config is None:
            config = TrackerConfig(crop_size=models.crop)
        if config.crop_size != models.crop:
            raise TrackerInputError(f'config.crop_size {config.crop_size} differs from the '
                                    f'models\' input size {models.crop}; export models for '
                                    f'{config.crop_size} or set crop_size={models.crop}')
        self.models = models
        self.config = config
        self.ops = models.make_ops()
        self.glue = _make_glue(models, self.ops)
        self.mean = tuple(float(v) for v in models.constants['image_mean'])
        self.std = tuple(float(v) for v in models.constants['image_std'])
        self.bank = MemoryBank(config.memory_bank_iou_threshold,
                               config.memory_bank_obj_score_threshold,
                               config.memory_bank_kf_score_threshold)
        self.timings: Dict[str, float] = {s: 0.0 for s in STAGES}
        self.last_track: Track = Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, 0)
        self.last_choice: Optional[Choice] = None
        """The candidate choice of the last full inference (None after a seed or coast)."""
        self._track_id = 0
        if fused is None:
            fused = models.backend == 'torch' and models.device == 'cuda'
        self.fused: Optional[FusedTrackingStep] = None
        if fused:
            self.fused = FusedTrackingStep(models)
            self.fused.prepare()
        self._clear()

    # ---- public state ------------------------------------------------------------------
    @property
    def is_seeded(self) -> bool:
        """Whether a seed is in place (``track`` then follows it)."""
        return self._frame_size is not None

    @property
    def track_id(self) -> int:
        """Id of the current track (0 before the first seed)."""
        return self._track_id

    @property
    def step(self) -> int:
        """Full inferences since the seed (the seed frame is step 0)."""
        return self._step

    @property
    def selection(self) -> SelectionState:
        """Candidate-choice state of SAMURAI (Kalman filter and stable-frame count)."""
        return self._selection

    @property
    def life(self) -> LifeState:
        """State machine of the track (state, confidence, counters)."""
        return self._life

    @property
    def last_window(self) -> Optional[ViewWindow]:
        """The frame window the encoder saw on the last full inference."""
        return self._mask[1] if self._mask is not None else None

    @property
    def last_mask_logits(self) -> Optional[npt.NDArray[np.float32]]:
        """Mask logits (S, S) of the last full inference over :attr:`last_window`, or None.

        Kept on the device until asked for (one download per call).
        """
        if self._mask is None:
            return None
        return np.asarray(self.ops.to_host(self._mask[0]), dtype=np.float32)

    @property
    def last_mask(self) -> Optional[npt.NDArray[np.bool_]]:
        """Full-frame boolean mask (H, W) of the last full inference; None when coasted."""
        logits = self.last_mask_logits
        if logits is None or self._mask is None:
            return None
        _, window, (width, height) = self._mask
        mapped = cv2.warpAffine(logits, window.affine(), (width, height),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=-1.0)
        return mapped > 0

    def reset(self) -> None:
        """Forget the track (state IDLE); the next seed gets a new track id."""
        self._clear()
        self.last_track = Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, self._track_id)

    def _clear(self) -> None:
        self.bank.clear()
        self._frame_size: Optional[Tuple[int, int]] = None
        self._selection = SelectionState()
        self._life = LifeState()
        self._last_box: Optional[Box] = None
        self._step = 0
        self._coasted = 0
        self._mask: Optional[Tuple[Any, ViewWindow, Tuple[int, int]]] = None

    # ---- validation --------------------------------------------------------------------
    def _check_frame(self, frame: Any, seeding: bool) -> Tuple[int, int]:
        return check_frame(frame, self.config.min_frame_side,
                           None if seeding else self._frame_size,
                           device_ok=self.ops.takes_device_frames)

    # ---- helpers -----------------------------------------------------------------------
    def _window(self, box: Box, width: int, height: int, searching: bool) -> ViewWindow:
        size = self.config.crop_size
        if self.config.view_mode != CROP or searching:
            if self.config.view_mode != CROP:
                return full_frame_window(width, height, size)
            side = float(max(width, height))  # square view of the whole frame
            return ViewWindow(round((width - side) / 2), round((height - side) / 2),
                              side, side, size)
        window = crop_window(box, width, height, size, self.config.context_factor,
                             self.config.min_crop_side)
        side = float(round(window.width))
        return ViewWindow(float(round(window.x0)), float(round(window.y0)), side, side, size)

    def _encode(self, frame: UInt8Image, window: ViewWindow, clock: _Clock) -> Dict[str, Any]:
        image = self.ops.preprocess(frame, (int(window.x0), int(window.y0), int(window.width),
                                            int(window.height)),
                                    self.config.crop_size, self.mean, self.std)
        clock.lap('preprocess')
        features = self.models.image_encoder.run({'image': image})
        clock.lap('image_encoder')
        return features

    def _box_in_frame(self, logits: Any, window: ViewWindow, width: int,
                      height: int) -> Optional[Box]:
        return _extent_in_frame(self.ops.mask_box(logits), window, width, height)

    def _host_scalars(self, out: Dict[str, Any]) -> Tuple[npt.NDArray[np.float64], float]:
        ious = self.ops.to_host(out['iou_pred']).reshape(-1).astype(np.float64)
        score = float(self.ops.to_host(out['object_score_logits']).reshape(-1)[0])
        return ious, score

    def _make_track(self, life: LifeState, source: BoxSource, box: Optional[Box],
                    message: str = '') -> Track:
        return Track(life.state, source, box, float(min(max(life.confidence, 0.0), 1.0)),
                     self._track_id, life.frames_since_measurement, message)

    # ---- seeding -----------------------------------------------------------------------
    def seed(self, frame_rgb: UInt8Image, box: Box, stamp_ns: Optional[int] = None) -> Track:
        """Start (or restart) the track on ``box`` in ``frame_rgb``.

        Parameters
        ----------
        frame_rgb : numpy.ndarray, shape (H, W, 3), uint8
            RGB frame.
        box : Box
            The object, full-frame pixels; clipped to the frame.
        stamp_ns : int, optional
            Frame stamp in nanoseconds (for time-based loss).

        Returns
        -------
        Track
            TRACKED (first seed) or REACQUIRED (reseed), source FULL_INFERENCE, the box of
            the seed mask (the seed box when the mask is empty), a new ``track_id``.

        Raises
        ------
        TrackerInputError
            For a bad frame, box or stamp; the previous track is then kept unchanged.

        """
        width, height = self._check_frame(frame_rgb, seeding=True)
        box = check_seed_box(box, width, height)
        stamp = check_stamp(stamp_ns)
        consts = self.models.constants
        clock = _Clock(self.ops.synchronize)
        window = self._window(box, width, height, searching=False)
        features = self._encode(frame_rgb, window, clock)
        prompt_box = window.to_input(box.xyxy).reshape(1, 2, 2)
        prompt = self.models.prompt_encoder.run({'box': self.ops.from_host(prompt_box)})
        clock.lap('prompt_encoder')
        conditioned = self.glue.conditioned_seed(features['image_embed'])
        out = self.models.mask_decoder.run({
            'image_embed': conditioned, 'image_pe': self.glue.image_pe,
            'sparse': prompt['sparse'], 'dense': prompt['dense'],
            'feat_s0': features['feat_s0'], 'feat_s1': features['feat_s1']})
        clock.lap('mask_decoder')
        ious, obj_score = self._host_scalars(out)
        masks = out['masks']
        num_points = 2  # a box is two points for SAM's multimask rule
        multimask = bool(consts['multimask_output_in_sam']) and (
            int(consts['multimask_min_pt_num']) <= num_points
            <= int(consts['multimask_max_pt_num']))
        if multimask:
            index = 1 + int(np.argmax(ious[1:]))
            token_index = index if consts['use_multimask_token_for_obj_ptr'] else 0
        else:
            index = 0
            if consts['dynamic_multimask_via_stability']:
                stability = self.ops.stability(masks[0, 0],
                                               float(consts['dynamic_multimask_stability_delta']))
                if stability < float(consts['dynamic_multimask_stability_thresh']):
                    index = 1 + int(np.argmax(ious[1:]))
            token_index = 0
        present = obj_score > self.config.min_obj_score_logits
        chosen = masks[:, index:index + 1]
        if not present:
            chosen = chosen * 0.0 + NO_OBJ_SCORE
        high_res = self.ops.upsample(chosen, self.config.crop_size)
        mask_box = self._box_in_frame(high_res[0, 0], window, width, height)
        pointer = self.glue.object_pointer(out['mask_tokens'][:, token_index], present)
        binarize = bool(consts['binarize_mask_from_pts_for_mem_enc'])
        mem_mask = self.glue.memory_mask(high_res, binarize=binarize)
        memory = self.models.memory_encoder.run({'pix_feat': features['image_embed'],
                                                 'mask': mem_mask})
        clock.lap('memory_encoder')
        self.glue.remember_position(memory['maskmem_pos'])
        feat = self.glue.add_no_object(memory['maskmem_feat'], obj_score)
        if self.fused is not None:
            feat, pointer = self.fused.store_conditioning(feat, pointer,
                                                          memory['maskmem_pos'])
        entry = MemoryEntry(0, feat, pointer, float(ious[index]), obj_score, None)
        conf = confidence(obj_score, float(ious[index]), self.config)
        reseed = self._track_id > 0
        # ---- commit ----
        self.bank.reset(entry)
        self._track_id += 1
        self._frame_size = (width, height)
        self._selection = SelectionState()
        self._step = 1
        self._coasted = 0
        self._last_box = box
        self._life = after_seed(reseed, conf, stamp, self.config)
        self.last_choice = None
        self._mask = (high_res[0, 0], window,
                      (width, height))
        self.timings = clock.finish()
        report = mask_box if mask_box is not None else box
        self.last_track = self._make_track(self._life, BoxSource.FULL_INFERENCE, report,
                                           'seeded' if not reseed else 'reseeded')
        return self.last_track

    def seed_from_detections(self, frame_rgb: UInt8Image, detections: Detections,
                             target_class: Optional[int] = None,
                             policy: SeedPolicy = SeedPolicy.MOST_CONFIDENT,
                             stamp_ns: Optional[int] = None) -> Optional[Track]:
        """Seed from the best detection of ``target_class`` (any class when None).

        Returns None, leaving the tracker unchanged, when there is no such detection.
        """
        width, height = self._check_frame(frame_rgb, seeding=True)
        candidates = detections.of_class(target_class)
        index = candidates.best(SeedPolicy(policy), width, height)
        if index is None:
            return None
        return self.seed(frame_rgb, candidates.box(index), stamp_ns)

    # ---- tracking ----------------------------------------------------------------------
    def track(self, frame_rgb: UInt8Image, stamp_ns: Optional[int] = None) -> Track:
        """Process the next frame; see the module docstring.

        Returns
        -------
        Track
            IDLE (no box) before a seed; otherwise the state, box, confidence and source
            of this frame.

        Raises
        ------
        TrackerInputError
            For a bad frame or stamp; the tracker state is then unchanged.

        """
        width, height = self._check_frame(frame_rgb, seeding=False)
        stamp = check_stamp(stamp_ns)
        if not self.is_seeded:
            self.timings = {s: 0.0 for s in STAGES}
            self.last_track = Track(TrackState.IDLE, BoxSource.NONE, None, 0.0, self._track_id,
                                    message='not seeded')
            return self.last_track
        kf = self._selection.kf
        predicted = kalman.predict(kf) if kf is not None else None
        if predicted is not None and self._may_coast(predicted):
            return self._coast(predicted, width, height, stamp)
        return self._infer(frame_rgb, predicted, width, height, stamp)

    def _may_coast(self, predicted: Optional[kalman.KalmanState]) -> bool:
        life = self._life
        return (predicted is not None and self._coasted < self.config.max_kf
                and life.state in (TrackState.TRACKED, TrackState.REACQUIRED)
                and life.frames_since_measurement == self._coasted
                and life.confidence * self.config.coast_confidence_decay
                >= self.config.coast_min_confidence)

    def _coast(self, predicted: kalman.KalmanState, width: int, height: int,
               stamp: Optional[int]) -> Track:
        start = time.perf_counter()
        box = kalman.state_box(predicted).clip(width, height)
        self._selection = SelectionState(predicted, self._selection.stable_frames)
        self._coasted += 1
        self._life = after_coast(self._life, stamp, self.config)
        self.last_choice = None
        self._mask = None
        self.timings = {s: 0.0 for s in STAGES}
        self.timings['glue'] = self.timings['total'] = (time.perf_counter() - start) * 1e3
        self.last_track = self._make_track(self._life, BoxSource.PREDICTED, box)
        return self.last_track

    def _infer(self, frame: UInt8Image, predicted: Optional[kalman.KalmanState], width: int,
               height: int, stamp: Optional[int]) -> Track:
        config = self.config
        clock = _Clock(self.ops.synchronize)
        prior = kalman.state_box(predicted) if predicted is not None else self._last_box
        assert prior is not None
        searching = (config.search_full_frame_when_lost
                     and self._life.state is TrackState.LOST)
        if prior.width <= 0 or prior.height <= 0:
            prior = self._last_box or prior
        window = self._window(prior, width, height, searching)
        if self.fused is not None:
            measured = self._measure_fused(frame, window, predicted, width, height, clock)
        else:
            measured = self._measure(frame, window, width, height, clock)
        choice, iou, obj_score, feat, pointer, chosen = measured
        entry = MemoryEntry(self._step, feat, pointer, iou, obj_score, choice.kf_score)
        conf = confidence(obj_score, iou, config)
        good = choice.box is not None and conf >= config.min_confidence
        life = after_measurement(self._life, good, conf, stamp, config)
        if good:
            assert choice.box is not None
            report, source = choice.box, BoxSource.FULL_INFERENCE
        else:
            kf = choice.state.kf
            report = kalman.state_box(kf).clip(width, height) if kf is not None else prior
            source = BoxSource.PREDICTED
        # ---- commit ----
        self.bank.add(entry)
        self._selection = choice.state
        self._step += 1
        self._coasted = 0
        if good:
            self._last_box = choice.box
        self._life = life
        self.last_choice = choice
        self._mask = (chosen, window, (width, height))
        self.timings = clock.finish()
        self.last_track = self._make_track(life, source, report)
        return self.last_track

    def _choose(self, ious: npt.NDArray[np.float64], box_of: Any,
                index: Optional[int] = None) -> Choice:
        config = self.config
        return choose_candidate(
            self._selection, ious, box_of,
            stable_frames_threshold=config.stable_frames_threshold,
            stable_ious_threshold=config.stable_ious_threshold,
            kf_score_weight=config.kf_score_weight, index=index)

    def _measure(self, frame: UInt8Image, window: ViewWindow, width: int, height: int,
                 clock: _Clock) -> Tuple[Choice, float, float, Any, Any, Any]:
        """Run a tracking frame model by model through :class:`ArrayOps`."""
        config = self.config
        features = self._encode(frame, window, clock)
        step = self._step
        frames = [(t, e.maskmem_feat) for t, e in self.bank.select_frames(step)]
        pointers = [(t, e.obj_ptr) for t, e in self.bank.select_pointers(step)]
        memory, memory_pos, valid = self.glue.memory_inputs(frames, pointers)
        curr = self.ops.tokens(features['image_embed'])
        curr_pos = self.ops.tokens(features['image_pos'])
        clock.lap('glue')
        attended = self.models.memory_attention.run({
            'curr': curr, 'curr_pos': curr_pos, 'memory': memory, 'memory_pos': memory_pos,
            'memory_valid': valid})['conditioned']
        clock.lap('memory_attention')
        conditioned = self.ops.untokens(attended, self.glue.side, self.glue.side)
        out = self.models.mask_decoder.run({
            'image_embed': conditioned, 'image_pe': self.glue.image_pe,
            'sparse': self.glue.empty_sparse, 'dense': self.glue.empty_dense,
            'feat_s0': features['feat_s0'], 'feat_s1': features['feat_s1']})
        clock.lap('mask_decoder')
        ious, obj_score = self._host_scalars(out)
        present = obj_score > config.min_obj_score_logits
        masks = out['masks']
        if not present:
            masks = masks * 0.0 + NO_OBJ_SCORE
        first, count, pointer_from_choice = tracking_candidates(self.models.constants)
        cache: Dict[int, Any] = {}

        def high_res(i: int) -> Any:
            if i not in cache:
                cache[i] = self.ops.upsample(masks[:, first + i:first + i + 1],
                                             config.crop_size)
            return cache[i]

        def box_of(i: int) -> Optional[Box]:
            return self._box_in_frame(high_res(i)[0, 0], window, width, height)

        choice = self._choose(ious[first:first + count], box_of)
        index = first + choice.index
        token = index if pointer_from_choice else 0
        pointer = self.glue.object_pointer(out['mask_tokens'][:, token], present)
        chosen = high_res(choice.index)
        mem_mask = self.glue.memory_mask(chosen, binarize=False)
        clock.lap('glue')
        memory_out = self.models.memory_encoder.run({'pix_feat': features['image_embed'],
                                                     'mask': mem_mask})
        clock.lap('memory_encoder')
        feat = self.glue.add_no_object(memory_out['maskmem_feat'], obj_score)
        return choice, float(ious[index]), obj_score, feat, pointer, chosen[0, 0]

    def _measure_fused(self, frame: UInt8Image, window: ViewWindow,
                       predicted: Optional[kalman.KalmanState], width: int, height: int,
                       clock: _Clock) -> Tuple[Choice, float, float, Any, Any, Any]:
        """Run a tracking frame through :class:`FusedTrackingStep` (one read-back)."""
        fused = self.fused
        assert fused is not None
        config = self.config
        mark = time.perf_counter()
        image = self.ops.preprocess(frame, (int(window.x0), int(window.y0),
                                            int(window.width), int(window.height)),
                                    config.crop_size, self.mean, self.std)
        clock.times['preprocess'] += (time.perf_counter() - mark) * 1e3
        step = self._step
        stable = kalman_scored(self._selection, config.stable_frames_threshold)
        prior = window.to_input(kalman.state_box(predicted).xyxy) \
            if stable and predicted is not None else np.zeros(4)
        clip = window.to_input(np.array([0.0, 0.0, width, height]))
        mark = time.perf_counter()
        result: StepResult = fused.run(
            image, [(t, e.step) for t, e in self.bank.select_frames(step)],
            [(t, e.step) for t, e in self.bank.select_pointers(step)], step,
            self.bank.steps, prior, clip, config.kf_score_weight if stable else 0.0,
            config.min_obj_score_logits)
        clock.times['fused_step'] += (time.perf_counter() - mark) * 1e3
        clock.mark = time.perf_counter()

        def box_of(i: int) -> Optional[Box]:
            extent = result.extents[i] if result.nonempty[i] else None
            return _extent_in_frame(extent, window, width, height)

        first = fused.first
        choice = self._choose(result.ious[first:first + fused.count], box_of, result.index)
        iou = float(result.ious[first + choice.index])
        return (choice, iou, result.object_score, result.maskmem_feat, result.obj_ptr,
                result.mask[0, 0])


LARGE_KF_SCORE_WEIGHT = 0.15
"""SAMURAI's ``kf_score_weight`` for SAM 2.1 large (``configs/samurai/sam2.1_hiera_l.yaml``)."""


def _model_size(model_dir: str) -> Optional[str]:
    """SAM 2.1 size recorded in the directory's manifest, or None when unreadable."""
    from samurai_tracker.engines.manifest import ManifestError, read_manifest

    try:
        return str(read_manifest(model_dir).get('model', {}).get('size'))
    except (ManifestError, OSError):
        return None


def load_tracker(model_dir: str, backend: str = 'onnxruntime',
                 backend_options: Optional[Dict[str, Any]] = None,
                 **config_overrides: Any) -> SamuraiTracker:
    """Open a model directory and return a tracker configured by keyword overrides.

    Parameters
    ----------
    model_dir : str
        Directory made by ``samurai-export`` (and ``samurai-build-engines``).
    backend : str
        ``'onnxruntime'``, ``'tensorrt'`` or ``'torch'``.
    backend_options : dict, optional
        Passed to every backend constructor (e.g. ``{'device': 'cuda', 'dtype': 'fp16'}``).
    **config_overrides
        :class:`TrackerConfig` fields; ``crop_size`` defaults to the models' size and
        ``kf_score_weight`` to 0.15 for a SAM 2.1 large export (the reference's value for
        that size; 0.25 otherwise).

    Raises
    ------
    ModelSetError
        For a missing or inconsistent model directory (naming the file and the command).
    TrackerInputError
        For an unknown or out-of-range configuration field.

    """
    models = open_models(model_dir, backend, **(backend_options or {}))
    overrides = dict(config_overrides)
    overrides.setdefault('crop_size', models.crop)
    if 'kf_score_weight' not in overrides and _model_size(model_dir) == 'large':
        overrides['kf_score_weight'] = LARGE_KF_SCORE_WEIGHT
    config = TrackerConfig().with_overrides(**overrides)
    return SamuraiTracker(models, config)
