//! Call waiting and hold: a second invite during a call, declining or taking it, holding and
//! resuming, what a held call refuses, and how hold meets stats, ICE recovery and endings.

use super::*;
use peercall::call::Availability;

/// alice, bob's phone and carol, each with call waiting on.
fn waiting_net() -> Net {
    Net::with_config(&[Alice, Bob, Carol], |c| c.call_waiting = true)
}

/// The media state of a call with nothing changed but the hold.
fn held(on_hold: bool) -> MediaState {
    MediaState {
        on_hold,
        ..MediaState::default()
    }
}

/// A `media` body with only the hold set (a video call with camera and microphone on).
fn hold_body(seq: u32, on_hold: bool) -> Body {
    Body::Media {
        seq,
        state: held(on_hold),
    }
}

fn sending(call: CallHandle, sending: bool) -> Output {
    effect(call, Effect::SetSending { sending })
}

/// What alice's hold (or resume) of `c` gives on her side (`outs`) and on bob's (`told`): her
/// senders, her `localMedia`, the `media` message with sequence `seq`; his `remoteMedia`, his
/// senders.
fn assert_hold_told(c: &Connected, outs: &Outs, told: &Outs, seq: u32, on_hold: bool) {
    assert_eq!(
        outs.0,
        vec![
            sending(c.a, !on_hold),
            event(Event::LocalMedia {
                call: c.a,
                state: held(on_hold)
            }),
            send(Alice, Bob, ID, hold_body(seq, on_hold)),
        ]
    );
    assert_eq!(
        told.0,
        vec![
            event(Event::RemoteMedia {
                call: c.b,
                state: held(on_hold)
            }),
            sending(c.b, !on_hold),
        ]
    );
}

/// alice and bob connected, then carol's call rings at bob as a waiting call.
fn waiting_call(kind: CallKind) -> (Net, Connected, Ringing) {
    let mut net = waiting_net();
    let ab = connect(&mut net, Alice, Bob, kind, ID);
    let carol = ring(&mut net, Carol, Bob, kind, ID_CAROL);
    (net, ab, carol)
}

/// `who` holds (or resumes) `call`, and the `media` message reaches `peer`: both outputs.
fn hold_and_tell(
    net: &mut Net,
    who: Who,
    peer: Who,
    call: CallHandle,
    command: Command,
) -> (Outs, Outs) {
    let outs = net.ok(who, call, command);
    let told = net.recv(peer, who, &outs.message("media"));
    (outs, told)
}

fn sample(packets: u64) -> StatsSample {
    StatsSample {
        rtt_ms: Some(40.0),
        jitter_ms: Some(3.0),
        packets_received: packets,
        packets_lost: 0,
        bytes_received: packets * 200,
    }
}

/// Runs `who`'s timers up to `until`, answering every stats request of `call` with a sample of
/// `packets` packets in all: every output, the samples' included.
fn stats_until(net: &mut Net, who: Who, call: CallHandle, until: Millis, packets: u64) -> Outs {
    let mut all = Vec::new();
    while let Some(at) = net.poll_timeout(who).filter(|&at| at <= until) {
        net.advance_to(at.max(net.now));
        let outs = net.timeout(who);
        let asked = outs.0.contains(&effect(call, Effect::CollectStats));
        all.extend(outs.0);
        if asked {
            all.extend(net.feed(who, call, EffectResult::Stats(sample(packets))).0);
        }
    }
    net.advance_to(until);
    Outs(all)
}

fn qualities(outs: &Outs) -> Vec<peercall::call::Quality> {
    outs.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Quality { quality, .. } => Some(*quality),
            _ => None,
        })
        .collect()
}

