//! Glare: both users call each other at once.

use super::*;

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
