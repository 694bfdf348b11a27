"""The model contract resolves to the shapes SAM 2.1 produces at 512 and 1024."""

import pytest

from samurai_tracker.engines.contract import (
    MEMORY_SLOTS,
    memory_tokens,
    model_contract,
    MODEL_NAMES,
    resolve_dim,
)


def test_memory_length_is_seven_frames_plus_sixteen_split_pointers():
    # 7 frames of (S/16)^2 tokens + 16 pointers of 256 channels split into 64-d tokens.
    assert memory_tokens(512) == 7 * 32 * 32 + 16 * (256 // 64) == 7232
    assert memory_tokens(1024) == 7 * 64 * 64 + 64
    assert MEMORY_SLOTS == 7 + 16


@pytest.mark.parametrize('crop', [512, 1024])
def test_specs_scale_with_crop(crop):
    encoder = dict((s.name, s.shape) for s in model_contract('image_encoder').output_specs(crop))
    assert encoder['feat_s0'] == (1, 32, crop // 4, crop // 4)
    assert encoder['feat_s1'] == (1, 64, crop // 8, crop // 8)
    assert encoder['image_embed'] == (1, 256, crop // 16, crop // 16)
    attention = dict((s.name, s.shape)
                     for s in model_contract('memory_attention').input_specs(crop))
    assert attention['curr'] == ((crop // 16) ** 2, 1, 256)
    assert attention['memory'] == (memory_tokens(crop), 1, 64)
    decoder = dict((s.name, s.shape) for s in model_contract('mask_decoder').input_specs(crop))
    assert decoder['sparse'] == (1, 'num_points', 256)


def test_names_are_unique_and_unknown_model_is_named():
    assert len(set(MODEL_NAMES)) == 5
    for name in MODEL_NAMES:
        contract = model_contract(name)
        assert len(set(contract.input_names)) == len(contract.input_names)
    with pytest.raises(KeyError, match='image_encoder'):
        model_contract('yolo')
    assert resolve_dim('num_points', 512) == 'num_points'
    assert resolve_dim('7', 512) == 7
