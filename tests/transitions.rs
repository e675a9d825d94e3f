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
//! When a harness is dropped it also checks two invariants over everything the machines emitted:
//! no effect for a call follows its `Effect::Release`, and each call is released and reported
//! ended at most once.

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
                    machine: CallMachine::new(config),
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
        let mut outs = Vec::new();
        while let Some(output) = node.machine.poll_output() {
            outs.push(output);
        }
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
        let text = message.to_json();
        assert_eq!(
            Message::parse(&text).as_ref(),
            Ok(message),
            "the wire form round-trips"
        );
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
        while let Some(at) = self.poll_timeout(who).filter(|&at| at <= until) {
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
            let mut released: Vec<CallHandle> = Vec::new();
            let mut ended: Vec<CallHandle> = Vec::new();
            for output in &node.log {
                match output {
                    Output::Effect { call, effect } => {
                        assert!(
                            !released.contains(call),
                            "{:?}: {effect:?} for {call:?} after its Release",
                            node.who
                        );
                        if *effect == Effect::Release {
                            released.push(*call);
                        }
                    }
                    Output::Event(Event::Ended { call, .. }) => {
                        assert!(
                            !ended.contains(call),
                            "{:?}: {call:?} ended twice",
                            node.who
                        );
                        ended.push(*call);
                    }
                    _ => {}
                }
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
    let outs = answer(net, callee, b, kind == CallKind::Video);
    let produced = net.recv(caller, callee, &outs.message("answer"));
    let apply = produced.sdp_op();
    net.deliver_all(caller, &produced);
    // The rest (a media state that differs from the assumed one) follows the answer.
    for (_, message) in outs.sends() {
        if message.body.type_name() != "answer" {
            net.recv(caller, callee, message);
        }
    }
    let a = r.caller;
    net.feed(caller, a, EffectResult::AnswerApplied { op: apply });
    net.feed(
        caller,
        a,
        EffectResult::IceStateChanged(IceState::Connected),
    );
    net.feed(
        callee,
        b,
        EffectResult::IceStateChanged(IceState::Connected),
    );
    assert_eq!(net.state(caller, a), CallState::Connected);
    assert_eq!(net.state(callee, b), CallState::Connected);
    Connected { a, b }
}

fn connected_pair(kind: CallKind) -> (Net, Connected) {
    let mut net = Net::pair();
    let c = connect(&mut net, Alice, Bob, kind, ID);
    (net, c)
}

// =================================================================================================
// The caller and callee flow
// =================================================================================================

#[test]
fn caller_and_callee_flow_reaches_connected_on_both_sides() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    assert_eq!(
        net.drain(Alice).0,
        vec![
            state(a, CallState::Calling),
            effect(a, Effect::AcquireMedia { video: true }),
        ]
    );

    let outs = net.feed(Alice, a, media(true));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            a,
            Effect::CreateOffer {
                op,
                ice_restart: false
            }
        )]
    );

    net.advance(7);
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let invite_body = Body::Invite {
        kind: CallKind::Video,
        sdp: Alice.offer_sdp(),
        lifetime_ms: 30_000,
        metadata: None,
    };
    assert_eq!(outs.0, vec![send_all(Alice, Bob, ID, invite_body)]);
    assert_eq!(net.poll_timeout(Alice), Some(net.now + 30_000));
    assert_eq!(net.state(Alice, a), CallState::Calling);

    // The callee rings and says so.
    net.advance(40);
    let outs = net.recv(Bob, Alice, &outs.message("invite"));
    let b = outs.incoming();
    assert_eq!(
        outs.0,
        vec![
            event(Event::Incoming {
                call: b,
                from: user(Alice),
                kind: CallKind::Video,
                metadata: None,
            }),
            send(Bob, Alice, ID, Body::Ringing),
        ]
    );
    let info = net.info(Bob, b);
    assert_eq!(
        (info.state, info.direction, info.call_id, info.peer),
        (CallState::Ringing, Direction::Incoming, ID, user(Alice))
    );
    assert_eq!(
        net.machine(Bob).active_call(),
        None,
        "ringing is not active"
    );

    let outs = net.recv(Alice, Bob, &outs.message("ringing"));
    assert_eq!(outs.0, vec![state(a, CallState::Ringing)]);

    // Accept: media, then the answer.
    let outs = net.ok(Bob, b, Command::Accept { video: true });
    assert_eq!(
        outs.0,
        vec![
            state(b, CallState::Connecting),
            effect(b, Effect::AcquireMedia { video: true }),
        ]
    );
    let outs = net.feed(Bob, b, media(true));
    let bop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            b,
            Effect::AcceptOffer {
                op: bop,
                sdp: Alice.offer_sdp()
            }
        )]
    );
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op: bop, sdp });
    let answer_body = Body::Answer {
        sdp: Bob.answer_sdp(),
    };
    assert_eq!(outs.0, vec![send(Bob, Alice, ID, answer_body)]);
    assert_eq!(net.machine(Bob).active_call(), Some(b));

    // The caller takes the answer: select-answer, then apply it.
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    let aop = outs.sdp_op();
    let select = Body::SelectAnswer {
        selected_party_id: party(Bob),
    };
    assert_eq!(
        outs.0,
        vec![
            send_all(Alice, Bob, ID, select),
            effect(
                a,
                Effect::ApplyAnswer {
                    op: aop,
                    sdp: Bob.answer_sdp()
                }
            ),
            state(a, CallState::Connecting),
        ]
    );
    net.recv(Bob, Alice, &outs.message("select-answer"))
        .assert_empty();
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Connecting);
    assert_eq!(net.state(Bob, b), CallState::Connecting);

    // ICE connects on both sides.
    net.advance(100);
    let connected_at = net.now;
    let ice = EffectResult::IceStateChanged(IceState::Connected);
    assert_eq!(
        net.feed(Alice, a, ice.clone()).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        net.feed(Bob, b, ice).0,
        vec![state(b, CallState::Connected)]
    );
    let (alice, bob) = (net.info(Alice, a), net.info(Bob, b));
    assert_eq!((alice.call_id, bob.call_id), (ID, ID));
    assert_eq!(alice.direction, Direction::Outgoing);
    assert_eq!(alice.connected_at, Some(connected_at));
    assert_eq!(alice.duration_ms(connected_at + 5_000), 5_000);
    assert_eq!(net.machine(Alice).active_call(), Some(a));
}

#[test]
fn invite_carries_the_app_metadata_to_the_incoming_event() {
    let mut net = Net::pair();
    let metadata = peercall::json::parse(r#"{ "room": "general", "n": 3 }"#).unwrap();
    let now = net.now;
    let a = net
        .machine(Alice)
        .place_call(now, "bob", CallKind::Audio, ID, Some(metadata.clone()))
        .unwrap();
    net.drain(Alice);
    let op = net.feed(Alice, a, media(false)).sdp_op();
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let invite = outs.message("invite");
    match &invite.body {
        Body::Invite { metadata: m, .. } => assert_eq!(m.as_ref(), Some(&metadata)),
        other => panic!("{other:?}"),
    }
    let outs = net.recv(Bob, Alice, &invite);
    let b = outs.incoming();
    assert_eq!(
        outs.events()[0],
        &Event::Incoming {
            call: b,
            from: user(Alice),
            kind: CallKind::Audio,
            metadata: Some(metadata.clone()),
        }
    );
    assert_eq!(net.info(Bob, b).metadata, Some(metadata));
}

#[test]
fn audio_call_invite_is_the_only_message_and_the_callee_rings() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Audio, ID);
    assert_eq!(
        net.drain(Alice).0,
        vec![
            state(a, CallState::Calling),
            effect(a, Effect::AcquireMedia { video: false }),
        ]
    );
    let op = net.feed(Alice, a, media(false)).sdp_op();
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let invite = Body::Invite {
        kind: CallKind::Audio,
        sdp: Alice.offer_sdp(),
        lifetime_ms: 30_000,
        metadata: None,
    };
    assert_eq!(outs.0, vec![send_all(Alice, Bob, ID, invite)]);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    assert_eq!(net.info(Bob, b).kind, CallKind::Audio);
    // The local side has no camera.
    assert!(net.info(Alice, a).local_media.video_muted);
}

#[test]
fn a_duplicate_invite_repeats_ringing_while_the_call_rings() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    assert_eq!(
        net.recv(Bob, Alice, &r.invite).0,
        vec![send(Bob, Alice, ID, Body::Ringing)],
        "the first ringing may have been lost"
    );
    net.recv(Alice, Bob, &msg(Bob, ID, Body::Ringing))
        .assert_empty();
    net.ok(Bob, b, Command::Accept { video: true });
    net.recv(Bob, Alice, &r.invite).assert_empty();
}

// ----- candidates ----------------------------------------------------------------------------------

#[test]
fn local_candidates_are_batched_into_one_message_after_candidate_batch_ms() {
    let mut net = Net::pair();
    let (a, _) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let ring_deadline = net.now + 30_000;
    let t0 = net.now;
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)))
        .assert_empty();
    assert_eq!(net.poll_timeout(Alice), Some(t0 + 10));
    net.advance(3);
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(2)))
        .assert_empty();
    net.advance(4);
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(3)))
        .assert_empty();
    assert_eq!(
        net.poll_timeout(Alice),
        Some(t0 + 10),
        "batched from the first"
    );

    net.advance_to(t0 + 9);
    net.timeout(Alice).assert_empty();
    net.advance_to(t0 + 10);
    let batch = Body::Candidates {
        candidates: vec![cand(1), cand(2), cand(3)],
        end: false,
    };
    assert_eq!(net.timeout(Alice).0, vec![send_all(Alice, Bob, ID, batch)]);
    assert_eq!(net.poll_timeout(Alice), Some(ring_deadline));
}

#[test]
fn local_candidates_complete_flushes_at_once_with_end() {
    let mut net = Net::pair();
    let (a, _) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)))
        .assert_empty();
    net.advance(2);
    let batch = Body::Candidates {
        candidates: vec![cand(1)],
        end: true,
    };
    assert_eq!(
        net.feed(Alice, a, EffectResult::LocalCandidatesComplete).0,
        vec![send_all(Alice, Bob, ID, batch)]
    );
    // Nothing left to flush; completion with nothing pending is a bare end-of-candidates.
    net.advance(100);
    net.timeout(Alice).assert_empty();
    let bare = Body::Candidates {
        candidates: vec![],
        end: true,
    };
    assert_eq!(
        net.feed(Alice, a, EffectResult::LocalCandidatesComplete).0,
        vec![send_all(Alice, Bob, ID, bare)]
    );
}

#[test]
fn local_candidates_gathered_before_the_invite_follow_it() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let op = net.feed(Alice, a, media(true)).sdp_op();
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)))
        .assert_empty();
    net.feed(Alice, a, EffectResult::LocalCandidatesComplete)
        .assert_empty();
    assert_eq!(net.poll_timeout(Alice), None, "no timer before the invite");
    net.advance(50);
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let types: Vec<&str> = outs
        .sends()
        .iter()
        .map(|(_, m)| m.body.type_name())
        .collect();
    assert_eq!(types, ["invite", "candidates"], "the invite goes first");
    assert_eq!(
        outs.message("candidates").body,
        Body::Candidates {
            candidates: vec![cand(1)],
            end: true
        }
    );
}

