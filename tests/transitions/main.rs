#![cfg(not(target_arch = "wasm32"))]
//! Unit tests of every transition of the sans-IO call core, one test per transition and per end
//! reason.
//!
//! Each test drives real [`CallMachine`]s directly and deterministically: a small harness ([`Net`])
//! owns the machines of alice (the caller, party `alice-tab`, sometimes with a second tab
//! `alice-tab-2`), bob (one device, `bob-phone`, or two, `bob-phone` and `bob-laptop`) and
//! sometimes carol, plus a manual clock. Messages travel
//! between machines through their wire form (`Message::to_json` then `handle_message`), so the
//! protocol's serialisation is exercised on every hop, and effect results are fed back with the
//! `op` taken from the effect that asked for them. Tests assert the exact outputs that matter:
//! messages with their types, reasons and recipients, effects, events with states and reasons,
//! and returned errors.
//!
//! When a harness is dropped it also checks the machine's promises (`support::Promises`, shared
//! with the simulation, the fuzzer and the benchmark) over everything the machines emitted: no
//! effect for a call follows its `Effect::Release`, each call is released and reported ended at
//! most once, every message sent reads back unchanged, and at the end each remembered call is
//! ended exactly when it was released.

#[path = "../support/mod.rs"]
mod support;

use peercall::call::{
    CallError, CallHandle, CallInfo, CallMachine, CallState, Command, CommandError, Config,
    DeviceKind, Direction, Effect, EffectResult, Event, IceState, MediaError, Millis, Output,
    SdpOp, StatsSample,
};
use peercall::protocol::{
    Body, CallId, CallKind, EndReason, IceCandidate, MediaState, Message, PartyId, ProtocolError,
    SdpType, UserId,
};

// =================================================================================================
// The harness
// =================================================================================================

/// One client instance in a test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    /// alice's tab: the caller in most tests.
    Alice,
    /// alice's second tab, which did not place the call.
    Tab2,
    /// bob's phone: the callee in most tests.
    Bob,
    /// bob's second device.
    Laptop,
    /// A third user.
    Carol,
}

use Who::{Alice, Bob, Carol, Laptop, Tab2};

impl Who {
    fn user(self) -> &'static str {
        match self {
            Alice | Tab2 => "alice",
            Bob | Laptop => "bob",
            Carol => "carol",
        }
    }

    fn party(self) -> &'static str {
        match self {
            Alice => "alice-tab",
            Tab2 => "alice-tab-2",
            Bob => "bob-phone",
            Laptop => "bob-laptop",
            Carol => "carol-tab",
        }
    }

    fn offer_sdp(self) -> String {
        format!("v=0\r\nm=audio offer from {}", self.party())
    }

    fn answer_sdp(self) -> String {
        format!("v=0 answer from {}", self.party())
    }
}

fn user(who: Who) -> UserId {
    UserId::new(who.user()).unwrap()
}

fn party(who: Who) -> PartyId {
    PartyId::new(who.party()).unwrap()
}

/// A client's machine and everything it has emitted so far.
struct Node {
    who: Who,
    machine: CallMachine,
    log: Vec<Output>,
}

/// The outputs one input produced, in order.
#[derive(Clone, Debug)]
struct Outs(Vec<Output>);

impl Outs {
    fn sends(&self) -> Vec<(&UserId, &Message)> {
        self.0
            .iter()
            .filter_map(|o| match o {
                Output::Send { to, message } => Some((to, message)),
                _ => None,
            })
            .collect()
    }

    /// The one message of this type; panics when there is none or several.
    fn message(&self, type_name: &str) -> Message {
        let found: Vec<&Message> = self
            .sends()
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| m.body.type_name() == type_name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one `{type_name}` in {:#?}",
            self.0
        );
        found[0].clone()
    }

    fn effects(&self) -> Vec<&Effect> {
        self.0
            .iter()
            .filter_map(|o| match o {
                Output::Effect { effect, .. } => Some(effect),
                _ => None,
            })
            .collect()
    }

    fn events(&self) -> Vec<&Event> {
        self.0
            .iter()
            .filter_map(|o| match o {
                Output::Event(event) => Some(event),
                _ => None,
            })
            .collect()
    }

