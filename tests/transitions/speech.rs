//! Speaking while muted: the driver's level samples of the muted microphone become one
//! `SpeakingWhileMuted` event per spell of speech, and nothing when unmuted or after the end.

use super::*;

/// Feeds a level every 100 ms for `ms`; how many `SpeakingWhileMuted` events came.
fn speak(net: &mut Net, who: Who, call: CallHandle, level: f64, ms: u64) -> usize {
    let mut told = 0;
    for _ in 0..ms / 100 {
        net.advance(100);
        let outs = net.feed(who, call, EffectResult::MicrophoneLevel(level));
        told += outs
            .events()
            .iter()
            .filter(|e| matches!(e, Event::SpeakingWhileMuted { call: c } if *c == call))
            .count();
        assert!(
            outs.sends().is_empty(),
            "levels never go to the peer: {outs:?}"
        );
    }
    told
}

#[test]
fn speech_into_the_muted_microphone_is_told_once_a_second_in() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    net.ok(Alice, c.a, Command::SetMuted(true));
    assert_eq!(
        speak(&mut net, Alice, c.a, 0.2, 900),
        0,
        "not before a second"
    );
    assert_eq!(speak(&mut net, Alice, c.a, 0.2, 300), 1);
    assert_eq!(speak(&mut net, Alice, c.a, 0.2, 5_000), 0, "once per spell");
    assert_eq!(speak(&mut net, Alice, c.a, 0.0, 3_000), 0);
    assert_eq!(
        speak(&mut net, Alice, c.a, 0.2, 1_500),
        1,
        "again after 3 s of quiet"
    );
}

#[test]
fn silence_while_muted_is_never_told() {
    let (mut net, c) = connected_pair(CallKind::Video);
    net.ok(Bob, c.b, Command::SetMuted(true));
    assert_eq!(speak(&mut net, Bob, c.b, 0.005, 10_000), 0);
}

#[test]
fn levels_while_unmuted_or_after_the_end_are_nothing() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    assert_eq!(
        speak(&mut net, Alice, c.a, 0.3, 3_000),
        0,
        "speaking unmuted is just talking"
    );
    net.ok(Alice, c.a, Command::SetMuted(true));
    assert_eq!(speak(&mut net, Alice, c.a, 0.3, 500), 0);
    // Unmuting and muting again starts the count over.
    net.ok(Alice, c.a, Command::SetMuted(false));
    net.ok(Alice, c.a, Command::SetMuted(true));
    assert_eq!(speak(&mut net, Alice, c.a, 0.3, 900), 0);
    assert_eq!(speak(&mut net, Alice, c.a, 0.3, 200), 1);
    net.ok(Alice, c.a, Command::Hangup);
    net.drain(Alice);
    let late = net.feed(Alice, c.a, EffectResult::MicrophoneLevel(0.3));
    late.assert_empty();
}