fn states_in(outs: &Outs) -> Vec<CallState> {
    outs.events()
        .into_iter()
        .filter_map(|e| match e {
            Event::StateChanged { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

// ----- call waiting ----------------------------------------------------------------------------

#[test]
fn with_call_waiting_on_a_second_invite_rings_as_waiting_and_the_call_goes_on() {
    let mut net = waiting_net();
    let ab = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    assert!(
        !net.info(Bob, ab.b).waiting,
        "an answered call is not waiting"
    );
    let (c, outs) = invite(&mut net, Carol, Bob, CallKind::Audio, ID_CAROL);
    let outs = net.recv(Bob, Carol, &outs.message("invite"));
    let b2 = outs.incoming();
    assert_eq!(
        outs.0,
        vec![
            event(Event::Incoming {
                call: b2,
                from: user(Carol),
                kind: CallKind::Audio,
                metadata: None,
                waiting: true,
            }),
            send(Bob, Carol, ID_CAROL, Body::Ringing { preconnect: false }),
        ],
        "it rings, and nothing touches the call under way"
    );
    net.deliver_all(Bob, &outs);
    assert_eq!(net.state(Carol, c), CallState::Ringing);
    let info = net.info(Bob, b2);
    assert!(info.waiting);
    assert_eq!(info.state, CallState::Ringing);
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
    assert!(!net.info(Bob, ab.b).waiting);
    assert_eq!(net.machine(Bob).active_call(), Some(ab.b));
    // Once the other call is over, it is an ordinary ringing call.
    let outs = net.ok(Alice, ab.a, Command::Hangup);
    net.deliver_all(Alice, &outs);
    assert_eq!(
        net.state(Bob, ab.b),
        CallState::Ended(EndReason::RemoteHangup)
    );
    assert!(!net.info(Bob, b2).waiting);
    assert_eq!(net.machine(Bob).active_call(), None);
}

#[test]
fn an_invite_that_rang_before_any_call_is_not_waiting() {
    let mut net = waiting_net();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let b = r.on(Bob);
    assert!(!net.info(Bob, b).waiting);
    let log = &net.node(Bob).log;
    assert!(log
        .iter()
        .any(|o| matches!(o, Output::Event(Event::Incoming { waiting: false, .. }))));
}

#[test]
fn declining_a_waiting_call_tells_its_caller_busy_and_ends_rejected_not_missed() {
    for command in [Command::Reject, Command::Hangup] {
        let (mut net, ab, r) = waiting_call(CallKind::Audio);
        let b2 = r.on(Bob);
        let outs = net.ok(Bob, b2, command.clone());
        let expected = [
            vec![send(Bob, Carol, ID_CAROL, reject(EndReason::Busy))],
            ended(b2, EndReason::Rejected, false),
        ]
        .concat();
        assert_eq!(outs.0, expected, "{command:?}");
        let outs = net.recv(Carol, Bob, &outs.message("reject"));
        let expected = [
            vec![send_all(Carol, Bob, ID_CAROL, hangup(EndReason::Busy))],
            ended(r.caller, EndReason::Busy, false),
        ]
        .concat();
        assert_eq!(outs.0, expected, "{command:?}: the caller hears busy");
        // Carol's hangup for every device of bob is expected and quiet.
        net.deliver_all(Carol, &outs);
        assert_eq!(net.state(Bob, ab.b), CallState::Connected);
        assert_eq!(net.state(Alice, ab.a), CallState::Connected);
    }
}

#[test]
fn a_waiting_call_whose_caller_gives_up_is_missed() {
    let (mut net, ab, r) = waiting_call(CallKind::Audio);
    let b2 = r.on(Bob);
    let outs = net.ok(Carol, r.caller, Command::Hangup);
    let produced = net.recv(Bob, Carol, &outs.message("hangup"));
    assert_eq!(produced.0, ended(b2, EndReason::Cancelled, true));
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
}

#[test]
fn accepting_a_waiting_call_while_the_current_one_goes_on_is_already_in_call() {
    let (mut net, ab, r) = waiting_call(CallKind::Video);
    let b2 = r.on(Bob);
    assert_eq!(
        net.cmd(Bob, b2, Command::Accept { video: true }),
        Err(CommandError::AlreadyInCall)
    );
    assert_eq!(CommandError::AlreadyInCall.code(), "already-in-call");
    net.drain(Bob).assert_empty();
    assert_eq!(net.state(Bob, b2), CallState::Ringing);
    assert!(net.info(Bob, b2).waiting);
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
    // Placing a call is refused the same way.
    let now = net.now;
    assert_eq!(
        net.machine(Bob)
            .place_call(now, "dave", CallKind::Audio, LOW, None),
        Err(CommandError::AlreadyInCall)
    );
}

#[test]
fn ending_the_current_call_then_accepting_the_waiting_one() {
    let (mut net, ab, r) = waiting_call(CallKind::Video);
    let b2 = r.on(Bob);
    let outs = net.ok(Bob, ab.b, Command::Hangup);
    assert_eq!(
        net.recv(Alice, Bob, &outs.message("hangup")).0,
        ended(ab.a, EndReason::RemoteHangup, false)
    );
    assert!(!net.info(Bob, b2).waiting);
    answer_and_connect(&mut net, Carol, Bob, r.caller, b2, true);
    assert_eq!(net.machine(Bob).active_call(), Some(b2));
}

#[test]
fn holding_the_current_call_then_accepting_the_waiting_one() {
    let (mut net, ab, r) = waiting_call(CallKind::Video);
    let b2 = r.on(Bob);
    let (outs, told) = hold_and_tell(&mut net, Bob, Alice, ab.b, Command::Hold);
    assert_eq!(
        outs.0,
        vec![
            sending(ab.b, false),
            event(Event::LocalMedia {
                call: ab.b,
                state: held(true)
            }),
            send(Bob, Alice, ID, hold_body(1, true)),
        ]
    );
    assert_eq!(
        told.0,
        vec![
            event(Event::RemoteMedia {
                call: ab.a,
                state: held(true)
            }),
            sending(ab.a, false),
        ]
    );
    // Still waiting (another call is under way), but it may now be taken.
    assert!(net.info(Bob, b2).waiting);
    let c = answer_and_connect(&mut net, Carol, Bob, r.caller, b2, true);
    assert_eq!(
        net.machine(Bob).active_call(),
        Some(c.b),
        "the one not on hold"
    );
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
    assert!(net.info(Bob, ab.b).local_media.on_hold);
    assert!(!net.info(Bob, c.b).local_media.on_hold);
    // Nothing about the second call reached alice.
    assert_eq!(net.state(Alice, ab.a), CallState::Connected);
    assert!(net.info(Alice, ab.a).remote_media.on_hold);
}

#[test]
fn max_ringing_still_applies_to_waiting_calls() {
    let mut net = Net::with_config(&[Alice, Tab2, Bob, Carol], |c| {
        c.call_waiting = true;
        c.max_ringing = 1;
    });
    let ab = connect(&mut net, Alice, Bob, CallKind::Audio, ID);
    ring(&mut net, Carol, Bob, CallKind::Audio, ID_CAROL);
    let (_, outs) = invite(&mut net, Tab2, Bob, CallKind::Audio, LOW);
    let outs = net.recv(Bob, Tab2, &outs.message("invite"));
    assert_eq!(
        outs.0,
        vec![
            send(Bob, Tab2, LOW, reject(EndReason::Busy)),
            event(Event::BusyRejected {
                from: user(Tab2),
                kind: CallKind::Audio,
            }),
        ]
    );
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
}

#[test]
fn do_not_disturb_is_still_busy_and_missed_with_call_waiting() {
    let mut net = waiting_net();
    let ab = connect(&mut net, Alice, Bob, CallKind::Audio, ID);
    net.machine(Bob)
        .set_availability(Availability::DoNotDisturb);
    let (c, outs) = invite(&mut net, Carol, Bob, CallKind::Video, ID_CAROL);
    let outs = net.recv(Bob, Carol, &outs.message("invite"));
    assert_eq!(
        outs.0,
        vec![
            send(Bob, Carol, ID_CAROL, reject(EndReason::Busy)),
            event(Event::Missed {
                from: user(Carol),
                kind: CallKind::Video,
                metadata: None,
            }),
        ]
    );
    net.deliver_all(Bob, &outs);
    assert_eq!(net.state(Carol, c), CallState::Ended(EndReason::Busy));
    assert_eq!(net.state(Bob, ab.b), CallState::Connected);
    assert_eq!(net.machine(Bob).calls().count(), 1);
}

// ----- hold and resume -------------------------------------------------------------------------

#[test]
fn hold_tells_the_peer_both_stop_sending_and_resume_starts_both_again() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let (outs, told) = hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    assert_hold_told(&c, &outs, &told, 1, true);
    let wire = outs.message("media").to_json();
    assert!(wire.contains(r#""onHold":true"#), "{wire}");
    assert!(net.info(Alice, c.a).local_media.on_hold);
    assert!(!net.info(Alice, c.a).remote_media.on_hold);
    assert!(net.info(Bob, c.b).remote_media.on_hold);
    assert!(!net.info(Bob, c.b).local_media.on_hold);
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
    // Holding again changes nothing.
    net.ok(Alice, c.a, Command::Hold).assert_empty();

    let (outs, told) = hold_and_tell(&mut net, Alice, Bob, c.a, Command::Resume);
    assert_hold_told(&c, &outs, &told, 2, false);
    let wire = outs.message("media").to_json();
    assert!(!wire.contains("onHold"), "written only when set: {wire}");
    net.ok(Alice, c.a, Command::Resume).assert_empty();
    assert_eq!(net.info(Bob, c.b).remote_media, MediaState::default());
}

#[test]
fn when_both_sides_hold_media_flows_again_only_once_both_resume() {
    let (mut net, c) = connected_pair(CallKind::Video);
    // Both hold at once: the two `media` messages cross.
    let alice_holds = net.ok(Alice, c.a, Command::Hold);
    let bob_holds = net.ok(Bob, c.b, Command::Hold);
    assert_eq!(bob_holds.0[0], sending(c.b, false));
    // Each already stopped sending: the peer's hold changes no sender.
    let told = net.recv(Bob, Alice, &alice_holds.message("media"));
    assert_eq!(
        told.0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: held(true)
        })]
    );
    net.recv(Alice, Bob, &bob_holds.message("media"));
    // alice resumes: bob still holds, so nothing is sent yet on either side.
    let (outs, told) = hold_and_tell(&mut net, Alice, Bob, c.a, Command::Resume);
    assert!(!outs
        .effects()
        .contains(&&Effect::SetSending { sending: true }));
    assert!(told.effects().is_empty(), "{:?}", told.0);
    // bob resumes too: both send.
    let (outs, told) = hold_and_tell(&mut net, Bob, Alice, c.b, Command::Resume);
    assert_eq!(outs.0[0], sending(c.b, true));
    assert_eq!(told.0[1], sending(c.a, true));
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        let info = net.info(who, call);
        assert!(!info.local_media.on_hold && !info.remote_media.on_hold);
    }
}

#[test]
fn a_hold_message_that_arrives_late_and_out_of_order_is_ignored() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let hold = net.ok(Alice, c.a, Command::Hold).message("media");
    let resume = net.ok(Alice, c.a, Command::Resume).message("media");
    let told = net.recv(Bob, Alice, &resume);
    told.assert_empty();
    net.recv(Bob, Alice, &hold).assert_empty();
    assert!(!net.info(Bob, c.b).remote_media.on_hold);
}

