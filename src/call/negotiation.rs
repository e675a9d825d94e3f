//! Offer/answer bookkeeping for one call, with the perfect-negotiation roles: the callee is
//! polite (on an offer collision it rolls back its own offer and takes the other's), the caller
//! is impolite (it ignores the colliding offer and keeps its own).
//!
//! The browser queues SDP operations on the peer connection in the order they are issued, so this
//! tracks the signaling state the connection reaches once every operation issued so far has run.
//! Each operation carries an [`SdpOp`] so that a result which no longer applies (its offer was
//! rolled back, or the connection was replaced) is recognised and dropped.

use super::io::{Effect, SdpOp};
use crate::prelude::*;

/// The signaling state once the issued operations complete.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Signaling {
    /// No offer outstanding.
    Stable,
    /// Our offer with this sequence number is set (or being created) and awaits an answer.
    HaveLocalOffer(u32),
}

/// What became of a local offer the browser created.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OfferCreated {
    /// Send it with this sequence number (0 is the invite).
    Send(u32),
    /// It was rolled back or replaced meanwhile: drop it.
    Stale,
}

/// What to do with a remote description.
#[derive(Clone, PartialEq, Debug)]
pub enum RemoteDescription {
    /// Perform this effect.
    Apply(Effect),
    /// Already applied (a duplicate), or an old one: nothing to do.
    Duplicate,
    /// An offer that collided with ours while we are impolite: ignored, by design.
    IgnoredCollision,
    /// It fits no offer we made, or came before the call was set up: report it.
    Unexpected,
}

/// The negotiation state of one call.
#[derive(Clone, Debug)]
pub struct Negotiation {
    polite: bool,
    signaling: Signaling,
    making_offer: Option<SdpOp>,
    /// Whether the outstanding local offer restarts ICE (so a rolled-back one is retried so).
    offer_restarts_ice: bool,
    answering: Option<(SdpOp, u32)>,
    applying: Option<SdpOp>,
    next_op: u32,
    first_valid_op: u32,
    local_seq: u32,
    /// The newest of our offers that was answered or rolled back: answers up to it are stale.
    last_settled_local: Option<u32>,
    last_remote_offer: Option<u32>,
    pending: bool,
    pending_ice_restart: bool,
    established: bool,
}

impl Negotiation {
    /// A fresh negotiation; the callee is `polite`.
    pub fn new(polite: bool) -> Negotiation {
        Negotiation {
            polite,
            signaling: Signaling::Stable,
            making_offer: None,
            offer_restarts_ice: false,
            answering: None,
            applying: None,
            next_op: 0,
            first_valid_op: 0,
            local_seq: 0,
            last_settled_local: None,
            last_remote_offer: None,
            pending: false,
            pending_ice_restart: false,
            established: false,
        }
    }

    /// Starts over on a new peer connection (glare merge): results of earlier operations become
    /// stale.
    pub fn reset(&mut self, polite: bool) {
        let next_op = self.next_op;
        *self = Negotiation::new(polite);
        self.next_op = next_op;
        self.first_valid_op = next_op;
    }

    /// Whether any SDP operation was issued, i.e. a peer connection exists.
    pub fn has_peer_connection(&self) -> bool {
        self.next_op > self.first_valid_op
    }

    /// Whether the first offer/answer exchange is complete on this side.
    #[cfg(test)]
    pub fn is_established(&self) -> bool {
        self.established
    }

    /// Whether `op` is an operation still awaited: its failure matters. Operations that were
    /// rolled back, replaced or already completed are not.
    pub fn is_current(&self, op: SdpOp) -> bool {
        self.making_offer == Some(op)
            || self.answering.is_some_and(|(answering, _)| answering == op)
            || self.applying == Some(op)
    }

    fn op(&mut self) -> SdpOp {
        let op = SdpOp(self.next_op);
        self.next_op += 1;
        op
    }

    /// Caller: create the first offer, which travels in the invite.
    pub fn initial_offer(&mut self) -> Effect {
        let op = self.op();
        self.making_offer = Some(op);
        self.signaling = Signaling::HaveLocalOffer(0);
        Effect::CreateOffer {
            op,
            ice_restart: false,
        }
    }

    /// Callee: answer the invite's offer.
    pub fn accept_initial(&mut self, sdp: String) -> Effect {
        let op = self.op();
        self.answering = Some((op, 0));
        self.last_remote_offer = Some(0);
        Effect::AcceptOffer { op, sdp }
    }

