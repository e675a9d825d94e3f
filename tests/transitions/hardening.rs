//! Hardening: what one sender can and cannot do to a user.

use super::*;

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
                preconnect: false,
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
                preconnect: false,
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
        net.recv(
            Alice,
            Bob,
            &msg_to(Bob, Alice, ghost, Body::Ringing { preconnect: false })
        )
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
        net.recv(
            Alice,
            Bob,
            &msg_to(Bob, Alice, ID, Body::Ringing { preconnect: false })
        )
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
    let text = msg(Alice, ID, Body::Ringing { preconnect: false }).to_json();
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
                preconnect: false,
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
            preconnect: false,
        },
    );
    net.recv(Bob, Alice, &invite).incoming();
}