#[test]
fn callee_holds_remote_candidates_until_accept_offer_is_issued() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)));
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(2)));
    net.advance(10);
    let first = net.timeout(Alice).message("candidates");
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(3)));
    let second = net
        .feed(Alice, a, EffectResult::LocalCandidatesComplete)
        .message("candidates");
    net.recv(Bob, Alice, &first).assert_empty();
    net.recv(Bob, Alice, &second).assert_empty();

    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(Bob, b, media(true));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            effect(
                b,
                Effect::AcceptOffer {
                    op,
                    sdp: Alice.offer_sdp()
                }
            ),
            effect(
                b,
                Effect::AddRemoteCandidates {
                    candidates: vec![cand(1), cand(2), cand(3)],
                    end: true
                }
            ),
        ]
    );
    // Once the remote description is there, candidates go through at once.
    let late = msg(
        Alice,
        ID,
        Body::Candidates {
            candidates: vec![cand(4)],
            end: false,
        },
    );
    assert_eq!(
        net.recv(Bob, Alice, &late).0,
        vec![effect(
            b,
            Effect::AddRemoteCandidates {
                candidates: vec![cand(4)],
                end: false
            }
        )]
    );
}

#[test]
fn caller_holds_remote_candidates_until_apply_answer_is_issued() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    net.ok(Bob, b, Command::Accept { video: true });
    let op = net.feed(Bob, b, media(true)).sdp_op();
    // bob gathers while its answer is being made: nothing goes out before the answer.
    net.feed(Bob, b, EffectResult::LocalCandidate(cand(5)))
        .assert_empty();
    net.feed(Bob, b, EffectResult::LocalCandidate(cand(6)))
        .assert_empty();
    let sdp = Bob.answer_sdp();
    let answer = net
        .feed(Bob, b, EffectResult::AnswerCreated { op, sdp })
        .message("answer");
    net.advance(10);
    let candidates = net.timeout(Bob).message("candidates");
    assert_eq!(
        candidates.to_party_id,
        Some(party(Alice)),
        "for the caller's tab"
    );

    // The candidates overtake the answer on the wire: held.
    net.recv(Alice, Bob, &candidates).assert_empty();
    let outs = net.recv(Alice, Bob, &answer);
    let aop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            send_all(
                Alice,
                Bob,
                ID,
                Body::SelectAnswer {
                    selected_party_id: party(Bob)
                }
            ),
            effect(
                a,
                Effect::ApplyAnswer {
                    op: aop,
                    sdp: Bob.answer_sdp()
                }
            ),
            effect(
                a,
                Effect::AddRemoteCandidates {
                    candidates: vec![cand(5), cand(6)],
                    end: false
                }
            ),
            state(a, CallState::Connecting),
        ]
    );
}

// =================================================================================================
// End reasons
// =================================================================================================

#[test]
fn hangup_by_the_caller_is_remote_hangup_for_the_callee() {
    let (mut net, c) = connected_pair(CallKind::Video);
    net.advance(60_000);
    let outs = net.ok(Alice, c.a, Command::Hangup);
    let expected = [
        vec![send(Alice, Bob, ID, hangup(EndReason::Hangup))],
        ended(c.a, EndReason::Hangup, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(c.b, EndReason::RemoteHangup, false)
    );
    let info = net.info(Alice, c.a);
    assert_eq!(info.ended_at, Some(net.now));
    assert_eq!(info.duration_ms(net.now + 1_000), 60_000);
    assert_eq!(net.poll_timeout(Alice), None);
    assert_eq!(net.poll_timeout(Bob), None);
    assert_eq!(net.machine(Alice).active_call(), None);
}

#[test]
fn hangup_by_the_callee_is_remote_hangup_for_the_caller() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.ok(Bob, c.b, Command::Hangup);
    let expected = [
        vec![send(Bob, Alice, ID, hangup(EndReason::Hangup))],
        ended(c.b, EndReason::Hangup, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Alice, Bob, &outs.message("hangup")).0,
        ended(c.a, EndReason::RemoteHangup, false)
    );
}

#[test]
fn callee_rejects_and_both_sides_end_rejected() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = net.ok(Bob, b, Command::Reject);
    let expected = [
        vec![send(Bob, Alice, ID, reject(EndReason::Rejected))],
        ended(b, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let outs = net.recv(Alice, Bob, &outs.message("reject"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Rejected))],
        ended(a, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected, "the caller tells bob's other devices");
    // bob's device that rejected already ended: the relayed hangup is quiet.
    net.recv(Bob, Alice, &outs.message("hangup")).assert_empty();
}

#[test]
fn hangup_on_a_ringing_call_declines_it() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let b = r.on(Bob);
    let outs = net.ok(Bob, b, Command::Hangup);
    let expected = [
        vec![send(Bob, Alice, ID, reject(EndReason::Rejected))],
        ended(b, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
}

#[test]
fn busy_callee_rejects_automatically_with_busy() {
    let mut net = Net::new(&[Alice, Bob, Carol]);
    let bc = connect(&mut net, Bob, Carol, CallKind::Audio, ID_CAROL);

    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let outs = net.recv(Bob, Alice, &outs.message("invite"));
    assert_eq!(
        outs.0,
        vec![
            send(Bob, Alice, ID, reject(EndReason::Busy)),
            event(Event::BusyRejected {
                from: user(Alice),
                kind: CallKind::Video,
            }),
        ]
    );
    let outs = net.recv(Alice, Bob, &outs.message("reject"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Busy))],
        ended(a, EndReason::Busy, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    // The relayed hangup for the declined invite is expected and quiet.
    net.recv(Bob, Alice, &outs.message("hangup")).assert_empty();
    assert_eq!(net.state(Bob, bc.a), CallState::Connected);
    assert_eq!(net.machine(Bob).active_call(), Some(bc.a));
}

#[test]
fn caller_ring_timeout_hangs_up_with_timeout_and_the_callee_misses_the_call() {
    let mut net = Net::pair();
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let sent_at = net.now;
    net.advance(20);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    net.recv(Alice, Bob, &produced.message("ringing"));

    assert_eq!(net.poll_timeout(Alice), Some(sent_at + 30_000));
    net.advance_to(sent_at + 29_999);
    net.timeout(Alice).assert_empty();
    net.advance_to(sent_at + 30_000);
    let outs = net.timeout(Alice);
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Timeout))],
        ended(a, EndReason::Timeout, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::Timeout, true)
    );
}

#[test]
fn callee_invite_expires_on_its_own_when_the_hangup_is_lost() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    let received_at = net.now;
    assert_eq!(net.poll_timeout(Bob), Some(received_at + 30_000));
    let outs = net.run_timers(Bob, received_at + 29_999);
    outs.assert_empty();
    let outs = net.run_timers(Bob, received_at + 30_000);
    assert_eq!(
        outs.0,
        ended(b, EndReason::Timeout, true),
        "nothing is sent"
    );
    assert_eq!(net.poll_timeout(Bob), None);
}

#[test]
fn caller_cancels_before_an_answer_and_the_callee_misses_the_call() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = net.ok(Alice, a, Command::Hangup);
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Cancelled))],
        ended(a, EndReason::Cancelled, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::Cancelled, true)
    );
}

#[test]
fn cancel_before_the_invite_is_out_tells_nobody() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    assert_eq!(
        net.ok(Alice, a, Command::Hangup).0,
        ended(a, EndReason::Cancelled, false)
    );
    // The media that arrives afterwards is dropped: no offer is made.
    net.feed(Alice, a, media(true)).assert_empty();
}

#[test]
fn answered_elsewhere_stops_the_other_device() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    assert_eq!(net.state(Laptop, laptop), CallState::Ringing);

    let outs = answer(&mut net, Bob, phone, true);
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    let select = outs.message("select-answer");
    assert_eq!(
        select.body,
        Body::SelectAnswer {
            selected_party_id: party(Bob)
        }
    );
    assert_eq!(outs.sends()[0].0, &user(Bob));
    net.recv(Bob, Alice, &select).assert_empty();
    assert_eq!(
        net.recv(Laptop, Alice, &select).0,
        ended(laptop, EndReason::AnsweredElsewhere, false)
    );
    assert_eq!(net.state(Alice, a), CallState::Connecting);
    assert_eq!(net.state(Bob, phone), CallState::Connecting);
}

#[test]
fn select_answer_reaches_both_callee_devices_and_later_messages_only_the_chosen_one() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    let outs = answer(&mut net, Bob, phone, true);
    assert_eq!(
        outs.message("answer").to_party_id,
        Some(party(Alice)),
        "the callee answers the caller's tab"
    );
    let produced = net.recv(Alice, Bob, &outs.message("answer"));
    let select = Body::SelectAnswer {
        selected_party_id: party(Bob),
    };
    assert_eq!(
        produced.sends(),
        vec![(&user(Bob), &msg(Alice, ID, select))],
        "select-answer is for every device of bob"
    );
    assert_eq!(
        net.deliver_all_outputs(Alice, &produced),
        vec![
            (Bob, vec![]),
            (Laptop, ended(laptop, EndReason::AnsweredElsewhere, false)),
        ]
    );

    // From now on alice talks to the phone alone.
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)))
        .assert_empty();
    let outs = net.feed(Alice, a, EffectResult::LocalCandidatesComplete);
    let batch = Body::Candidates {
        candidates: vec![cand(1)],
        end: true,
    };
    assert_eq!(outs.0, vec![send(Alice, Bob, ID, batch)]);
    let add = Effect::AddRemoteCandidates {
        candidates: vec![cand(1)],
        end: true,
    };
    assert_eq!(
        net.deliver_all_outputs(Alice, &outs),
        vec![(Bob, vec![effect(phone, add)]), (Laptop, vec![])]
    );
    let outs = net.ok(Alice, a, Command::Hangup);
    assert_eq!(
        outs.sends(),
        vec![(
            &user(Bob),
            &msg_to(Alice, Bob, ID, hangup(EndReason::Hangup))
        )]
    );
    assert_eq!(
        net.deliver_all_outputs(Alice, &outs),
        vec![
            (Bob, ended(phone, EndReason::RemoteHangup, false)),
            (Laptop, vec![]),
        ]
    );
}

#[test]
fn a_late_answer_from_the_losing_device_gets_select_answer_again() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    let phone_answer = answer(&mut net, Bob, phone, true);
    let laptop_answer = answer(&mut net, Laptop, laptop, true);
    // The laptop also gathered candidates; they reach alice before any answer and are held.
    net.feed(Laptop, laptop, EffectResult::LocalCandidate(cand(9)))
        .assert_empty();
    net.advance(10);
    let laptop_candidates = net.timeout(Laptop).message("candidates");
    net.recv(Alice, Laptop, &laptop_candidates).assert_empty();

    let outs = net.recv(Alice, Bob, &phone_answer.message("answer"));
    assert!(
        !outs
            .effects()
            .iter()
            .any(|e| matches!(e, Effect::AddRemoteCandidates { .. })),
        "the losing device's candidates are dropped: {outs:?}"
    );
    let select = Body::SelectAnswer {
        selected_party_id: party(Bob),
    };
    assert_eq!(
        net.recv(Alice, Laptop, &laptop_answer.message("answer")).0,
        vec![send_all(Alice, Bob, ID, select)]
    );
    let select = outs.message("select-answer");
    assert_eq!(
        net.recv(Laptop, Alice, &select).0,
        ended(laptop, EndReason::AnsweredElsewhere, false)
    );
    // Its later messages are expected and quiet.
    net.recv(Alice, Laptop, &laptop_candidates).assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Connecting);
}

#[test]
fn a_reject_from_the_other_device_after_an_answer_is_ignored() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    let phone_answer = answer(&mut net, Bob, phone, true);
    let laptop_reject = net.ok(Laptop, laptop, Command::Reject).message("reject");
    let outs = net.recv(Alice, Bob, &phone_answer.message("answer"));
    assert_eq!(outs.message("select-answer").call_id, ID);
    net.recv(Alice, Laptop, &laptop_reject).assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Connecting);
}

