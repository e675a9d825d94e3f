//! Connecting while the phone rings (`Config::preconnect`, instant answer): the invite and
//! `ringing` advertise it, the caller asks the first willing device (`preconnect`), which
//! answers without media (`preconnect-answer`) and later accepts (`accept`); no media flows
//! either way until the accept, and what the connection reports meanwhile (ICE up, data
//! channels open) waits for it. Another device that answers gets a new connection (`reoffer`,
//! answered with `negotiate` seq 0). Endings, glare and bad messages during all of it.

use super::*;

// ----- helpers ---------------------------------------------------------------------------------

/// Machines with preconnect on.
fn pre_net(who: &[Who]) -> Net {
    Net::with_config(who, |c| c.preconnect = true)
}

fn sending(call: CallHandle, sending: bool) -> Output {
    effect(call, Effect::SetSending { sending })
}

fn ice(net: &mut Net, who: Who, call: CallHandle, ice: IceState) -> Outs {
    net.feed(who, call, EffectResult::IceStateChanged(ice))
}

fn preconnected(call: CallHandle) -> Output {
    event(Event::Preconnected { call })
}

/// The states `call` went through in these outputs, in order.
fn states_of(outs: &[&Outs], call: CallHandle) -> Vec<CallState> {
    outs.iter()
        .flat_map(|o| o.events())
        .filter_map(|e| match e {
            Event::StateChanged { call: c, state } if *c == call => Some(*state),
            _ => None,
        })
        .collect()
}

fn select(who: Who) -> Body {
    Body::SelectAnswer {
        selected_party_id: party(who),
    }
}

fn ringing(preconnect: bool) -> Body {
    Body::Ringing { preconnect }
}

fn unexpected(call: CallHandle, message: &'static str, state: CallState) -> Output {
    error(Some(call), CallError::UnexpectedMessage { message, state })
}

/// A call of alice's ringing on some of bob's devices: alice's handle and, for each device (in
/// the order the invite reached them), its handle and what alice did at its `ringing`.
struct Rung {
    a: CallHandle,
    devices: Vec<(Who, CallHandle, Outs)>,
}

impl Rung {
    fn on(&self, who: Who) -> CallHandle {
        self.devices
            .iter()
            .find(|(w, ..)| *w == who)
            .map(|(_, h, _)| *h)
            .unwrap_or_else(|| panic!("{who:?} does not ring"))
    }

    /// What alice did when `who`'s `ringing` arrived.
    fn told(&self, who: Who) -> &Outs {
        self.devices
            .iter()
            .find(|(w, ..)| *w == who)
            .map(|(.., o)| o)
            .unwrap_or_else(|| panic!("{who:?} does not ring"))
    }
}

/// alice calls bob; the invite reaches `devices` in order, each rings, and each `ringing`
/// reaches alice before the next device gets the invite.
fn ring_devices(net: &mut Net, devices: &[Who], kind: CallKind) -> Rung {
    let (a, outs) = invite(net, Alice, devices[0], kind, ID);
    let invite = outs.message("invite");
    let mut rung = Vec::new();
    for &device in devices {
        let produced = net.recv(device, Alice, &invite);
        let b = produced.incoming();
        let told = net.recv(Alice, device, &produced.message("ringing"));
        rung.push((device, b, told));
    }
    Rung { a, devices: rung }
}

/// `device`, asked to preconnect by `asked` (alice's outputs holding the `preconnect`), answers
/// the offer without media; returns its `AcceptOffer` op.
fn take_preconnect(net: &mut Net, device: Who, b: CallHandle, asked: &Outs) -> SdpOp {
    let outs = net.recv(device, Alice, &asked.message("preconnect"));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            sending(b, false),
            effect(
                b,
                Effect::AcceptOffer {
                    op,
                    sdp: Alice.offer_sdp()
                }
            ),
        ],
        "no media is asked for"
    );
    op
}

/// `device`'s preconnect answer is made (op `op`), reaches alice and is applied there.
fn preconnect_answer(net: &mut Net, device: Who, b: CallHandle, a: CallHandle, op: SdpOp) {
    let sdp = device.answer_sdp();
    let outs = net.feed(device, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![send(
            device,
            Alice,
            ID,
            Body::PreconnectAnswer {
                sdp: device.answer_sdp()
            }
        )]
    );
    let applied = net.recv(Alice, device, &outs.message("preconnect-answer"));
    let aop = applied.sdp_op();
    assert_eq!(
        applied.0,
        vec![effect(
            a,
            Effect::ApplyAnswer {
                op: aop,
                sdp: device.answer_sdp()
            }
        )]
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
}

/// A call of alice's to bob whose first device (`devices[0]`) is preconnected (its answer
/// applied at alice), every device still ringing.
fn preconnect(net: &mut Net, devices: &[Who], kind: CallKind) -> Rung {
    let rung = ring_devices(net, devices, kind);
    let first = devices[0];
    let b = rung.on(first);
    let op = take_preconnect(net, first, b, rung.told(first));
    preconnect_answer(net, first, b, rung.a, op);
    rung
}

/// `who` accepts its ringing call `b` and its media comes: the outputs of the media.
fn accept(net: &mut Net, who: Who, b: CallHandle, video: bool) -> Outs {
    assert_eq!(
        net.ok(who, b, Command::Accept { video }).0,
        vec![
            state(b, CallState::Connecting),
            effect(b, Effect::AcquireMedia { video }),
        ]
    );
    net.feed(who, b, media(video))
}

// ----- advertising ------------------------------------------------------------------------------

#[test]
fn with_both_sides_on_the_invite_and_ringing_advertise_it_and_the_caller_asks() {
    let mut net = pre_net(&[Alice, Bob]);
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    assert_eq!(
        outs.0,
        vec![send_all(
            Alice,
            Bob,
            ID,
            Body::Invite {
                kind: CallKind::Video,
                sdp: Alice.offer_sdp(),
                lifetime_ms: 30_000,
                metadata: None,
                preconnect: true,
            }
        )]
    );
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    let b = produced.incoming();
    assert_eq!(
        produced.0[1..],
        [send(Bob, Alice, ID, ringing(true))],
        "it rings, and would connect meanwhile"
    );
    // The caller asks that device, and empties its senders until the call is answered.
    assert_eq!(
        net.recv(Alice, Bob, &produced.message("ringing")).0,
        vec![
            state(a, CallState::Ringing),
            send(Alice, Bob, ID, Body::Preconnect),
            sending(a, false),
        ]
    );
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    // A copy of the invite while it rings repeats the advertisement.
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("invite")).0,
        vec![send(Bob, Alice, ID, ringing(true))]
    );
}

