//! Who may ring me: the app's screening of new invites, and do-not-disturb.

use super::*;
use peercall::call::{Availability, Screening};

fn screening_net() -> Net {
    Net::with_config(&[Alice, Bob], |c| c.screening = true)
}

/// alice's invite reaches bob, who screens it: the outputs bob produced.
fn screened_invite(net: &mut Net) -> (CallHandle, Outs) {
    let (h, outs) = invite(net, Alice, Bob, CallKind::Video, ID);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    (h, produced)
}

fn decide(net: &mut Net, decision: Screening) -> Outs {
    let now = net.now;
    net.machine(Bob).screen(now, ID, decision);
    net.drain(Bob)
}

#[test]
fn a_screened_invite_waits_silently_for_the_app_then_rings() {
    let mut net = screening_net();
    let (a, produced) = screened_invite(&mut net);
    assert_eq!(
        produced.0,
        vec![event(Event::Screen {
            call_id: ID,
            from: user(Alice),
            kind: CallKind::Video,
            metadata: None,
        })],
        "only the question to the app: no ringing, no call yet"
    );
    assert_eq!(net.machine(Bob).calls().count(), 0);
    let outs = decide(&mut net, Screening::Ring);
    let b = outs.incoming();
    assert_eq!(outs.message("ringing").call_id, ID);
    net.deliver_all(Bob, &outs);
    assert_eq!(net.state(Alice, a), CallState::Ringing);
    assert_eq!(net.state(Bob, b), CallState::Ringing);
    // A second answer for the same invite does nothing.
    decide(&mut net, Screening::Decline).assert_empty();
}

#[test]
fn declined_or_busy_by_the_screen_the_caller_ends_rejected_or_busy() {
    for (decision, reason) in [
        (Screening::Decline, EndReason::Rejected),
        (Screening::Busy, EndReason::Busy),
    ] {
        let mut net = screening_net();
        let (a, _) = screened_invite(&mut net);
        let outs = decide(&mut net, decision);
        assert_eq!(
            outs.0,
            vec![send(Bob, Alice, ID, reject(reason))],
            "{decision:?}: one reject, no event at bob"
        );
        net.deliver_all(Bob, &outs);
        assert_eq!(net.state(Alice, a), CallState::Ended(reason));
        // The caller's late hangup for it is quiet.
        let late = msg_to(Alice, Bob, ID, hangup(EndReason::Cancelled));
        net.recv(Bob, Alice, &late).assert_empty();
    }
}

#[test]
fn an_ignored_invite_gets_no_answer_and_the_caller_times_out() {
    let mut net = screening_net();
    let (a, _) = screened_invite(&mut net);
    decide(&mut net, Screening::Ignore).assert_empty();
    // A copy of the invite changes nothing and is not answered either.
    let copy = msg(
        Alice,
        ID,
        Body::Invite {
            kind: CallKind::Video,
            sdp: OFFER.into(),
            lifetime_ms: 30_000,
            metadata: None,
            preconnect: false,
        },
    );
    net.recv(Bob, Alice, &copy).assert_empty();
    let outs = net.run_timers(Alice, 31_000);
    assert!(outs
        .sends()
        .iter()
        .all(|(to, m)| to.as_str() == "bob" && m.body.type_name() == "hangup"));
    assert_eq!(net.state(Alice, a), CallState::Ended(EndReason::Timeout));
    // bob forgot it by its lifetime, without a word.
    net.run_timers(Bob, 31_000).assert_empty();
    assert_eq!(net.poll_timeout(Bob), None);
    net.deliver_all(Alice, &outs);
    assert_eq!(net.machine(Bob).calls().count(), 0);
}

#[test]
fn the_callers_hangup_withdraws_a_screened_invite_quietly() {
    let mut net = screening_net();
    let (a, _) = screened_invite(&mut net);
    let outs = net.ok(Alice, a, Command::Hangup);
    let at_bob = net.deliver_all(Alice, &outs);
    assert!(at_bob.iter().all(|(_, o)| o.0.is_empty()), "{at_bob:?}");
    // The app's late answer does nothing: the invite is gone.
    decide(&mut net, Screening::Ring).assert_empty();
    assert_eq!(net.poll_timeout(Bob), None);
}

#[test]
fn candidates_trickled_while_screened_reach_the_call_once_it_rings() {
    let mut net = screening_net();
    let (_, _) = screened_invite(&mut net);
    let trickled = msg(
        Alice,
        ID,
        Body::Candidates {
            candidates: vec![cand(1)],
            end: true,
        },
    );
    net.recv(Bob, Alice, &trickled).assert_empty();
    let outs = decide(&mut net, Screening::Ring);
    let b = outs.incoming();
    // Accepting applies the offer, then the held candidate.
    net.ok(Bob, b, Command::Accept { video: true });
    let outs = net.feed(Bob, b, media(true));
    let op = outs.sdp_op();
    let sdp = Bob.answer_sdp();
    let outs = net.feed(Bob, b, EffectResult::AnswerCreated { op, sdp });
    let added: Vec<_> = net
        .node(Bob)
        .log
        .iter()
        .filter_map(|o| match o {
            Output::Effect {
                effect: Effect::AddRemoteCandidates { candidates, .. },
                ..
            } => Some(candidates.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(added, vec![vec![cand(1)]], "{:?}", outs.0);
}

#[test]
fn a_sender_has_one_screened_invite_at_a_time() {
    let mut net = screening_net();
    screened_invite(&mut net);
    let second = CallId([0x77; 16]);
    let again = msg(
        Alice,
        second,
        Body::Invite {
            kind: CallKind::Audio,
            sdp: OFFER.into(),
            lifetime_ms: 30_000,
            metadata: None,
            preconnect: false,
        },
    );
    let outs = net.recv(Bob, Alice, &again);
    assert_eq!(
        outs.0,
        vec![
            send(Bob, Alice, second, reject(EndReason::Busy)),
            error(None, CallError::AlreadyRinging { from: user(Alice) }),
        ]
    );
}

#[test]
fn do_not_disturb_declines_new_calls_as_busy_and_reports_them_missed() {
    let mut net = Net::pair();
    net.machine(Bob)
        .set_availability(Availability::DoNotDisturb);
    assert_eq!(net.machine(Bob).availability(), Availability::DoNotDisturb);
    let (a, outs) = invite(&mut net, Alice, Bob, CallKind::Audio, ID);
    let produced = net.recv(Bob, Alice, &outs.message("invite"));
    assert_eq!(
        produced.0,
        vec![
            send(Bob, Alice, ID, reject(EndReason::Busy)),
            event(Event::Missed {
                from: user(Alice),
                kind: CallKind::Audio,
                metadata: None,
            }),
        ]
    );
    net.deliver_all(Bob, &produced);
    assert_eq!(net.state(Alice, a), CallState::Ended(EndReason::Busy));
    // Available again: the next call rings.
    net.machine(Bob).set_availability(Availability::Available);
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, LOW);
    assert_eq!(net.state(Bob, r.on(Bob)), CallState::Ringing);
}
