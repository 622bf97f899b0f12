"""Source-formation upmixer after Lagrange et al. (2007): group spectral components into sources, place each one.

Spectral components of the mono input are grouped by three cues. Shared onsets: components whose energy rises
together across frequency are percussive (harmonic/percussive split by median filtering). Harmonicity: in each
frame the strongest harmonic combs (up to `PITCHES_PER_FRAME` fundamentals, found by harmonic summation with
cancellation) claim the bins of their partials. Timbre: every detected harmonic series is described by its pitch
register and brightness, and these descriptions are clustered over the whole song into sources.

Each source gets a pan position by rule: low sources and the most prominent source stay centred, the others are
spread alternately left and right; percussion is centred at the bottom and drifts right towards the cymbals;
what no source claims becomes decorrelated ambience. The output is built as mid/side, L = M + S and R = M - S with
M the input itself, so the fold-down (L+R)/2 equals the input exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal
from scipy.cluster.vq import kmeans2

from ..audio import from_mid_side
from .bands import frame_length_for
from .decorrelators import schroeder_allpass

LOWEST_PITCH_HZ = 55.0
HIGHEST_PITCH_HZ = 1000.0
PITCH_CANDIDATES_PER_OCTAVE = 36
HARMONICS = 10
HARMONIC_WEIGHT_DECAY = 0.8
PARTIAL_TOLERANCE_SEMITONES = 0.5
PITCHES_PER_FRAME = 3
VOICED_ENERGY_SHARE = 0.05  # a harmonic series must hold this share of its frame's energy to count
MEDIAN_FILTER_LENGTH = 17  # bins and frames of the harmonic/percussive median filters

MAX_SOURCES = 4
SAME_SOURCE_OCTAVES = 1 / 3  # clusters closer than this in pitch and in brightness are one source
SAME_SOURCE_BRIGHTNESS = 1.0  # in harmonic numbers
CENTRED_BELOW_HZ = 150.0  # sources pitched lower than this stay centred
SPREAD_POSITIONS = (-0.45, 0.45, -0.3, 0.3)  # pan positions, -1 is hard left, handed out in this order
PERCUSSION_SPREAD = 0.25  # pan of the highest percussion (cymbals); the lowest (kick) is centred
PERCUSSION_CENTRED_BELOW_HZ = 200.0
AMBIENCE_GAIN = 1.0
SMOOTHING_FRAMES = 5  # pan map smoothing over time, about 60 ms at 44.1 kHz


def pitch_candidates_hz() -> np.ndarray:
    """Candidate fundamentals, log-spaced from `LOWEST_PITCH_HZ` to `HIGHEST_PITCH_HZ`."""
    octaves = np.log2(HIGHEST_PITCH_HZ / LOWEST_PITCH_HZ)
    count = int(octaves * PITCH_CANDIDATES_PER_OCTAVE) + 1
    return LOWEST_PITCH_HZ * 2.0 ** (np.arange(count) / PITCH_CANDIDATES_PER_OCTAVE)


def harmonic_combs(candidates_hz: np.ndarray, bin_frequencies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate, the weighted comb used for harmonic summation and the 0/1 comb of bins its partials claim.

    Both are `(candidates, bins)` float32. A partial claims every bin of the window's main lobe around it (two bins
    either side for a Hann window) or half a semitone, whichever is wider.
    """
    bin_spacing = bin_frequencies[1] - bin_frequencies[0]
    harmonics = np.arange(1, HARMONICS + 1)
    partials = candidates_hz[:, None] * harmonics[None, :]  # (candidates, harmonics)
    semitone_tolerance = partials * (2.0 ** (PARTIAL_TOLERANCE_SEMITONES / 12.0) - 1.0)
    distance_hz = np.abs(bin_frequencies[None, None, :] - partials[:, :, None])  # (candidates, harmonics, bins)
    closeness = np.clip(1.0 - distance_hz / np.maximum(semitone_tolerance, bin_spacing)[:, :, None], 0.0, 1.0)
    weights = HARMONIC_WEIGHT_DECAY ** (harmonics - 1)
    summation = np.einsum("chb,h->cb", closeness, weights)
    claim = (distance_hz <= np.maximum(semitone_tolerance, 2.0 * bin_spacing)[:, :, None]).any(axis=1)
    return summation.astype(np.float32), claim.astype(np.float32)