/// alice (with `caller`) calls bob (with `callee`): when either is off, nothing of preconnect
/// happens and the call goes as it always did.
fn one_side_off(caller: bool, callee: bool) {
    let mut net = Net::with_config(&[Alice, Bob], |c| {
        c.preconnect = if c.user_id.as_str() == "alice" {
            caller
        } else {
            callee
        }
    });
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Video, ID);
    let invite = outs.message("invite");
    match &invite.body {
        Body::Invite { preconnect, .. } => assert_eq!(*preconnect, caller),
        other => panic!("{other:?}"),
    }
    let produced = net.recv(Bob, Alice, &invite);
    let b = produced.incoming();
    assert_eq!(produced.0[1..], [send(Bob, Alice, ID, ringing(false))]);
    assert_eq!(
        net.recv(Alice, Bob, &produced.message("ringing")).0,
        vec![state(a, CallState::Ringing)],
        "nothing is asked, the senders stay as they are"
    );
    // The usual answer: select-answer, the answer applied, no SetSending anywhere.
    let outs = answer(&mut net, Bob, b, true);
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            Body::Answer {
                sdp: Bob.answer_sdp()
            }
        )]
    );
    let produced = net.recv(Alice, Bob, &outs.message("answer"));
    let op = produced.sdp_op();
    assert_eq!(
        produced.0,
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
                    op,
                    sdp: Bob.answer_sdp()
                }
            ),
            state(a, CallState::Connecting),
        ]
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op });
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, b, IceState::Connected).0,
        vec![state(b, CallState::Connected)]
    );
    let everything: Vec<Output> = net.nodes.iter().flat_map(|n| n.log.clone()).collect();
    assert!(
        !everything.iter().any(|o| matches!(
            o,
            Output::Effect {
                effect: Effect::SetSending { .. },
                ..
            }
        )),
        "the senders were never touched: {everything:#?}"
    );
}

#[test]
fn with_the_callee_off_nothing_of_preconnect_happens() {
    one_side_off(true, false);
}

#[test]
fn with_the_caller_off_nothing_of_preconnect_happens() {
    one_side_off(false, true);
}

#[test]
fn the_caller_asks_the_first_willing_device_only() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = ring_devices(&mut net, &[Bob, Laptop], CallKind::Video);
    let a = rung.a;
    assert_eq!(
        rung.told(Bob).0,
        vec![
            state(a, CallState::Ringing),
            send(Alice, Bob, ID, Body::Preconnect),
            sending(a, false),
        ],
        "asked with toPartyId: bob's phone only"
    );
    rung.told(Laptop).assert_empty();
    // The preconnect goes to the phone only: the laptop drops it.
    net.recv(Laptop, Alice, &rung.told(Bob).message("preconnect"))
        .assert_empty();
    assert_eq!(net.state(Laptop, rung.on(Laptop)), CallState::Ringing);
    // A repeated ringing of the phone does not ask again.
    net.recv(Alice, Bob, &msg_to(Bob, Alice, ID, ringing(true)))
        .assert_empty();
}

// ----- the connection while ringing ---------------------------------------------------------------

#[test]
fn the_asked_device_answers_without_media_and_the_caller_applies_it() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    // alice's candidates reach bob before the preconnect: they wait for the offer to be applied.
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(1)));
    let flushed = net.feed(Alice, a, EffectResult::LocalCandidatesComplete);
    net.recv(Bob, Alice, &flushed.message("candidates"))
        .assert_empty();

    let outs = net.recv(Bob, Alice, &rung.told(Bob).message("preconnect"));
    let op = outs.sdp_op();
    assert_eq!(
        outs.0,
        vec![
            sending(b, false),
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
                    candidates: vec![cand(1)],
                    end: true
                }
            ),
        ],
        "no media: the senders stay empty"
    );
    // bob's candidates wait for his answer to go out.
    net.feed(Bob, b, EffectResult::LocalCandidate(cand(2)))
        .assert_empty();
    net.feed(Bob, b, EffectResult::LocalCandidatesComplete)
        .assert_empty();
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![
            send(
                Bob,
                Alice,
                ID,
                Body::PreconnectAnswer {
                    sdp: Bob.answer_sdp()
                }
            ),
            send(
                Bob,
                Alice,
                ID,
                Body::Candidates {
                    candidates: vec![cand(2)],
                    end: true
                }
            ),
        ]
    );
    // Still ringing, the ring timer running, no connect deadline.
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    assert_eq!(net.poll_timeout(Bob), Some(1_000 + 30_000));

    // The candidates overtake the answer at alice: held, then released with it.
    net.recv(Alice, Bob, &outs.message("candidates"))
        .assert_empty();
    let applied = net.recv(Alice, Bob, &outs.message("preconnect-answer"));
    let aop = applied.sdp_op();
    assert_eq!(
        applied.0,
        vec![
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
                    candidates: vec![cand(2)],
                    end: true
                }
            ),
        ]
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    assert_eq!(
        net.poll_timeout(Alice),
        Some(1_000 + 30_000),
        "the ring timeout"
    );
}

#[test]
fn no_media_flows_either_way_before_the_accept() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    // Each side's last SetSending so far is `false`, and bob never asked for media.
    for (who, call) in [(Alice, a), (Bob, b)] {
        let log = net.node(who).log.clone();
        let last = log.iter().rev().find_map(|o| match o {
            Output::Effect {
                call: c,
                effect: Effect::SetSending { sending },
            } if *c == call => Some(*sending),
            _ => None,
        });
        assert_eq!(last, Some(false), "{who:?}: {log:#?}");
    }
    let bob_log = net.node(Bob).log.clone();
    assert!(
        !bob_log.iter().any(|o| matches!(
            o,
            Output::Effect {
                effect: Effect::AcquireMedia { .. },
                ..
            }
        )),
        "bob's devices stay closed while ringing: {bob_log:#?}"
    );
    // Nothing that needs media is allowed on bob's ringing call.
    assert!(net.cmd(Bob, b, Command::SetMuted(true)).is_err());
    assert!(net.cmd(Alice, a, Command::Hold).is_err());
    net.drain(Bob).assert_empty();
    net.drain(Alice).assert_empty();
}

