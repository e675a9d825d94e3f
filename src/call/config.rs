//! The settings of one client instance.

use crate::protocol::{PartyId, UserId};

use super::Millis;

/// Settings of a [`CallMachine`](super::CallMachine). Build with [`Config::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct Config {
    /// This client's user.
    pub user_id: UserId,
    /// This client instance (tab or device), unique among the user's instances.
    pub party_id: PartyId,
    /// How long an outgoing call rings before it ends with `timeout`; also the invite lifetime.
    /// An incoming call rings at most this long too, whatever lifetime its caller asks for.
    pub ring_timeout_ms: Millis,
    /// How long an answered call may take to connect before it ends with `ice-failed`.
    pub connect_timeout_ms: Millis,
    /// How long a dropped media path may stay down before the caller restarts ICE.
    pub ice_restart_delay_ms: Millis,
    /// How long a dropped media path may stay down before the call ends with `ice-failed`.
    pub ice_give_up_ms: Millis,
    /// How often to sample stats for the `quality` event while connected.
    pub stats_interval_ms: Millis,
    /// How long to gather local ICE candidates into one `candidates` message.
    pub candidate_batch_ms: Millis,
    /// Invites one sender may place in a burst.
    pub invite_burst: u32,
    /// After the burst, one more invite per this many milliseconds.
    pub invite_refill_ms: Millis,
    /// Most incoming calls that may ring at once; more are rejected as busy. One sender rings at
    /// most one of them, so no single sender can fill them.
    pub max_ringing: usize,
    /// How many ended calls to remember, so late messages for them are dropped quietly and
    /// methods on them report `call-ended`.
    pub ended_calls_kept: usize,
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
        }
    }
}
