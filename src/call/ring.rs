//! The ring timeout: how long a call may ring before it ends with `timeout`.
//!
//! - The caller's invite carries a lifetime equal to its ring timeout
//!   ([`Config::ring_timeout_ms`], whose range [`Config::validate`] keeps within the protocol's
//!   invite lifetimes), and the caller ends the call with `timeout`, telling every callee device,
//!   when it runs out.
//! - The callee rings for the invite's lifetime, but at most its own ring timeout: the callee
//!   decides how long it rings, so a stranger cannot keep a ringing slot for ten minutes. When
//!   that runs out the call ends with `timeout` quietly: the caller's own timer fired first.
//! - The timer stops once the call is answered: for the caller when the first answer arrives, for
//!   the callee when its answer is out (from then on the connect timeout applies).
//! - Glare turns an outgoing call into the callee side of the peer's call: it rings (connects)
//!   for the peer's invite lifetime from then on.

use super::{Config, Direction, Instant, Millis};

/// The ring timer of one call.
#[derive(Clone, Debug, Default)]
pub(super) struct RingTimeout {
    at: Option<Instant>,
}

/// What a ring timeout that ran out asks of the call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Expired {
    /// Caller: end with `timeout` and tell the callee devices (a `hangup` with `timeout`).
    TellCallee,
    /// Callee: end with `timeout`, telling nobody.
    Quietly,
}

impl RingTimeout {
    /// The lifetime an invite from this client carries.
    pub(super) fn invite_lifetime(config: &Config) -> u32 {
        // In range by `Config::validate` (at most `MAX_LIFETIME_MS`, far below `u32::MAX`).
        u32::try_from(config.ring_timeout_ms).unwrap_or(u32::MAX)
    }

    /// How long an incoming invite that asks for `lifetime_ms` rings here.
    pub(super) fn ringing_lifetime(config: &Config, lifetime_ms: u32) -> u32 {
        lifetime_ms.min(RingTimeout::invite_lifetime(config))
    }

    /// Starts (or restarts) the timer: the call rings for `lifetime_ms` from `now`.
    pub(super) fn start(&mut self, now: Instant, lifetime_ms: u32) {
        self.at = Some(now + Millis::from(lifetime_ms));
    }

    /// The call was answered, or ended: the timer stops.
    pub(super) fn stop(&mut self) {
        self.at = None;
    }

    /// When the timer runs out, if it runs.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.at
    }

    /// Whether the timer ran out by `now` (it stops then), and what that asks of a call of this
    /// direction.
    pub(super) fn poll(&mut self, now: Instant, direction: Direction) -> Option<Expired> {
        if self.at.is_none_or(|at| now < at) {
            return None;
        }
        self.at = None;
        Some(match direction {
            Direction::Outgoing => Expired::TellCallee,
            Direction::Incoming => Expired::Quietly,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PartyId, UserId};

    #[test]
    fn the_callee_rings_at_most_its_own_ring_timeout() {
        let mut config = Config::new(UserId::new("a").unwrap(), PartyId::new("p").unwrap());
        config.ring_timeout_ms = 20_000;
        assert_eq!(RingTimeout::invite_lifetime(&config), 20_000);
        assert_eq!(RingTimeout::ringing_lifetime(&config, 600_000), 20_000);
        assert_eq!(RingTimeout::ringing_lifetime(&config, 5_000), 5_000);
    }

    #[test]
    fn it_fires_once_at_its_deadline_and_not_after_stop() {
        let mut ring = RingTimeout::default();
        ring.start(1_000, 30_000);
        assert_eq!(ring.deadline(), Some(31_000));
        assert_eq!(ring.poll(30_999, Direction::Outgoing), None);
        assert_eq!(
            ring.poll(31_000, Direction::Outgoing),
            Some(Expired::TellCallee)
        );
        assert_eq!(ring.poll(40_000, Direction::Outgoing), None, "once");
        ring.start(0, 1_000);
        ring.stop();
        assert_eq!(ring.poll(5_000, Direction::Incoming), None);
        ring.start(0, 1_000);
        assert_eq!(
            ring.poll(1_000, Direction::Incoming),
            Some(Expired::Quietly)
        );
    }
}