#[test]
fn a_reject_on_one_device_stops_the_other() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    let outs = net.ok(Laptop, laptop, Command::Reject);
    let expected = [
        vec![send(Laptop, Alice, ID, reject(EndReason::Rejected))],
        ended(laptop, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let outs = net.recv(Alice, Laptop, &outs.message("reject"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Rejected))],
        ended(a, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let relayed = outs.message("hangup");
    assert_eq!(
        net.recv(Bob, Alice, &relayed).0,
        ended(phone, EndReason::Rejected, false)
    );
    net.recv(Laptop, Alice, &relayed).assert_empty();
}

#[test]
fn unreachable_peer_before_connect_ends_the_call() {
    let mut net = Net::pair();
    let (a, _) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    assert_eq!(
        net.send_failed(Alice, ID).0,
        ended(a, EndReason::Unreachable, false),
        "no message: the peer cannot be reached"
    );
    net.send_failed(Alice, ID).assert_empty();
}

#[test]
fn unreachable_peer_after_connect_is_left_to_the_ice_policy_and_reported() {
    let (mut net, c) = connected_pair(CallKind::Video);
    // The call goes on; the app hears of the failed send once per outage...
    assert_eq!(
        net.send_failed(Alice, ID).0,
        vec![error(Some(c.a), CallError::SendFailed { call_id: ID })]
    );
    net.send_failed(Alice, ID).assert_empty();
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
    // ...and the media state goes out again 2 s later, so the peer's view converges even if the
    // lost message was a mute.
    net.ok(Alice, c.a, Command::SetMuted(true));
    net.drain(Alice);
    net.advance(2_000);
    let outs = net.timeout(Alice);
    let media = outs.message("media");
    assert!(matches!(
        media.body,
        Body::Media {
            state: MediaState {
                audio_muted: true,
                ..
            },
            ..
        }
    ));
    // Once that is out, a new failure is reported again.
    assert_eq!(
        net.send_failed(Alice, ID).0,
        vec![error(Some(c.a), CallError::SendFailed { call_id: ID })]
    );
}

#[test]
fn microphone_denied_on_the_caller_ends_without_an_invite() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let outs = net.feed(
        Alice,
        a,
        EffectResult::MediaFailed(MediaError::PermissionDenied),
    );
    let expected = [
        vec![error(
            Some(a),
            CallError::Media(MediaError::PermissionDenied),
        )],
        ended(a, EndReason::MediaFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert!(outs.sends().is_empty());
}

#[test]
fn microphone_denied_on_the_callee_rejects_with_media_failed() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(Bob, b, EffectResult::MediaFailed(MediaError::DeviceBusy));
    let expected = [
        vec![
            error(Some(b), CallError::Media(MediaError::DeviceBusy)),
            send(Bob, Alice, ID, reject(EndReason::MediaFailed)),
        ],
        ended(b, EndReason::MediaFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let outs = net.recv(Alice, Bob, &outs.message("reject"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::MediaFailed))],
        ended(a, EndReason::MediaFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
}

#[test]
fn camera_denied_on_a_video_call_reports_video_unavailable_and_goes_on() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let outs = net.feed(
        Alice,
        a,
        EffectResult::MediaAcquired {
            video: false,
            camera_error: Some(MediaError::PermissionDenied),
        },
    );
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            event(Event::VideoUnavailable {
                call: a,
                error: MediaError::PermissionDenied,
            }),
            event(Event::LocalMedia {
                call: a,
                state: MediaState {
                    video_muted: true,
                    ..MediaState::default()
                },
            }),
            effect(
                a,
                Effect::CreateOffer {
                    op,
                    ice_restart: false
                }
            ),
        ]
    );
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let invite = Body::Invite {
        kind: CallKind::Video,
        sdp: Alice.offer_sdp(),
        lifetime_ms: 30_000,
        metadata: None,
    };
    assert_eq!(
        outs.0,
        vec![
            send_all(Alice, Bob, ID, invite),
            send_all(Alice, Bob, ID, media_body(1, false, true, false)),
        ],
        "the peer learns the camera is off"
    );
    assert_eq!(
        net.cmd(Alice, a, Command::SetVideoEnabled(true)),
        Err(CommandError::NoVideo)
    );
    // The call goes on: it rings (bob sees the camera off), is answered and connects.
    let produced = net.deliver_all(Alice, &outs);
    let b = produced[0].1.incoming();
    assert_eq!(
        produced[1].1 .0,
        vec![event(Event::RemoteMedia {
            call: b,
            state: MediaState {
                video_muted: true,
                ..MediaState::default()
            },
        })]
    );
    net.deliver_all(Bob, &produced[0].1.clone());
    let outs = answer(&mut net, Bob, b, true);
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    net.feed(Alice, a, EffectResult::AnswerApplied { op: outs.sdp_op() });
    net.feed(Alice, a, EffectResult::IceStateChanged(IceState::Connected));
    assert_eq!(net.state(Alice, a), CallState::Connected);
}

#[test]
fn camera_denied_on_the_callee_reports_video_unavailable_and_answers() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(
        Bob,
        b,
        EffectResult::MediaAcquired {
            video: false,
            camera_error: Some(MediaError::DeviceNotFound),
        },
    );
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            event(Event::VideoUnavailable {
                call: b,
                error: MediaError::DeviceNotFound,
            }),
            event(Event::LocalMedia {
                call: b,
                state: MediaState {
                    video_muted: true,
                    ..MediaState::default()
                },
            }),
            effect(
                b,
                Effect::AcceptOffer {
                    op,
                    sdp: Alice.offer_sdp()
                }
            ),
        ]
    );
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![
            send(
                Bob,
                Alice,
                ID,
                Body::Answer {
                    sdp: Bob.answer_sdp()
                }
            ),
            send(Bob, Alice, ID, media_body(1, false, true, false)),
        ]
    );
}

#[test]
fn connect_timeout_ends_with_ice_failed_on_both_sides() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = answer(&mut net, Bob, b, true);
    net.advance(30);
    let answered_at = net.now;
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    net.feed(Alice, a, EffectResult::AnswerApplied { op: outs.sdp_op() });
    net.feed(Alice, a, EffectResult::IceStateChanged(IceState::Checking))
        .assert_empty();
    assert_eq!(net.poll_timeout(Alice), Some(answered_at + 20_000));
    net.run_timers(Alice, answered_at + 19_999).assert_empty();
    let outs = net.run_timers(Alice, answered_at + 20_000);
    let expected = [
        vec![send(Alice, Bob, ID, hangup(EndReason::IceFailed))],
        ended(a, EndReason::IceFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::IceFailed, false)
    );
}

#[test]
fn ice_failure_before_connect_ends_with_ice_failed() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    answer(&mut net, Bob, b, true);
    let outs = net.feed(Bob, b, EffectResult::IceStateChanged(IceState::Failed));
    let expected = [
        vec![send(Bob, Alice, ID, hangup(EndReason::IceFailed))],
        ended(b, EndReason::IceFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
}

/// No stats timer in the way of the ICE timers.
fn quiet_stats(config: &mut Config) {
    config.stats_interval_ms = 10_000_000;
}

#[test]
fn a_connected_call_that_stays_disconnected_restarts_ice_then_gives_up() {
    let mut net = Net::with_config(&[Alice, Bob], quiet_stats);
    let c = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    let stats_at = net.poll_timeout(Alice).unwrap();
    net.advance(500);
    let down_at = net.now;
    assert_eq!(
        net.feed(
            Alice,
            c.a,
            EffectResult::IceStateChanged(IceState::Disconnected)
        )
        .0,
        vec![state(c.a, CallState::Reconnecting)]
    );
    assert_eq!(net.poll_timeout(Alice), Some(down_at + 2_000));
    net.run_timers(Alice, down_at + 1_999).assert_empty();

    // The caller (impolite) restarts ICE after ice_restart_delay_ms.
    let outs = net.run_timers(Alice, down_at + 2_000);
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::CreateOffer {
                op,
                ice_restart: true
            }
        )]
    );
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0 restart".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Bob,
            ID,
            negotiate(1, SdpType::Offer, "v=0 restart")
        )]
    );
    // The offer never gets through; later restart attempts wait for it.
    net.run_timers(Alice, down_at + 19_999).assert_empty();
    let outs = net.run_timers(Alice, down_at + 20_000);
    let expected = [
        vec![send(Alice, Bob, ID, hangup(EndReason::IceFailed))],
        ended(c.a, EndReason::IceFailed, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(c.b, EndReason::IceFailed, false)
    );
    assert!(stats_at > down_at + 20_000);
    assert_eq!(net.poll_timeout(Alice), None);
}

#[test]
fn a_disconnected_call_recovers_through_an_ice_restart() {
    let mut net = Net::with_config(&[Alice, Bob], quiet_stats);
    let c = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    let stats_at = net.poll_timeout(Alice);
    let down = EffectResult::IceStateChanged(IceState::Disconnected);
    net.feed(Alice, c.a, down.clone());
    assert_eq!(
        net.feed(Bob, c.b, down).0,
        vec![state(c.b, CallState::Reconnecting)]
    );
    let down_at = net.now;
    // The callee (polite) waits twice as long, so the caller's restart goes first.
    assert_eq!(net.poll_timeout(Bob), Some(down_at + 4_000));
    let op = net.run_timers(Alice, down_at + 2_000).sdp_op();
    let offer = net
        .feed(
            Alice,
            c.a,
            EffectResult::OfferCreated {
                op,
                sdp: "v=0 restart".into(),
            },
        )
        .message("negotiate");
    let outs = net.recv(Bob, Alice, &offer);
    let bop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.b,
            Effect::AcceptOffer {
                op: bop,
                sdp: "v=0 restart".into()
            }
        )]
    );
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::AnswerCreated {
            op: bop,
            sdp: "v=0 restart answer".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            negotiate(1, SdpType::Answer, "v=0 restart answer")
        )]
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    let aop = outs.sdp_op();
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
    let up = EffectResult::IceStateChanged(IceState::Connected);
    assert_eq!(
        net.feed(Alice, c.a, up.clone()).0,
        vec![state(c.a, CallState::Connected)]
    );
    assert_eq!(
        net.feed(Bob, c.b, up).0,
        vec![state(c.b, CallState::Connected)]
    );
    assert_eq!(net.poll_timeout(Alice), stats_at, "recovery timers cleared");
    net.run_timers(Bob, down_at + 30_000).assert_empty();
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn ice_failed_on_a_connected_caller_restarts_at_once() {
    let mut net = Net::with_config(&[Alice, Bob], quiet_stats);
    let c = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    assert_eq!(
        net.feed(Alice, c.a, EffectResult::IceStateChanged(IceState::Failed))
            .0,
        vec![state(c.a, CallState::Reconnecting)]
    );
    assert_eq!(net.poll_timeout(Alice), Some(net.now));
    let outs = net.timeout(Alice);
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::CreateOffer {
                op,
                ice_restart: true
            }
        )]
    );
}

#[test]
fn restart_ice_command_makes_an_ice_restart_offer() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.ok(Bob, c.b, Command::RestartIce);
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.b,
            Effect::CreateOffer {
                op,
                ice_restart: true
            }
        )]
    );
}

#[test]
fn sdp_failure_of_the_current_operation_ends_with_protocol_error() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = answer(&mut net, Bob, b, true);
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    let op = outs.sdp_op();
    // A result for an operation that was never issued is not this call's business.
    net.feed(
        Alice,
        a,
        EffectResult::SdpFailed {
            op: SdpOp(op.0 + 100),
            error: "stray".into(),
        },
    )
    .assert_empty();
    let outs = net.feed(
        Alice,
        a,
        EffectResult::SdpFailed {
            op,
            error: "InvalidAccessError: bad answer".into(),
        },
    );
    let expected = [
        vec![
            error(
                Some(a),
                CallError::SdpFailed("InvalidAccessError: bad answer".into()),
            ),
            send(Alice, Bob, ID, hangup(EndReason::ProtocolError)),
        ],
        ended(a, EndReason::ProtocolError, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::ProtocolError, false)
    );
}

