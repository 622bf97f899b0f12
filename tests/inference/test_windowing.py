import numpy as np
import pytest

from mono2stereo.inference.windowing import plan_windows


def summed_envelopes(plan, hop):
    total = np.zeros(plan.padded_frames * hop)
    for segment in range(plan.num_segments):
        for index in range(plan.windows_per_segment):
            start = plan.window_start(segment, index) * hop
            total[start : start + plan.window_frames * hop] += plan.window_envelope(segment, index, hop)
    return total


@pytest.mark.parametrize(
    "frames, window, overlap, segments",
    [(1000, 50, 12, 8), (1000, 50, 12, 1), (51, 50, 12, 8), (777, 50, 10, 5), (5000, 500, 50, 8), (30, 50, 12, 8)],
)
def test_windows_cover_the_song_and_crossfades_sum_to_one(frames, window, overlap, segments):
    plan = plan_windows(frames, window, overlap, segments)
    assert plan.num_segments <= segments
    assert plan.padded_frames >= frames
    np.testing.assert_allclose(summed_envelopes(plan, 4)[: frames * 4], 1.0, atol=1e-6)
    for segment in range(1, plan.num_segments):  # neighbours overlap enough for a full crossfade
        previous_end = plan.segment_starts[segment - 1] + plan.segment_frames
        assert previous_end - plan.segment_starts[segment] >= plan.overlap_frames


def test_consecutive_windows_share_exactly_the_overlap():
    plan = plan_windows(1000, 50, 12, 4)
    for index in range(1, plan.windows_per_segment):
        assert plan.window_start(0, index) == plan.window_start(0, index - 1) + 50 - 12


def test_a_short_song_is_one_window_of_its_own_length():
    plan = plan_windows(7, 50, 12, 8)
    assert (plan.window_frames, plan.num_segments, plan.windows_per_segment) == (7, 1, 1)


def test_the_batch_bounds_the_segments_and_more_batch_means_fewer_steps():
    sequential, parallel = plan_windows(2000, 50, 10, 1), plan_windows(2000, 50, 10, 8)
    assert sequential.num_segments == 1 and parallel.num_segments == 8
    assert parallel.windows_per_segment < sequential.windows_per_segment / 7


def test_bad_overlap_is_refused():
    with pytest.raises(ValueError, match="overlap of 50 frames"):
        plan_windows(1000, 50, 50, 2)