#[test]
fn resume_is_refused_while_another_call_is_current_and_the_calls_can_be_switched() {
    let (mut net, ab, r) = waiting_call(CallKind::Video);
    hold_and_tell(&mut net, Bob, Alice, ab.b, Command::Hold);
    let bc = answer_and_connect(&mut net, Carol, Bob, r.caller, r.on(Bob), true);
    assert_eq!(
        net.cmd(Bob, ab.b, Command::Resume),
        Err(CommandError::AlreadyInCall)
    );
    net.drain(Bob).assert_empty();
    assert!(net.info(Bob, ab.b).local_media.on_hold);
    // Hold carol, resume alice.
    let (outs, told) = hold_and_tell(&mut net, Bob, Carol, bc.b, Command::Hold);
    assert_eq!(outs.0[0], sending(bc.b, false));
    assert_eq!(told.0[1], sending(bc.a, false));
    assert_eq!(
        net.machine(Bob)
            .active_call()
            .map(|h| h == ab.b || h == bc.b),
        Some(true)
    );
    let (outs, told) = hold_and_tell(&mut net, Bob, Alice, ab.b, Command::Resume);
    assert_eq!(outs.0[0], sending(ab.b, true));
    assert_eq!(told.0[1], sending(ab.a, true));
    assert_eq!(net.machine(Bob).active_call(), Some(ab.b));
    // Now carol's call may not be resumed, nor a call placed or a waiting call accepted.
    assert_eq!(
        net.cmd(Bob, bc.b, Command::Resume),
        Err(CommandError::AlreadyInCall)
    );
    let now = net.now;
    assert_eq!(
        net.machine(Bob)
            .place_call(now, "dave", CallKind::Audio, LOW, None),
        Err(CommandError::AlreadyInCall)
    );
    // Back again: hold alice, resume carol.
    hold_and_tell(&mut net, Bob, Alice, ab.b, Command::Hold);
    let (outs, _) = hold_and_tell(&mut net, Bob, Carol, bc.b, Command::Resume);
    assert_eq!(outs.0[0], sending(bc.b, true));
    assert_eq!(net.machine(Bob).active_call(), Some(bc.b));
}

