//! Safety: sender checks, malformed and unexpected messages, rate limit, commands that do not fit.

use super::*;

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
                preconnect: false,
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
        vec![send(
            Bob,
            Alice,
            CallId([1; 16]),
            Body::Ringing { preconnect: false }
        )]
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
                preconnect: false,
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

#[test]
fn a_setting_out_of_range_is_refused_with_invalid_option_not_clamped() {
    let mut config = Config::new(user(Alice), party(Alice));
    config.ring_timeout_ms = 999;
    let error = CallMachine::new(config).expect_err("refused");
    assert_eq!(error.code(), "invalid-option");
    assert_eq!(
        error,
        CallError::InvalidOption {
            option: "ringTimeoutMs",
            min: 1_000,
            max: 600_000
        }
    );
    assert_eq!(
        error.message(),
        "option `ringTimeoutMs` must be from 1000 to 600000"
    );
    let mut config = Config::new(user(Alice), party(Alice));
    config.stats_interval_ms = 50;
    let error = CallMachine::new(config).expect_err("refused");
    assert!(matches!(
        error,
        CallError::InvalidOption {
            option: "statsIntervalMs",
            ..
        }
    ));
    let mut config = Config::new(user(Alice), party(Alice));
    config.ring_timeout_ms = 1_000;
    assert!(
        CallMachine::new(config).is_ok(),
        "the bound itself is allowed"
    );
}
