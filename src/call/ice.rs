//! The ICE recovery policy: when a connected call's media path drops, wait briefly (it often comes
//! back by itself), then restart ICE, and give up with `ice-failed` after a bounded time.
//!
//! The caller (impolite peer) restarts first; the callee waits twice as long so that, when both
//! notice, the caller's restart usually wins without a collision. Perfect negotiation resolves the
//! rest.
//!
//! The path counts as down when the browser reports ICE `disconnected` or `failed`, and also when
//! no media packet has arrived for [`InboundWatch::STALL_MS`] after media had flowed
//! ([`InboundWatch`]): Firefox stops reporting the old path's ICE state once the peer restarts
//! ICE, so without this a side could sit `connected` with nothing arriving. For the same reason,
//! once media has flowed, the path counts as back only when media arrives again: Firefox also
//! reports `connected` right after an ICE restart that cannot get through.

use super::{Config, Instant, Millis};

/// What the policy asks for when its deadline passes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IceAction {
    /// Nothing yet.
    Wait,
    /// Restart ICE now.
    Restart,
    /// End the call with `ice-failed`.
    GiveUp,
}

/// The recovery timers of one call.
#[derive(Clone, Debug, Default)]
pub struct IceRecovery {
    restart_at: Option<Instant>,
    give_up_at: Option<Instant>,
    attempts: u32,
}

impl IceRecovery {
    /// The path dropped (`disconnected`) or broke (`failed`, which restarts without waiting).
    pub fn on_down(&mut self, now: Instant, failed: bool, polite: bool, config: &Config) {
        if self.give_up_at.is_none() {
            self.give_up_at = Some(now + config.ice_give_up_ms);
            self.attempts = 0;
        }
        let delay = match (failed, polite) {
            (true, false) => 0,
            (true, true) | (false, false) => config.ice_restart_delay_ms,
            (false, true) => 2 * config.ice_restart_delay_ms,
        };
        let restart_at = now + delay;
        self.restart_at = Some(self.restart_at.map_or(restart_at, |at| at.min(restart_at)));
    }

    /// The path is back: forget the timers.
    pub fn on_up(&mut self) {
        *self = IceRecovery::default();
    }

    /// Whether recovery is under way.
    #[cfg(test)]
    pub fn is_recovering(&self) -> bool {
        self.give_up_at.is_some()
    }

    /// The next time [`on_timer`](Self::on_timer) has something to do.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.restart_at, self.give_up_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Decides what to do at `now`. After a restart the next one backs off (2x, 4x, ...).
    pub fn on_timer(&mut self, now: Instant, config: &Config) -> IceAction {
        if self.give_up_at.is_some_and(|at| now >= at) {
            *self = IceRecovery::default();
            return IceAction::GiveUp;
        }
        match self.restart_at {
            Some(at) if now >= at => {
                self.attempts += 1;
                let backoff = config.ice_restart_delay_ms << self.attempts.min(4);
                self.restart_at = Some(now + backoff);
                IceAction::Restart
            }
            _ => IceAction::Wait,
        }
    }
}

/// Whether media is arriving, from the inbound packet counts of the stats samples.
#[derive(Clone, Debug, Default)]
pub struct InboundWatch {
    /// When a packet was last seen to arrive (or the call connected).
    last_packet_at: Instant,
    /// Whether any packet has arrived yet: a call whose media never started is not "stalled".
    flowed: bool,
}

impl InboundWatch {
    /// How long no packet may arrive before the path counts as down. Audio alone sends 50 packets
    /// a second even when muted (silence is sent, not nothing), so this is far beyond any pause.
    pub const STALL_MS: Millis = 1_500;

    /// How soon after ICE reports `connected` during recovery the stats are read to see whether
    /// media really arrives.
    pub const RECHECK_MS: Millis = 250;

    /// Whether media has arrived since the call connected.
    pub fn flowed(&self) -> bool {
        self.flowed
    }

    /// A watch for a call that connected at `at`.
    pub fn starting_at(at: Instant) -> InboundWatch {
        InboundWatch {
            last_packet_at: at,
            flowed: false,
        }
    }

    /// The watch of a call resumed at `at` after a hold: armed as before (if media had flowed),
    /// with [`Self::STALL_MS`] from now for media to come back.
    pub fn resumed_at(&self, at: Instant) -> InboundWatch {
        InboundWatch {
            last_packet_at: at,
            flowed: self.flowed,
        }
    }

    /// Takes the packets of the stats interval that ends at `now`: `Some(true)` when media
    /// arrives, `Some(false)` when it has stopped for [`Self::STALL_MS`], `None` before either.
    pub fn on_sample(&mut self, now: Instant, packets: u64) -> Option<bool> {
        if packets > 0 {
            self.last_packet_at = now;
            self.flowed = true;
            return Some(true);
        }
        (self.flowed && now.saturating_sub(self.last_packet_at) >= Self::STALL_MS).then_some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PartyId, UserId};

    fn config() -> Config {
        Config::new(UserId::new("a").unwrap(), PartyId::new("p").unwrap())
    }

    #[test]
    fn caller_restarts_after_the_delay_then_backs_off_then_gives_up() {
        let config = config();
        let mut ice = IceRecovery::default();
        ice.on_down(1_000, false, false, &config);
        assert!(ice.is_recovering());
        assert_eq!(ice.deadline(), Some(3_000));
        assert_eq!(ice.on_timer(2_999, &config), IceAction::Wait);
        assert_eq!(ice.on_timer(3_000, &config), IceAction::Restart);
        assert_eq!(
            ice.deadline(),
            Some(7_000),
            "second restart backs off to 2x"
        );
        assert_eq!(ice.on_timer(7_000, &config), IceAction::Restart);
        assert_eq!(ice.on_timer(21_000, &config), IceAction::GiveUp);
        assert!(!ice.is_recovering());
    }

    #[test]
    fn callee_waits_longer_and_failure_is_immediate_for_the_caller() {
        let config = config();
        let mut callee = IceRecovery::default();
        callee.on_down(0, false, true, &config);
        assert_eq!(callee.deadline(), Some(4_000));
        let mut caller = IceRecovery::default();
        caller.on_down(0, false, false, &config);
        caller.on_down(500, true, false, &config);
        assert_eq!(caller.deadline(), Some(500));
        assert_eq!(caller.on_timer(500, &config), IceAction::Restart);
    }

    #[test]
    fn inbound_media_stalls_only_after_it_flowed_and_for_long_enough() {
        let mut watch = InboundWatch::starting_at(0);
        assert_eq!(watch.on_sample(2_000, 0), None, "media that never started");
        assert_eq!(watch.on_sample(4_000, 120), Some(true));
        assert_eq!(watch.on_sample(5_000, 0), None, "a second without packets");
        assert_eq!(watch.on_sample(5_500, 0), Some(false));
        assert_eq!(watch.on_sample(6_000, 3), Some(true));
    }

    #[test]
    fn recovery_clears_when_the_path_comes_back() {
        let config = config();
        let mut ice = IceRecovery::default();
        ice.on_down(0, false, false, &config);
        ice.on_up();
        assert_eq!(ice.deadline(), None);
        assert_eq!(ice.on_timer(100_000, &config), IceAction::Wait);
    }
}