#[test]
fn sdp_failure_on_the_callee_before_its_answer_ends_the_call_for_every_device() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, phone, laptop) = (r.caller, r.on(Bob), r.on(Laptop));
    net.ok(Bob, phone, Command::Accept { video: true });
    let op = net.feed(Bob, phone, media(true)).sdp_op();
    let outs = net.feed(
        Bob,
        phone,
        EffectResult::SdpFailed {
            op,
            error: "bad offer".into(),
        },
    );
    let expected = [
        vec![
            error(Some(phone), CallError::SdpFailed("bad offer".into())),
            send(Bob, Alice, ID, hangup(EndReason::ProtocolError)),
        ],
        ended(phone, EndReason::ProtocolError, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let outs = net.recv(Alice, Bob, &outs.message("hangup"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::ProtocolError))],
        ended(a, EndReason::ProtocolError, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Laptop, Alice, &outs.message("hangup")).0,
        ended(laptop, EndReason::ProtocolError, false)
    );
}

// =================================================================================================
// Glare
// =================================================================================================

/// alice calls bob with `alice_id` while bob calls alice with `bob_id`; both invites cross.
fn glare(alice_id: CallId, bob_id: CallId) {
    let mut net = Net::pair();
    let (ha, alice_outs) = invite(&mut net, Alice, Bob, CallKind::Video, alice_id);
    let (hb, bob_outs) = invite(&mut net, Bob, Alice, CallKind::Video, bob_id);
    let alice_invite = alice_outs.message("invite");
    let bob_invite = bob_outs.message("invite");

    let at_alice = net.recv(Alice, Bob, &bob_invite);
    let at_bob = net.recv(Bob, Alice, &alice_invite);

    let (winner, loser, win_id, lose_id, hw, hl, win_invite, (win_outs, lose_outs)) =
        if alice_id < bob_id {
            (
                Alice,
                Bob,
                alice_id,
                bob_id,
                ha,
                hb,
                alice_invite,
                (at_alice, at_bob),
            )
        } else {
            (
                Bob,
                Alice,
                bob_id,
                alice_id,
                hb,
                ha,
                bob_invite,
                (at_bob, at_alice),
            )
        };
    // The lower id's side keeps its call and repeats its invite, in case it was lost.
    assert_eq!(
        win_outs.0,
        vec![send_all(winner, loser, win_id, win_invite.body.clone())]
    );
    // The other side turns its outgoing call into the callee side of the surviving call, with
    // no user action: its own invite is withdrawn, the peer connection reset, the offer answered.
    let op = lose_outs.sdp_op();
    assert_eq!(
        lose_outs.0,
        vec![
            send_all(loser, winner, lose_id, hangup(EndReason::AnsweredElsewhere)),
            effect(hl, Effect::ResetPeerConnection),
            state(hl, CallState::Connecting),
            effect(
                hl,
                Effect::AcceptOffer {
                    op,
                    sdp: winner.offer_sdp()
                }
            ),
        ]
    );
    let info = net.info(loser, hl);
    assert_eq!(
        (info.call_id, info.direction, info.peer),
        (win_id, Direction::Incoming, user(winner))
    );
    // Results of the old peer connection are stale.
    net.feed(
        loser,
        hl,
        EffectResult::SdpFailed {
            op: SdpOp(0),
            error: "closed".into(),
        },
    )
    .assert_empty();
    // The withdrawn invite's hangup and the repeated invite are both expected and quiet.
    net.recv(winner, loser, &lose_outs.message("hangup"))
        .assert_empty();
    net.recv(loser, winner, &win_outs.message("invite"))
        .assert_empty();

    let sdp = loser.answer_sdp();
    let outs = net.feed(loser, hl, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![send(
            loser,
            winner,
            win_id,
            Body::Answer {
                sdp: loser.answer_sdp()
            }
        )]
    );
    let outs = net.recv(winner, loser, &outs.message("answer"));
    let wop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            send_all(
                winner,
                loser,
                win_id,
                Body::SelectAnswer {
                    selected_party_id: party(loser)
                }
            ),
            effect(
                hw,
                Effect::ApplyAnswer {
                    op: wop,
                    sdp: loser.answer_sdp()
                }
            ),
            state(hw, CallState::Connecting),
        ]
    );
    net.recv(loser, winner, &outs.message("select-answer"))
        .assert_empty();
    net.feed(winner, hw, EffectResult::AnswerApplied { op: wop })
        .assert_empty();
    let up = EffectResult::IceStateChanged(IceState::Connected);
    assert_eq!(
        net.feed(winner, hw, up.clone()).0,
        vec![state(hw, CallState::Connected)]
    );
    assert_eq!(
        net.feed(loser, hl, up).0,
        vec![state(hl, CallState::Connected)]
    );

    // Exactly one call, the same one, on each side.
    for (who, h) in [(winner, hw), (loser, hl)] {
        let live: Vec<CallHandle> = net
            .machine(who)
            .calls()
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|&c| !net.machine(who).call_info(c).unwrap().state.is_ended())
            .collect();
        assert_eq!(live, vec![h], "{who:?}");
        assert_eq!(net.info(who, h).call_id, win_id.min(lose_id));
        assert_eq!(net.machine(who).active_call(), Some(h));
    }
}

#[test]
fn glare_alice_has_the_lower_call_id_and_her_call_survives() {
    glare(LOW, HIGH);
}

#[test]
fn glare_bob_has_the_lower_call_id_and_his_call_survives() {
    glare(HIGH, LOW);
}

#[test]
fn glare_while_the_losing_side_still_acquires_media() {
    let mut net = Net::pair();
    let (ha, alice_outs) = invite(&mut net, Alice, Bob, CallKind::Video, LOW);
    let hb = net.place(Bob, Alice, CallKind::Video, HIGH);
    net.drain(Bob);
    // bob has no peer connection and sent nothing yet: nothing to withdraw or reset.
    let outs = net.recv(Bob, Alice, &alice_outs.message("invite"));
    assert_eq!(outs.0, vec![state(hb, CallState::Connecting)]);
    let outs = net.feed(Bob, hb, media(true));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            hb,
            Effect::AcceptOffer {
                op,
                sdp: Alice.offer_sdp()
            }
        )]
    );
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, hb, EffectResult::AnswerCreated { op, sdp });
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    assert_eq!(outs.message("select-answer").call_id, LOW);
    assert!(matches!(outs.effects()[..], [Effect::ApplyAnswer { .. }]));
    assert_eq!(net.state(Alice, ha), CallState::Connecting);
    assert_eq!(net.info(Bob, hb).call_id, LOW);
}

// =================================================================================================
// Renegotiation
// =================================================================================================

#[test]
fn renegotiation_after_connect_offers_answers_and_applies() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.feed(Alice, c.a, EffectResult::NegotiationNeeded);
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::CreateOffer {
                op,
                ice_restart: false
            }
        )]
    );
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0 reoffer".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Bob,
            ID,
            negotiate(1, SdpType::Offer, "v=0 reoffer")
        )]
    );
    let offer = outs.message("negotiate");
    let outs = net.recv(Bob, Alice, &offer);
    let bop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.b,
            Effect::AcceptOffer {
                op: bop,
                sdp: "v=0 reoffer".into()
            }
        )]
    );
    // A duplicate of the offer is ignored.
    net.recv(Bob, Alice, &offer).assert_empty();
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::AnswerCreated {
            op: bop,
            sdp: "v=0 reanswer".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            negotiate(1, SdpType::Answer, "v=0 reanswer")
        )]
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    let aop = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::ApplyAnswer {
                op: aop,
                sdp: "v=0 reanswer".into()
            }
        )]
    );
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
    assert_eq!(net.state(Bob, c.b), CallState::Connected);

    // The callee may renegotiate too; its sequence numbers are its own.
    let op = net.feed(Bob, c.b, EffectResult::NegotiationNeeded).sdp_op();
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0 bob offer".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            negotiate(1, SdpType::Offer, "v=0 bob offer")
        )]
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    assert!(matches!(outs.effects()[..], [Effect::AcceptOffer { .. }]));
}

#[test]
fn negotiation_needed_before_the_call_is_set_up_waits_for_it() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    net.feed(Bob, b, EffectResult::NegotiationNeeded)
        .assert_empty();
    let outs = answer(&mut net, Bob, b, true);
    assert_eq!(
        outs.sends().len(),
        1,
        "no renegotiation offer from a ringing call"
    );
    let outs = net.recv(Alice, Bob, &outs.message("answer"));
    let op = outs.sdp_op();
    net.feed(Alice, a, EffectResult::AnswerApplied { op })
        .assert_empty();
}

#[test]
fn offer_collision_polite_callee_rolls_back_impolite_caller_ignores() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let aop = net
        .feed(Alice, c.a, EffectResult::NegotiationNeeded)
        .sdp_op();
    let bop = net.feed(Bob, c.b, EffectResult::NegotiationNeeded).sdp_op();
    let alice_offer = net
        .feed(
            Alice,
            c.a,
            EffectResult::OfferCreated {
                op: aop,
                sdp: "v=0 alice reoffer".into(),
            },
        )
        .message("negotiate");
    let bob_offer = net
        .feed(
            Bob,
            c.b,
            EffectResult::OfferCreated {
                op: bop,
                sdp: "v=0 bob reoffer".into(),
            },
        )
        .message("negotiate");
    assert_eq!(
        bob_offer.body,
        negotiate(1, SdpType::Offer, "v=0 bob reoffer")
    );

    // The caller is impolite: it ignores the colliding offer, without an error.
    net.recv(Alice, Bob, &bob_offer).assert_empty();
    // The callee is polite: it takes the caller's offer (its own is rolled back).
    let outs = net.recv(Bob, Alice, &alice_offer);
    let accept = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.b,
            Effect::AcceptOffer {
                op: accept,
                sdp: "v=0 alice reoffer".into()
            }
        )]
    );
    // Its answer goes out, then it makes its rolled-back offer again.
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::AnswerCreated {
            op: accept,
            sdp: "v=0 bob answer".into(),
        },
    );
    let retry = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            send(
                Bob,
                Alice,
                ID,
                negotiate(1, SdpType::Answer, "v=0 bob answer")
            ),
            effect(
                c.b,
                Effect::CreateOffer {
                    op: retry,
                    ice_restart: false
                }
            ),
        ]
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    let apply = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::ApplyAnswer {
                op: apply,
                sdp: "v=0 bob answer".into()
            }
        )]
    );
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: apply })
        .assert_empty();
    // The retried offer is a new one, which the caller now takes.
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::OfferCreated {
            op: retry,
            sdp: "v=0 bob retry".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            negotiate(2, SdpType::Offer, "v=0 bob retry")
        )]
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![effect(
            c.a,
            Effect::AcceptOffer {
                op,
                sdp: "v=0 bob retry".into()
            }
        )]
    );
}