#[test]
fn with_every_call_on_hold_another_may_be_placed() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    let now = net.now;
    let placed = net
        .machine(Alice)
        .place_call(now, "dave", CallKind::Audio, LOW, None)
        .expect("every other call is on hold");
    net.drain(Alice);
    assert_eq!(net.machine(Alice).active_call(), Some(placed));
    assert_eq!(
        net.cmd(Alice, c.a, Command::Resume),
        Err(CommandError::AlreadyInCall)
    );
    net.ok(Alice, placed, Command::Hangup);
    net.ok(Alice, c.a, Command::Resume);
}

#[test]
fn a_held_peer_may_not_resume_what_it_did_not_hold() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    // bob's resume is a no-op: his side never held, and alice's hold stands.
    net.ok(Bob, c.b, Command::Resume).assert_empty();
    assert!(net.info(Bob, c.b).remote_media.on_hold);
}

#[test]
fn screen_share_upgrade_and_device_switch_are_refused_while_held_by_either_side() {
    for kind in [CallKind::Audio, CallKind::Video] {
        let (mut net, c) = connected_pair(kind);
        hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
        for (who, call) in [(Alice, c.a), (Bob, c.b)] {
            for command in [
                Command::StartScreenShare,
                Command::UpgradeToVideo,
                Command::SwitchDevice {
                    kind: DeviceKind::Microphone,
                    device_id: "mic-2".into(),
                },
            ] {
                let refused = net.cmd(who, call, command.clone());
                assert_eq!(refused, Err(CommandError::OnHold), "{who:?} {command:?}");
                net.drain(who).assert_empty();
            }
            // Mute still works, and the hold travels with it.
            let outs = net.ok(who, call, Command::SetMuted(true));
            assert_eq!(
                outs.effects(),
                vec![&Effect::SetTrackEnabled {
                    kind: DeviceKind::Microphone,
                    enabled: false
                }]
            );
            let Body::Media { state, .. } = outs.message("media").body else {
                unreachable!()
            };
            assert!(state.audio_muted);
            assert_eq!(state.on_hold, who == Alice);
            // And so do the camera toggle (video calls) and stopping a share.
            if kind == CallKind::Video {
                net.ok(who, call, Command::SetVideoEnabled(false));
            }
            net.ok(who, call, Command::StopScreenShare);
        }
        assert_eq!(CommandError::OnHold.code(), "on-hold");
        assert!(!CommandError::OnHold.to_string().is_empty());
        // Once resumed, the same commands go through.
        hold_and_tell(&mut net, Alice, Bob, c.a, Command::Resume);
        let outs = net.ok(Bob, c.b, Command::StartScreenShare);
        assert_eq!(outs.effects(), vec![&Effect::StartScreenShare]);
    }
}