    /// The op of the one SDP effect (`CreateOffer`, `AcceptOffer` or `ApplyAnswer`).
    fn sdp_op(&self) -> SdpOp {
        let ops: Vec<SdpOp> = self
            .effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::CreateOffer { op, .. }
                | Effect::AcceptOffer { op, .. }
                | Effect::ApplyAnswer { op, .. } => Some(*op),
                _ => None,
            })
            .collect();
        assert_eq!(ops.len(), 1, "expected one SDP effect in {:#?}", self.0);
        ops[0]
    }

    /// The handle of the `Incoming` event.
    fn incoming(&self) -> CallHandle {
        let handles: Vec<CallHandle> = self
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Incoming { call, .. } => Some(*call),
                _ => None,
            })
            .collect();
        assert_eq!(handles.len(), 1, "expected one Incoming in {:#?}", self.0);
        handles[0]
    }

    #[track_caller]
    fn assert_empty(&self) {
        assert!(self.0.is_empty(), "expected no outputs, got {:#?}", self.0);
    }
}

/// Some client machines, a manual clock, and the wire between them.
struct Net {
    now: Millis,
    nodes: Vec<Node>,
}

impl Net {
    fn new(who: &[Who]) -> Net {
        Net::with_config(who, |_| {})
    }

    /// Machines with the default config, adjusted by `tweak`.
    fn with_config(who: &[Who], tweak: impl Fn(&mut Config)) -> Net {
        let nodes = who
            .iter()
            .map(|&who| {
                let mut config = Config::new(user(who), party(who));
                tweak(&mut config);
                Node {
                    who,
                    machine: support::machine(config),
                    log: Vec::new(),
                }
            })
            .collect();
        Net { now: 1_000, nodes }
    }

    /// alice and bob's phone.
    fn pair() -> Net {
        Net::new(&[Alice, Bob])
    }

    /// alice and both of bob's devices.
    fn trio() -> Net {
        Net::new(&[Alice, Bob, Laptop])
    }

    fn node(&mut self, who: Who) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.who == who)
            .unwrap_or_else(|| panic!("{who:?} is not in this test"))
    }

    fn machine(&mut self, who: Who) -> &mut CallMachine {
        &mut self.node(who).machine
    }

    /// Drains every pending output of a machine.
    fn drain(&mut self, who: Who) -> Outs {
        let node = self.node(who);
        let outs = support::drain(&mut node.machine);
        node.log.extend(outs.iter().cloned());
        Outs(outs)
    }

    fn advance(&mut self, ms: Millis) {
        self.now += ms;
    }

    fn advance_to(&mut self, at: Millis) {
        assert!(at >= self.now, "the clock only goes forward");
        self.now = at;
    }

    fn place(&mut self, who: Who, peer: Who, kind: CallKind, id: CallId) -> CallHandle {
        let now = self.now;
        self.machine(who)
            .place_call(now, peer.user(), kind, id, None)
            .expect("place_call")
    }

    /// A user command; the outputs stay queued (drain them).
    fn cmd(&mut self, who: Who, call: CallHandle, command: Command) -> Result<(), CommandError> {
        let now = self.now;
        self.machine(who).command(now, call, command)
    }

    /// A command that must succeed; returns its outputs.
    fn ok(&mut self, who: Who, call: CallHandle, command: Command) -> Outs {
        let description = format!("{command:?}");
        self.cmd(who, call, command)
            .unwrap_or_else(|e| panic!("{who:?} {description}: {e}"));
        self.drain(who)
    }

    /// Feeds an effect result (or browser event) and drains the outputs.
    fn feed(&mut self, who: Who, call: CallHandle, result: EffectResult) -> Outs {
        let now = self.now;
        self.machine(who).handle_effect(now, call, result);
        self.drain(who)
    }

    /// Delivers `message`, sent by `from`, to `to` through its JSON text.
    fn recv(&mut self, to: Who, from: Who, message: &Message) -> Outs {
        let text = support::wire(message).unwrap_or_else(|e| panic!("{e}"));
        self.recv_text(to, from.user(), &text)
    }

    fn recv_text(&mut self, to: Who, from_user: &str, text: &str) -> Outs {
        let now = self.now;
        self.machine(to).handle_message(now, from_user, text);
        self.drain(to)
    }

    /// Delivers every message in `outs` (sent by `from`) to every machine of its recipient user,
    /// returning what each produced.
    fn deliver_all(&mut self, from: Who, outs: &Outs) -> Vec<(Who, Outs)> {
        let mut results = Vec::new();
        for (to, message) in outs.sends() {
            let targets: Vec<Who> = self
                .nodes
                .iter()
                .map(|n| n.who)
                .filter(|w| w.user() == to.as_str())
                .collect();
            for target in targets {
                let produced = self.recv(target, from, message);
                results.push((target, produced));
            }
        }
        results
    }

    /// Like [`deliver_all`](Self::deliver_all), with the outputs of each device as a plain list.
    fn deliver_all_outputs(&mut self, from: Who, outs: &Outs) -> Vec<(Who, Vec<Output>)> {
        self.deliver_all(from, outs)
            .into_iter()
            .map(|(who, produced)| (who, produced.0))
            .collect()
    }

    /// `handle_timeout` at the current time.
    fn timeout(&mut self, who: Who) -> Outs {
        let now = self.now;
        self.machine(who).handle_timeout(now);
        self.drain(who)
    }

    /// Fires every timer of `who` due up to `until`, in order, moving the clock; returns all
    /// outputs.
    fn run_timers(&mut self, who: Who, until: Millis) -> Outs {
        let mut all = Vec::new();
        let mut fired = 0;
        while let Some(at) = self.poll_timeout(who).filter(|&at| at <= until) {
            // A deadline that `handle_timeout` leaves in the past would spin here for ever.
            fired += 1;
            assert!(fired <= 10_000, "{who:?}: a timer stays due at {at} ms");
            self.advance_to(at.max(self.now));
            all.extend(self.timeout(who).0);
        }
        self.advance_to(until);
        Outs(all)
    }

    fn send_failed(&mut self, who: Who, call_id: CallId) -> Outs {
        let now = self.now;
        self.machine(who).handle_send_failed(now, call_id);
        self.drain(who)
    }

    fn poll_timeout(&mut self, who: Who) -> Option<Millis> {
        self.machine(who).poll_timeout()
    }

    fn info(&mut self, who: Who, call: CallHandle) -> CallInfo {
        self.machine(who)
            .call_info(call)
            .expect("call is remembered")
    }

    fn state(&mut self, who: Who, call: CallHandle) -> CallState {
        self.info(who, call).state
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for node in &self.nodes {
            let mut promises = support::Promises::default();
            let kept = promises
                .observe_all(&node.log)
                .and_then(|()| promises.settled(&node.machine));
            if let Err(problem) = kept {
                panic!("{:?}: {problem}", node.who);
            }
        }
    }
}