#[test]
fn duplicate_negotiate_answer_is_ignored_without_error() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let op = net
        .feed(Alice, c.a, EffectResult::NegotiationNeeded)
        .sdp_op();
    let offer = net
        .feed(
            Alice,
            c.a,
            EffectResult::OfferCreated {
                op,
                sdp: "v=0 o".into(),
            },
        )
        .message("negotiate");
    let bop = net.recv(Bob, Alice, &offer).sdp_op();
    let answer = net
        .feed(
            Bob,
            c.b,
            EffectResult::AnswerCreated {
                op: bop,
                sdp: "v=0 a".into(),
            },
        )
        .message("negotiate");
    let apply = net.recv(Alice, Bob, &answer).sdp_op();
    // Before and after the answer was applied, a duplicate changes nothing.
    net.recv(Alice, Bob, &answer).assert_empty();
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: apply })
        .assert_empty();
    net.recv(Alice, Bob, &answer).assert_empty();
    // So does a duplicate of the first answer, and a stale AnswerApplied.
    let first = msg(
        Bob,
        ID,
        Body::Answer {
            sdp: Bob.answer_sdp(),
        },
    );
    net.recv(Alice, Bob, &first).assert_empty();
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: apply })
        .assert_empty();
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
}

#[test]
fn negotiate_answer_that_fits_no_offer_is_reported_and_not_applied() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let stray = msg(Bob, ID, negotiate(3, SdpType::Answer, "v=0 stray"));
    assert_eq!(
        net.recv(Alice, Bob, &stray).0,
        vec![error(
            Some(c.a),
            CallError::UnexpectedMessage {
                message: "negotiate",
                state: CallState::Connected,
            },
        )]
    );
    // Also while an offer is outstanding, an answer to another one is not applied.
    let op = net
        .feed(Alice, c.a, EffectResult::NegotiationNeeded)
        .sdp_op();
    net.feed(
        Alice,
        c.a,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0 o".into(),
        },
    );
    assert_eq!(
        net.recv(Alice, Bob, &stray).0,
        vec![error(
            Some(c.a),
            CallError::UnexpectedMessage {
                message: "negotiate",
                state: CallState::Connected,
            },
        )]
    );
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
}

#[test]
fn negotiate_on_a_call_that_rings_is_unexpected() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    let offer = msg(Alice, ID, negotiate(1, SdpType::Offer, "v=0 early"));
    assert_eq!(
        net.recv(Bob, Alice, &offer).0,
        vec![error(
            Some(b),
            CallError::UnexpectedMessage {
                message: "negotiate",
                state: CallState::Ringing,
            },
        )]
    );
    assert_eq!(net.state(Bob, b), CallState::Ringing);
}

#[test]
fn callee_offer_arriving_while_the_caller_applies_the_answer_is_taken() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let answer_outs = answer(&mut net, Bob, b, true);
    // bob renegotiates right after answering (e.g. the app starts a screen share at once).
    let op = net.feed(Bob, b, EffectResult::NegotiationNeeded).sdp_op();
    let bob_offer = net
        .feed(
            Bob,
            b,
            EffectResult::OfferCreated {
                op,
                sdp: "v=0 bob early reoffer".into(),
            },
        )
        .message("negotiate");
    let outs = net.recv(Alice, Bob, &answer_outs.message("answer"));
    let apply = outs.sdp_op();
    // The offer arrives before the browser reported the answer applied. The browser queues
    // operations in order, so once ApplyAnswer runs the connection is stable: take the offer.
    let outs = net.recv(Alice, Bob, &bob_offer);
    assert!(
        matches!(outs.effects()[..], [Effect::AcceptOffer { .. }]),
        "expected AcceptOffer, got {outs:?}"
    );
    let accept = outs.sdp_op();
    net.feed(Alice, a, EffectResult::AnswerApplied { op: apply })
        .assert_empty();
    // alice's answer goes to the phone, which applies it.
    let outs = net.feed(
        Alice,
        a,
        EffectResult::AnswerCreated {
            op: accept,
            sdp: "v=0 alice answer".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Bob,
            ID,
            negotiate(1, SdpType::Answer, "v=0 alice answer")
        )]
    );
    let outs = net.recv(Bob, Alice, &outs.message("negotiate"));
    assert!(
        matches!(outs.effects()[..], [Effect::ApplyAnswer { .. }]),
        "expected ApplyAnswer, got {outs:?}"
    );
    assert_eq!(net.state(Alice, a), CallState::Connecting);
}

#[test]
fn failure_of_a_rolled_back_offer_is_dropped() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let aop = net
        .feed(Alice, c.a, EffectResult::NegotiationNeeded)
        .sdp_op();
    let alice_offer = net
        .feed(
            Alice,
            c.a,
            EffectResult::OfferCreated {
                op: aop,
                sdp: "v=0 alice reoffer".into(),
            },
        )
        .message("negotiate");
    // bob starts an offer; before its result, alice's offer arrives and bob rolls back.
    let bop = net.feed(Bob, c.b, EffectResult::NegotiationNeeded).sdp_op();
    let accept = net.recv(Bob, Alice, &alice_offer).sdp_op();
    // The rolled-back offer's failure is stale (module docs of `negotiation`: "a result which
    // no longer applies (its offer was rolled back ...) is recognised and dropped"). The
    // browser ran that offer before the rollback, so its failure left the connection stable
    // and the remote offer is answered normally.
    net.feed(
        Bob,
        c.b,
        EffectResult::SdpFailed {
            op: bop,
            error: "InvalidStateError".into(),
        },
    )
    .assert_empty();
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::AnswerCreated {
            op: accept,
            sdp: "v=0 bob answer".into(),
        },
    );
    // The answer goes out, then the rolled-back offer is made again.
    let retry = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            send(
                Bob,
                Alice,
                ID,
                negotiate(1, SdpType::Answer, "v=0 bob answer")
            ),
            effect(
                c.b,
                Effect::CreateOffer {
                    op: retry,
                    ice_restart: false
                }
            ),
        ]
    );
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

// =================================================================================================
// Media state
// =================================================================================================

#[test]
fn mute_disables_the_track_and_the_peer_sees_it() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let muted = MediaState {
        audio_muted: true,
        ..MediaState::default()
    };
    let outs = net.ok(Alice, c.a, Command::SetMuted(true));
    assert_eq!(
        outs.0,
        vec![
            effect(
                c.a,
                Effect::SetTrackEnabled {
                    kind: DeviceKind::Microphone,
                    enabled: false
                }
            ),
            event(Event::LocalMedia {
                call: c.a,
                state: muted
            }),
            send(Alice, Bob, ID, media_body(1, true, false, false)),
        ]
    );
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: muted
        })]
    );
    assert_eq!(net.info(Bob, c.b).remote_media, muted);
    assert_eq!(net.info(Alice, c.a).local_media, muted);
    // Muting again changes nothing.
    net.ok(Alice, c.a, Command::SetMuted(true)).assert_empty();
    let outs = net.ok(Alice, c.a, Command::SetMuted(false));
    assert_eq!(
        outs.effects(),
        vec![&Effect::SetTrackEnabled {
            kind: DeviceKind::Microphone,
            enabled: true
        }]
    );
    assert_eq!(
        outs.message("media").body,
        media_body(2, false, false, false)
    );
}

#[test]
fn an_older_media_state_is_ignored() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let first = net.ok(Alice, c.a, Command::SetMuted(true)).message("media");
    let second = net
        .ok(Alice, c.a, Command::SetVideoEnabled(false))
        .message("media");
    assert_eq!(second.body, media_body(2, true, true, false));
    let both = MediaState {
        audio_muted: true,
        video_muted: true,
        screen_sharing: false,
    };
    assert_eq!(
        net.recv(Bob, Alice, &second).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: both
        })]
    );
    net.recv(Bob, Alice, &first).assert_empty();
    net.recv(Bob, Alice, &second).assert_empty();
    assert_eq!(net.info(Bob, c.b).remote_media, both);
}

#[test]
fn camera_toggle_on_a_video_call() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.ok(Bob, c.b, Command::SetVideoEnabled(false));
    let off = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert_eq!(
        outs.0,
        vec![
            effect(
                c.b,
                Effect::SetTrackEnabled {
                    kind: DeviceKind::Camera,
                    enabled: false
                }
            ),
            event(Event::LocalMedia {
                call: c.b,
                state: off
            }),
            send(Bob, Alice, ID, media_body(1, false, true, false)),
        ]
    );
    net.ok(Bob, c.b, Command::SetVideoEnabled(false))
        .assert_empty();
    let outs = net.ok(Bob, c.b, Command::SetVideoEnabled(true));
    assert_eq!(
        outs.message("media").body,
        media_body(2, false, false, false)
    );
}

#[test]
fn screen_share_start_and_stop() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let sharing = MediaState {
        screen_sharing: true,
        ..MediaState::default()
    };
    assert_eq!(
        net.ok(Alice, c.a, Command::StartScreenShare).0,
        vec![effect(c.a, Effect::StartScreenShare)]
    );
    assert!(!net.info(Alice, c.a).local_media.screen_sharing, "not yet");
    let outs = net.feed(Alice, c.a, EffectResult::ScreenShareStarted);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: sharing
            }),
            send(Alice, Bob, ID, media_body(1, false, false, true)),
        ]
    );
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: sharing
        })]
    );
    net.ok(Alice, c.a, Command::StartScreenShare).assert_empty();

    let outs = net.ok(Alice, c.a, Command::StopScreenShare);
    assert_eq!(
        outs.0,
        vec![
            effect(c.a, Effect::StopScreenShare),
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(2, false, false, false)),
        ]
    );
    net.feed(Alice, c.a, EffectResult::ScreenShareEnded)
        .assert_empty();
    net.ok(Alice, c.a, Command::StopScreenShare).assert_empty();

    // Stopped from the browser's own control.
    net.ok(Alice, c.a, Command::StartScreenShare);
    net.feed(Alice, c.a, EffectResult::ScreenShareStarted);
    let outs = net.feed(Alice, c.a, EffectResult::ScreenShareEnded);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(4, false, false, false)),
        ]
    );

    // The picker cancelled: reported, the call goes on.
    net.ok(Alice, c.a, Command::StartScreenShare);
    assert_eq!(
        net.feed(
            Alice,
            c.a,
            EffectResult::ScreenShareFailed(MediaError::PermissionDenied)
        )
        .0,
        vec![error(
            Some(c.a),
            CallError::Media(MediaError::PermissionDenied)
        )]
    );
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
}

#[test]
fn set_video_enabled_on_an_audio_call_is_no_video() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    assert_eq!(
        net.cmd(Alice, c.a, Command::SetVideoEnabled(true)),
        Err(CommandError::NoVideo)
    );
    assert_eq!(
        net.cmd(
            Alice,
            c.a,
            Command::SwitchDevice {
                kind: DeviceKind::Camera,
                device_id: "cam-2".into()
            }
        ),
        Err(CommandError::NoVideo)
    );
    net.drain(Alice).assert_empty();
    // Another microphone is fine.
    assert_eq!(
        net.ok(
            Alice,
            c.a,
            Command::SwitchDevice {
                kind: DeviceKind::Microphone,
                device_id: "mic-2".into()
            }
        )
        .0,
        vec![effect(
            c.a,
            Effect::SwitchDevice {
                kind: DeviceKind::Microphone,
                device_id: "mic-2".into()
            }
        )]
    );
}

#[test]
fn upgrade_to_video_acquires_the_camera() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    assert!(net.info(Alice, c.a).local_media.video_muted);
    assert_eq!(
        net.ok(Alice, c.a, Command::UpgradeToVideo).0,
        vec![effect(c.a, Effect::AcquireCamera)]
    );
    let outs = net.feed(Alice, c.a, EffectResult::CameraAcquired);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(1, false, false, false)),
        ]
    );
    net.recv(Bob, Alice, &outs.message("media"));
    assert_eq!(net.info(Bob, c.b).remote_media, MediaState::default());
    let info = net.info(Alice, c.a);
    assert_eq!(info.kind, CallKind::Video);
    // Now the camera can be toggled, and upgrading again does nothing.
    assert!(net.cmd(Alice, c.a, Command::SetVideoEnabled(false)).is_ok());
    net.drain(Alice);
    net.ok(Alice, c.a, Command::UpgradeToVideo).assert_empty();
}