#[test]
fn hold_and_resume_need_an_answered_call_with_its_media() {
    let mut net = Net::pair();
    let invalid = |state| {
        Err(CommandError::InvalidState {
            command: "hold",
            state,
        })
    };
    // The caller before any answer, calling and ringing.
    let a = net.place(Alice, Bob, CallKind::Audio, ID);
    net.drain(Alice);
    assert_eq!(
        net.cmd(Alice, a, Command::Hold),
        invalid(CallState::Calling)
    );
    net.ok(Alice, a, Command::Hangup);
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, HIGH);
    let b = r.on(Bob);
    assert_eq!(
        net.cmd(Alice, r.caller, Command::Hold),
        invalid(CallState::Ringing)
    );
    // The callee while it rings, and once accepted while its media is not there yet.
    assert_eq!(net.cmd(Bob, b, Command::Hold), invalid(CallState::Ringing));
    assert_eq!(
        net.cmd(Bob, b, Command::Resume),
        Err(CommandError::InvalidState {
            command: "resume",
            state: CallState::Ringing
        })
    );
    net.ok(Bob, b, Command::Accept { video: false });
    assert_eq!(
        net.cmd(Bob, b, Command::Hold),
        invalid(CallState::Connecting)
    );
    net.drain(Bob).assert_empty();
    // Ended: call-ended.
    net.ok(Bob, b, Command::Hangup);
    assert_eq!(net.cmd(Bob, b, Command::Hold), Err(CommandError::CallEnded));
    assert_eq!(
        net.cmd(Bob, b, Command::Resume),
        Err(CommandError::CallEnded)
    );
    assert_eq!(
        net.cmd(Bob, CallHandle(999), Command::Hold),
        Err(CommandError::UnknownCall)
    );
}

#[test]
fn a_callee_that_holds_before_its_answer_is_out_tells_the_caller_right_after_it() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(Bob, b, media(true));
    let op = outs.sdp_op();
    // Media is there, the answer is not out yet: the hold waits for it.
    let outs = net.ok(Bob, b, Command::Hold);
    assert_eq!(
        outs.0,
        vec![
            sending(b, false),
            event(Event::LocalMedia {
                call: b,
                state: held(true)
            }),
        ]
    );
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    assert_eq!(
        outs.sends()
            .iter()
            .map(|(_, m)| m.body.clone())
            .collect::<Vec<_>>(),
        vec![
            Body::Answer {
                sdp: Bob.answer_sdp()
            },
            hold_body(1, true)
        ]
    );
    net.deliver_all(Bob, &outs);
    assert!(net.info(Alice, r.caller).remote_media.on_hold);
}

// ----- hold meets stats, ICE and endings -------------------------------------------------------

#[test]
fn a_held_call_reports_no_quality_and_its_silence_is_not_a_stall() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    // Media flows.
    let outs = stats_until(&mut net, Alice, c.a, connected_at + 2_000, 400);
    assert_eq!(qualities(&outs).len(), 1);
    let outs = stats_until(&mut net, Bob, c.b, connected_at + 2_000, 400);
    assert_eq!(qualities(&outs).len(), 1);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    // Far longer than the stall limit with not one new packet, on both sides.
    let until = net.now + 20_000;
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        let outs = stats_until(&mut net, who, call, until, 400);
        assert!(
            outs.0.contains(&effect(call, Effect::CollectStats)),
            "{who:?}: stats are still sampled"
        );
        assert!(qualities(&outs).is_empty(), "{who:?}: {:?}", outs.0);
        assert!(states_in(&outs).is_empty(), "{who:?}: {:?}", outs.0);
        assert_eq!(net.state(who, call), CallState::Connected);
    }
    // Resumed: quality again, rated from the resume on.
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Resume);
    let until = net.now + 2_000;
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        let outs = stats_until(&mut net, who, call, until, 500);
        let q = qualities(&outs);
        assert_eq!(q.len(), 1, "{who:?}: {:?}", outs.0);
        assert_eq!(
            q[0].packets, 100,
            "{who:?}: only the packets since the hold count, not the call's total"
        );
        assert!(states_in(&outs).is_empty(), "{who:?}: {:?}", outs.0);
    }
}

#[test]
fn after_a_resume_media_that_never_comes_back_is_not_taken_for_a_recovery() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    stats_until(&mut net, Alice, c.a, connected_at + 2_000, 400);
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::IceStateChanged(IceState::Disconnected),
    );
    assert_eq!(outs.0, vec![state(c.a, CallState::Reconnecting)]);
    net.ok(Alice, c.a, Command::Hold);
    net.ok(Alice, c.a, Command::Resume);
    // Nothing new arrives after the resume (up to the next stats sample): the call's old total
    // is no sign of media.
    let until = net.now + 2_000;
    let outs = stats_until(&mut net, Alice, c.a, until, 400);
    assert!(
        !states_in(&outs).contains(&CallState::Connected),
        "{:?}",
        outs.0
    );
    assert_eq!(net.state(Alice, c.a), CallState::Reconnecting);
}