#[test]
fn ice_up_while_ringing_is_preconnected_and_the_call_keeps_ringing() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    assert_eq!(ice(&mut net, Alice, a, IceState::Checking).0, vec![]);
    assert!(!net.info(Alice, a).preconnected);
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![preconnected(a)]
    );
    assert!(net.info(Alice, a).preconnected);
    assert!(!net.info(Bob, b).preconnected, "bob's path is not up yet");
    assert_eq!(
        ice(&mut net, Bob, b, IceState::Connected).0,
        vec![preconnected(b)]
    );
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    // Once per down → up.
    ice(&mut net, Alice, a, IceState::Connected).assert_empty();
    ice(&mut net, Alice, a, IceState::Disconnected).assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Ringing, "not reconnecting");
    // What the app was told stands until another event: no event says the path went down.
    assert!(net.info(Alice, a).preconnected);
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![preconnected(a)]
    );
    // No connect deadline nor ICE timer runs: only the ring timer.
    assert_eq!(net.poll_timeout(Alice), Some(1_000 + 30_000));
    assert_eq!(net.poll_timeout(Bob), Some(1_000 + 30_000));
    assert_eq!(net.info(Alice, a).connected_at, None);
}

// ----- the accept ---------------------------------------------------------------------------------

#[test]
fn the_accept_of_a_preconnected_call_connects_both_sides_at_once() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);

    net.advance(3_000);
    let outs = accept(&mut net, Bob, b, true);
    assert_eq!(
        outs.0[..2],
        [send(Bob, Alice, ID, Body::Accept), sending(b, true)],
        "the accept, and the senders fill at once"
    );
    assert_eq!(net.machine(Bob).active_call(), Some(b));
    assert!(
        !net.info(Bob, b).preconnected,
        "answered: no longer a ringing call"
    );
    assert!(
        net.info(Alice, a).preconnected,
        "alice's still rings until the accept arrives"
    );

    net.advance(40);
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    assert!(!net.info(Alice, a).preconnected);
    assert_eq!(
        told.0,
        vec![
            send_all(Alice, Bob, ID, select(Bob)),
            state(a, CallState::Connecting),
            sending(a, true),
            state(a, CallState::Connected),
        ],
        "the caller connects at once"
    );
    let connected_at = net.now;
    assert_eq!(net.info(Alice, a).connected_at, Some(connected_at));
    // bob is connected by the time alice's select-answer reaches him, with no other ICE report
    // (at his accept, or at the select-answer: see
    // `a_preconnected_device_that_lost_the_race_never_reports_connected`).
    net.advance(40);
    let selected = net.recv(Bob, Alice, &told.message("select-answer"));
    assert_eq!(
        states_of(&[&outs, &selected], b),
        vec![CallState::Connected]
    );
    assert_eq!(
        outs.0.len() + selected.0.len(),
        3,
        "{outs:#?} {selected:#?}"
    );
    // Only the stats timer is left: no ring timer, no connect deadline.
    let stats_ms = net.machine(Alice).config().stats_interval_ms;
    assert_eq!(net.poll_timeout(Alice), Some(connected_at + stats_ms));
    // Media now works as in any call.
    let outs = net.ok(Bob, b, Command::SetMuted(true));
    let seen = net.recv(Alice, Bob, &outs.message("media"));
    assert_eq!(
        seen.0,
        vec![event(Event::RemoteMedia {
            call: a,
            state: MediaState {
                audio_muted: true,
                ..MediaState::default()
            }
        })]
    );
}

#[test]
fn an_accept_without_the_camera_tells_the_media_state_after_the_accept() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    let outs = accept(&mut net, Bob, b, false);
    assert_eq!(
        outs.0,
        vec![
            send(Bob, Alice, ID, Body::Accept),
            send(Bob, Alice, ID, media_body(0, false, true, false)),
            sending(b, true),
        ]
    );
    net.recv(Alice, Bob, &outs.message("accept"));
    assert_eq!(
        net.recv(Alice, Bob, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: a,
            state: MediaState {
                video_muted: true,
                ..MediaState::default()
            }
        })]
    );
}

#[test]
fn an_accept_while_the_preconnect_answer_is_made_follows_that_answer() {
    // The media comes first, then the answer.
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    let op = take_preconnect(&mut net, Bob, b, rung.told(Bob));
    accept(&mut net, Bob, b, true).assert_empty();
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![
            send(
                Bob,
                Alice,
                ID,
                Body::PreconnectAnswer {
                    sdp: Bob.answer_sdp()
                }
            ),
            send(Bob, Alice, ID, Body::Accept),
            sending(b, true),
        ]
    );
    let applied = net.recv(Alice, Bob, &outs.message("preconnect-answer"));
    let aop = applied.sdp_op();
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    assert_eq!(
        told.0,
        vec![
            send_all(Alice, Bob, ID, select(Bob)),
            state(a, CallState::Connecting),
            sending(a, true),
        ]
    );
    net.recv(Bob, Alice, &told.message("select-answer"))
        .assert_empty();
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop });
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, b, IceState::Connected).0,
        vec![state(b, CallState::Connected)]
    );

    // The answer comes first, then the media.
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let b = rung.on(Bob);
    let op = take_preconnect(&mut net, Bob, b, rung.told(Bob));
    net.ok(Bob, b, Command::Accept { video: true });
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    outs.message("preconnect-answer");
    assert!(
        outs.sends().iter().all(|(_, m)| m.body != Body::Accept),
        "no accept before the media: {outs:#?}"
    );
    assert_eq!(
        net.feed(Bob, b, media(true)).0,
        vec![send(Bob, Alice, ID, Body::Accept), sending(b, true)]
    );
}

