//! End reasons: every way a call ends, including timeouts and ICE failure.

use super::*;

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
        preconnect: false,
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