#[test]
fn restart_ice_during_hold_keeps_the_hold() {
    let (mut net, c) = connected_pair(CallKind::Video);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    let outs = net.ok(Bob, c.b, Command::RestartIce);
    let op = outs.sdp_op();
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::OfferCreated {
            op,
            sdp: "v=0 restart".into(),
        },
    );
    let outs = net.recv(Alice, Bob, &outs.message("negotiate"));
    let aop = outs.sdp_op();
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::AnswerCreated {
            op: aop,
            sdp: "v=0 restart answer".into(),
        },
    );
    let outs = net.recv(Bob, Alice, &outs.message("negotiate"));
    let bop = outs.sdp_op();
    net.feed(Bob, c.b, EffectResult::AnswerApplied { op: bop })
        .assert_empty();
    for (who, call) in [(Alice, c.a), (Bob, c.b)] {
        assert_eq!(net.state(who, call), CallState::Connected);
    }
    assert!(net.info(Alice, c.a).local_media.on_hold);
    assert!(net.info(Bob, c.b).remote_media.on_hold);
    // No sender changed on the way.
    for who in [Alice, Bob] {
        let log = &net.node(who).log;
        let last = log.iter().rev().find_map(|o| match o {
            Output::Effect {
                effect: Effect::SetSending { sending },
                ..
            } => Some(*sending),
            _ => None,
        });
        assert_eq!(last, Some(false), "{who:?}");
    }
}

#[test]
fn ice_recovery_during_hold_ends_connected_at_once_and_keeps_the_hold() {
    let mut net = Net::with_config(&[Alice, Bob], |c| c.stats_interval_ms = 1_000);
    let c = connect(&mut net, Alice, Bob, CallKind::Video, ID);
    let connected_at = net.now;
    // Media has flowed on both sides, so normally ICE's word alone would not do.
    stats_until(&mut net, Alice, c.a, connected_at + 1_000, 300);
    stats_until(&mut net, Bob, c.b, connected_at + 1_000, 300);
    hold_and_tell(&mut net, Bob, Alice, c.b, Command::Hold);
    let down = EffectResult::IceStateChanged(IceState::Disconnected);
    assert_eq!(
        net.feed(Alice, c.a, down.clone()).0,
        vec![state(c.a, CallState::Reconnecting)]
    );
    net.feed(Bob, c.b, down);
    let down_at = net.now;
    // The caller restarts ICE after the delay (the stats in between change nothing).
    let outs = stats_until(&mut net, Alice, c.a, down_at + 2_000, 300);
    assert!(qualities(&outs).is_empty());
    let op = outs.sdp_op();
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
    let answer = net
        .feed(
            Bob,
            c.b,
            EffectResult::AnswerCreated {
                op: bop,
                sdp: "v=0 restart answer".into(),
            },
        )
        .message("negotiate");
    let aop = net.recv(Alice, Bob, &answer).sdp_op();
    net.feed(Alice, c.a, EffectResult::AnswerApplied { op: aop });
    let up = EffectResult::IceStateChanged(IceState::Connected);
    assert_eq!(
        net.feed(Alice, c.a, up.clone()).0,
        vec![state(c.a, CallState::Connected)],
        "no media flows on hold: ICE's word is all there is"
    );
    assert_eq!(
        net.feed(Bob, c.b, up).0,
        vec![state(c.b, CallState::Connected)]
    );
    assert!(net.info(Bob, c.b).local_media.on_hold);
    assert!(net.info(Alice, c.a).remote_media.on_hold);
    // It stays connected through the hold, and after the resume media counts again.
    let until = net.now + 10_000;
    let outs = stats_until(&mut net, Alice, c.a, until, 300);
    assert!(states_in(&outs).is_empty(), "{:?}", outs.0);
    let (outs, told) = hold_and_tell(&mut net, Bob, Alice, c.b, Command::Resume);
    assert_eq!(outs.0[0], sending(c.b, true));
    assert_eq!(told.0[1], sending(c.a, true));
    let until = net.now + 1_000;
    let outs = stats_until(&mut net, Alice, c.a, until, 500);
    assert_eq!(qualities(&outs).len(), 1);
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
}