#[test]
fn audio_call_peer_sees_the_camera_absent_until_the_upgrade() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    let no_camera = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert_eq!(net.info(Alice, c.a).local_media, no_camera);
    assert_eq!(net.info(Bob, c.b).local_media, no_camera);
    assert_eq!(
        net.info(Bob, c.b).remote_media,
        no_camera,
        "alice's camera is absent"
    );
    assert_eq!(net.info(Alice, c.a).remote_media, no_camera);
    net.ok(Alice, c.a, Command::UpgradeToVideo);
    let outs = net.feed(Alice, c.a, EffectResult::CameraAcquired);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: MediaState::default()
        })],
        "bob learns alice's camera is on"
    );
}

#[test]
fn upgrade_to_video_failure_is_reported_and_the_call_goes_on() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    net.ok(Bob, c.b, Command::UpgradeToVideo);
    assert_eq!(
        net.feed(Bob, c.b, EffectResult::CameraFailed(MediaError::DeviceBusy))
            .0,
        vec![error(Some(c.b), CallError::Media(MediaError::DeviceBusy))]
    );
    assert_eq!(
        net.cmd(Bob, c.b, Command::SetVideoEnabled(true)),
        Err(CommandError::NoVideo)
    );
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn media_commands_need_local_media() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    assert_eq!(
        net.cmd(Bob, b, Command::SetMuted(true)),
        Err(CommandError::InvalidState {
            command: "setMuted",
            state: CallState::Ringing
        })
    );
    assert_eq!(
        net.cmd(Bob, b, Command::RestartIce),
        Err(CommandError::InvalidState {
            command: "restartIce",
            state: CallState::Ringing
        })
    );
    net.drain(Bob).assert_empty();
}

#[test]
fn muting_before_the_invite_is_out_travels_after_it() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let op = net.feed(Alice, a, media(true)).sdp_op();
    let outs = net.ok(Alice, a, Command::SetMuted(true));
    assert!(outs.sends().is_empty(), "nobody to tell yet: {outs:?}");
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let types: Vec<&str> = outs
        .sends()
        .iter()
        .map(|(_, m)| m.body.type_name())
        .collect();
    assert_eq!(types, ["invite", "media"]);
    assert_eq!(
        outs.message("media").body,
        media_body(1, true, false, false)
    );
}

#[test]
fn the_callee_sends_its_media_state_after_the_answer_only_when_it_differs_from_the_assumed_one() {
    // An audio call answered with the microphone on: what alice assumes, so only the answer.
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let outs = answer(&mut net, Bob, r.on(Bob), false);
    let answer_body = Body::Answer {
        sdp: Bob.answer_sdp(),
    };
    assert_eq!(outs.0, vec![send(Bob, Alice, ID, answer_body)]);

    // A video call answered without the camera: alice assumes it on, so she is told.
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = answer(&mut net, Bob, b, false);
    let types: Vec<&str> = outs
        .sends()
        .iter()
        .map(|(_, m)| m.body.type_name())
        .collect();
    assert_eq!(types, ["answer", "media"]);
    let media = outs.message("media");
    assert_eq!(media.to_party_id, Some(party(Alice)));
    let camera_off = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert!(
        matches!(media.body, Body::Media { state, .. } if state == camera_off),
        "{media:?}"
    );
    net.recv(Alice, Bob, &outs.message("answer"));
    assert_eq!(
        net.recv(Alice, Bob, &media).0,
        vec![event(Event::RemoteMedia {
            call: a,
            state: camera_off
        })]
    );
}

#[test]
fn stats_are_sampled_while_connected() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    assert_eq!(net.poll_timeout(Alice), Some(connected_at + 2_000));
    let outs = net.run_timers(Alice, connected_at + 2_000);
    assert_eq!(outs.0, vec![effect(c.a, Effect::CollectStats)]);
    let sample = StatsSample {
        rtt_ms: Some(40.0),
        jitter_ms: Some(3.0),
        packets_received: 500,
        packets_lost: 0,
        bytes_received: 100_000,
    };
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample));
    match &outs.0[..] {
        [Output::Event(Event::Quality { call, quality })] => {
            assert_eq!(*call, c.a);
            assert_eq!(quality.level, 4);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(net.poll_timeout(Alice), Some(connected_at + 4_000));
}

#[test]
fn media_that_stops_arriving_counts_as_the_path_down_and_arriving_again_as_up() {
    // Firefox keeps reporting ICE `connected` for the old path once the peer restarts ICE, so a
    // stats interval without a single inbound packet is a drop too, and packets again mend it.
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    let sample = |packets: u64| StatsSample {
        rtt_ms: Some(40.0),
        jitter_ms: Some(3.0),
        packets_received: packets,
        packets_lost: 0,
        bytes_received: packets * 200,
    };
    let quality_only = |outs: &[Output]| {
        assert!(
            matches!(outs, [Output::Event(Event::Quality { .. })]),
            "{outs:?}"
        )
    };
    net.run_timers(Alice, connected_at + 2_000);
    quality_only(&net.feed(Alice, c.a, EffectResult::Stats(sample(100))).0);
    // Two seconds with nothing new: past the 1.5 s stall limit.
    net.run_timers(Alice, connected_at + 4_000);
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    assert!(
        matches!(outs.0[..], [Output::Event(Event::Quality { .. }), _]),
        "{:?}",
        outs.0
    );
    assert_eq!(outs.0[1], state(c.a, CallState::Reconnecting));
    // The caller's ICE restart is due after the restart delay, as for an ICE `disconnected`.
    let restart_at = net.now + 2_000;
    assert!(net.poll_timeout(Alice).is_some_and(|at| at <= restart_at));
    // Media arrives again before the restart: connected, with the recovery forgotten.
    net.run_timers(Alice, connected_at + 5_000);
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(150)));
    assert_eq!(outs.0.len(), 2, "{:?}", outs.0);
    assert_eq!(outs.0[1], state(c.a, CallState::Connected));
    let later = net.run_timers(Alice, restart_at);
    assert!(
        !later.0.iter().any(|o| matches!(
            o,
            Output::Effect {
                effect: Effect::CreateOffer { .. },
                ..
            }
        )),
        "no ICE restart once media is back: {:?}",
        later.0
    );
}

#[test]
fn after_media_flowed_an_ice_connected_report_needs_media_to_count_as_recovered() {
    // Firefox reports `connected` right after an ICE restart that cannot get through: once media
    // has flowed, recovery ends only when media arrives again.
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    let sample = |packets: u64| StatsSample {
        packets_received: packets,
        bytes_received: packets * 200,
        ..StatsSample::default()
    };
    net.run_timers(Alice, connected_at + 2_000);
    net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::IceStateChanged(IceState::Disconnected),
    );
    assert_eq!(outs.0, vec![state(c.a, CallState::Reconnecting)]);
    let reported_at = net.now;
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::IceStateChanged(IceState::Connected),
    );
    outs.assert_empty();
    // The stats are read 250 ms later rather than at the next interval.
    assert_eq!(net.poll_timeout(Alice), Some(reported_at + 250));
    let outs = net.run_timers(Alice, reported_at + 250);
    assert!(
        outs.0.contains(&effect(c.a, Effect::CollectStats)),
        "{:?}",
        outs.0
    );
    // Nothing new arrived: still reconnecting.
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    assert!(
        !outs.0.contains(&state(c.a, CallState::Connected)),
        "{:?}",
        outs.0
    );
    // Media again: connected.
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(180)));
    assert_eq!(outs.0.last(), Some(&state(c.a, CallState::Connected)));
}

// =================================================================================================
// Safety
// =================================================================================================

#[test]
fn a_message_from_another_user_for_a_known_call_is_wrong_sender() {
    let mut net = Net::new(&[Alice, Bob, Carol]);
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let forged = msg(Carol, ID, hangup(EndReason::Hangup));
    let wrong = CallError::WrongSender {
        call_id: ID,
        from: user(Carol),
    };
    assert_eq!(
        net.recv(Bob, Carol, &forged).0,
        vec![error(Some(b), wrong.clone())]
    );
    assert_eq!(
        net.recv(Alice, Carol, &forged).0,
        vec![error(Some(a), wrong)]
    );
    let forged_answer = msg(
        Carol,
        ID,
        Body::Answer {
            sdp: "v=0 evil".into(),
        },
    );
    assert!(matches!(
        &net.recv(Alice, Carol, &forged_answer).0[..],
        [Output::Event(Event::Error {
            error: CallError::WrongSender { .. },
            ..
        })]
    ));
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    assert_eq!(net.state(Bob, b), CallState::Ringing);
}

#[test]
fn a_message_from_another_party_of_the_caller_is_wrong_sender() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    let other_tab = Message {
        call_id: ID,
        party_id: PartyId::new("alice-other-tab").unwrap(),
        to_party_id: None,
        body: hangup(EndReason::Cancelled),
    };
    assert_eq!(
        net.recv(Bob, Alice, &other_tab).0,
        vec![error(
            Some(b),
            CallError::WrongSender {
                call_id: ID,
                from: user(Alice)
            }
        )]
    );
    assert_eq!(net.state(Bob, b), CallState::Ringing);
}

#[test]
fn a_message_addressed_to_another_device_of_the_user_is_dropped_quietly() {
    // While both of bob's devices ring.
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (phone, laptop) = (r.on(Bob), r.on(Laptop));
    let for_phone = msg_to(Alice, Bob, ID, hangup(EndReason::Cancelled));
    net.recv(Laptop, Alice, &for_phone).assert_empty();
    assert_eq!(net.state(Laptop, laptop), CallState::Ringing);
    // Also for a call the laptop does not know: not held for a later invite, never reported.
    let ring_deadline = net.poll_timeout(Laptop);
    let unknown = msg_to(Alice, Bob, HIGH, hangup(EndReason::Cancelled));
    net.recv(Laptop, Alice, &unknown).assert_empty();
    assert_eq!(net.poll_timeout(Laptop), ring_deadline, "nothing held");
    let until = net.now + 10_000;
    net.run_timers(Laptop, until).assert_empty();
    assert_eq!(net.state(Laptop, laptop), CallState::Ringing);
    // The phone it names takes it.
    assert_eq!(
        net.recv(Bob, Alice, &for_phone).0,
        ended(phone, EndReason::Cancelled, true)
    );

    // While the laptop is in the call.
    let mut net = Net::trio();
    let c = connect(&mut net, Alice, Laptop, CallKind::Video, ID);
    let for_phone = msg_to(Alice, Bob, ID, hangup(EndReason::Hangup));
    net.recv(Laptop, Alice, &for_phone).assert_empty();
    let media_for_phone = msg_to(Alice, Bob, ID, media_body(1, true, false, false));
    net.recv(Laptop, Alice, &media_for_phone).assert_empty();
    assert_eq!(net.state(Laptop, c.b), CallState::Connected);
    assert_eq!(net.info(Laptop, c.b).remote_media, MediaState::default());
    // alice's own hangup is addressed to the laptop, and ends the call there only.
    let outs = net.ok(Alice, c.a, Command::Hangup);
    assert_eq!(outs.message("hangup").to_party_id, Some(party(Laptop)));
    let phone = net.machine(Bob).calls().next().unwrap();
    assert_eq!(
        net.deliver_all_outputs(Alice, &outs),
        vec![
            (Bob, vec![]),
            (Laptop, ended(c.b, EndReason::RemoteHangup, false)),
        ]
    );
    assert_eq!(
        net.state(Bob, phone),
        CallState::Ended(EndReason::AnsweredElsewhere)
    );
}