def split_harmonic_percussive(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft masks `(bins, frames)` for the harmonic (steady in time) and percussive (onsets across frequency) parts."""
    steady = ndimage.median_filter(magnitude, size=(1, MEDIAN_FILTER_LENGTH))
    onsets = ndimage.median_filter(magnitude, size=(MEDIAN_FILTER_LENGTH, 1))
    steady_power, onset_power = steady**2, onsets**2
    total = steady_power + onset_power + 1e-20
    return steady_power / total, onset_power / total


def track_harmonic_series(
    harmonic_magnitude: np.ndarray, bin_frequencies: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Find up to `PITCHES_PER_FRAME` harmonic series per frame.

    Returns fundamentals `(pitches, frames)` in Hz, the energy each series holds `(pitches, frames)`, its brightness
    (energy centroid in harmonic numbers) `(pitches, frames)`, and the share of each bin it claims
    `(pitches, bins, frames)`; a bin claimed by an earlier series is not claimed again.
    """
    candidates = pitch_candidates_hz()
    summation, claim = harmonic_combs(candidates, bin_frequencies)
    remaining = np.sqrt(harmonic_magnitude)  # compressed so that one loud partial cannot outvote a whole series
    power = harmonic_magnitude**2
    unclaimed = np.ones_like(harmonic_magnitude)
    num_frames = harmonic_magnitude.shape[1]
    fundamentals = np.zeros((PITCHES_PER_FRAME, num_frames), dtype=np.float32)
    energies = np.zeros_like(fundamentals)
    brightness = np.zeros_like(fundamentals)
    claims = np.zeros((PITCHES_PER_FRAME, *harmonic_magnitude.shape), dtype=np.float32)
    for pitch in range(PITCHES_PER_FRAME):
        best = np.argmax(summation @ remaining, axis=0)  # (frames,)
        share = claim[best].T * unclaimed  # (bins, frames)
        claimed_power = share * power
        energy = claimed_power.sum(axis=0)
        fundamentals[pitch] = candidates[best]
        energies[pitch] = energy
        centroid_hz = (bin_frequencies @ claimed_power) / np.maximum(energy, 1e-30)
        brightness[pitch] = centroid_hz / candidates[best]
        claims[pitch] = share
        unclaimed -= share
        remaining *= 1.0 - claim[best].T
    return fundamentals, energies, brightness, claims


def form_sources(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Cluster `(detections, 2)` features (log2 pitch, brightness) into sources; returns a source index each."""
    scale = features.std(axis=0) + 1e-6
    num_clusters = min(MAX_SOURCES, len(np.unique(features, axis=0)))
    centroids, labels = kmeans2(features / scale, num_clusters, minit="++", seed=seed)
    centroids = centroids * scale
    # Clusters that describe the same register and brightness are one source split by k-means: merge them.
    source_of_cluster = np.arange(num_clusters)
    for first in range(num_clusters):
        for second in range(first + 1, num_clusters):
            close = np.abs(centroids[first] - centroids[second]) < (SAME_SOURCE_OCTAVES, SAME_SOURCE_BRIGHTNESS)
            if close.all():
                source_of_cluster[source_of_cluster == source_of_cluster[second]] = source_of_cluster[first]
    _, sources = np.unique(source_of_cluster[labels], return_inverse=True)
    return sources


def place_sources(mean_pitch_hz: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Pan position per source (-1 left, 1 right): low and most prominent sources centred, the rest spread."""
    positions = np.zeros(len(mean_pitch_hz))
    lead = int(np.argmax(energy))
    spread = [s for s in np.argsort(mean_pitch_hz) if s != lead and mean_pitch_hz[s] >= CENTRED_BELOW_HZ]
    for slot, source in enumerate(spread):
        positions[source] = SPREAD_POSITIONS[slot % len(SPREAD_POSITIONS)]
    return positions


def percussion_positions(bin_frequencies: np.ndarray) -> np.ndarray:
    """Pan position per bin for percussion: centred below 200 Hz, rising with log frequency to the cymbals."""
    octaves_up = np.log2(np.maximum(bin_frequencies, 1.0) / PERCUSSION_CENTRED_BELOW_HZ)
    return PERCUSSION_SPREAD * np.clip(octaves_up / 5.0, 0.0, 1.0)


def upmix_sources(mono: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Source-formation upmix of `(n,)` audio to `(n, 2)`. Keeps the fold-down."""
    mono = np.asarray(mono, dtype=np.float32)
    frame_length = frame_length_for(sampling_rate)
    stft_args = {"fs": sampling_rate, "nperseg": frame_length, "noverlap": 3 * frame_length // 4}
    analysed = np.pad(mono, (0, max(0, frame_length - len(mono))))  # at least one full frame
    bin_frequencies, _, spectrum = signal.stft(analysed, **stft_args)
    spectrum = spectrum.astype(np.complex64)
    magnitude = np.abs(spectrum)
    harmonic_mask, percussive_mask = split_harmonic_percussive(magnitude)

    fundamentals, energies, brightness, claims = track_harmonic_series(harmonic_mask * magnitude, bin_frequencies)
    frame_energy = (magnitude**2).sum(axis=0)
    voiced = energies > VOICED_ENERGY_SHARE * np.maximum(frame_energy, 1e-30)
    voiced &= frame_energy > frame_energy.max() * 1e-6

    pan = percussion_positions(bin_frequencies)[:, None] * percussive_mask
    if voiced.sum() >= MAX_SOURCES:
        features = np.stack([np.log2(fundamentals[voiced]), brightness[voiced]], axis=1)
        sources = form_sources(features)
        num_sources = sources.max() + 1
        source_energy = np.bincount(sources, weights=energies[voiced], minlength=num_sources)
        log_pitch = np.bincount(sources, weights=energies[voiced] * features[:, 0], minlength=num_sources)
        mean_pitch_hz = 2.0 ** (log_pitch / np.maximum(source_energy, 1e-30))
        positions = place_sources(mean_pitch_hz, source_energy)
        position_of_series = np.zeros(fundamentals.shape, dtype=np.float32)
        position_of_series[voiced] = positions[sources]
        pan += harmonic_mask * np.einsum("pbf,pf->bf", claims, position_of_series)
    pan = ndimage.uniform_filter1d(pan, SMOOTHING_FRAMES, axis=1)

    unclaimed = harmonic_mask * np.clip(1.0 - np.einsum("pbf,pf->bf", claims, voiced.astype(np.float32)), 0.0, 1.0)
    unclaimed[bin_frequencies < CENTRED_BELOW_HZ] = 0.0

    # A source panned right (position > 0) must come out louder in R = M - S, so its side gain is -position.
    _, panned = signal.istft(-pan * spectrum, **stft_args)
    _, ambience = signal.istft(unclaimed * spectrum, **stft_args)
    side = panned[: len(mono)] + AMBIENCE_GAIN * schroeder_allpass(ambience[: len(mono)], sampling_rate)
    side = np.pad(side, (0, len(mono) - len(side)))
    return from_mid_side(mono, side).astype(np.float32)