/// The smallest text shaped like an offer: `v=0` and a media section.
const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

// ----- expected outputs ---------------------------------------------------------------------------

/// A message from `from` to the device `to` only (`toPartyId` set): what either side sends once
/// it knows the peer's device in the call (the callee always, from the invite; the caller once an
/// answer was selected).
fn send(from: Who, to: Who, call_id: CallId, body: Body) -> Output {
    Output::Send {
        to: user(to),
        message: msg_to(from, to, call_id, body),
    }
}

/// A message from `from` to every device of `to`'s user (no `toPartyId`): the caller's messages
/// before an answer was selected, and `select-answer`.
fn send_all(from: Who, to: Who, call_id: CallId, body: Body) -> Output {
    Output::Send {
        to: user(to),
        message: msg(from, call_id, body),
    }
}

/// A message for every device of the recipient user.
fn msg(from: Who, call_id: CallId, body: Body) -> Message {
    Message {
        call_id,
        party_id: party(from),
        to_party_id: None,
        body,
    }
}

/// A message for the device `to` only.
fn msg_to(from: Who, to: Who, call_id: CallId, body: Body) -> Message {
    Message {
        to_party_id: Some(party(to)),
        ..msg(from, call_id, body)
    }
}

fn effect(call: CallHandle, effect: Effect) -> Output {
    Output::Effect { call, effect }
}

fn event(event: Event) -> Output {
    Output::Event(event)
}

fn state(call: CallHandle, state: CallState) -> Output {
    event(Event::StateChanged { call, state })
}

/// The three outputs every ending produces, after any message to the peer: the release comes
/// first, so the app's `state` and `ended` listeners find the devices off.
fn ended(call: CallHandle, reason: EndReason, missed: bool) -> Vec<Output> {
    vec![
        effect(call, Effect::Release),
        state(call, CallState::Ended(reason)),
        event(Event::Ended {
            call,
            reason,
            missed,
        }),
    ]
}

fn error(call: Option<CallHandle>, error: CallError) -> Output {
    event(Event::Error { call, error })
}

fn hangup(reason: EndReason) -> Body {
    Body::Hangup { reason }
}

fn reject(reason: EndReason) -> Body {
    Body::Reject { reason }
}

fn media(video: bool) -> EffectResult {
    EffectResult::MediaAcquired {
        video,
        camera_error: None,
    }
}

fn cand(n: u8) -> IceCandidate {
    IceCandidate {
        candidate: format!("candidate:{n} 1 udp 2122260223 192.0.2.{n} 5000{n} typ host"),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
    }
}

fn negotiate(seq: u32, sdp_type: SdpType, sdp: &str) -> Body {
    Body::Negotiate {
        seq,
        sdp_type,
        sdp: sdp.into(),
    }
}

fn media_body(seq: u32, audio_muted: bool, video_muted: bool, screen_sharing: bool) -> Body {
    Body::Media {
        seq,
        state: MediaState {
            audio_muted,
            video_muted,
            screen_sharing,
            on_hold: false,
            recording: false,
        },
    }
}

