//! Mean kinetic temperature (USP ⟨1160⟩): the single temperature that would degrade a product
//! as much as the recorded series did, with ΔH/R = 10,000 K.
//!
//! Owns: [`mean_kinetic_temperature`].
//! Does not own: choosing the window (the caller passes it) or the readings' storage.
//!
//! MKT = (ΔH/R) / −ln( Σ wᵢ·e^(−ΔH/(R·Tᵢ)) / Σ wᵢ ), temperatures in kelvin. Sampling is
//! uneven in real logger data (a logger that buffers, a gateway that polls), so each reading is
//! weighted by the time it represents: from its own instant to the next reading's, clipped to
//! the window; the last reading ends the series and weighs nothing. An interval longer than
//! `max_gap_ms` is a gap: it is left out, never bridged by the reading before it. With even
//! sampling this equals the textbook unweighted formula over all readings but the last.

use super::Sample;

/// ΔH/R of USP ⟨1160⟩, in kelvin.
pub const ACTIVATION_OVER_GAS_CONSTANT: f64 = 10_000.0;

/// The mean kinetic temperature in °C of `samples` (sorted by time, one per instant), over
/// `window` (`[from_ms, to_ms)`, `None` = the whole series), leaving out intervals longer than
/// `max_gap_ms`. `None` when no time is covered (fewer than two readings in reach, or only
/// gaps).
pub fn mean_kinetic_temperature(
    samples: &[Sample],
    window: Option<(i64, i64)>,
    max_gap_ms: Option<i64>,
) -> Option<f64> {
    let (from_ms, to_ms) = window.unwrap_or((i64::MIN, i64::MAX));
    let start = samples.partition_point(|sample| sample.time_ms <= from_ms).saturating_sub(1);
    // Exponents are shifted by the largest one (log-sum-exp) so no weight underflows.
    let mut shift = f64::NEG_INFINITY;
    for pair in samples[start..].windows(2) {
        if pair[0].time_ms >= to_ms {
            break;
        }
        shift = shift.max(exponent(pair[0].celsius));
    }
    if shift == f64::NEG_INFINITY {
        return None;
    }
    let mut weighted = 0.0;
    let mut total_weight = 0.0;
    for pair in samples[start..].windows(2) {
        let (reading, next) = (pair[0], pair[1]);
        if reading.time_ms >= to_ms {
            break;
        }
        let interval = next.time_ms - reading.time_ms;
        if max_gap_ms.is_some_and(|max_gap| interval > max_gap) {
            continue;
        }
        let weight = (next.time_ms.min(to_ms) - reading.time_ms.max(from_ms)).max(0) as f64;
        weighted += weight * (exponent(reading.celsius) - shift).exp();
        total_weight += weight;
    }
    if total_weight <= 0.0 {
        return None;
    }
    let kelvin = ACTIVATION_OVER_GAS_CONSTANT / -((weighted / total_weight).ln() + shift);
    Some(kelvin + super::ABSOLUTE_ZERO_CELSIUS)
}

/// −ΔH/(R·T) for a reading in °C.
fn exponent(celsius: f64) -> f64 {
    -ACTIVATION_OVER_GAS_CONSTANT / (celsius - super::ABSOLUTE_ZERO_CELSIUS)
}
