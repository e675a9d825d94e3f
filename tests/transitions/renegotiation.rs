//! Renegotiation with the perfect-negotiation roles.

use super::*;

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