const ID: CallId = CallId([0x5a; 16]);
const LOW: CallId = CallId([0x11; 16]);
const HIGH: CallId = CallId([0xee; 16]);
const ID_CAROL: CallId = CallId([0xc0; 16]);

// ----- scenario steps ------------------------------------------------------------------------------

/// `caller` places a call to `callee`'s user and its invite is out. Returns the caller's handle
/// and the outputs of the offer step (the invite, and for an audio call the media state).
fn invite(
    net: &mut Net,
    caller: Who,
    callee: Who,
    kind: CallKind,
    id: CallId,
) -> (CallHandle, Outs) {
    let h = net.place(caller, callee, kind, id);
    net.drain(caller);
    let outs = net.feed(caller, h, media(kind == CallKind::Video));
    let op = outs.sdp_op();
    let sdp = caller.offer_sdp();
    let outs = net.feed(caller, h, EffectResult::OfferCreated { op, sdp });
    outs.message("invite");
    (h, outs)
}

/// A call that rings on every device of the callee's user present in `net`.
struct Ringing {
    caller: CallHandle,
    callees: Vec<(Who, CallHandle)>,
    invite: Message,
}

impl Ringing {
    fn on(&self, who: Who) -> CallHandle {
        self.callees
            .iter()
            .find(|(w, _)| *w == who)
            .map(|(_, h)| *h)
            .unwrap_or_else(|| panic!("{who:?} does not ring"))
    }
}

fn ring(net: &mut Net, caller: Who, callee: Who, kind: CallKind, id: CallId) -> Ringing {
    let (h, outs) = invite(net, caller, callee, kind, id);
    let invite = outs.message("invite");
    let mut callees = Vec::new();
    for (device, produced) in net.deliver_all(caller, &outs) {
        let rings = produced
            .events()
            .iter()
            .any(|e| matches!(e, Event::Incoming { .. }));
        if rings {
            callees.push((device, produced.incoming()));
            net.deliver_all(device, &produced);
        }
    }
    assert_eq!(net.state(caller, h), CallState::Ringing);
    Ringing {
        caller: h,
        callees,
        invite,
    }
}

/// `device` accepts and its answer is made. Returns the outputs holding the answer.
fn answer(net: &mut Net, device: Who, call: CallHandle, video: bool) -> Outs {
    net.ok(device, call, Command::Accept { video });
    let outs = net.feed(device, call, media(video));
    let op = outs.sdp_op();
    let sdp = device.answer_sdp();
    let outs = net.feed(device, call, EffectResult::AnswerCreated { op, sdp });
    outs.message("answer");
    outs
}

/// A connected call between alice and bob's phone.
struct Connected {
    a: CallHandle,
    b: CallHandle,
}

fn connect(net: &mut Net, caller: Who, callee: Who, kind: CallKind, id: CallId) -> Connected {
    let r = ring(net, caller, callee, kind, id);
    let b = r.on(callee);
    answer_and_connect(net, caller, callee, r.caller, b, kind == CallKind::Video)
}

/// `caller`'s call `a` rings on `callee`'s device as `b`: the device answers (with video if
/// `video`) and both sides connect (the second half of [`connect`]).
fn answer_and_connect(
    net: &mut Net,
    caller: Who,
    callee: Who,
    a: CallHandle,
    b: CallHandle,
    video: bool,
) -> Connected {
    let outs = answer(net, callee, b, video);
    let produced = net.recv(caller, callee, &outs.message("answer"));
    let apply = produced.sdp_op();
    net.deliver_all(caller, &produced);
    // The rest (a media state that differs from the assumed one) follows the answer.
    for (_, message) in outs.sends() {
        if message.body.type_name() != "answer" {
            net.recv(caller, callee, message);
        }
    }
    net.feed(caller, a, EffectResult::AnswerApplied { op: apply });
    let up = EffectResult::IceStateChanged(IceState::Connected);
    net.feed(caller, a, up.clone());
    net.feed(callee, b, up);
    assert_eq!(net.state(caller, a), CallState::Connected);
    assert_eq!(net.state(callee, b), CallState::Connected);
    Connected { a, b }
}

fn connected_pair(kind: CallKind) -> (Net, Connected) {
    let mut net = Net::pair();
    let c = connect(&mut net, Alice, Bob, kind, ID);
    (net, c)
}

mod candidates;
mod data;
mod ends;
mod flow;
mod glare;
mod hardening;
mod hold;
mod media;
mod preconnect;
mod recording;
mod renegotiation;
mod safety;
mod screening;
mod speech;
