//! The settings of one client instance, and the one place that decides which values are allowed.

use crate::protocol::{PartyId, UserId, MAX_LIFETIME_MS, MIN_LIFETIME_MS};

use super::error::CallError;
use super::Millis;

/// The longest any duration setting may be: a day. Deadlines are `now + duration` on a
/// millisecond clock, and nothing a call waits for is longer.
pub const MAX_DURATION_MS: Millis = 86_400_000;

/// Settings of a [`CallMachine`](super::CallMachine). Build with [`Config::new`], adjust fields;
/// [`CallMachine::new`](super::CallMachine::new) refuses values outside the ranges documented
/// here (see [`Config::validate`]).
#[derive(Clone, Debug)]
pub struct Config {
    /// This client's user.
    pub user_id: UserId,
    /// This client instance (tab or device), unique among the user's instances.
    pub party_id: PartyId,
    /// How long an outgoing call rings before it ends with `timeout`; also the invite lifetime.
    /// An incoming call rings at most this long too, whatever lifetime its caller asks for.
    /// 1,000 to 600,000 (the protocol's invite lifetimes).
    pub ring_timeout_ms: Millis,
    /// How long an answered call may take to connect before it ends with `ice-failed`.
    /// 1 to [`MAX_DURATION_MS`].
    pub connect_timeout_ms: Millis,
    /// How long a dropped media path may stay down before the caller restarts ICE.
    /// 1 to [`MAX_DURATION_MS`].
    pub ice_restart_delay_ms: Millis,
    /// How long a dropped media path may stay down before the call ends with `ice-failed`.
    /// 1 to [`MAX_DURATION_MS`].
    pub ice_give_up_ms: Millis,
    /// How often to sample stats for the `quality` event while connected.
    /// 100 to [`MAX_DURATION_MS`].
    pub stats_interval_ms: Millis,
    /// How long to gather local ICE candidates into one `candidates` message.
    /// 0 (each at once) to 10,000.
    pub candidate_batch_ms: Millis,
    /// Invites one sender may place in a burst. 1 to 1,000,000.
    pub invite_burst: u32,
    /// After the burst, one more invite per this many milliseconds. 1 to [`MAX_DURATION_MS`].
    pub invite_refill_ms: Millis,
    /// Most incoming calls that may ring at once; more are rejected as busy. One sender rings at
    /// most one of them, so no single sender can fill them. 1 to 1,000.
    pub max_ringing: usize,
    /// How many ended calls to remember, so late messages for them are dropped quietly and
    /// methods on them report `call-ended`. 0 to 10,000.
    pub ended_calls_kept: usize,
    /// Hold each new invite for the app's decision ([`Event::Screen`](super::Event::Screen))
    /// instead of ringing at once. Default false.
    pub screening: bool,
    /// Let a new invite ring as a waiting call while another call is under way, instead of
    /// declining it as `busy`. The app then declines it (the caller sees `busy`), or ends or holds
    /// the current call and accepts it. Default false.
    pub call_waiting: bool,
    /// Connect while a call rings (instant answer): as caller, offer it in the invite; as
    /// callee, accept the offer when the caller asks. No media flows either way until the
    /// callee accepts, but the caller learns the callee's ICE candidates (its network
    /// addresses, or only its TURN relay's with `iceTransportPolicy: 'relay'`) before the
    /// answer. Both sides must allow it. Default false.
    pub preconnect: bool,
}

impl Config {
    /// The defaults for a user and party.
    pub fn new(user_id: UserId, party_id: PartyId) -> Config {
        Config {
            user_id,
            party_id,
            ring_timeout_ms: 30_000,
            connect_timeout_ms: 20_000,
            ice_restart_delay_ms: 2_000,
            ice_give_up_ms: 20_000,
            stats_interval_ms: 2_000,
            candidate_batch_ms: 10,
            invite_burst: 5,
            invite_refill_ms: 4_000,
            max_ringing: 4,
            ended_calls_kept: 64,
            screening: false,
            call_waiting: false,
            preconnect: false,
        }
    }

    /// Checks every setting against its range: the first one outside it is an
    /// [`InvalidOption`](CallError::InvalidOption) (code `invalid-option`) naming the option as
    /// the JS API spells it. Nothing is clamped: a value that would be silently changed is
    /// refused instead.
    pub fn validate(&self) -> Result<(), CallError> {
        let ranges: [(&'static str, u64, u64, u64); 10] = [
            (
                "ringTimeoutMs",
                self.ring_timeout_ms,
                MIN_LIFETIME_MS,
                MAX_LIFETIME_MS,
            ),
            (
                "connectTimeoutMs",
                self.connect_timeout_ms,
                1,
                MAX_DURATION_MS,
            ),
            (
                "iceRestartDelayMs",
                self.ice_restart_delay_ms,
                1,
                MAX_DURATION_MS,
            ),
            ("iceGiveUpMs", self.ice_give_up_ms, 1, MAX_DURATION_MS),
            (
                "statsIntervalMs",
                self.stats_interval_ms,
                100,
                MAX_DURATION_MS,
            ),
            ("candidateBatchMs", self.candidate_batch_ms, 0, 10_000),
            ("inviteBurst", u64::from(self.invite_burst), 1, 1_000_000),
            ("inviteRefillMs", self.invite_refill_ms, 1, MAX_DURATION_MS),
            ("maxRinging", self.max_ringing as u64, 1, 1_000),
            ("endedCallsKept", self.ended_calls_kept as u64, 0, 10_000),
        ];
        for (option, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return Err(CallError::InvalidOption { option, min, max });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(UserId::new("a").unwrap(), PartyId::new("p").unwrap())
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_refused_not_clamped() {
        type Edit = fn(&mut Config);
        let cases: [(Edit, &str); 6] = [
            (|c| c.ring_timeout_ms = 999, "ringTimeoutMs"),
            (|c| c.ring_timeout_ms = 600_001, "ringTimeoutMs"),
            (|c| c.stats_interval_ms = 99, "statsIntervalMs"),
            (|c| c.invite_burst = 0, "inviteBurst"),
            (|c| c.invite_refill_ms = 0, "inviteRefillMs"),
            (
                |c| c.connect_timeout_ms = MAX_DURATION_MS + 1,
                "connectTimeoutMs",
            ),
        ];
        for (edit, name) in cases {
            let mut c = config();
            edit(&mut c);
            let error = c.validate().unwrap_err();
            assert_eq!(error.code(), "invalid-option");
            assert!(
                matches!(error, CallError::InvalidOption { option, .. } if option == name),
                "{error:?}"
            );
            assert!(error.message().contains(name), "{}", error.message());
        }
        let mut edge = config();
        edge.ring_timeout_ms = MIN_LIFETIME_MS;
        edge.stats_interval_ms = 100;
        edge.candidate_batch_ms = 0;
        assert_eq!(edge.validate(), Ok(()), "the bounds themselves are allowed");
    }
}
