"""The detector end to end on generated ONNX models through ONNX Runtime."""

import numpy as np
import onnxruntime
import pytest

from samurai_tracker.backends import BackendError, OnnxRuntimeBackend
from samurai_tracker.detector import COCO_NAMES_PATH, DecodeConfig, load_class_names, \
    open_detector_backend, resolve_class_filter, YoloDetector
from samurai_tracker.detector.random_model import build_band_detector_onnx, \
    build_random_yolo_onnx, num_anchors
from samurai_tracker.synthetic import SyntheticClip


@pytest.fixture(scope='module')
def random_model(tmp_path_factory):
    return build_random_yolo_onnx(str(tmp_path_factory.mktemp('yolo') / 'rand.onnx'),
                                  num_classes=80, input_size=320, seed=1)


@pytest.fixture(scope='module')
def band_model(tmp_path_factory):
    return build_band_detector_onnx(str(tmp_path_factory.mktemp('yolo') / 'band.onnx'),
                                    num_classes=80, class_id=0, input_size=320)


def test_random_model_has_the_ultralytics_contract(random_model):
    backend = OnnxRuntimeBackend(random_model)
    assert [tuple(s.shape) for s in backend.inputs] == [(1, 3, 320, 320)]
    assert [tuple(s.shape) for s in backend.outputs] == [(1, 84, num_anchors(320))]
    assert num_anchors(640) == 8400


def _reference_detect(model_path, image, size, conf, iou):
    """Letterbox, run and decode written out directly with onnxruntime and cv2."""
    import cv2
    h, w = image.shape[:2]
    r = min(size / w, size / h)
    nw, nh = round(w * r), round(h * r)
    px, py = (size - nw) // 2, (size - nh) // 2
    canvas = np.full((size, size, 3), 114, np.uint8)
    canvas[py:py + nh, px:px + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    blob = (canvas.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    session = onnxruntime.InferenceSession(model_path, providers=['CPUExecutionProvider'])
    raw = session.run(None, {'images': blob})[0][0].T.astype(np.float64)
    cls = raw[:, 4:].argmax(1)
    score = raw[np.arange(len(raw)), 4 + cls]
    keep = score >= conf
    raw, cls, score = raw[keep], cls[keep], score[keep]
    boxes = np.stack([raw[:, 0] - raw[:, 2] / 2, raw[:, 1] - raw[:, 3] / 2,
                      raw[:, 0] + raw[:, 2] / 2, raw[:, 1] + raw[:, 3] / 2], 1)
    out = []
    for i in sorted(range(len(score)), key=lambda i: (-score[i], i)):
        ok = True
        for k in out:
            if cls[k] == cls[i]:
                a, b = boxes[k], boxes[i]
                inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * \
                    max(0, min(a[3], b[3]) - max(a[1], b[1]))
                union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
                ok &= inter / union <= iou
        if ok:
            out.append(i)
    mapped = (boxes[out] - [px, py, px, py]) / r
    mapped = np.clip(mapped, 0, [w, h, w, h])
    return mapped, score[out], cls[out]


def test_random_model_end_to_end_matches_a_direct_reference(random_model):
    image = SyntheticClip(width=480, height=360).frame(3)
    config = DecodeConfig(confidence_threshold=0.55, iou_threshold=0.5, max_detections=100000)
    detector = YoloDetector(open_detector_backend(random_model), config=config)
    found = detector.detect(image)
    boxes, scores, classes = _reference_detect(random_model, image, 320, 0.55, 0.5)
    assert len(found) > 0
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    np.testing.assert_allclose(found.xyxy, boxes[area > 0], atol=1e-3)
    np.testing.assert_allclose(found.scores, scores[area > 0], atol=1e-6)
    assert found.class_ids.tolist() == classes[area > 0].tolist()
    assert np.all(found.xyxy[:, 2] <= 480) and np.all(found.xyxy[:, 3] <= 360)


@pytest.mark.parametrize('width,height', [(640, 480), (1280, 720), (400, 600)])
def test_band_model_finds_the_clip_object_in_image_pixels(band_model, width, height):
    clip = SyntheticClip(width=width, height=height, num_frames=40, occlusion=(30, 39))
    detector = YoloDetector(open_detector_backend(band_model))
    scale = min(320 / width, 320 / height)
    for index in (0, 9, 21):
        found = detector.detect(clip.frame(index))
        assert len(found) == 1 and found.class_ids[0] == 0
        # one input pixel of blur at each edge is 1/scale image pixels
        assert found.box(0).iou(clip.truth(index)) > 0.8
        np.testing.assert_allclose(found.xyxy[0], clip.truth(index).xyxy, atol=2.5 / scale)
    assert len(detector.detect(clip.frame(33))) == 0


def test_class_filter_keeps_only_the_named_classes(random_model):
    names = load_class_names()
    keep = resolve_class_filter(['person', '2'], names)
    assert keep == [0, 2]
    detector = YoloDetector(open_detector_backend(random_model),
                            config=DecodeConfig(confidence_threshold=0.5, class_filter=keep))
    found = detector.detect(np.full((240, 320, 3), 90, np.uint8))
    assert set(found.class_ids.tolist()) <= {0, 2}
    with pytest.raises(ValueError, match='neither'):
        resolve_class_filter(['unicorn'], names)


def test_class_count_mismatch_is_a_clear_error(tmp_path, random_model):
    names = tmp_path / 'three.txt'
    names.write_text('a\nb\nc\n')
    with pytest.raises(ValueError, match='predicts 80 classes.*lists 3'):
        YoloDetector(open_detector_backend(random_model), class_names=load_class_names(str(names)))
    with pytest.raises(ValueError, match='disagrees'):
        YoloDetector(open_detector_backend(random_model), input_size=640)


def test_class_names_file_errors(tmp_path):
    assert len(load_class_names(COCO_NAMES_PATH)) == 80
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing\n\n')
    with pytest.raises(ValueError, match='no names'):
        load_class_names(str(empty))
    with pytest.raises(ValueError, match='cannot read'):
        load_class_names(str(tmp_path / 'missing.txt'))
    twice = tmp_path / 'twice.txt'
    twice.write_text('a\na\n')
    with pytest.raises(ValueError, match='twice'):
        load_class_names(str(twice))


def test_model_files_are_checked(tmp_path):
    with pytest.raises(BackendError, match='not found'):
        open_detector_backend(str(tmp_path / 'none.onnx'))
    with pytest.raises(BackendError, match='unknown model type'):
        open_detector_backend(str(tmp_path / 'model.pt'))


def test_band_model_decoy_and_object_score(tmp_path):
    path = build_band_detector_onnx(str(tmp_path / 'decoy.onnx'), num_classes=3, class_id=1,
                                    input_size=320, object_score=0.6,
                                    decoy=(60.0, 100.0, 30.0, 20.0, 0.9))
    detector = YoloDetector(open_detector_backend(path), class_names=['a', 'b', 'c'])
    clip = SyntheticClip(width=640, height=480, num_frames=10)
    found = detector.detect(clip.frame(0))
    assert found.class_ids.tolist() == [1, 1]
    np.testing.assert_allclose(found.scores, [0.9, 0.6], atol=1e-6)
    # decoy centre (60, 100) in the 320 input of a 640x480 image: scale 0.5, pad_y 40
    np.testing.assert_allclose(found.xyxy[0], [90, 100, 150, 140], atol=1e-3)
    assert found.box(1).iou(clip.truth(0)) > 0.9
