//! The client-level machine: one active call plus incoming ones, message routing and sender
//! checks, and what happens to a new invite (rate limit, glare, busy, ring).

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::json::Value;

use crate::protocol::{
    Body, CallId, CallKind, MediaState, Message, PartyId, UserId, MAX_METADATA_BYTES,
};

use super::error::{CallError, CommandError};
use super::flow::CallFlow;
use super::glare;
use super::io::{Command, EffectResult, Event, Outbox, Output};
use super::rate_limit::InviteRateLimiter;
use super::ring::RingTimeout;
use super::screening::{Availability, Screened, Screening};
use super::{CallHandle, CallState, Config, Direction, Instant, Millis};

/// How many call ids of invites this client dropped (busy, glare, rate limit) it remembers, so
/// that later messages for them are dropped quietly instead of reported as unknown.
const DROPPED_INVITES_KEPT: usize = 64;

/// How many messages for not-yet-known calls are held, and for how long. A transport may deliver
/// a call's candidates or hangup ahead of its invite; they are replayed once the invite arrives,
/// and reported as for an unknown call if it never does.
const EARLY_MESSAGES_KEPT: usize = 32;
const EARLY_MESSAGE_TTL_MS: Millis = 5_000;
/// The held messages' size bound, in bytes of their JSON: a few calls' candidates fit; a sender
/// cannot park 32 maximum-size messages (2 MB) in the wasm heap.
const EARLY_MESSAGE_BYTES_KEPT: usize = 64 * 1024;

/// A message held until its call's invite arrives.
#[derive(Clone, Debug)]
struct EarlyMessage {
    received_at: Instant,
    /// Its size as JSON text.
    bytes: usize,
    from: UserId,
    message: Message,
}

/// A snapshot of one call, for the app's getters.
#[derive(Clone, PartialEq, Debug)]
pub struct CallInfo {
    /// The local handle.
    pub handle: CallHandle,
    /// The wire call id (it changes once if glare merged this call into the peer's).
    pub call_id: CallId,
    /// Who placed it.
    pub direction: Direction,
    /// The other user.
    pub peer: UserId,
    /// Audio or video.
    pub kind: CallKind,
    /// The phase.
    pub state: CallState,
    /// This side's mute and sharing state.
    pub local_media: MediaState,
    /// The peer's mute and sharing state.
    pub remote_media: MediaState,
    /// When media first flowed.
    pub connected_at: Option<Instant>,
    /// When it ended.
    pub ended_at: Option<Instant>,
    /// The caller app's metadata.
    pub metadata: Option<Value>,
    /// An incoming call that rings while another call is under way.
    pub waiting: bool,
    /// The data channels are open: messages and files go out at once.
    pub data_open: bool,
    /// The call rings and its `Event::Preconnected` has been emitted (with preconnect): the
    /// connection came up while ringing, so an accept skips connecting. False again once the
    /// call stops ringing.
    pub preconnected: bool,
}

impl CallInfo {
    /// How long the call has been (or was) connected, in milliseconds.
    pub fn duration_ms(&self, now: Instant) -> Millis {
        match self.connected_at {
            Some(start) => self.ended_at.unwrap_or(now).saturating_sub(start),
            None => 0,
        }
    }
}

/// The call machine of one client instance. See the [module docs](super).
#[derive(Clone, Debug)]
pub struct CallMachine {
    config: Config,
    calls: Vec<CallFlow>,
    next_handle: u64,
    dropped_invites: VecDeque<CallId>,
    early_messages: VecDeque<EarlyMessage>,
    limiter: InviteRateLimiter,
    /// New invites held for the app's screening.
    screened: Screened,
    availability: Availability,
    out: Outbox,
}

