//! The sans-IO call core.
//!
//! [`CallMachine`] holds every call of one client instance (a tab or a device): at most one active
//! call plus incoming ones that ring. It never reads a clock, touches the browser or calls back:
//! the driver feeds it inputs (a user command, a message from the transport with its sender, the
//! result of an effect, the current time) and drains its outputs with
//! [`poll_output`](CallMachine::poll_output): send this message to that user, perform this effect
//! for that call, emit this event to the app. [`poll_timeout`](CallMachine::poll_timeout) says when
//! to call [`handle_timeout`](CallMachine::handle_timeout) next.
//!
//! Where each decision lives (the submodules are private; what the driver needs is re-exported
//! here):
//! - `machine`: routing of messages to calls, sender checks, what happens to a new invite (rate
//!   limit, busy, one ringing call per sender), held early messages;
//! - `flow`: one call's caller/callee flow, commands and endings (`CallFlow`);
//! - `ring`: the ring timeout and invite lifetimes;
//! - `glare`: two users calling each other at once (the lower call id survives);
//! - `negotiation`: offer/answer bookkeeping with perfect-negotiation roles (callee polite);
//! - `candidates`: batching of outgoing ICE candidates, buffering of incoming ones;
//! - `ice`: the ICE restart and give-up policy, and the media-stall watch;
//! - `quality`: call quality from stats samples;
//! - `rate_limit`: the per-sender invite rate limit;
//! - `screening`: who may ring this client: the app's screening of new invites, do-not-disturb;
//! - `data`: in-call messages and file transfers: queueing, limits, backpressure, cancels;
//! - `speech`: speaking while muted, from the muted microphone's level;
//! - `sounds`: which call sound plays when (ringback, ringtone, busy ...), from the events;
//! - `config`: the settings and [`Config::validate`], the one place deciding their ranges;
//! - [`preflight`]: the pre-call check's decisions (candidate kinds, ICE server errors, the
//!   network verdict), for `preflight()` in the browser.

mod candidates;
mod config;
mod data;
mod error;
mod flow;
mod glare;
mod ice;
mod io;
mod machine;
mod negotiation;
pub mod preflight;
mod quality;
mod rate_limit;
mod ring;
mod screening;
mod sounds;
mod speech;

pub use config::{Config, MAX_DURATION_MS};
pub use data::{
    Outgoing, TransferEnd, BLOCK_BYTES, CLOSE_GRACE_MS, HIGH_WATER_BYTES, MAX_FILE_BYTES,
    MAX_FILE_NAME_BYTES, MAX_MESSAGE_BYTES, MAX_QUEUED_BYTES, MAX_QUEUED_FILES,
};
pub use error::{CallError, CommandError, MediaError};
pub use io::{Command, DeviceKind, Effect, EffectResult, Event, IceState, Output, SdpOp};
pub use machine::{CallInfo, CallMachine};
pub use quality::{Quality, StatsSample};
pub use screening::{Availability, Screening};
pub use sounds::{Sound, SoundChange, SoundPolicy};

pub use crate::protocol::{CallId, CallKind, EndReason, MediaState, PartyId, UserId};

/// A point in time, in milliseconds on the driver's monotonic clock (`performance.now()`): the
/// `now` of every input, and every deadline.
pub type Instant = u64;

/// A length of time, in milliseconds: timeouts, delays and intervals.
pub type Millis = u64;

/// The local name of a call, stable for the call's whole life.
///
/// The wire [`CallId`] of an outgoing call can change once: when glare merges it into the other
/// user's simultaneous call. The handle the app holds does not.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CallHandle(pub u64);

/// Who placed the call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// This client placed it.
    Outgoing,
    /// The peer placed it.
    Incoming,
}

/// The phase of a call, as the app shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CallState {
    /// Outgoing: getting media, making the offer, or waiting for any device to ring.
    Calling,
    /// Outgoing: a callee device rings. Incoming: this device rings.
    Ringing,
    /// Answered; the media path is being set up.
    Connecting,
    /// Media flows.
    Connected,
    /// The media path dropped; trying to restore it (ICE restart).
    Reconnecting,
    /// Over, for the given reason.
    Ended(EndReason),
}

impl CallState {
    /// The stable name: `calling`, `ringing`, `connecting`, `connected`, `reconnecting`, `ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Calling => "calling",
            CallState::Ringing => "ringing",
            CallState::Connecting => "connecting",
            CallState::Connected => "connected",
            CallState::Reconnecting => "reconnecting",
            CallState::Ended(_) => "ended",
        }
    }

    /// Whether the call is over.
    pub fn is_ended(self) -> bool {
        matches!(self, CallState::Ended(_))
    }
}