#[test]
fn a_held_call_ends_normally_from_either_side() {
    for (who, peer) in [(Alice, Bob), (Bob, Alice)] {
        let (mut net, c) = connected_pair(CallKind::Audio);
        hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
        let (mine, theirs) = if who == Alice { (c.a, c.b) } else { (c.b, c.a) };
        let outs = net.ok(who, mine, Command::Hangup);
        let expected = [
            vec![send(who, peer, ID, hangup(EndReason::Hangup))],
            ended(mine, EndReason::Hangup, false),
        ]
        .concat();
        assert_eq!(outs.0, expected, "{who:?} hangs up");
        assert_eq!(
            net.recv(peer, who, &outs.message("hangup")).0,
            ended(theirs, EndReason::RemoteHangup, false)
        );
        assert_eq!(
            net.cmd(who, mine, Command::Resume),
            Err(CommandError::CallEnded)
        );
    }
}

#[test]
fn the_held_call_ending_leaves_the_current_one_alone_and_it_can_then_be_held_and_resumed() {
    let (mut net, ab, r) = waiting_call(CallKind::Audio);
    hold_and_tell(&mut net, Bob, Alice, ab.b, Command::Hold);
    let bc = answer_and_connect(&mut net, Carol, Bob, r.caller, r.on(Bob), true);
    // alice, on hold, hangs up.
    let outs = net.ok(Alice, ab.a, Command::Hangup);
    let told = net.recv(Bob, Alice, &outs.message("hangup"));
    assert_eq!(told.0, ended(ab.b, EndReason::RemoteHangup, false));
    assert_eq!(net.state(Bob, bc.b), CallState::Connected);
    assert_eq!(net.machine(Bob).active_call(), Some(bc.b));
    hold_and_tell(&mut net, Bob, Carol, bc.b, Command::Hold);
    let (outs, _) = hold_and_tell(&mut net, Bob, Carol, bc.b, Command::Resume);
    assert_eq!(outs.0[0], sending(bc.b, true));
}

#[test]
fn glare_while_a_call_is_on_hold_merges_and_the_held_call_stays_held() {
    let mut net = Net::with_config(&[Alice, Bob, Carol], |c| c.call_waiting = true);
    let ab = connect(&mut net, Alice, Bob, CallKind::Audio, ID);
    hold_and_tell(&mut net, Alice, Bob, ab.a, Command::Hold);
    // alice calls carol as carol calls alice: carol's id is the lower, so alice's call merges
    // into carol's.
    let (a2, a_outs) = invite(&mut net, Alice, Carol, CallKind::Audio, HIGH);
    let (c2, c_outs) = invite(&mut net, Carol, Alice, CallKind::Audio, LOW);
    let at_carol = net.recv(Carol, Alice, &a_outs.message("invite"));
    let at_alice = net.recv(Alice, Carol, &c_outs.message("invite"));
    assert_eq!(
        net.state(Alice, a2),
        CallState::Connecting,
        "merged, accepted"
    );
    assert_eq!(net.info(Alice, a2).call_id, LOW);
    net.deliver_all(Carol, &at_carol);
    // alice's merged call answers carol's offer (its media is there already).
    let op = at_alice.sdp_op();
    net.deliver_all(Alice, &at_alice);
    let outs = net.feed(
        Alice,
        a2,
        EffectResult::AnswerCreated {
            op,
            sdp: Alice.answer_sdp(),
        },
    );
    let produced = net.recv(Carol, Alice, &outs.message("answer"));
    let apply = produced.sdp_op();
    net.deliver_all(Carol, &produced);
    net.feed(Carol, c2, EffectResult::AnswerApplied { op: apply });
    let up = EffectResult::IceStateChanged(IceState::Connected);
    net.feed(Carol, c2, up.clone());
    net.feed(Alice, a2, up);
    assert_eq!(net.state(Alice, a2), CallState::Connected);
    assert_eq!(net.state(Carol, c2), CallState::Connected);
    // alice-bob is still held on both sides, and the merged call is alice's current one.
    assert!(net.info(Alice, ab.a).local_media.on_hold);
    assert!(net.info(Bob, ab.b).remote_media.on_hold);
    assert_eq!(net.machine(Alice).active_call(), Some(a2));
    assert_eq!(
        net.cmd(Alice, ab.a, Command::Resume),
        Err(CommandError::AlreadyInCall)
    );
}

#[test]
fn a_losing_device_that_holds_does_not_put_the_winners_call_on_hold() {
    // Both of bob's devices answer; the laptop holds at once, and its `media` overtakes every
    // answer on the way to alice. The phone's answer wins: the laptop's hold is no part of it.
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let (phone, laptop) = (r.on(Bob), r.on(Laptop));
    let phone_answer = answer(&mut net, Bob, phone, false);
    let laptop_answer = answer(&mut net, Laptop, laptop, false);
    let laptop_hold = net.ok(Laptop, laptop, Command::Hold);
    net.recv(Alice, Laptop, &laptop_hold.message("media"));
    let produced = net.recv(Alice, Bob, &phone_answer.message("answer"));
    let apply = produced.sdp_op();
    net.deliver_all(Alice, &produced);
    net.recv(Alice, Laptop, &laptop_answer.message("answer"));
    net.feed(Alice, r.caller, EffectResult::AnswerApplied { op: apply });
    let info = net.info(Alice, r.caller);
    assert!(
        !info.remote_media.on_hold,
        "alice took the phone's answer, and the phone never held"
    );
    let senders = net.node(Alice).log.iter().any(|o| {
        matches!(
            o,
            Output::Effect {
                effect: Effect::SetSending { sending: false },
                ..
            }
        )
    });
    assert!(!senders, "alice never stopped sending to the phone");
    // The phone's own media state still reaches alice afterwards.
    let outs = net.ok(Bob, phone, Command::Hold);
    net.recv(Alice, Bob, &outs.message("media"));
    assert!(net.info(Alice, r.caller).remote_media.on_hold);
}

