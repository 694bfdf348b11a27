"""The cached random export: files, manifest, constants and behaviour in ONNX Runtime."""

import json
import os

import numpy as np
import pytest

from samurai_tracker.backends import OnnxRuntimeBackend
from samurai_tracker.engines import load_constants, MODEL_NAMES, MODELS, read_manifest
from samurai_tracker.engines.manifest import check_against_contract
from samurai_tracker.engines.parity import preprocess_frame
from samurai_tracker.engines.sam2_model import file_sha256
from samurai_tracker.synthetic import SyntheticClip


@pytest.fixture(scope='module')
def ort(sam2_tiny_models):
    return {name: OnnxRuntimeBackend(os.path.join(sam2_tiny_models, MODELS[name].file_name))
            for name in MODEL_NAMES}


def test_manifest_describes_an_untrained_offset_tiny_export(sam2_tiny_models):
    manifest = read_manifest(sam2_tiny_models)
    assert manifest['model']['untrained'] is True
    assert manifest['model']['size'] == 'tiny'
    assert manifest['model']['checkpoint_sha256'] is None
    assert manifest['model']['bias_offsets'] == {'object_score': 10.0, 'iou': 4.0}
    assert manifest['crop'] == 512
    check_against_contract(manifest)
    for name in MODEL_NAMES:
        entry = manifest['models'][name]
        path = os.path.join(sam2_tiny_models, entry['file'])
        assert entry['sha256'] == file_sha256(path)
    with open(os.path.join(sam2_tiny_models, 'samurai_constants.json')) as handle:
        meta = json.load(handle)
    assert meta['scalars']['image_size'] == 512
    assert meta['arrays']['maskmem_tpos_enc']['shape'] == [7, 64]


def test_onnx_io_matches_contract(ort):
    for name, backend in ort.items():
        assert backend.inputs == MODELS[name].input_specs(512)
        assert backend.outputs == MODELS[name].output_specs(512)


def test_constants_hold_the_flags_the_runtime_branches_on(sam2_tiny_models):
    constants = load_constants(sam2_tiny_models)
    assert constants.crop == 512
    # SAM 2.1 tiny config values, read from the sam2 package's YAML independently.
    import yaml
    import sam2
    config = os.path.join(os.path.dirname(sam2.__file__), 'configs/sam2.1/sam2.1_hiera_t.yaml')
    with open(config) as handle:
        model_cfg = yaml.safe_load(handle)['model']
    for flag in ('pred_obj_scores', 'fixed_no_obj_ptr', 'use_obj_ptrs_in_encoder',
                 'proj_tpos_enc_in_obj_ptrs', 'use_signed_tpos_enc_to_obj_ptrs',
                 'directly_add_no_mem_embed', 'multimask_output_for_tracking',
                 'use_multimask_token_for_obj_ptr', 'multimask_min_pt_num',
                 'multimask_max_pt_num', 'sigmoid_scale_for_mem_enc',
                 'sigmoid_bias_for_mem_enc', 'num_maskmem'):
        assert constants[flag] == model_cfg[flag], flag
    assert constants['soft_no_obj_ptr'] is False  # SAM2Base default, not in the YAML
    assert constants['binarize_mask_from_pts_for_mem_enc'] is True  # video predictor
    assert constants['obj_ptr_proj_layers'] == 3
    assert constants['obj_ptr_proj_weight_0'].shape == (256, 256)
    assert constants['empty_sparse'].shape == (1, 2, 256)
    # The empty prompt is the not-a-point embedding twice.
    np.testing.assert_array_equal(constants['empty_sparse'][0, 0], constants['empty_sparse'][0, 1])


def test_offsets_make_a_real_frame_read_object_present_iou_098(ort, sam2_tiny_models):
    clip = SyntheticClip(num_frames=2, seed=3)
    features = ort['image_encoder'].run({'image': preprocess_frame(clip.frame(0), 512)})
    constants = load_constants(sam2_tiny_models)
    box = (clip.truth(0).xyxy * np.array([512 / 640, 512 / 480] * 2)).reshape(1, 2, 2)
    prompt = ort['prompt_encoder'].run({'box': box.astype(np.float32)})
    embed = features['image_embed'] + constants['no_mem_embed'].reshape(1, 256, 1, 1)
    for sparse in (prompt['sparse'], constants['empty_sparse']):  # 3 and 2 points
        out = ort['mask_decoder'].run({
            'image_embed': embed, 'image_pe': constants['image_pe'], 'sparse': sparse,
            'dense': prompt['dense'], 'feat_s0': features['feat_s0'],
            'feat_s1': features['feat_s1']})
        assert out['masks'].shape == (1, 4, 128, 128)
        assert float(out['object_score_logits'][0, 0]) > 5.0
        sigmoid4 = 1.0 / (1.0 + np.exp(-4.0))
        assert np.all(np.abs(out['iou_pred'] - sigmoid4) < 0.05)
    np.testing.assert_array_equal(prompt['dense'], constants['empty_dense'])


def test_mask_decoder_rejects_a_wrong_shape(ort):
    from samurai_tracker.backends import BackendError
    with pytest.raises(BackendError, match='sparse'):
        ort['mask_decoder'].run({'image_embed': np.zeros((1, 256, 32, 32), np.float32),
                                 'image_pe': np.zeros((1, 256, 32, 32), np.float32),
                                 'sparse': np.zeros((1, 3, 128), np.float32),
                                 'dense': np.zeros((1, 256, 32, 32), np.float32),
                                 'feat_s0': np.zeros((1, 32, 128, 128), np.float32),
                                 'feat_s1': np.zeros((1, 64, 64, 64), np.float32)})
