//! Who may ring this client: the app's screening of new invites, and do-not-disturb.
//!
//! With screening on ([`Config::screening`](super::Config::screening)), a new invite that passed
//! the machine's own checks (rate limit, glare, one ringing call per sender, busy) does not ring
//! at once: it is held here, unanswered, and the app is asked ([`Event::Screen`](super::Event)).
//! Nothing goes back to the caller until the app answers with a [`Screening`]: so the caller
//! cannot tell an awake device that ignores it from one that is offline. A held invite waits at
//! most its ringing lifetime; the caller's hangup withdraws it quietly.
//!
//! Do-not-disturb ([`Availability::DoNotDisturb`]) declines every new invite as `busy` and tells
//! the app ([`Event::Missed`](super::Event)), so it can keep a missed-call list.

use crate::prelude::*;

use super::machine::NewInvite;
use super::{CallId, Instant, UserId};

/// The app's answer for a held invite.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Screening {
    /// Let it ring (as if there were no screening).
    Ring,
    /// Decline it: the caller's call ends `rejected`.
    Decline,
    /// Decline it as busy: the caller's call ends `busy`.
    Busy,
    /// Never answer: the caller's call rings on until it gives up or times out, and learns
    /// nothing.
    Ignore,
}

impl Screening {
    /// `ring`, `decline`, `busy` or `ignore`.
    pub fn from_name(name: &str) -> Option<Screening> {
        match name {
            "ring" => Some(Screening::Ring),
            "decline" => Some(Screening::Decline),
            "busy" => Some(Screening::Busy),
            "ignore" => Some(Screening::Ignore),
            _ => None,
        }
    }
}

/// Whether this client takes calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Availability {
    /// New invites ring (or are screened).
    #[default]
    Available,
    /// New invites are declined as `busy`, and the app hears of each as a missed call.
    DoNotDisturb,
}

impl Availability {
    /// `available` or `do-not-disturb`.
    pub fn from_name(name: &str) -> Option<Availability> {
        match name {
            "available" => Some(Availability::Available),
            "do-not-disturb" => Some(Availability::DoNotDisturb),
            _ => None,
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::DoNotDisturb => "do-not-disturb",
        }
    }
}

/// An invite waiting for the app's answer, or ignored and waiting out its lifetime.
#[derive(Clone, Debug)]
struct Held {
    invite: NewInvite,
    /// When it is forgotten if still here: its ringing lifetime.
    until: Instant,
    /// The app said [`Screening::Ignore`]: kept only to absorb the caller's messages.
    ignored: bool,
}

/// The held invites of one client.
#[derive(Clone, Debug, Default)]
pub(super) struct Screened {
    held: Vec<Held>,
}

impl Screened {
    /// Holds `invite` until `until` while the app decides.
    pub(super) fn hold(&mut self, invite: NewInvite, until: Instant) {
        self.held.push(Held {
            invite,
            until,
            ignored: false,
        });
    }

    /// The sender of a held invite with this id.
    pub(super) fn sender(&self, call_id: CallId) -> Option<&UserId> {
        self.held
            .iter()
            .find(|h| h.invite.call_id == call_id)
            .map(|h| &h.invite.from)
    }

    /// Whether `from` has an invite held here (it counts as this sender's one ringing call).
    pub(super) fn holds_from(&self, from: &UserId) -> bool {
        self.held.iter().any(|h| &h.invite.from == from)
    }

    /// How many invites wait for an answer (they count against the ringing slots).
    pub(super) fn pending(&self) -> usize {
        self.held.iter().filter(|h| !h.ignored).count()
    }

    /// Takes the held invite `call_id` out for `decision`; an ignored one stays, marked, until its
    /// lifetime ends. `None` if it is not waiting for an answer (withdrawn, expired, or answered).
    pub(super) fn decide(&mut self, call_id: CallId, decision: Screening) -> Option<NewInvite> {
        let index = self
            .held
            .iter()
            .position(|h| h.invite.call_id == call_id && !h.ignored)?;
        if decision == Screening::Ignore {
            self.held[index].ignored = true;
            return None;
        }
        Some(self.held.swap_remove(index).invite)
    }

    /// The caller withdrew `call_id` (hung up): forgotten.
    pub(super) fn withdraw(&mut self, call_id: CallId) -> bool {
        let before = self.held.len();
        self.held.retain(|h| h.invite.call_id != call_id);
        self.held.len() != before
    }

    /// Forgets every held invite whose lifetime ended by `now`; returns their ids.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<CallId> {
        let (gone, kept) = core::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.until <= now);
        self.held = kept;
        gone.into_iter().map(|h: Held| h.invite.call_id).collect()
    }

    /// The next lifetime end.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.held.iter().map(|h| h.until).min()
    }

    /// Forgets everything (the client shuts down); returns the ids.
    pub(super) fn clear(&mut self) -> Vec<CallId> {
        core::mem::take(&mut self.held)
            .into_iter()
            .map(|h| h.invite.call_id)
            .collect()
    }
}