#[test]
fn a_hold_that_overtakes_the_winning_answer_still_applies() {
    let mut net = Net::trio();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let phone = r.on(Bob);
    let phone_answer = answer(&mut net, Bob, phone, true);
    let hold = net.ok(Bob, phone, Command::Hold).message("media");
    // The hold reaches alice first (twice), then the answer.
    net.recv(Alice, Bob, &hold).assert_empty();
    net.recv(Alice, Bob, &hold).assert_empty();
    let produced = net.recv(Alice, Bob, &phone_answer.message("answer"));
    let a = r.caller;
    assert!(
        produced.0.ends_with(&[
            event(Event::RemoteMedia {
                call: a,
                state: held(true)
            }),
            sending(a, false),
        ]),
        "{:#?}",
        produced.0
    );
    assert!(net.info(Alice, a).remote_media.on_hold);
    // Later states of the phone still count, earlier ones do not.
    net.recv(Alice, Bob, &hold).assert_empty();
    let resume = net.ok(Bob, phone, Command::Resume).message("media");
    let told = net.recv(Alice, Bob, &resume);
    assert_eq!(told.0[1], sending(a, true));
}

#[test]
fn a_stall_seen_just_before_the_hold_message_is_forgiven_once_it_arrives() {
    // alice holds and stops sending at once; her `media` message is slow. bob's stats see the
    // silence first and take it for a dropped path. Once he hears of the hold, the silence is
    // explained: he is connected again, and the call does not end `ice-failed` for it.
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    stats_until(&mut net, Bob, c.b, connected_at + 2_000, 400);
    let hold = net.ok(Alice, c.a, Command::Hold).message("media");
    let outs = stats_until(&mut net, Bob, c.b, connected_at + 4_000, 400);
    assert_eq!(states_in(&outs), vec![CallState::Reconnecting]);
    let told = net.recv(Bob, Alice, &hold);
    assert!(
        told.0.contains(&state(c.b, CallState::Connected)),
        "{:#?}",
        told.0
    );
    let until = net.now + 60_000;
    let outs = stats_until(&mut net, Bob, c.b, until, 400);
    assert!(states_in(&outs).is_empty(), "{:#?}", outs.0);
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn a_path_that_ice_reports_down_stays_down_when_the_call_is_held() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.feed(
        Bob,
        c.b,
        EffectResult::IceStateChanged(IceState::Disconnected),
    );
    assert_eq!(outs.0, vec![state(c.b, CallState::Reconnecting)]);
    let (_, told) = hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    assert!(states_in(&told).is_empty(), "{:#?}", told.0);
    assert_eq!(net.state(Bob, c.b), CallState::Reconnecting);
    let outs = net.feed(Bob, c.b, EffectResult::IceStateChanged(IceState::Connected));
    assert_eq!(outs.0, vec![state(c.b, CallState::Connected)]);
}

#[test]
fn a_stall_is_forgiven_by_a_hold_on_either_side() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    stats_until(&mut net, Bob, c.b, connected_at + 2_000, 400);
    let hold = net.ok(Alice, c.a, Command::Hold).message("media");
    stats_until(&mut net, Bob, c.b, connected_at + 4_000, 400);
    assert_eq!(net.state(Bob, c.b), CallState::Reconnecting);
    // bob holds too, still unaware of alice's hold: a held call cannot see media come back, so
    // only ICE's word counts, and ICE never said down.
    let outs = net.ok(Bob, c.b, Command::Hold);
    assert_eq!(
        states_in(&outs),
        vec![CallState::Connected],
        "{:#?}",
        outs.0
    );
    let told = net.recv(Bob, Alice, &hold);
    assert_eq!(
        told.0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: held(true)
        })]
    );
}

#[test]
fn after_a_resume_the_stall_watch_is_still_armed() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    // Media flowed, then the call is held and resumed.
    stats_until(&mut net, Bob, c.b, connected_at + 2_000, 400);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Hold);
    hold_and_tell(&mut net, Alice, Bob, c.a, Command::Resume);
    // Nothing arrives after the resume (the count stays at 400): once the stall time has
    // passed, the path counts as down.
    let resumed_at = net.now;
    let outs = stats_until(&mut net, Bob, c.b, resumed_at + 4_000, 400);
    assert_eq!(
        states_in(&outs),
        vec![CallState::Reconnecting],
        "{:#?}",
        outs.0
    );
}