#[test]
fn an_accept_with_ice_never_up_waits_for_it_and_the_connect_timeout_applies() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    net.advance(5_000);
    let outs = accept(&mut net, Bob, b, true);
    assert_eq!(
        outs.0,
        vec![send(Bob, Alice, ID, Body::Accept), sending(b, true)]
    );
    let accepted_at = net.now;
    assert!(
        net.poll_timeout(Bob)
            .is_some_and(|at| at <= accepted_at + 20_000),
        "the connect deadline runs, no longer the invite's expiry"
    );
    net.advance(30);
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    assert_eq!(
        told.0[1..],
        [state(a, CallState::Connecting), sending(a, true)]
    );
    let answered_at = net.now;
    assert_eq!(
        net.poll_timeout(Alice),
        Some(answered_at + 20_000),
        "the ring timer is gone, the connect deadline runs"
    );
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
fn a_path_that_went_down_while_ringing_is_restarted_by_the_caller_at_the_accept() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![preconnected(a)]
    );
    ice(&mut net, Bob, b, IceState::Connected);
    ice(&mut net, Alice, a, IceState::Disconnected).assert_empty();
    ice(&mut net, Alice, a, IceState::Failed).assert_empty();
    ice(&mut net, Bob, b, IceState::Failed).assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Ringing);

    // bob's side does not connect at once (its path is down) and does not restart: the caller
    // does.
    let outs = accept(&mut net, Bob, b, true);
    assert_eq!(
        outs.0,
        vec![send(Bob, Alice, ID, Body::Accept), sending(b, true)]
    );
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    let op = told.sdp_op();
    assert_eq!(
        told.0[1..],
        [
            state(a, CallState::Connecting),
            sending(a, true),
            effect(
                a,
                Effect::CreateOffer {
                    op,
                    ice_restart: true
                }
            ),
        ]
    );
    net.recv(Bob, Alice, &told.message("select-answer"))
        .assert_empty();
    // The restart goes through as any renegotiation and the call connects.
    let outs = net.feed(
        Alice,
        a,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0\r\nm=audio restart".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Bob,
            ID,
            negotiate(1, SdpType::Offer, "v=0\r\nm=audio restart")
        )]
    );
    let at_bob = net.recv(Bob, Alice, &outs.message("negotiate"));
    let bop = at_bob.sdp_op();
    let sdp = "v=0 restart answer".to_string();
    let answered = net.feed(Bob, b, EffectResult::AnswerCreated { op: bop, sdp });
    let at_alice = net.recv(Alice, Bob, &answered.message("negotiate"));
    net.feed(
        Alice,
        a,
        EffectResult::AnswerApplied {
            op: at_alice.sdp_op(),
        },
    );
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, b, IceState::Connected).0,
        vec![state(b, CallState::Connected)]
    );
}

#[test]
fn channels_opened_while_ringing_carry_what_waits_from_the_accept() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    let id = net
        .machine(Alice)
        .send_data(
            a,
            peercall::call::Outgoing::Message {
                len: 5,
                ready: true,
            },
        )
        .unwrap();
    net.drain(Alice).assert_empty();
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    net.feed(Alice, a, EffectResult::DataOpen).assert_empty();
    net.feed(Bob, b, EffectResult::DataOpen).assert_empty();
    assert!(!net.info(Alice, a).data_open, "held until the accept");
    assert!(!net.info(Bob, b).data_open);

    let outs = accept(&mut net, Bob, b, true);
    assert_eq!(
        outs.0[..2],
        [send(Bob, Alice, ID, Body::Accept), sending(b, true)]
    );
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    assert_eq!(
        told.0[1..],
        [
            state(a, CallState::Connecting),
            sending(a, true),
            state(a, CallState::Connected),
            effect(a, Effect::SendMessage { id }),
        ]
    );
    assert!(net.info(Alice, a).data_open);
    net.recv(Bob, Alice, &told.message("select-answer"));
    assert!(net.info(Bob, b).data_open);
    assert_eq!(net.state(Bob, b), CallState::Connected);
}

#[test]
fn channels_that_opened_and_closed_while_ringing_are_not_opened_at_the_accept() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    net.machine(Alice)
        .send_data(
            a,
            peercall::call::Outgoing::Message {
                len: 5,
                ready: true,
            },
        )
        .unwrap();
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    net.feed(Alice, a, EffectResult::DataOpen).assert_empty();
    net.feed(Alice, a, EffectResult::DataClosed).assert_empty();
    let outs = accept(&mut net, Bob, b, true);
    let told = net.recv(Alice, Bob, &outs.message("accept"));
    assert!(
        !told
            .effects()
            .iter()
            .any(|e| matches!(e, Effect::SendMessage { .. })),
        "{told:#?}"
    );
    assert!(!net.info(Alice, a).data_open);
}

#[test]
fn a_callee_that_accepted_before_the_ask_ignores_it_and_its_answer_wins() {
    // bob accepts before alice's preconnect arrives: he ignores it, his usual answer wins.
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    net.ok(Bob, b, Command::Accept { video: true });
    net.recv(Bob, Alice, &rung.told(Bob).message("preconnect"))
        .assert_empty();
    let outs = net.feed(Bob, b, media(true));
    let op = outs.sdp_op();
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![send(
            Bob,
            Alice,
            ID,
            Body::Answer {
                sdp: Bob.answer_sdp()
            }
        )]
    );
    let produced = net.recv(Alice, Bob, &outs.message("answer"));
    let aop = produced.sdp_op();
    assert_eq!(
        produced.0,
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
            state(a, CallState::Connecting),
            sending(a, true),
        ],
        "the senders fill again: the call is answered"
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop });
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, b, IceState::Connected).0,
        vec![state(b, CallState::Connected)]
    );
}

// ----- another device answers -----------------------------------------------------------------------

