"""Tonal balance and stereo image: long-term spectra, EQ curves, mid/side width, and their measures.

Pure numpy/scipy (samples in, samples or numbers out), used by the mastering engine.

- A long-term average spectrum (LTAS) is the Welch power spectrum of the whole signal (every
  channel's power added), summed into third-octave bands (centres 1 kHz * 2^(k/3), 31 Hz to
  16 kHz) and given in dB. Band *energy* is used, so pink noise reads flat and a tilt in
  dB/octave is a straight line against log2(frequency).
- The spectral distance of two spectra is the RMS, over the bands both have, of their
  difference after each is centred on its own mean: a pure level change is distance 0.
- An EQ is a curve of band gains in dB, made into one linear-phase FIR
  (`scipy.signal.firwin2`) and applied with zero delay (`oaconvolve(mode="same")`), so a
  stem's timing is untouched and EQ(sum of stems) == sum of EQ(stem).
- Width scales the side signal S = (L-R)/2 against the mid M = (L+R)/2: 0 is mono, 1 leaves
  the image as it is, 2 doubles the side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

PIVOT_HZ = 1000.0  # tilt curves pass through 0 dB here
BAND_KS = range(-15, 13)  # third-octave bands 31.2 Hz .. 16 kHz (centre 1 kHz * 2^(k/3))
BAND_CENTRES = tuple(PIVOT_HZ * 2.0 ** (k / 3.0) for k in BAND_KS)
WELCH_SECONDS = 0.37  # Welch segment (16384 frames at 44.1 kHz): ~2.7 Hz bins, 2+ bins in the 31 Hz band
FIR_SECONDS = 0.19  # EQ filter length (8191 taps at 44.1 kHz): ~10 Hz resolution
MAX_MATCH_GAIN_DB = 12.0  # a matching EQ never boosts or cuts any band by more
MATCH_SMOOTHING = (0.25, 0.5, 0.25)  # across neighbouring bands: a 2/3-octave-wide smoothed curve
MATCH_PASSES = 2
# Tilt is measured where music has energy and the EQ has resolution.
TILT_FIT_HZ = (50.0, 12500.0)
SILENT_BAND_DB = -150.0
# A band is compared only while it is within this of the spectrum's loudest band: below it, a
# spectrum is noise floor (or missing, past a low sample rate's Nyquist) and says nothing of balance.
USEFUL_RANGE_DB = 70.0


def band_edges(centre: float) -> tuple[float, float]:
    return centre * 2.0 ** (-1.0 / 6.0), centre * 2.0 ** (1.0 / 6.0)


def band_levels(audio: np.ndarray, sample_rate: int) -> list[float | None]:
    """The LTAS in third-octave bands (dB of band energy, arbitrary zero); None for a band that
    reaches past Nyquist or holds nothing."""
    data = np.asarray(audio, dtype=np.float32)  # float32: twice as fast, far finer than 0.01 dB
    if data.ndim == 1:
        data = data[:, None]
    nperseg = min(data.shape[0], int(2 ** np.ceil(np.log2(WELCH_SECONDS * sample_rate))))
    freqs, power = signal.welch(data, fs=sample_rate, nperseg=nperseg, axis=0, scaling="spectrum")
    power = power.sum(axis=1, dtype=np.float64)  # every channel's power
    levels: list[float | None] = []
    for centre in BAND_CENTRES:
        low, high = band_edges(centre)
        if high > sample_rate / 2.0:
            levels.append(None)
            continue
        energy = float(power[(freqs >= low) & (freqs < high)].sum())
        levels.append(10.0 * np.log10(energy) if energy > 0 else None)
    return levels


def _values(levels: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in levels], dtype=np.float64)


def useful_bands(levels: list[float | None]) -> np.ndarray:
    """Mask of bands with a level within USEFUL_RANGE_DB of the loudest."""
    values = _values(levels)
    if np.all(np.isnan(values)):
        return np.zeros(len(levels), dtype=bool)
    return ~np.isnan(values) & (values >= np.nanmax(values) - USEFUL_RANGE_DB)


def spectral_distance(a: list[float | None], b: list[float | None]) -> float:
    """RMS dB difference of two LTAS over the bands both have, each centred on its mean there."""
    both = useful_bands(a) & useful_bands(b)
    if both.sum() < 3:
        raise ValueError("the spectra share fewer than 3 bands")
    x, y = _values(a)[both], _values(b)[both]
    diff = (x - x.mean()) - (y - y.mean())
    return float(np.sqrt(np.mean(diff**2)))


def tilt_curve(db_per_octave: float) -> list[float]:
    """Band gains (dB) of a straight tilt through PIVOT_HZ, flat beyond the band range."""
    return [float(db_per_octave * np.log2(c / PIVOT_HZ)) for c in BAND_CENTRES]


def match_curve(mix: list[float | None], reference: list[float | None]) -> list[float]:
    """Band gains (dB) moving `mix`'s balance towards `reference`'s: the difference of the two
    spectra (each centred on its mean over the bands both have), smoothed across neighbouring
    bands and held within +-MAX_MATCH_GAIN_DB. Bands either lacks take their neighbours' gain."""
    both = useful_bands(mix) & useful_bands(reference)
    if both.sum() < 3:
        raise ValueError("the spectra share fewer than 3 bands")
    x, y = _values(mix), _values(reference)
    diff = np.full(len(BAND_CENTRES), np.nan)
    diff[both] = (y[both] - y[both].mean()) - (x[both] - x[both].mean())
    index = np.arange(len(diff))
    diff = np.interp(index, index[both], diff[both])  # held flat past the ends
    kernel = np.array(MATCH_SMOOTHING)
    padded = np.concatenate([[diff[0]], diff, [diff[-1]]])
    smooth = np.convolve(padded, kernel, mode="valid")
    return [float(g) for g in np.clip(smooth, -MAX_MATCH_GAIN_DB, MAX_MATCH_GAIN_DB)]