    /// The browser created and set a local offer.
    pub fn offer_created(&mut self, op: SdpOp) -> OfferCreated {
        match self.making_offer {
            Some(making) if making == op => {
                self.making_offer = None;
                match self.signaling {
                    Signaling::HaveLocalOffer(seq) => OfferCreated::Send(seq),
                    Signaling::Stable => OfferCreated::Stale,
                }
            }
            _ => OfferCreated::Stale,
        }
    }

    /// The browser set a remote offer and created the answer; returns the offer's sequence
    /// number when the answer is to be sent.
    pub fn answer_created(&mut self, op: SdpOp) -> Option<u32> {
        match self.answering {
            Some((answering, seq)) if answering == op => {
                self.answering = None;
                self.established = true;
                Some(seq)
            }
            _ => None,
        }
    }

    /// The browser set a remote answer; true when it was the one awaited.
    pub fn answer_applied(&mut self, op: SdpOp) -> bool {
        if self.applying == Some(op) {
            self.applying = None;
            self.established = true;
            true
        } else {
            false
        }
    }

    /// A remote answer to our offer number `seq` arrived.
    pub fn remote_answer(&mut self, seq: u32, sdp: String) -> RemoteDescription {
        if self.making_offer.is_none() && self.signaling == Signaling::HaveLocalOffer(seq) {
            let op = self.op();
            self.applying = Some(op);
            self.signaling = Signaling::Stable;
            self.last_settled_local = Some(seq);
            // The browser queues operations, so a remote offer may follow this answer at once.
            self.established = true;
            return RemoteDescription::Apply(Effect::ApplyAnswer { op, sdp });
        }
        if self.last_settled_local.is_some_and(|last| seq <= last) {
            RemoteDescription::Duplicate
        } else {
            RemoteDescription::Unexpected
        }
    }

    /// A remote renegotiation offer number `seq` arrived.
    pub fn remote_offer(&mut self, seq: u32, sdp: String) -> RemoteDescription {
        if self.last_remote_offer.is_some_and(|last| seq <= last) {
            return RemoteDescription::Duplicate;
        }
        if !self.established || self.answering.is_some() {
            return RemoteDescription::Unexpected;
        }
        let collision = self.making_offer.is_some() || self.signaling != Signaling::Stable;
        if collision {
            if !self.polite {
                return RemoteDescription::IgnoredCollision;
            }
            // Our offer is rolled back by the browser; make it again once stable.
            self.pending = true;
            self.pending_ice_restart |= self.offer_restarts_ice;
            self.making_offer = None;
            if let Signaling::HaveLocalOffer(ours) = self.signaling {
                // An answer to the rolled-back offer may still arrive: it is stale, not wrong.
                self.last_settled_local = Some(ours);
            }
            self.signaling = Signaling::Stable;
        }
        let op = self.op();
        self.answering = Some((op, seq));
        self.last_remote_offer = Some(seq);
        RemoteDescription::Apply(Effect::AcceptOffer { op, sdp })
    }

    /// Renegotiation is needed (new track, screen share, ICE restart): returns the offer effect
    /// if it can start now, otherwise remembers it for when the state is stable.
    pub fn request(&mut self, ice_restart: bool) -> Option<Effect> {
        self.pending = true;
        self.pending_ice_restart |= ice_restart;
        self.start_pending()
    }