#[test]
fn another_device_that_answers_gets_a_new_connection_through_a_reoffer() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let (a, b, l) = (rung.a, rung.on(Bob), rung.on(Laptop));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);

    // The laptop answers the usual way, on its own connection to the invite's offer.
    let outs = answer(&mut net, Laptop, l, true);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    let op = produced.sdp_op();
    assert_eq!(
        produced.0,
        vec![
            effect(a, Effect::ResetPeerConnection),
            send_all(
                Alice,
                Bob,
                ID,
                Body::SelectAnswer {
                    selected_party_id: party(Laptop)
                }
            ),
            state(a, CallState::Connecting),
            sending(a, true),
            effect(
                a,
                Effect::CreateOffer {
                    op,
                    ice_restart: false
                }
            ),
        ]
    );
    // The phone stops: its connection closes.
    assert_eq!(
        net.recv(Bob, Alice, &produced.message("select-answer")).0,
        ended(b, EndReason::AnsweredElsewhere, false)
    );
    net.recv(Laptop, Alice, &produced.message("select-answer"))
        .assert_empty();
    // The old connection's reports no longer count.
    assert_eq!(net.state(Alice, a), CallState::Connecting);

    let sdp = "v=0\r\nm=audio reoffer".to_string();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Laptop,
            ID,
            Body::Reoffer {
                sdp: "v=0\r\nm=audio reoffer".into()
            }
        )],
        "for the laptop only"
    );
    // alice's candidates of the new connection go to the laptop only.
    net.feed(Alice, a, EffectResult::LocalCandidate(cand(3)));
    let flushed = net.feed(Alice, a, EffectResult::LocalCandidatesComplete);
    assert_eq!(
        flushed.0,
        vec![send(
            Alice,
            Laptop,
            ID,
            Body::Candidates {
                candidates: vec![cand(3)],
                end: true
            }
        )]
    );

    let at_laptop = net.recv(Laptop, Alice, &outs.message("reoffer"));
    let rop = at_laptop.sdp_op();
    assert_eq!(
        at_laptop.0,
        vec![
            effect(l, Effect::ResetPeerConnection),
            effect(
                l,
                Effect::AcceptOffer {
                    op: rop,
                    sdp: "v=0\r\nm=audio reoffer".into()
                }
            ),
        ]
    );
    // They follow the reoffer, so they go straight to the laptop's new connection.
    assert_eq!(
        net.recv(Laptop, Alice, &flushed.message("candidates")).0,
        vec![effect(
            l,
            Effect::AddRemoteCandidates {
                candidates: vec![cand(3)],
                end: true
            }
        )]
    );
    let sdp = "v=0 laptop reanswer".to_string();
    let answered = net.feed(Laptop, l, EffectResult::AnswerCreated { op: rop, sdp });
    assert_eq!(
        answered.0,
        vec![send(
            Laptop,
            Alice,
            ID,
            negotiate(0, SdpType::Answer, "v=0 laptop reanswer")
        )]
    );
    // The laptop's new candidates overtake its answer: held until it is applied.
    net.feed(Laptop, l, EffectResult::LocalCandidate(cand(4)));
    let lflushed = net.feed(Laptop, l, EffectResult::LocalCandidatesComplete);
    net.recv(Alice, Laptop, &lflushed.message("candidates"))
        .assert_empty();
    let applied = net.recv(Alice, Laptop, &answered.message("negotiate"));
    let aop = applied.sdp_op();
    assert_eq!(
        applied.0,
        vec![
            effect(
                a,
                Effect::ApplyAnswer {
                    op: aop,
                    sdp: "v=0 laptop reanswer".into()
                }
            ),
            effect(
                a,
                Effect::AddRemoteCandidates {
                    candidates: vec![cand(4)],
                    end: true
                }
            ),
        ]
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop })
        .assert_empty();
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Laptop, l, IceState::Connected).0,
        vec![state(l, CallState::Connected)]
    );
    // A later renegotiation numbers on from the reoffer.
    let outs = net.ok(Alice, a, Command::RestartIce);
    let op = outs.sdp_op();
    let outs = net.feed(
        Alice,
        a,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0\r\nm=audio r2".into(),
        },
    );
    assert_eq!(
        outs.0,
        vec![send(
            Alice,
            Laptop,
            ID,
            negotiate(1, SdpType::Offer, "v=0\r\nm=audio r2")
        )]
    );
}

#[test]
fn another_device_that_answers_before_the_preconnect_answer_is_applied_wins_as_usual() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = ring_devices(&mut net, &[Bob, Laptop], CallKind::Video);
    let (a, b, l) = (rung.a, rung.on(Bob), rung.on(Laptop));
    let op = take_preconnect(&mut net, Bob, b, rung.told(Bob));
    let sdp = Bob.answer_sdp();
    let late = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });

    let outs = answer(&mut net, Laptop, l, true);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    let aop = produced.sdp_op();
    assert_eq!(
        produced.0,
        vec![
            send_all(
                Alice,
                Bob,
                ID,
                Body::SelectAnswer {
                    selected_party_id: party(Laptop)
                }
            ),
            effect(
                a,
                Effect::ApplyAnswer {
                    op: aop,
                    sdp: Laptop.answer_sdp()
                }
            ),
            state(a, CallState::Connecting),
            sending(a, true),
        ],
        "no reset, no reoffer: the connection was not the phone's yet"
    );
    // The phone's preconnect answer comes too late: a loser's message, dropped.
    net.recv(Alice, Bob, &late.message("preconnect-answer"))
        .assert_empty();
    assert_eq!(
        net.recv(Bob, Alice, &produced.message("select-answer")).0,
        ended(b, EndReason::AnsweredElsewhere, false)
    );
    net.feed(Alice, a, EffectResult::AnswerApplied { op: aop });
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Laptop, l, IceState::Connected).0,
        vec![state(l, CallState::Connected)]
    );
}

// ----- endings ------------------------------------------------------------------------------------

#[test]
fn a_decline_of_a_preconnected_call_releases_its_connection_on_both_sides() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Alice, a, IceState::Connected);
    let outs = net.ok(Bob, b, Command::Reject);
    let expected = [
        vec![send(Bob, Alice, ID, reject(EndReason::Rejected))],
        ended(b, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    let told = net.recv(Alice, Bob, &outs.message("reject"));
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Rejected))],
        ended(a, EndReason::Rejected, false),
    ]
    .concat();
    assert_eq!(told.0, expected);
}

#[test]
fn a_caller_cancel_releases_the_preconnected_connection() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Bob, b, IceState::Connected);
    let outs = net.ok(Alice, a, Command::Hangup);
    let expected = [
        vec![send_all(Alice, Bob, ID, hangup(EndReason::Cancelled))],
        ended(a, EndReason::Cancelled, false),
    ]
    .concat();
    assert_eq!(outs.0, expected);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("hangup")).0,
        ended(b, EndReason::Cancelled, true),
        "a missed call, its connection closed"
    );
}