#[test]
fn the_callers_other_tab_ignores_the_callees_messages_to_the_tab_that_called() {
    let mut net = Net::new(&[Alice, Tab2, Bob]);
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    // The transport hands bob's messages to both of alice's tabs; only the one that called
    // takes them.
    assert_eq!(produced.message("ringing").to_party_id, Some(party(Alice)));
    assert_eq!(
        net.deliver_all_outputs(Bob, &produced),
        vec![(Alice, vec![state(a, CallState::Ringing)]), (Tab2, vec![])]
    );
    let outs = answer(&mut net, Bob, b, true);
    let at = net.deliver_all_outputs(Bob, &outs);
    let [(Alice, at_alice), (Tab2, at_tab2)] = &at[..] else {
        panic!("{at:?}")
    };
    assert_eq!(at_tab2, &vec![], "no error, no call");
    let apply = Outs(at_alice.clone()).sdp_op();
    net.feed(Bob, b, EffectResult::LocalCandidate(cand(2)))
        .assert_empty();
    let outs = net.feed(Bob, b, EffectResult::LocalCandidatesComplete);
    assert_eq!(outs.message("candidates").to_party_id, Some(party(Alice)));
    let at = net.deliver_all_outputs(Bob, &outs);
    assert_eq!(at[1], (Tab2, vec![]));

    // Nothing was held for a later invite, so nothing is reported as unknown later either.
    assert_eq!(net.poll_timeout(Tab2), None);
    let until = net.now + 10_000;
    net.run_timers(Tab2, until).assert_empty();
    assert_eq!(net.machine(Tab2).calls().count(), 0);

    // The tab that called connects.
    net.feed(Alice, a, EffectResult::AnswerApplied { op: apply })
        .assert_empty();
    let up = EffectResult::IceStateChanged(IceState::Connected);
    assert_eq!(
        net.feed(Alice, a, up).0,
        vec![state(a, CallState::Connected)]
    );
}

#[test]
fn a_message_for_an_unknown_call_is_reported() {
    let mut net = Net::pair();
    let (a, _) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let unknown = msg(Bob, HIGH, hangup(EndReason::Hangup));
    // It may have overtaken its invite: held for a while, then reported.
    net.recv(Alice, Bob, &unknown).assert_empty();
    let held_at = net.now;
    assert_eq!(net.poll_timeout(Alice), Some(held_at + 5_000));
    let outs = net.run_timers(Alice, held_at + 5_000);
    assert_eq!(
        outs.0,
        vec![error(
            None,
            CallError::UnknownCall {
                call_id: HIGH,
                from: user(Bob)
            }
        )]
    );
    assert_eq!(net.state(Alice, a), CallState::Calling);
    assert_eq!(net.poll_timeout(Alice), Some(held_at + 30_000));
}

#[test]
fn messages_that_overtake_their_invite_are_applied_after_it() {
    let mut net = Net::pair();
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)));
    let candidates = net
        .feed(Alice, a, EffectResult::LocalCandidatesComplete)
        .message("candidates");
    // The candidates arrive first: held, no error.
    net.recv(Bob, Alice, &candidates).assert_empty();
    net.advance(100);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    assert_eq!(produced.sends().len(), 1, "ringing: {produced:?}");
    assert_eq!(net.poll_timeout(Bob), Some(net.now + 30_000));
    // They were handed to the call, which holds them for its remote description.
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(Bob, b, media(true));
    assert_eq!(
        outs.effects()[1],
        &Effect::AddRemoteCandidates {
            candidates: vec![cand(1)],
            end: true
        }
    );
}

#[test]
fn a_malformed_message_is_a_protocol_error() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    assert_eq!(
        net.recv_text(Bob, "alice", "{\"v\":1,").0,
        vec![error(None, CallError::Protocol(ProtocolError::NotJson))]
    );
    let future = format!(
        r#"{{"v":2,"type":"hangup","callId":"{ID}","partyId":"alice-tab","reason":"hangup"}}"#
    );
    assert_eq!(
        net.recv_text(Bob, "alice", &future).0,
        vec![error(
            None,
            CallError::Protocol(ProtocolError::UnsupportedVersion { version: 2 })
        )]
    );
    let ok = msg(Alice, ID, hangup(EndReason::Cancelled)).to_json();
    assert_eq!(
        net.recv_text(Bob, "", &ok).0,
        vec![error(
            None,
            CallError::Protocol(ProtocolError::InvalidUserId)
        )]
    );
    assert_eq!(net.state(Bob, r.on(Bob)), CallState::Ringing);
}

#[test]
fn our_own_messages_echoed_back_are_ignored() {
    let mut net = Net::pair();
    let (_, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    net.recv(Alice, Alice, &outs.message("invite"))
        .assert_empty();
}

#[test]
fn invites_beyond_the_rate_limit_are_dropped() {
    let mut net = Net::with_config(&[Alice, Bob], |c| c.max_ringing = 16);
    let invite_with = |n: u8| {
        msg(
            Alice,
            CallId([n; 16]),
            Body::Invite {
                kind: CallKind::Audio,
                sdp: OFFER.into(),
                lifetime_ms: 30_000,
                metadata: None,
            },
        )
    };
    // Each invite of the burst costs a token. The first rings; alice may ring only one call at
    // a time, so the next four are declined as busy, with an error for the app.
    net.recv(Bob, Alice, &invite_with(1)).incoming();
    for n in 2..=5 {
        assert_eq!(
            net.recv(Bob, Alice, &invite_with(n)).0,
            vec![
                send(Bob, Alice, CallId([n; 16]), reject(EndReason::Busy)),
                error(None, CallError::AlreadyRinging { from: user(Alice) }),
            ],
            "invite {n} of the burst"
        );
    }
    let outs = net.recv(Bob, Alice, &invite_with(6));
    assert_eq!(
        outs.0,
        vec![error(None, CallError::RateLimited { from: user(Alice) })],
        "no Incoming, no ringing, no reply"
    );
    // Later messages for the dropped invites are quiet.
    net.recv(
        Bob,
        Alice,
        &msg(Alice, CallId([6; 16]), hangup(EndReason::Cancelled)),
    )
    .assert_empty();
    // A copy of the invite that rings is not a new invite; with the budget spent, it is dropped
    // unanswered and reported.
    let h1 = net.machine(Bob).calls().next().unwrap();
    let copy_dropped = vec![error(
        Some(h1),
        CallError::DuplicateInvite {
            call_id: CallId([1; 16]),
            from: user(Alice),
        },
    )];
    assert_eq!(net.recv(Bob, Alice, &invite_with(1)).0, copy_dropped);
    // Another sender has its own budget, and the sender's refills.
    let carol_invite = Message {
        party_id: party(Carol),
        to_party_id: None,
        ..invite_with(7)
    };
    net.recv_text(Bob, "carol", &carol_invite.to_json())
        .incoming();
    net.advance(4_000);
    // alice's refilled token goes to a copy of her ringing invite: answered with `ringing` again
    // (the first may have been lost), once.
    assert_eq!(
        net.recv(Bob, Alice, &invite_with(1)).0,
        vec![send(Bob, Alice, CallId([1; 16]), Body::Ringing)]
    );
    net.advance(4_000);
    assert_eq!(
        net.recv(Bob, Alice, &invite_with(1)).0,
        copy_dropped,
        "a second copy is not answered, even with a token"
    );
    assert!(matches!(
        &net.recv(Bob, Alice, &invite_with(9)).0[..],
        [Output::Event(Event::Error {
            error: CallError::RateLimited { .. },
            ..
        })]
    ));
}

#[test]
fn too_many_ringing_calls_are_rejected_as_busy() {
    let mut net = Net::with_config(&[Alice, Bob], |c| c.max_ringing = 1);
    ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let second = Message {
        party_id: party(Carol),
        ..msg(
            Carol,
            HIGH,
            Body::Invite {
                kind: CallKind::Audio,
                sdp: OFFER.into(),
                lifetime_ms: 30_000,
                metadata: None,
            },
        )
    };
    assert_eq!(
        net.recv_text(Bob, "carol", &second.to_json()).0,
        vec![
            send(Bob, Carol, HIGH, reject(EndReason::Busy)),
            event(Event::BusyRejected {
                from: user(Carol),
                kind: CallKind::Audio
            }),
        ]
    );
}

#[test]
fn commands_on_an_ended_call_are_call_ended() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let a = r.caller;
    net.ok(Alice, a, Command::Hangup);
    for command in [
        Command::Hangup,
        Command::Accept { video: true },
        Command::Reject,
        Command::SetMuted(true),
        Command::StartScreenShare,
        Command::RestartIce,
    ] {
        assert_eq!(
            net.cmd(Alice, a, command.clone()),
            Err(CommandError::CallEnded),
            "{command:?}"
        );
    }
    net.drain(Alice).assert_empty();
    assert_eq!(
        net.cmd(Alice, CallHandle(999), Command::Hangup),
        Err(CommandError::UnknownCall)
    );
}

#[test]
fn accept_or_reject_on_an_outgoing_call_is_invalid_state() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    assert_eq!(
        net.cmd(Alice, a, Command::Accept { video: true }),
        Err(CommandError::InvalidState {
            command: "accept",
            state: CallState::Calling
        })
    );
    assert_eq!(
        net.cmd(Alice, a, Command::Reject),
        Err(CommandError::InvalidState {
            command: "reject",
            state: CallState::Calling
        })
    );
    net.drain(Alice).assert_empty();
    assert_eq!(
        CommandError::InvalidState {
            command: "accept",
            state: CallState::Calling
        }
        .code(),
        "invalid-state"
    );
}

#[test]
fn accepting_twice_is_invalid_state() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    net.ok(Bob, b, Command::Accept { video: true });
    assert_eq!(
        net.cmd(Bob, b, Command::Accept { video: true }),
        Err(CommandError::InvalidState {
            command: "accept",
            state: CallState::Connecting
        })
    );
    assert_eq!(
        net.cmd(Bob, b, Command::Reject),
        Err(CommandError::InvalidState {
            command: "reject",
            state: CallState::Connecting
        })
    );
}

#[test]
fn a_second_call_during_a_call_is_already_in_call() {
    let mut net = Net::new(&[Alice, Bob, Carol]);
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let now = net.now;
    assert_eq!(
        net.machine(Alice)
            .place_call(now, "carol", CallKind::Audio, HIGH, None),
        Err(CommandError::AlreadyInCall)
    );
    net.drain(Alice).assert_empty();
    // Once the call ended, a new one may be placed.
    net.ok(Alice, a, Command::Hangup);
    assert!(net
        .machine(Alice)
        .place_call(now, "carol", CallKind::Audio, HIGH, None)
        .is_ok());
}

#[test]
fn calling_back_a_user_whose_call_rings_here_accepts_that_call() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    let now = net.now;
    let handle = net
        .machine(Bob)
        .place_call(now, "alice", CallKind::Video, HIGH, None)
        .unwrap();
    assert_eq!(handle, b, "no second call");
    assert_eq!(
        net.drain(Bob).0,
        vec![
            state(b, CallState::Connecting),
            effect(b, Effect::AcquireMedia { video: true }),
        ]
    );
    assert_eq!(net.info(Bob, b).call_id, ID);
    assert_eq!(net.machine(Bob).calls().count(), 1);
}

#[test]
fn accepting_a_second_ringing_call_during_a_call_is_already_in_call() {
    let mut net = Net::new(&[Alice, Bob, Carol]);
    let from_alice = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let from_carol = ring(&mut net, Carol, Bob, CallKind::Video, ID_CAROL);
    let (first, second) = (from_alice.on(Bob), from_carol.on(Bob));
    net.ok(Bob, first, Command::Accept { video: true });
    assert_eq!(
        net.cmd(Bob, second, Command::Accept { video: true }),
        Err(CommandError::AlreadyInCall)
    );
    net.drain(Bob).assert_empty();
    assert_eq!(net.state(Bob, second), CallState::Ringing);
}

