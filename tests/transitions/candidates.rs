//! ICE candidates: batching of local ones, holding of remote ones.

use super::*;

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