#[test]
fn the_ring_timeout_releases_the_preconnected_connection() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    let outs = net.run_timers(Alice, 1_000 + 30_000);
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
fn the_invite_expiry_releases_a_preconnected_device_when_the_hangup_is_lost() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let b = rung.on(Bob);
    ice(&mut net, Bob, b, IceState::Connected);
    net.run_timers(Bob, 1_000 + 29_999).assert_empty();
    assert_eq!(
        net.run_timers(Bob, 1_000 + 30_000).0,
        ended(b, EndReason::Timeout, true)
    );
}

#[test]
fn answered_elsewhere_releases_the_preconnected_device() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Audio);
    let (a, b, l) = (rung.a, rung.on(Bob), rung.on(Laptop));
    ice(&mut net, Bob, b, IceState::Connected);
    let outs = answer(&mut net, Laptop, l, false);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    assert_eq!(produced.0[0], effect(a, Effect::ResetPeerConnection));
    assert_eq!(
        net.recv(Bob, Alice, &produced.message("select-answer")).0,
        ended(b, EndReason::AnsweredElsewhere, false)
    );
    // Its accept, if it raced the select-answer, changes nothing at alice.
    net.recv(Alice, Bob, &msg_to(Bob, Alice, ID, Body::Accept))
        .assert_empty();
    assert_eq!(net.state(Alice, a), CallState::Connecting);
}

// ----- glare ----------------------------------------------------------------------------------------

#[test]
fn glare_drops_the_preconnect_and_the_lower_call_connects() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    // alice calls bob (the higher id); her invite reaches the laptop, which preconnects.
    let (a, outs) = invite(&mut net, Alice, Laptop, CallKind::Video, HIGH);
    let alice_invite = outs.message("invite");
    let produced = net.recv(Laptop, Alice, &alice_invite);
    let l = produced.incoming();
    let asked = net.recv(Alice, Laptop, &produced.message("ringing"));
    assert_eq!(asked.0[2], sending(a, false));
    let outs = net.recv(Laptop, Alice, &asked.message("preconnect"));
    let lop = outs.sdp_op();
    let sdp = Laptop.answer_sdp();
    let outs = net.feed(Laptop, l, EffectResult::AnswerCreated { op: lop, sdp });
    let applied = net.recv(Alice, Laptop, &outs.message("preconnect-answer"));
    net.feed(
        Alice,
        a,
        EffectResult::AnswerApplied {
            op: applied.sdp_op(),
        },
    );

    // Meanwhile bob's phone calls alice with the lower id: alice's call becomes its callee
    // side; her preconnected connection goes, her senders fill for the new one.
    let (hb, bob_outs) = invite(&mut net, Bob, Alice, CallKind::Video, LOW);
    let merged = net.recv(Alice, Bob, &bob_outs.message("invite"));
    let op = merged.sdp_op();
    assert_eq!(
        merged.0,
        vec![
            send_all(Alice, Bob, HIGH, hangup(EndReason::AnsweredElsewhere)),
            effect(a, Effect::ResetPeerConnection),
            sending(a, true),
            state(a, CallState::Connecting),
            effect(
                a,
                Effect::AcceptOffer {
                    op,
                    sdp: Bob.offer_sdp()
                }
            ),
        ]
    );
    // The laptop stops ringing, its connection released.
    assert_eq!(
        net.recv(Laptop, Alice, &merged.message("hangup")).0,
        ended(l, EndReason::AnsweredElsewhere, false)
    );
    // bob's phone gets alice's (higher) invite late: it keeps its own call.
    net.recv(Bob, Alice, &alice_invite);
    net.drain(Bob);
    // alice answers bob's call the usual way, and it connects.
    let sdp = Alice.answer_sdp();
    let outs = net.feed(Alice, a, EffectResult::AnswerCreated { op, sdp });
    let produced = net.recv(Bob, Alice, &outs.message("answer"));
    let bop = produced.sdp_op();
    assert_eq!(
        produced.0,
        vec![
            send_all(
                Bob,
                Alice,
                LOW,
                Body::SelectAnswer {
                    selected_party_id: party(Alice)
                }
            ),
            effect(
                hb,
                Effect::ApplyAnswer {
                    op: bop,
                    sdp: Alice.answer_sdp()
                }
            ),
            state(hb, CallState::Connecting),
        ]
    );
    net.feed(Bob, hb, EffectResult::AnswerApplied { op: bop });
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, hb, IceState::Connected).0,
        vec![state(hb, CallState::Connected)]
    );
}

#[test]
fn glare_between_two_preconnect_callers_connects_one_call_without_preconnect() {
    let mut net = pre_net(&[Alice, Bob]);
    let (ha, alice_outs) = invite(&mut net, Alice, Bob, CallKind::Video, LOW);
    let (hb, bob_outs) = invite(&mut net, Bob, Alice, CallKind::Video, HIGH);
    let at_alice = net.recv(Alice, Bob, &bob_outs.message("invite"));
    let at_bob = net.recv(Bob, Alice, &alice_outs.message("invite"));
    assert_eq!(
        at_alice.0,
        vec![send_all(Alice, Bob, LOW, alice_outs.message("invite").body)]
    );
    let op = at_bob.sdp_op();
    assert!(
        !at_bob
            .0
            .iter()
            .any(|o| *o == sending(hb, false) || *o == sending(hb, true)),
        "bob's senders were never emptied: {at_bob:#?}"
    );
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, hb, EffectResult::AnswerCreated { op, sdp });
    let produced = net.recv(Alice, Bob, &outs.message("answer"));
    assert_eq!(
        produced.0[2..],
        [state(ha, CallState::Connecting)],
        "alice never asked anyone, so her senders were never emptied"
    );
    net.feed(
        Alice,
        ha,
        EffectResult::AnswerApplied {
            op: produced.sdp_op(),
        },
    );
    assert_eq!(
        ice(&mut net, Alice, ha, IceState::Connected).0,
        vec![state(ha, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Bob, hb, IceState::Connected).0,
        vec![state(hb, CallState::Connected)]
    );
}