#[test]
fn calling_yourself_or_an_invalid_user_is_invalid_peer() {
    let mut net = Net::pair();
    let now = net.now;
    let alice = net.machine(Alice);
    assert_eq!(
        alice.place_call(now, "alice", CallKind::Audio, ID, None),
        Err(CommandError::InvalidPeer)
    );
    assert_eq!(
        alice.place_call(now, "", CallKind::Audio, ID, None),
        Err(CommandError::InvalidPeer)
    );
    let big = peercall::json::parse(&serde_json::json!({ "blob": "x".repeat(5_000) }).to_string())
        .unwrap();
    assert_eq!(
        alice.place_call(now, "bob", CallKind::Audio, ID, Some(big)),
        Err(CommandError::MetadataTooLarge)
    );
    assert_eq!(alice.calls().count(), 0);
    net.drain(Alice).assert_empty();
}

#[test]
fn after_an_end_late_effect_results_produce_nothing() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    // bob accepts and his media and answer are in flight when alice gives up.
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.ok(Alice, a, Command::Hangup);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::Cancelled, false),
        "bob had accepted: not a missed call"
    );
    let late = [
        media(true),
        EffectResult::MediaFailed(MediaError::PermissionDenied),
        EffectResult::AnswerCreated {
            op: SdpOp(0),
            sdp: "v=0".into(),
        },
        EffectResult::OfferCreated {
            op: SdpOp(0),
            sdp: "v=0".into(),
        },
        EffectResult::AnswerApplied { op: SdpOp(0) },
        EffectResult::SdpFailed {
            op: SdpOp(0),
            error: "x".into(),
        },
        EffectResult::LocalCandidate(cand(1)),
        EffectResult::LocalCandidatesComplete,
        EffectResult::IceStateChanged(IceState::Connected),
        EffectResult::IceStateChanged(IceState::Failed),
        EffectResult::NegotiationNeeded,
        EffectResult::Stats(StatsSample::default()),
        EffectResult::ScreenShareStarted,
        EffectResult::CameraAcquired,
        EffectResult::CameraFailed(MediaError::DeviceBusy),
    ];
    for (who, h) in [(Alice, a), (Bob, b)] {
        for result in late.clone() {
            net.feed(who, h, result.clone()).assert_empty();
        }
        assert_eq!(net.poll_timeout(who), None);
    }
    net.advance(1_000_000);
    net.timeout(Alice).assert_empty();
    net.timeout(Bob).assert_empty();
    net.send_failed(Alice, ID).assert_empty();
    // A late answer to the ended call is told the call's end (so a ghost stops at once); other
    // messages for it are quiet.
    assert_eq!(
        net.recv(
            Alice,
            Bob,
            &msg(Bob, ID, Body::Answer { sdp: "v=0".into() }),
        )
        .0,
        vec![send(Alice, Bob, ID, hangup(EndReason::Cancelled))]
    );
    net.recv(
        Bob,
        Alice,
        &msg(Alice, ID, media_body(5, true, false, false)),
    )
    .assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Ended(EndReason::Cancelled));
    // (Net's drop checks that no effect followed either Release.)
}

#[test]
fn shut_down_hangs_up_live_calls() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let now = net.now;
    net.machine(Alice).shut_down(now);
    let outs = net.drain(Alice);
    let expected = [
        vec![send(Alice, Bob, ID, hangup(EndReason::Hangup))],
        ended(c.a, EndReason::Hangup, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(c.b, EndReason::RemoteHangup, false)
    );
    // Idempotent.
    net.machine(Alice).shut_down(now);
    net.drain(Alice).assert_empty();
}

#[test]
fn shut_down_cancels_an_unanswered_outgoing_call() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let now = net.now;
    net.machine(Alice).shut_down(now);
    let outs = net.drain(Alice);
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Cancelled))],
        ended(r.caller, EndReason::Cancelled, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
}

#[test]
fn poll_timeout_is_the_earliest_deadline_and_none_when_idle() {
    let mut net = Net::pair();
    assert_eq!(net.poll_timeout(Alice), None);
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    assert_eq!(net.poll_timeout(Alice), None, "waiting for media: no timer");
    let op = net.feed(Alice, a, media(true)).sdp_op();
    assert_eq!(net.poll_timeout(Alice), None);
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let ring_at = net.now + 30_000;
    assert_eq!(net.poll_timeout(Alice), Some(ring_at));
    net.advance(100);
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)));
    assert_eq!(
        net.poll_timeout(Alice),
        Some(net.now + 10),
        "earliest first"
    );
    net.advance(10);
    net.timeout(Alice);
    assert_eq!(net.poll_timeout(Alice), Some(ring_at));

    net.advance(50);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    assert_eq!(net.poll_timeout(Bob), Some(net.now + 30_000));
    let answer_outs = answer(&mut net, Bob, b, true);
    assert_eq!(
        net.poll_timeout(Bob),
        Some(net.now + 20_000),
        "the ring deadline gave way to the connect deadline"
    );
    net.advance(5);
    let outs = net.recv(Alice, Bob, &answer_outs.message("answer"));
    assert_eq!(net.poll_timeout(Alice), Some(net.now + 20_000));
    net.feed(Alice, a, EffectResult::AnswerApplied { op: outs.sdp_op() });
    net.feed(Alice, a, EffectResult::IceStateChanged(IceState::Connected));
    assert_eq!(
        net.poll_timeout(Alice),
        Some(net.now + 2_000),
        "connected: only the stats timer"
    );
    net.ok(Alice, a, Command::Hangup);
    assert_eq!(net.poll_timeout(Alice), None);
}

// ----- hardening: what one sender can and cannot do to a user --------------------------------

/// An invite from `from_user` (party `from`), as its text.
fn stranger_invite(from: Who, call_id: CallId, lifetime_ms: u32) -> String {
    Message {
        party_id: party(from),
        ..msg(
            from,
            call_id,
            Body::Invite {
                kind: CallKind::Audio,
                sdp: OFFER.into(),
                lifetime_ms,
                metadata: None,
            },
        )
    }
    .to_json()
}

#[test]
fn one_sender_cannot_fill_the_ringing_slots_or_ring_past_the_callees_timeout() {
    // carol floods bob with invites of the longest lifetime the protocol allows.
    let mut net = Net::pair();
    let mut ringing = 0;
    for n in 1..=4u8 {
        let outs = net.recv_text(
            Bob,
            "carol",
            &stranger_invite(Carol, CallId([n; 16]), 600_000),
        );
        ringing += outs
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Incoming { .. }))
            .count();
    }
    assert_eq!(
        ringing, 1,
        "one of carol's invites rings, the others are declined"
    );
    // A legitimate caller still rings at once.
    let outs = net.recv(
        Bob,
        Alice,
        &msg(
            Alice,
            ID,
            Body::Invite {
                kind: CallKind::Video,
                sdp: OFFER.into(),
                lifetime_ms: 30_000,
                metadata: None,
            },
        ),
    );
    outs.incoming();
    assert_eq!(outs.message("ringing").call_id, ID);
    // carol's call rings no longer than bob's own ring timeout (30 s), not her 600 s.
    let carol_call = net.machine(Bob).calls().next().unwrap();
    net.advance(30_000);
    net.timeout(Bob);
    assert_eq!(
        net.machine(Bob).call_info(carol_call).unwrap().state,
        CallState::Ended(EndReason::Timeout)
    );
}

#[test]
fn ringing_or_answer_for_a_call_never_placed_is_answered_with_a_hangup_within_the_rate_limit() {
    let mut net = Net::pair();
    let ghost = CallId([9; 16]);
    assert_eq!(
        net.recv(Alice, Bob, &msg_to(Bob, Alice, ghost, Body::Ringing))
            .0,
        vec![
            send(Alice, Bob, ghost, hangup(EndReason::Cancelled)),
            error(
                None,
                CallError::UnknownCall {
                    call_id: ghost,
                    from: user(Bob)
                }
            ),
        ]
    );
    // A flood is not reflected: replies stop when bob's budget (a burst of 5) is spent, and
    // every one is still reported.
    let mut replies = 0;
    for _ in 0..50 {
        let outs = net.recv(
            Alice,
            Bob,
            &msg_to(Bob, Alice, ghost, Body::Answer { sdp: "v=0".into() }),
        );
        replies += outs.sends().len();
        assert_eq!(outs.events().len(), 1);
    }
    assert_eq!(replies, 4, "the first reply took one token of five");
}

#[test]
fn a_ringing_device_of_an_ended_call_is_told_the_end() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    net.ok(Alice, r.caller, Command::Hangup);
    // bob's `ringing` is replayed (or bob reloaded and the invite was replayed to him).
    assert_eq!(
        net.recv(Alice, Bob, &msg_to(Bob, Alice, ID, Body::Ringing))
            .0,
        vec![send(Alice, Bob, ID, hangup(EndReason::Cancelled))]
    );
}

#[test]
fn user_ids_with_bidirectional_controls_are_invalid() {
    for bad in ["\u{202e}bob", "al\u{2066}ice", "x\u{2069}", "\u{202a}"] {
        assert_eq!(
            UserId::new(bad),
            Err(ProtocolError::InvalidUserId),
            "{bad:?}"
        );
    }
    assert!(UserId::new("bob \u{2013} work").is_ok());
    let mut net = Net::pair();
    let text = msg(Alice, ID, Body::Ringing).to_json();
    assert_eq!(
        net.recv_text(Bob, "\u{202e}ecila", &text).0,
        vec![error(
            None,
            CallError::Protocol(ProtocolError::InvalidUserId)
        )]
    );
}

#[test]
fn messages_held_for_unknown_calls_are_bounded_in_bytes() {
    let mut net = Net::pair();
    let big = |n: u8| {
        msg(
            Alice,
            CallId([n; 16]),
            Body::Negotiate {
                seq: 1,
                sdp_type: SdpType::Offer,
                sdp: "x".repeat(40_000),
            },
        )
    };
    // The first is held (its invite may still come); the second would take the hold past
    // 64 KiB, so the oldest is given up at once and reported.
    net.recv(Bob, Alice, &big(1)).assert_empty();
    assert_eq!(
        net.recv(Bob, Alice, &big(2)).0,
        vec![error(
            None,
            CallError::UnknownCall {
                call_id: CallId([1; 16]),
                from: user(Alice)
            }
        )]
    );
}

#[test]
fn an_invite_whose_sdp_is_not_shaped_like_an_offer_is_malformed() {
    let mut net = Net::pair();
    for sdp in [
        "x",
        "v=0",
        "v=1\r\nm=audio 9 RTP/AVP 0",
        "o=- 1 1 IN IP4 0\r\nm=audio",
    ] {
        let invite = msg(
            Alice,
            ID,
            Body::Invite {
                kind: CallKind::Audio,
                sdp: sdp.into(),
                lifetime_ms: 30_000,
                metadata: None,
            },
        );
        assert_eq!(
            net.recv(Bob, Alice, &invite).0,
            vec![error(
                None,
                CallError::Protocol(ProtocolError::InvalidValue { field: "sdp" })
            )],
            "{sdp:?}: no ringing, no reply"
        );
    }
    let invite = msg(
        Alice,
        ID,
        Body::Invite {
            kind: CallKind::Audio,
            sdp: OFFER.into(),
            lifetime_ms: 30_000,
            metadata: None,
        },
    );
    net.recv(Bob, Alice, &invite).incoming();
}