def matching_gains(
    mix: np.ndarray, sample_rate: int, reference: list[float | None], passes: int = MATCH_PASSES
) -> list[float]:
    """The matching EQ for `mix`: `match_curve`, then refined on the mix as that curve leaves it
    (the smoothing and the filter's resolution leave part of the difference; a second pass
    takes about a third of the rest: measured on Coda mixes, 5 dB -> 2.1 dB -> 1.5 dB)."""
    gains = np.array(match_curve(band_levels(mix, sample_rate), reference))
    for _ in range(passes - 1):
        shaped = apply_eq(mix, eq_filter(list(gains), sample_rate))
        gains = gains + np.array(match_curve(band_levels(shaped, sample_rate), reference))
        gains = np.clip(gains, -MAX_MATCH_GAIN_DB, MAX_MATCH_GAIN_DB)
    return [float(g) for g in gains]


def eq_filter(gains_db: list[float], sample_rate: int) -> np.ndarray:
    """A linear-phase FIR (odd length) with the band gains at the band centres, interpolated
    linearly in dB against log frequency between them and held flat outside."""
    nyquist = sample_rate / 2.0
    taps = int(FIR_SECONDS * sample_rate) | 1
    grid = np.geomspace(10.0, nyquist * 0.999, 512)
    curve_db = np.interp(np.log2(grid), np.log2(BAND_CENTRES), gains_db)
    freqs = np.concatenate([[0.0], grid, [nyquist]])
    gains = 10.0 ** (np.concatenate([[curve_db[0]], curve_db, [curve_db[-1]]]) / 20.0)
    return signal.firwin2(taps, freqs, gains, fs=sample_rate).astype(np.float64)


def apply_eq(audio: np.ndarray, fir: np.ndarray) -> np.ndarray:
    """`audio` (frames, channels) through the FIR, same length, no delay."""
    data = np.asarray(audio, dtype=np.float64)
    if data.ndim == 1:
        return signal.oaconvolve(data, fir, mode="same").astype(np.float32)
    return signal.oaconvolve(data, fir[:, None], mode="same", axes=0).astype(np.float32)


def apply_width(audio: np.ndarray, width: float) -> np.ndarray:
    """Stereo `audio` with its side signal scaled by `width` (the mid is untouched)."""
    data = np.asarray(audio, dtype=np.float64)
    mid = (data[:, 0] + data[:, 1]) / 2.0
    side = (data[:, 0] - data[:, 1]) / 2.0 * width
    return np.stack([mid + side, mid - side], axis=1).astype(np.float32)


def side_to_mid_db(audio: np.ndarray) -> float | None:
    """Side energy against mid energy (dB); None for silence or mono-as-nothing."""
    data = np.asarray(audio, dtype=np.float64)
    mid = np.sum(((data[:, 0] + data[:, 1]) / 2.0) ** 2)
    side = np.sum(((data[:, 0] - data[:, 1]) / 2.0) ** 2)
    if mid <= 0 or side <= 0:
        return None
    return float(10.0 * np.log10(side / mid))


def measured_width(before: np.ndarray, after: np.ndarray) -> float | None:
    """How much the side-to-mid ratio grew (amplitude factor): 1 = unchanged, 0.5 = half the side."""
    a, b = side_to_mid_db(before), side_to_mid_db(after)
    if a is None or b is None:
        return None
    return float(10.0 ** ((b - a) / 20.0))


def measured_tilt(before: list[float | None], after: list[float | None]) -> float:
    """Slope (dB/octave) of the line fitted to the spectrum's change, over TILT_FIT_HZ."""
    both = useful_bands(before) & useful_bands(after)
    centres = np.array(BAND_CENTRES)
    both &= (centres >= TILT_FIT_HZ[0]) & (centres <= TILT_FIT_HZ[1])
    x = np.log2(centres[both] / PIVOT_HZ)
    y = _values(after)[both] - _values(before)[both]
    slope, _intercept = np.polyfit(x, y, 1)
    return float(slope)


@dataclass(frozen=True)
class Tone:
    """The linear part of a master: an EQ curve (band gains, dB) and a stereo width."""

    gains_db: tuple[float, ...] | None = None  # None: no EQ
    width: float = 1.0

    @property
    def is_flat(self) -> bool:
        return self.gains_db is None and self.width == 1.0

    def filter_for(self, sample_rate: int) -> np.ndarray | None:
        if self.gains_db is None or not any(abs(g) > 1e-9 for g in self.gains_db):
            return None
        return eq_filter(list(self.gains_db), sample_rate)

    def apply(self, audio: np.ndarray, fir: np.ndarray | None) -> np.ndarray:
        """A stem through the EQ (as filtered by `filter_for`) and the width."""
        out = apply_eq(audio, fir) if fir is not None else audio
        if self.width != 1.0 and out.ndim == 2 and out.shape[1] >= 2:
            out = apply_width(out, self.width)
        return out