// ----- messages that do not fit ----------------------------------------------------------------------

#[test]
fn a_preconnect_from_anyone_but_the_caller_is_refused_and_changes_nothing() {
    let mut net = pre_net(&[Alice, Tab2, Bob, Carol]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let b = rung.on(Bob);
    // alice's other tab.
    assert_eq!(
        net.recv(Bob, Tab2, &msg_to(Tab2, Bob, ID, Body::Preconnect))
            .0,
        vec![error(
            Some(b),
            CallError::WrongSender {
                call_id: ID,
                from: user(Alice)
            }
        )]
    );
    // Another user.
    assert_eq!(
        net.recv(Bob, Carol, &msg_to(Carol, Bob, ID, Body::Preconnect))
            .0,
        vec![error(
            Some(b),
            CallError::WrongSender {
                call_id: ID,
                from: user(Carol)
            }
        )]
    );
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    // The real one still works.
    take_preconnect(&mut net, Bob, b, rung.told(Bob));
    // A second one is out of place.
    assert_eq!(
        net.recv(Bob, Alice, &rung.told(Bob).message("preconnect"))
            .0,
        vec![unexpected(b, "preconnect", CallState::Ringing)]
    );
}

#[test]
fn an_unsolicited_preconnect_is_refused_and_changes_nothing() {
    // The invite did not offer it (alice has it off), so bob never said he would.
    let mut net = Net::with_config(&[Alice, Bob], |c| {
        c.preconnect = c.user_id.as_str() == "bob"
    });
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    assert_eq!(
        net.recv(Bob, Alice, &msg_to(Alice, Bob, ID, Body::Preconnect))
            .0,
        vec![unexpected(b, "preconnect", CallState::Ringing)]
    );
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    // Nor to a callee with preconnect off, nor to the caller.
    let mut net = Net::with_config(&[Alice, Bob], |c| {
        c.preconnect = c.user_id.as_str() == "alice"
    });
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    assert_eq!(
        net.recv(Bob, Alice, &msg_to(Alice, Bob, ID, Body::Preconnect))
            .0,
        vec![unexpected(b, "preconnect", CallState::Ringing)]
    );
    assert_eq!(
        net.recv(Alice, Bob, &msg_to(Bob, Alice, ID, Body::Preconnect))
            .0,
        vec![unexpected(a, "preconnect", CallState::Ringing)]
    );
    // A preconnect answer nobody asked for is refused too.
    assert_eq!(
        net.recv(
            Alice,
            Bob,
            &msg_to(
                Bob,
                Alice,
                ID,
                Body::PreconnectAnswer {
                    sdp: Bob.answer_sdp()
                }
            )
        )
        .0,
        vec![unexpected(a, "preconnect-answer", CallState::Ringing)]
    );
    // The call goes on as usual.
    answer_and_connect(&mut net, Alice, Bob, a, b, true);
}

#[test]
fn a_duplicate_preconnect_answer_is_refused_and_changes_nothing() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let a = rung.a;
    let copy = msg_to(
        Bob,
        Alice,
        ID,
        Body::PreconnectAnswer {
            sdp: Bob.answer_sdp(),
        },
    );
    assert_eq!(
        net.recv(Alice, Bob, &copy).0,
        vec![unexpected(a, "preconnect-answer", CallState::Ringing)]
    );
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    // A preconnect answer from the device not asked is refused as well.
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let stray = msg_to(
        Laptop,
        Alice,
        ID,
        Body::PreconnectAnswer {
            sdp: Laptop.answer_sdp(),
        },
    );
    assert_eq!(
        net.recv(Alice, Laptop, &stray).0,
        vec![unexpected(rung.a, "preconnect-answer", CallState::Ringing)]
    );
}

#[test]
fn an_accept_from_a_device_that_did_not_preconnect_is_refused_and_changes_nothing() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let a = rung.a;
    assert_eq!(
        net.recv(Alice, Laptop, &msg_to(Laptop, Alice, ID, Body::Accept))
            .0,
        vec![unexpected(a, "accept", CallState::Ringing)]
    );
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    // Nor an accept from a device never asked, nor a reoffer at the caller.
    let mut net = Net::with_config(&[Alice, Bob], |c| {
        c.preconnect = c.user_id.as_str() == "alice"
    });
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    assert_eq!(
        net.recv(Alice, Bob, &msg_to(Bob, Alice, ID, Body::Accept))
            .0,
        vec![unexpected(rung.a, "accept", CallState::Ringing)]
    );
    assert_eq!(
        net.recv(
            Alice,
            Bob,
            &msg_to(Bob, Alice, ID, Body::Reoffer { sdp: OFFER.into() })
        )
        .0,
        vec![unexpected(rung.a, "reoffer", CallState::Ringing)]
    );
}

#[test]
fn a_reoffer_to_a_device_that_has_not_answered_is_refused() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let b = rung.on(Bob);
    assert_eq!(
        net.recv(
            Bob,
            Alice,
            &msg_to(Alice, Bob, ID, Body::Reoffer { sdp: OFFER.into() })
        )
        .0,
        vec![unexpected(b, "reoffer", CallState::Ringing)]
    );
}

// ----- copies ---------------------------------------------------------------------------------------
//
// The relay may deliver a message twice (the simulation's networks do): a copy must not undo
// what the first did.

#[test]
fn a_copy_of_the_accept_after_the_call_connected_changes_nothing() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = preconnect(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    let outs = accept(&mut net, Bob, b, true);
    net.recv(Alice, Bob, &outs.message("accept"));
    assert_eq!(net.state(Alice, a), CallState::Connected);
    let stats_at = net.poll_timeout(Alice);
    net.advance(200);
    let copy = net.recv(Alice, Bob, &outs.message("accept"));
    // At most the select-answer again (the first may have been lost).
    assert!(
        copy.0
            .iter()
            .all(|o| *o == send_all(Alice, Bob, ID, select(Bob))),
        "{copy:#?}"
    );
    assert_eq!(net.state(Alice, a), CallState::Connected);
    assert_eq!(
        net.poll_timeout(Alice),
        stats_at,
        "no connect deadline armed again"
    );
}