impl CallMachine {
    /// A machine with no calls, or the first setting outside its range
    /// ([`Config::validate`], an `invalid-option` error).
    pub fn new(config: Config) -> Result<CallMachine, CallError> {
        config.validate()?;
        Ok(CallMachine {
            limiter: InviteRateLimiter::new(config.invite_burst, config.invite_refill_ms),
            out: Outbox::new(config.party_id.clone()),
            config,
            calls: Vec::new(),
            next_handle: 1,
            dropped_invites: VecDeque::new(),
            early_messages: VecDeque::new(),
            screened: Screened::default(),
            availability: Availability::Available,
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The next output, if any. Drain after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let early = self
            .early_messages
            .front()
            .map(|m| m.received_at + EARLY_MESSAGE_TTL_MS);
        self.calls
            .iter()
            .filter_map(CallFlow::deadline)
            .chain(early)
            .chain(self.screened.deadline())
            .min()
    }

    /// Whether new invites ring (`Available`) or are declined as busy (`DoNotDisturb`). Calls
    /// that ring already, or are under way, are not touched.
    pub fn set_availability(&mut self, availability: Availability) {
        self.availability = availability;
    }

    /// See [`set_availability`](Self::set_availability).
    pub fn availability(&self) -> Availability {
        self.availability
    }

    /// The app's answer for an invite it was asked to screen ([`Event::Screen`]). An answer for
    /// an invite that is no longer held (withdrawn by its caller, expired, answered before) does
    /// nothing.
    pub fn screen(&mut self, now: Instant, call_id: CallId, decision: Screening) {
        let Some(invite) = self.screened.decide(call_id, decision) else {
            return;
        };
        let reason = match decision {
            Screening::Ring => {
                self.ring(now, invite);
                self.replay_early_messages(now, call_id);
                return;
            }
            Screening::Decline => crate::protocol::EndReason::Rejected,
            Screening::Busy => crate::protocol::EndReason::Busy,
            Screening::Ignore => return, // Not reached: `decide` keeps ignored invites.
        };
        let body = Body::Reject { reason };
        self.out
            .send(&invite.from, Some(&invite.party), invite.call_id, body);
        self.forget_invite(now, call_id);
    }

    /// A snapshot of a call this machine still remembers.
    pub fn call_info(&self, handle: CallHandle) -> Option<CallInfo> {
        self.calls
            .iter()
            .find(|c| c.handle == handle)
            .map(|c| CallInfo {
                handle: c.handle,
                call_id: c.id,
                direction: c.direction,
                peer: c.peer.clone(),
                kind: c.kind,
                state: c.state,
                local_media: c.local_media,
                remote_media: c.remote_media,
                connected_at: c.connected_at,
                ended_at: c.ended_at,
                metadata: c.metadata.clone(),
                waiting: c.is_ringing_here() && self.active_call().is_some(),
                data_open: c.data.is_open(),
                preconnected: c.is_preconnected(),
            })
    }

    /// The handles of every call remembered, live or recently ended.
    pub fn calls(&self) -> impl Iterator<Item = CallHandle> + '_ {
        self.calls.iter().map(|c| c.handle)
    }

    /// An active call (placed, or accepted), if any: the one not on hold if there is one.
    pub fn active_call(&self) -> Option<CallHandle> {
        self.calls
            .iter()
            .filter(|c| c.is_active())
            .max_by_key(|c| c.is_current())
            .map(|c| c.handle)
    }

    /// Whether a call other than `except` is under way and not on hold: then no other call may
    /// be placed, accepted or resumed (at most one call sends media).
    fn current_call_besides(&self, except: Option<CallHandle>) -> bool {
        self.calls
            .iter()
            .any(|c| c.is_current() && Some(c.handle) != except)
    }

    /// Places a call to `peer`. `call_id` must be 128 random bits from a secure source.
    ///
    /// If `peer`'s own call already rings here, that call is accepted and its handle returned:
    /// both users wanted to talk, and one call must survive.
    pub fn place_call(
        &mut self,
        now: Instant,
        peer: &str,
        kind: CallKind,
        call_id: CallId,
        metadata: Option<Value>,
    ) -> Result<CallHandle, CommandError> {
        let peer = UserId::new(peer).map_err(|_| CommandError::InvalidPeer)?;
        let metadata = metadata.filter(|m| !m.is_null());
        if peer == self.config.user_id {
            return Err(CommandError::InvalidPeer);
        }
        if metadata
            .as_ref()
            .is_some_and(|m| m.to_json().len() > MAX_METADATA_BYTES)
        {
            return Err(CommandError::MetadataTooLarge);
        }
        if self.current_call_besides(None) {
            return Err(CommandError::AlreadyInCall);
        }
        if let Some(answered) =
            glare::answer_instead(now, &mut self.calls, &peer, kind, &mut self.out)
        {
            return answered;
        }
        let handle = self.new_handle();
        let call = CallFlow::outgoing(
            handle,
            call_id,
            peer,
            kind,
            metadata,
            self.config.preconnect,
            &mut self.out,
        );
        self.calls.push(call);
        Ok(handle)
    }

    /// Applies a user command to a call.
    pub fn command(
        &mut self,
        now: Instant,
        handle: CallHandle,
        command: Command,
    ) -> Result<(), CommandError> {
        let busy = matches!(command, Command::Accept { .. } | Command::Resume)
            && self.current_call_besides(Some(handle));
        // A waiting call declined: its caller hears `busy`, as without call waiting.
        let waiting = self.active_call().is_some_and(|active| active != handle);
        let call = self
            .calls
            .iter_mut()
            .find(|c| c.handle == handle)
            .ok_or(CommandError::UnknownCall)?;
        if busy && call.is_live() {
            return Err(CommandError::AlreadyInCall);
        }
        let result = if waiting
            && call.is_ringing_here()
            && matches!(command, Command::Reject | Command::Hangup)
        {
            call.decline_waiting(now, &mut self.out);
            Ok(())
        } else {
            call.command(now, command, &mut self.out)
        };
        self.forget_old_calls();
        result
    }

    /// Queues a message or a file on a call's data path; returns its id (a file's is the
    /// transfer id its events carry).
    pub fn send_data(
        &mut self,
        handle: CallHandle,
        outgoing: super::data::Outgoing,
    ) -> Result<u64, CommandError> {
        let call = self
            .calls
            .iter_mut()
            .find(|c| c.handle == handle)
            .ok_or(CommandError::UnknownCall)?;
        call.send_data(outgoing, &mut self.out)
    }

    /// Ends every live call (the page is going away or the client is destroyed).
    pub fn shut_down(&mut self, now: Instant) {
        for call in &mut self.calls {
            call.shut_down(now, &mut self.out);
        }
        // Held invites were never answered: they stay unanswered.
        for call_id in self.screened.clear() {
            self.drop_invite(call_id);
        }
    }

    /// A message from the transport: `from` is the sender's user id as the app's server vouches
    /// for it; `text` is the JSON message.
    pub fn handle_message(&mut self, now: Instant, from: &str, text: &str) {
        let parsed = UserId::new(from).and_then(|from| Ok((from, Message::parse(text)?)));
        self.route(now, parsed);
    }

    /// A message the driver refused before parsing (it measured it too large): reported like
    /// any malformed message.
    pub fn handle_refused_message(&mut self, error: crate::protocol::ProtocolError) {
        self.out.error(None, CallError::Protocol(error));
    }

    /// Like [`handle_message`](Self::handle_message), for transports that deliver JSON values.
    pub fn handle_message_value(&mut self, now: Instant, from: &str, value: &Value) {
        let parsed = UserId::new(from).and_then(|from| Ok((from, Message::from_value(value)?)));
        self.route(now, parsed);
    }

    /// The result of an effect, or a browser event, for a call. Results for calls that ended are
    /// dropped (the driver has released their resources).
    pub fn handle_effect(&mut self, now: Instant, handle: CallHandle, result: EffectResult) {
        let config = &self.config;
        if let Some(call) = self.calls.iter_mut().find(|c| c.handle == handle) {
            call.on_effect(now, config, result, &mut self.out);
        }
        self.forget_old_calls();
    }

    /// The transport could not deliver a message of call `call_id` (its `send` rejected).
    pub fn handle_send_failed(&mut self, now: Instant, call_id: CallId) {
        if let Some(call) = self.calls.iter_mut().find(|c| c.id == call_id) {
            call.on_unreachable(now, &mut self.out);
        }
        self.forget_old_calls();
    }

    /// Does whatever is due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for call_id in self.screened.expire(now) {
            self.forget_invite(now, call_id);
        }
        while self
            .early_messages
            .front()
            .is_some_and(|m| now >= m.received_at + EARLY_MESSAGE_TTL_MS)
        {
            self.expire_oldest_early_message();
        }
        let config = &self.config;
        for call in &mut self.calls {
            if call.deadline().is_some_and(|at| at <= now) {
                call.on_timeout(now, config, &mut self.out);
            }
        }
        self.forget_old_calls();
    }

    fn new_handle(&mut self) -> CallHandle {
        let handle = CallHandle(self.next_handle);
        self.next_handle += 1;
        handle
    }

    fn route(
        &mut self,
        now: Instant,
        parsed: Result<(UserId, Message), crate::protocol::ProtocolError>,
    ) {
        let (from, message) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.out.error(None, CallError::Protocol(error));
                return;
            }
        };
        if from == self.config.user_id {
            return; // Our own message echoed back by a relay.
        }
        if message
            .to_party_id
            .as_ref()
            .is_some_and(|to| to != &self.config.party_id)
        {
            return; // For another tab or device of this user.
        }
        let Message {
            call_id,
            party_id,
            body,
            ..
        } = message;
        let config = &self.config;
        let answers_a_call = matches!(
            body,
            Body::Ringing { .. }
                | Body::Answer { .. }
                | Body::PreconnectAnswer { .. }
                | Body::Accept
        );
        if let Some(call) = self.calls.iter_mut().find(|c| c.id == call_id) {
            if call.peer != from {
                let error = CallError::WrongSender { call_id, from };
                self.out.error(Some(call.handle), error);
            } else if answers_a_call && call.direction == Direction::Outgoing && !call.is_live() {
                // A callee rings (or answered) a call this side has ended: a replayed invite, a
                // tab that reloaded, or a lost end. Tell it, so the ghost stops at once.
                let reply = call.ghost_reply(&party_id);
                self.reply_to_ghost(now, from, party_id, call_id, reply);
            } else if matches!(body, Body::Invite { .. }) && call.is_ringing_here() {
                // A copy of an invite that rings: each costs its sender a token, and only the
                // first is answered (its `ringing` may have been lost), so copies are not
                // reflected through the relay.
                let allowed = self.limiter.allow(now, &from);
                if !allowed || !call.repeat_ringing_once(&mut self.out) {
                    let error = CallError::DuplicateInvite { call_id, from };
                    self.out.error(Some(call.handle), error);
                }
            } else {
                call.on_message(now, config, party_id, body, &mut self.out);
            }
        } else if let Some(sender) = self.screened.sender(call_id) {
            // An invite held for screening: its caller may withdraw it; copies are absorbed
            // (each costs a token); whatever else comes (trickled candidates) waits with the
            // early messages, for the invite to ring.
            if sender != &from {
                let error = CallError::WrongSender { call_id, from };
                self.out.error(None, error);
            } else {
                match body {
                    Body::Hangup { .. } | Body::Reject { .. } => {
                        self.screened.withdraw(call_id);
                        self.forget_invite(now, call_id);
                    }
                    Body::Invite { .. } => {
                        self.limiter.allow(now, &from);
                    }
                    body => self.hold_early(now, from, call_id, party_id, body),
                }
            }
        } else if answers_a_call {
            // `ringing` and `answer` only ever answer this side's own invite. A remembered
            // dropped id is one of ours that glare merged into the peer's call (already told
            // `answered-elsewhere`, said again in case that was lost); any other is a call this
            // client never placed, or forgot. Nothing can be waiting for it, so it is not held.
            let merged = self.dropped_invites.contains(&call_id);
            let reason = if merged {
                crate::protocol::EndReason::AnsweredElsewhere
            } else {
                crate::protocol::EndReason::Cancelled
            };
            self.reply_to_ghost(
                now,
                from.clone(),
                party_id,
                call_id,
                Body::Hangup { reason },
            );
            if !merged {
                self.out
                    .error(None, CallError::UnknownCall { call_id, from });
            }
        } else if self.dropped_invites.contains(&call_id) {
            // A late message for an invite we declined or merged away: expected, quiet.
        } else if let Body::Invite {
            kind,
            sdp,
            lifetime_ms,
            metadata,
            preconnect,
        } = body
        {
            let invite = NewInvite {
                call_id,
                from,
                party: party_id,
                kind,
                offer: sdp,
                lifetime_ms,
                metadata,
                preconnect,
            };
            self.on_new_invite(now, invite);
            self.replay_early_messages(now, call_id);
        } else {
            self.hold_early(now, from, call_id, party_id, body);
        }
        self.forget_old_calls();
    }

    /// Keeps a message that came before its invite (or while the invite is screened), within
    /// the early-message bounds.
    fn hold_early(
        &mut self,
        now: Instant,
        from: UserId,
        call_id: CallId,
        party_id: PartyId,
        body: Body,
    ) {
        let message = Message {
            call_id,
            party_id,
            to_party_id: None,
            body,
        };
        let bytes = message.to_json().len();
        while !self.early_messages.is_empty()
            && (self.early_messages.len() >= EARLY_MESSAGES_KEPT
                || self.early_bytes() + bytes > EARLY_MESSAGE_BYTES_KEPT)
        {
            self.expire_oldest_early_message();
        }
        self.early_messages.push_back(EarlyMessage {
            received_at: now,
            bytes,
            from,
            message,
        });
    }

    /// An invite that will not ring (declined, withdrawn, expired): its id is remembered as
    /// dropped, so late messages for it are quiet, and what it left with the early messages goes.
    fn forget_invite(&mut self, now: Instant, call_id: CallId) {
        self.drop_invite(call_id);
        self.replay_early_messages(now, call_id);
    }

    /// Answers a `ringing` or `answer` for a call this side does not have (or has ended) with
    /// `reply` to that device; counted against the sender's rate limit, so a flood of them is
    /// not reflected.
    fn reply_to_ghost(
        &mut self,
        now: Instant,
        from: UserId,
        party: PartyId,
        call_id: CallId,
        reply: Body,
    ) {
        if self.limiter.allow(now, &from) {
            self.out.send(&from, Some(&party), call_id, reply);
        }
    }

    fn early_bytes(&self) -> usize {
        self.early_messages.iter().map(|m| m.bytes).sum()
    }

    fn expire_oldest_early_message(&mut self) {
        if let Some(early) = self.early_messages.pop_front() {
            let error = CallError::UnknownCall {
                call_id: early.message.call_id,
                from: early.from,
            };
            self.out.error(None, error);
        }
    }

    /// The invite of `call_id` was handled: messages that overtook it are applied now, in order
    /// (or dropped quietly if the invite was declined).
    fn replay_early_messages(&mut self, now: Instant, call_id: CallId) {
        let (held, rest): (Vec<_>, Vec<_>) = core::mem::take(&mut self.early_messages)
            .into_iter()
            .partition(|m| m.message.call_id == call_id);
        self.early_messages = rest.into();
        for early in held {
            self.route(now, Ok((early.from, early.message)));
        }
    }

    fn on_new_invite(&mut self, now: Instant, invite: NewInvite) {
        // An offer is an SDP session: `v=0` first and at least one media section. Anything else
        // is junk that would only ring (any non-empty string passes the protocol's own check).
        // (A byte window, not `str::contains`: the substring searcher costs 4 KB of wasm.)
        let has_media = invite.offer.as_bytes().windows(3).any(|w| w == b"\nm=");
        if !(invite.offer.starts_with("v=0") && has_media) {
            let error = crate::protocol::ProtocolError::InvalidValue { field: "sdp" };
            self.out.error(None, CallError::Protocol(error));
            return;
        }
        if !self.limiter.allow(now, &invite.from) {
            self.drop_invite(invite.call_id);
            let error = CallError::RateLimited { from: invite.from };
            self.out.error(None, error);
            return;
        }
        if let Some(ours) = glare::crossing_call(&mut self.calls, &invite.from) {
            let dropped = glare::resolve(now, ours, invite, &mut self.out);
            self.drop_invite(dropped);
            return;
        }
        // One sender rings at most one call here (a screened one counts): a stranger cannot fill
        // the ringing slots.
        let rings_already = self
            .calls
            .iter()
            .any(|c| c.is_ringing_here() && c.peer == invite.from);
        if rings_already || self.screened.holds_from(&invite.from) {
            let reason = crate::protocol::EndReason::Busy;
            self.out.send(
                &invite.from,
                Some(&invite.party),
                invite.call_id,
                Body::Reject { reason },
            );
            self.drop_invite(invite.call_id);
            let error = CallError::AlreadyRinging { from: invite.from };
            self.out.error(None, error);
            return;
        }
        if self.availability == Availability::DoNotDisturb {
            let reason = crate::protocol::EndReason::Busy;
            let body = Body::Reject { reason };
            self.out
                .send(&invite.from, Some(&invite.party), invite.call_id, body);
            self.out.event(Event::Missed {
                from: invite.from,
                kind: invite.kind,
                metadata: invite.metadata,
            });
            self.drop_invite(invite.call_id);
            return;
        }
        let ringing = self.calls.iter().filter(|c| c.is_ringing_here()).count();
        let ringing = ringing + self.screened.pending();
        let waiting = self.active_call().is_some();
        if (waiting && !self.config.call_waiting) || ringing >= self.config.max_ringing {
            let reason = crate::protocol::EndReason::Busy;
            let body = Body::Reject { reason };
            self.out
                .send(&invite.from, Some(&invite.party), invite.call_id, body);
            self.out.event(Event::BusyRejected {
                from: invite.from,
                kind: invite.kind,
            });
            self.drop_invite(invite.call_id);
            return;
        }
        if self.config.screening {
            let lifetime_ms = RingTimeout::ringing_lifetime(&self.config, invite.lifetime_ms);
            self.out.event(Event::Screen {
                call_id: invite.call_id,
                from: invite.from.clone(),
                kind: invite.kind,
                metadata: invite.metadata.clone(),
            });
            self.screened.hold(invite, now + u64::from(lifetime_ms));
            return;
        }
        self.ring(now, invite);
    }

    /// A new invite rings here.
    fn ring(&mut self, now: Instant, invite: NewInvite) {
        let handle = self.new_handle();
        let lifetime_ms = RingTimeout::ringing_lifetime(&self.config, invite.lifetime_ms);
        let call = CallFlow::incoming(
            now,
            handle,
            invite.call_id,
            invite.from,
            invite.party,
            invite.kind,
            invite.offer,
            lifetime_ms,
            invite.metadata,
            self.active_call().is_some(),
            self.config.preconnect && invite.preconnect,
            &mut self.out,
        );
        self.calls.push(call);
    }

    fn drop_invite(&mut self, call_id: CallId) {
        if self.dropped_invites.len() >= DROPPED_INVITES_KEPT {
            self.dropped_invites.pop_front();
        }
        self.dropped_invites.push_back(call_id);
    }

    /// Keeps at most `ended_calls_kept` ended calls, forgetting the oldest.
    fn forget_old_calls(&mut self) {
        let ended = self.calls.iter().filter(|c| !c.is_live()).count();
        let excess = ended.saturating_sub(self.config.ended_calls_kept);
        for _ in 0..excess {
            if let Some(oldest) = self
                .calls
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_live())
                .min_by_key(|(_, c)| (c.ended_at, c.handle))
                .map(|(i, _)| i)
            {
                self.calls.remove(oldest);
            }
        }
    }
}

/// An invite for a call id this client does not know.
#[derive(Clone, Debug)]
pub(super) struct NewInvite {
    pub(super) call_id: CallId,
    pub(super) from: UserId,
    pub(super) party: PartyId,
    pub(super) kind: CallKind,
    pub(super) offer: String,
    pub(super) lifetime_ms: u32,
    pub(super) metadata: Option<Value>,
    /// The caller can connect while it rings.
    pub(super) preconnect: bool,
}
