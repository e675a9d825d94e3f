//! Call quality from periodic stats samples.

use super::Instant;

/// Cumulative figures the driver reads from `getStats()`: inbound RTP summed over audio and video,
/// and the selected candidate pair's round-trip time.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct StatsSample {
    /// Round-trip time of the selected candidate pair, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Inbound jitter, in milliseconds (the worst of audio and video).
    pub jitter_ms: Option<f64>,
    /// Packets received so far.
    pub packets_received: u64,
    /// Packets lost so far.
    pub packets_lost: u64,
    /// Bytes received so far.
    pub bytes_received: u64,
}

/// The quality of a connected call over the last sampling interval.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Quality {
    /// Round-trip time, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Fraction of packets lost in the interval, 0 to 1.
    pub packet_loss: f64,
    /// Jitter, in milliseconds.
    pub jitter_ms: Option<f64>,
    /// Received bitrate in the interval, in kilobits per second.
    pub bitrate_kbps: f64,
    /// 0 (no media) to 4 (excellent): the worst of the round-trip, loss and jitter levels.
    pub level: u8,
    /// Packets received or lost in the interval: 0 when nothing arrived at all.
    pub packets: u64,
}

/// Turns cumulative samples into per-interval quality.
#[derive(Clone, Debug, Default)]
pub struct QualityTracker {
    previous: Option<(Instant, StatsSample)>,
}

impl QualityTracker {
    /// A tracker whose first interval starts at `at`, when the call connected: the counters are
    /// cumulative from the connection's start, so the first sample already has a rate to show.
    pub fn starting_at(at: Instant) -> QualityTracker {
        QualityTracker {
            previous: Some((at, StatsSample::default())),
        }
    }

    /// The same counters, with the next interval starting at `at`: after a hold, the first
    /// rating covers only what arrived since the resume, not the call's totals.
    pub fn restarted_at(&self, at: Instant) -> QualityTracker {
        let counters = self.previous.map(|(_, sample)| sample).unwrap_or_default();
        QualityTracker {
            previous: Some((at, counters)),
        }
    }

    /// Takes a sample taken at `now` and rates the interval since the previous one.
    pub fn update(&mut self, now: Instant, sample: StatsSample) -> Quality {
        let (since, before) = self.previous.unwrap_or((now, StatsSample::default()));
        self.previous = Some((now, sample));
        let received = sample
            .packets_received
            .saturating_sub(before.packets_received);
        let lost = sample.packets_lost.saturating_sub(before.packets_lost);
        let expected = received + lost;
        let packet_loss = if expected == 0 {
            0.0
        } else {
            lost as f64 / expected as f64
        };
        let seconds = now.saturating_sub(since) as f64 / 1000.0;
        let bytes = sample.bytes_received.saturating_sub(before.bytes_received);
        let bitrate_kbps = if seconds > 0.0 {
            bytes as f64 * 8.0 / 1000.0 / seconds
        } else {
            0.0
        };
        let level = if expected == 0 {
            0
        } else {
            rate(sample.rtt_ms, &[150.0, 250.0, 400.0, 700.0])
                .min(rate(Some(packet_loss * 100.0), &[1.0, 3.0, 6.0, 12.0]))
                .min(rate(sample.jitter_ms, &[20.0, 40.0, 70.0, 120.0]))
        };
        Quality {
            rtt_ms: sample.rtt_ms,
            packet_loss,
            jitter_ms: sample.jitter_ms,
            bitrate_kbps,
            level,
            packets: expected,
        }
    }
}

/// 4 below the first limit, 3 below the second, ... 0 above the last; unknown figures rate 4.
fn rate(value: Option<f64>, limits: &[f64; 4]) -> u8 {
    match value {
        None => 4,
        Some(value) => 4 - limits.iter().take_while(|limit| value >= **limit).count() as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rtt: f64, received: u64, lost: u64, bytes: u64) -> StatsSample {
        StatsSample {
            rtt_ms: Some(rtt),
            jitter_ms: Some(5.0),
            packets_received: received,
            packets_lost: lost,
            bytes_received: bytes,
        }
    }

    #[test]
    fn rates_the_interval_not_the_total() {
        let mut tracker = QualityTracker::default();
        let first = tracker.update(0, sample(20.0, 0, 0, 0));
        assert_eq!(first.level, 0, "no packets yet");
        let good = tracker.update(2_000, sample(20.0, 1_000, 0, 250_000));
        assert_eq!(good.level, 4);
        assert!((good.bitrate_kbps - 1_000.0).abs() < 1e-9);
        let lossy = tracker.update(4_000, sample(20.0, 1_900, 100, 500_000));
        assert!((lossy.packet_loss - 0.1).abs() < 1e-9);
        assert_eq!(lossy.level, 1);
        let slow = tracker.update(6_000, sample(500.0, 2_900, 100, 750_000));
        assert_eq!(slow.level, 1, "rtt 500 ms rates 1");
        let stalled = tracker.update(8_000, sample(20.0, 2_900, 100, 750_000));
        assert_eq!(stalled.level, 0, "nothing received in the interval");
    }

    #[test]
    fn the_first_sample_is_rated_from_the_connection_on() {
        let mut tracker = QualityTracker::starting_at(10_000);
        let first = tracker.update(12_000, sample(20.0, 1_000, 0, 250_000));
        assert!((first.bitrate_kbps - 1_000.0).abs() < 1e-9);
        assert_eq!(first.level, 4);
    }

    #[test]
    fn a_restart_keeps_the_counters_and_moves_the_interval() {
        let mut tracker = QualityTracker::starting_at(0);
        tracker.update(2_000, sample(20.0, 1_000, 0, 250_000));
        let mut tracker = tracker.restarted_at(10_000);
        let first = tracker.update(12_000, sample(20.0, 1_500, 0, 375_000));
        assert_eq!(first.packets, 500);
        assert!((first.bitrate_kbps - 500.0).abs() < 1e-9);
        let fresh = QualityTracker::default().restarted_at(5_000);
        assert_eq!(fresh.previous, Some((5_000, StatsSample::default())));
    }

    #[test]
    fn rate_thresholds() {
        let limits = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(rate(None, &limits), 4);
        assert_eq!(rate(Some(0.5), &limits), 4);
        assert_eq!(rate(Some(1.0), &limits), 3);
        assert_eq!(rate(Some(3.5), &limits), 1);
        assert_eq!(rate(Some(9.0), &limits), 0);
    }
}
