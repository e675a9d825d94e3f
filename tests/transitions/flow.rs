//! The caller and callee flow.

use super::*;

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
        preconnect: false,
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
                waiting: false,
            }),
            send(Bob, Alice, ID, Body::Ringing { preconnect: false }),
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
            waiting: false,
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
        preconnect: false,
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
        vec![send(Bob, Alice, ID, Body::Ringing { preconnect: false })],
        "the first ringing may have been lost"
    );
    net.recv(
        Alice,
        Bob,
        &msg(Bob, ID, Body::Ringing { preconnect: false }),
    )
    .assert_empty();
    net.ok(Bob, b, Command::Accept { video: true });
    net.recv(Bob, Alice, &r.invite).assert_empty();
}
