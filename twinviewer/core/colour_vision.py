"""How colours look to a colour-blind viewer: deuteranopia (the most common form) after Machado, Oliveira
and Fernandes (2009), severity 1, applied in linear RGB. Used to check that status colours, the selection
outline and the threshold map stay apart for people who cannot tell red from green.
"""

from __future__ import annotations

import numpy as np

DEUTERANOPIA = np.array([
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.011820, 0.042940, 0.968881],
])


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    c = np.asarray(srgb, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0.0, 1.0)
    c = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.round(c * 255.0).astype(np.uint8)


def simulate_deuteranopia(rgb: np.ndarray) -> np.ndarray:
    """``(..., 3)`` uint8 sRGB as a deuteranope sees it (same shape, uint8)."""
    rgb = np.asarray(rgb)
    return _to_srgb(_to_linear(rgb[..., :3]) @ DEUTERANOPIA.T)


def colour_distance(a, b) -> float:
    """Rough perceptual distance of two sRGB colours (CIE76 ΔE in L*a*b*)."""
    return float(np.linalg.norm(_lab(np.asarray(a)) - _lab(np.asarray(b))))


def _lab(rgb: np.ndarray) -> np.ndarray:
    lin = _to_linear(rgb[..., :3])
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