#[test]
fn a_copy_of_the_reoffer_does_not_reset_the_new_connection() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let (a, l) = (rung.a, rung.on(Laptop));
    let outs = answer(&mut net, Laptop, l, true);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    let op = produced.sdp_op();
    let sdp = "v=0\r\nm=audio reoffer".to_string();
    let reoffer = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let at_laptop = net.recv(Laptop, Alice, &reoffer.message("reoffer"));
    let rop = at_laptop.sdp_op();
    let sdp = "v=0 laptop reanswer".to_string();
    let answered = net.feed(Laptop, l, EffectResult::AnswerCreated { op: rop, sdp });
    let applied = net.recv(Alice, Laptop, &answered.message("negotiate"));
    net.feed(
        Alice,
        a,
        EffectResult::AnswerApplied {
            op: applied.sdp_op(),
        },
    );
    // The copy comes: the laptop's connection, already answered, stays.
    net.recv(Laptop, Alice, &reoffer.message("reoffer"))
        .assert_empty();
    assert_eq!(
        ice(&mut net, Laptop, l, IceState::Connected).0,
        vec![state(l, CallState::Connected)]
    );
    assert_eq!(
        ice(&mut net, Alice, a, IceState::Connected).0,
        vec![state(a, CallState::Connected)]
    );
}

#[test]
fn a_reoffer_after_the_preconnected_path_went_down_does_not_restart_the_new_connection() {
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let (a, l) = (rung.a, rung.on(Laptop));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Alice, a, IceState::Disconnected);
    let outs = answer(&mut net, Laptop, l, true);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    let op = produced.sdp_op();
    let sdp = "v=0\r\nm=audio reoffer".to_string();
    let reoffer = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let at_laptop = net.recv(Laptop, Alice, &reoffer.message("reoffer"));
    let rop = at_laptop.sdp_op();
    let sdp = "v=0 laptop reanswer".to_string();
    let answered = net.feed(Laptop, l, EffectResult::AnswerCreated { op: rop, sdp });
    let applied = net.recv(Alice, Laptop, &answered.message("negotiate"));
    assert_eq!(
        net.feed(
            Alice,
            a,
            EffectResult::AnswerApplied {
                op: applied.sdp_op(),
            },
        )
        .0,
        vec![],
        "the new connection has no trouble to restart from"
    );
}

// ----- races ----------------------------------------------------------------------------------------
//
// Messages of different devices race each other, and the relay may deliver one message after a
// later one (the simulation's networks do both).

#[test]
fn a_preconnected_device_that_lost_the_race_never_reports_connected() {
    // The laptop's answer reaches alice first; the phone, preconnected with its path up, accepts
    // before her select-answer reaches it. Only the laptop's call may connect.
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let (a, b, l) = (rung.a, rung.on(Bob), rung.on(Laptop));
    ice(&mut net, Alice, a, IceState::Connected);
    ice(&mut net, Bob, b, IceState::Connected);
    let outs = answer(&mut net, Laptop, l, true);
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    assert_eq!(produced.0[0], effect(a, Effect::ResetPeerConnection));

    let accepted = accept(&mut net, Bob, b, true);
    assert_eq!(
        accepted.0[..2],
        [send(Bob, Alice, ID, Body::Accept), sending(b, true)]
    );
    net.recv(Alice, Bob, &accepted.message("accept"))
        .assert_empty();
    let told = net.recv(Bob, Alice, &produced.message("select-answer"));
    assert_eq!(
        states_of(&[&accepted, &told], b),
        vec![CallState::Ended(EndReason::AnsweredElsewhere)],
        "the phone showed connected for a call alice gave the laptop: {accepted:#?}"
    );
}

#[test]
fn an_accept_that_overtakes_the_preconnect_answer_is_taken_once_that_answer_is() {
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let (a, b) = (rung.a, rung.on(Bob));
    let op = take_preconnect(&mut net, Bob, b, rung.told(Bob));
    let sdp = Bob.answer_sdp();
    let answered = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    let accepted = accept(&mut net, Bob, b, true);
    // The accept arrives first, then the answer it followed.
    let early = net.recv(Alice, Bob, &accepted.message("accept"));
    let applied = net.recv(Alice, Bob, &answered.message("preconnect-answer"));
    let aop = applied.sdp_op();
    let both = Outs([early.0, applied.0].concat());
    assert_eq!(
        both.0,
        vec![
            effect(
                a,
                Effect::ApplyAnswer {
                    op: aop,
                    sdp: Bob.answer_sdp()
                }
            ),
            send_all(Alice, Bob, ID, select(Bob)),
            state(a, CallState::Connecting),
            sending(a, true),
        ],
        "the call is answered, not left ringing while bob's side goes on"
    );
}

#[test]
fn the_preconnected_event_is_for_a_ringing_call_only() {
    // bob accepts while his preconnect answer is made and his media opens: when the path comes
    // up, the call no longer rings.
    let mut net = pre_net(&[Alice, Bob]);
    let rung = ring_devices(&mut net, &[Bob], CallKind::Video);
    let b = rung.on(Bob);
    let op = take_preconnect(&mut net, Bob, b, rung.told(Bob));
    net.ok(Bob, b, Command::Accept { video: true });
    let sdp = Bob.answer_sdp();
    net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(net.state(Bob, b), CallState::Connecting);
    ice(&mut net, Bob, b, IceState::Connected).assert_empty();
}

#[test]
fn another_devices_candidates_do_not_go_to_the_preconnected_connection() {
    // The laptop's candidates overtake its answer; alice's connection is the phone's.
    let mut net = pre_net(&[Alice, Bob, Laptop]);
    let rung = preconnect(&mut net, &[Bob, Laptop], CallKind::Video);
    let l = rung.on(Laptop);
    let outs = answer(&mut net, Laptop, l, true);
    net.feed(Laptop, l, EffectResult::LocalCandidate(cand(5)));
    let flushed = net.feed(Laptop, l, EffectResult::LocalCandidatesComplete);
    net.recv(Alice, Laptop, &flushed.message("candidates"))
        .assert_empty();
    let produced = net.recv(Alice, Laptop, &outs.message("answer"));
    assert_eq!(produced.0[0], effect(rung.a, Effect::ResetPeerConnection));
}
