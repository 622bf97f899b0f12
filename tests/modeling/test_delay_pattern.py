import pytest
import torch

from mono2stereo.modeling.delay_pattern import (
    apply_delay_pattern,
    delayed_length,
    revert_delay_pattern,
    stereo_delays,
    valid_delay_mask,
)


@pytest.mark.parametrize("num_codebooks", [2, 4, 8, 16])
@pytest.mark.parametrize("num_frames", [0, 1, 2, 7, 50])
def test_delay_pattern_and_revert_are_exact_inverses(num_codebooks, num_frames):
    delays = stereo_delays(num_codebooks)
    codes = torch.randint(0, 2048, (3, num_codebooks, num_frames))
    delayed = apply_delay_pattern(codes, delays, special_token_id=2048)
    assert delayed.shape == (3, num_codebooks, delayed_length(num_frames, delays))
    assert torch.equal(revert_delay_pattern(delayed, delays), codes)


def test_pairs_share_a_delay_and_empty_positions_hold_the_special_token():
    delays = stereo_delays(6)
    assert delays == [0, 0, 1, 1, 2, 2]
    codes = torch.arange(6 * 4).view(1, 6, 4)
    delayed = apply_delay_pattern(codes, delays, special_token_id=-1)
    # Pair 1 (codebooks 2 and 3) starts one frame late: its first frame sits at position 1.
    assert delayed[0, 2, 0] == -1 and delayed[0, 2, 1] == codes[0, 2, 0]
    valid = valid_delay_mask(delays, 4, delayed.shape[-1])
    assert torch.equal(delayed[0][~valid], torch.full(((~valid).sum().item(),), -1))
    assert valid.sum() == codes.numel()


def test_per_example_mask_counts_frames():
    delays = stereo_delays(4)
    mask = valid_delay_mask(delays, torch.tensor([5, 2]), delayed_length(5, delays))
    assert mask.shape == (2, 4, 6)
    assert mask[0].sum() == 4 * 5 and mask[1].sum() == 4 * 2


def test_odd_codebook_count_is_refused():
    with pytest.raises(ValueError, match="even number"):
        stereo_delays(3)
