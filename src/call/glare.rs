//! Glare: two users call each other at once. Exactly one call survives and connects, with no
//! user action: the one with the lower call id.
//!
//! - An invite arrives from the user this client is calling, before any of their devices has
//!   answered ours: if our call id is the lower, our invite is repeated (the peer may never have
//!   received it) and theirs is dropped, so the peer merges into our call; otherwise our call
//!   becomes the callee side of theirs, already accepted ([`merge_into_incoming`]).
//! - This user calls a user whose call already rings here: that call is accepted instead of
//!   placing a second one ([`answer_instead`]).
//!
//! The app keeps one [`CallHandle`] throughout: only the wire call id of a merged call changes.

use crate::protocol::{Body, CallId, CallKind, EndReason};

use super::error::CommandError;
use super::flow::{CallFlow, Media};
use super::io::{Command, Effect, Outbox};
use super::machine::NewInvite;
use super::{CallHandle, CallState, Direction, Instant};

/// The outgoing call that glare concerns when an invite arrives from `from`: the call to that
/// user no device of theirs has answered yet, if any.
pub(super) fn crossing_call<'a>(
    calls: &'a mut [CallFlow],
    from: &crate::protocol::UserId,
) -> Option<&'a mut CallFlow> {
    calls
        .iter_mut()
        .find(|c| c.is_unanswered_outgoing() && &c.peer == from)
}

/// Glare between `ours` and `invite`: the lower call id survives. Returns the call id to forget
/// as a dropped invite (theirs, or ours that merged into theirs).
pub(super) fn resolve(
    now: Instant,
    ours: &mut CallFlow,
    invite: NewInvite,
    out: &mut Outbox,
) -> CallId {
    if ours.id < invite.call_id {
        repeat_invite(ours, out);
        invite.call_id
    } else {
        let old_id = ours.id;
        merge_into_incoming(ours, now, invite, out);
        old_id
    }
}

/// This user places a call to `peer`: if `peer`'s own call already rings here, calling them back
/// means taking that call, so it is accepted (with video if `kind` is video) and its handle is
/// the answer. `None` when no call of theirs rings.
pub(super) fn answer_instead(
    now: Instant,
    calls: &mut [CallFlow],
    peer: &crate::protocol::UserId,
    kind: CallKind,
    out: &mut Outbox,
) -> Option<Result<CallHandle, CommandError>> {
    let ringing = calls
        .iter_mut()
        .find(|c| c.is_ringing_here() && &c.peer == peer)?;
    let video = kind == CallKind::Video;
    Some(
        ringing
            .command(now, Command::Accept { video }, out)
            .map(|()| ringing.handle),
    )
}

/// Our call id is the lower: repeat our invite, in case the peer never got it, so the peer
/// merges into our call.
fn repeat_invite(ours: &CallFlow, out: &mut Outbox) {
    if let Some(invite) = &ours.invite {
        ours.send(out, invite.clone());
    }
}

/// The peer's call id is the lower: our outgoing call becomes the callee side of the peer's
/// call, already accepted, so exactly one call connects with no user action.
fn merge_into_incoming(ours: &mut CallFlow, now: Instant, invite: NewInvite, out: &mut Outbox) {
    if ours.signaled {
        // The peer's other devices may ring for our invite: they stop.
        let reason = EndReason::AnsweredElsewhere;
        ours.send(out, Body::Hangup { reason });
    }
    if ours.negotiation.has_peer_connection() {
        out.effect(ours.handle, Effect::ResetPeerConnection);
        // The new connection brings new channels.
        ours.data.closed(now);
    }
    // Its senders fill again, before the new connection is made.
    ours.drop_preconnect(now, out);
    let NewInvite {
        call_id,
        party,
        kind,
        offer,
        lifetime_ms,
        ..
    } = invite;
    ours.id = call_id;
    ours.direction = Direction::Incoming;
    ours.peer_party = Some(party);
    let local_media = ours.local_media;
    ours.set_kind(kind);
    // What this side already did to its media (a mute, a missing camera) still holds.
    ours.local_media = local_media;
    ours.remote_offer = Some(offer);
    ours.invite = None;
    ours.signaled = false;
    ours.negotiation.reset(true);
    ours.candidates.reset();
    // Media states the peer's devices sent for our call id are not of theirs.
    ours.early_remote_media.clear();
    ours.ring.start(now, lifetime_ms);
    ours.set_state(CallState::Connecting, out);
    if ours.media == Media::Ready {
        ours.answer_offer(out);
    }
}