    /// Starts a remembered renegotiation if the state now allows it.
    pub fn start_pending(&mut self) -> Option<Effect> {
        let idle = self.established
            && self.signaling == Signaling::Stable
            && self.making_offer.is_none()
            && self.answering.is_none()
            && self.applying.is_none();
        if !self.pending || !idle {
            return None;
        }
        let ice_restart = core::mem::take(&mut self.pending_ice_restart);
        self.pending = false;
        self.local_seq += 1;
        let op = self.op();
        self.making_offer = Some(op);
        self.offer_restarts_ice = ice_restart;
        self.signaling = Signaling::HaveLocalOffer(self.local_seq);
        Some(Effect::CreateOffer { op, ice_restart })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op_of(effect: &Effect) -> SdpOp {
        match effect {
            Effect::CreateOffer { op, .. }
            | Effect::AcceptOffer { op, .. }
            | Effect::ApplyAnswer { op, .. } => *op,
            other => panic!("not an SDP effect: {other:?}"),
        }
    }

    /// A caller and callee past their first exchange.
    fn established_pair() -> (Negotiation, Negotiation) {
        let mut caller = Negotiation::new(false);
        let mut callee = Negotiation::new(true);
        let offer = caller.initial_offer();
        assert_eq!(caller.offer_created(op_of(&offer)), OfferCreated::Send(0));
        let accept = callee.accept_initial("offer".into());
        assert_eq!(callee.answer_created(op_of(&accept)), Some(0));
        let RemoteDescription::Apply(apply) = caller.remote_answer(0, "answer".into()) else {
            panic!("answer not applied")
        };
        assert!(caller.answer_applied(op_of(&apply)));
        assert!(caller.is_established() && callee.is_established());
        (caller, callee)
    }

    #[test]
    fn duplicate_and_unmatched_answers_are_not_applied() {
        let (mut caller, _) = established_pair();
        assert_eq!(
            caller.remote_answer(0, "a".into()),
            RemoteDescription::Duplicate
        );
        assert_eq!(
            caller.remote_answer(5, "a".into()),
            RemoteDescription::Unexpected
        );
    }

    #[test]
    fn renegotiation_round_trip_and_duplicate_offer() {
        let (mut caller, mut callee) = established_pair();
        let offer = caller.request(false).expect("stable, so the offer starts");
        assert_eq!(caller.offer_created(op_of(&offer)), OfferCreated::Send(1));
        let RemoteDescription::Apply(accept) = callee.remote_offer(1, "o1".into()) else {
            panic!()
        };
        assert_eq!(
            callee.remote_offer(1, "o1".into()),
            RemoteDescription::Duplicate
        );
        assert_eq!(callee.answer_created(op_of(&accept)), Some(1));
        assert!(matches!(
            caller.remote_answer(1, "a1".into()),
            RemoteDescription::Apply(_)
        ));
    }

    #[test]
    fn glare_impolite_keeps_its_offer_polite_rolls_back_and_retries() {
        let (mut caller, mut callee) = established_pair();
        let caller_offer = caller.request(false).unwrap();
        let callee_offer = callee.request(true).unwrap();
        assert_eq!(
            caller.offer_created(op_of(&caller_offer)),
            OfferCreated::Send(1)
        );
        assert_eq!(
            callee.offer_created(op_of(&callee_offer)),
            OfferCreated::Send(1)
        );
        // Each receives the other's offer.
        assert_eq!(
            caller.remote_offer(1, "callee".into()),
            RemoteDescription::IgnoredCollision
        );
        let RemoteDescription::Apply(accept) = callee.remote_offer(1, "caller".into()) else {
            panic!("the polite side takes the offer")
        };
        assert_eq!(callee.answer_created(op_of(&accept)), Some(1));
        // The callee retries its rolled-back offer, still asking for an ICE restart.
        match callee.start_pending() {
            Some(Effect::CreateOffer { ice_restart, .. }) => assert!(ice_restart),
            other => panic!("expected a retried offer, got {other:?}"),
        }
    }

    #[test]
    fn an_offer_rolled_back_before_it_was_created_is_stale() {
        let (mut caller, mut callee) = established_pair();
        let callee_offer = callee.request(false).unwrap();
        let caller_offer = caller.request(false).unwrap();
        assert_eq!(
            caller.offer_created(op_of(&caller_offer)),
            OfferCreated::Send(1)
        );
        assert!(matches!(
            callee.remote_offer(1, "caller".into()),
            RemoteDescription::Apply(_)
        ));
        assert_eq!(
            callee.offer_created(op_of(&callee_offer)),
            OfferCreated::Stale
        );
    }

    #[test]
    fn requests_wait_until_stable_and_reset_makes_old_ops_stale() {
        let mut caller = Negotiation::new(false);
        assert_eq!(caller.request(false), None, "not before the first exchange");
        let offer = caller.initial_offer();
        assert!(caller.has_peer_connection());
        caller.reset(true);
        assert!(!caller.is_current(op_of(&offer)));
        assert!(!caller.has_peer_connection());
        assert_eq!(caller.offer_created(op_of(&offer)), OfferCreated::Stale);
        assert_eq!(
            caller.remote_offer(1, "x".into()),
            RemoteDescription::Unexpected
        );
    }
}
