//! Recording with consent: an answered call can be recorded by either side, the peer is told in
//! the same step as the recorder starts (and again when it stops, fails or stops by itself), and
//! a call that is not under way refuses it.

use super::*;

/// The media state of a video call with only the recording set.
fn recorded(recording: bool) -> MediaState {
    MediaState {
        recording,
        ..MediaState::default()
    }
}

fn recording_body(seq: u32, recording: bool) -> Body {
    Body::Media {
        seq,
        state: recorded(recording),
    }
}

/// alice's start (or stop) of the recording: her effect, her `localMedia`, the `media` message
/// with sequence `seq`; bob's `remoteMedia`.
fn assert_recording_told(net: &mut Net, c: &Connected, outs: &Outs, seq: u32, recording: bool) {
    let effect_asked = if recording {
        Effect::StartRecording
    } else {
        Effect::StopRecording
    };
    assert_eq!(
        outs.0,
        vec![
            effect(c.a, effect_asked),
            event(Event::LocalMedia {
                call: c.a,
                state: recorded(recording)
            }),
            send(Alice, Bob, ID, recording_body(seq, recording)),
        ]
    );
    let told = net.recv(Bob, Alice, &outs.message("media"));
    assert_eq!(
        told.0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: recorded(recording)
        })]
    );
    assert_eq!(net.info(Bob, c.b).remote_media.recording, recording);
    assert_eq!(net.info(Alice, c.a).local_media.recording, recording);
}

#[test]
fn a_connected_call_is_recorded_and_the_peer_is_told_at_start_and_stop() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.ok(Alice, c.a, Command::StartRecording);
    assert_recording_told(&mut net, &c, &outs, 1, true);
    let outs = net.ok(Alice, c.a, Command::StopRecording);
    assert_recording_told(&mut net, &c, &outs, 2, false);
}

#[test]
fn the_callee_may_record_too() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    let outs = net.ok(Bob, c.b, Command::StartRecording);
    assert_eq!(outs.effects(), vec![&Effect::StartRecording]);
    let media = outs.message("media");
    let told = net.recv(Alice, Bob, &media);
    assert!(
        told.events()
            .iter()
            .any(|e| matches!(e, Event::RemoteMedia { state, .. } if state.recording)),
        "{told:?}"
    );
}

#[test]
fn starting_twice_or_stopping_when_not_recording_is_a_typed_error_that_changes_nothing() {
    let (mut net, c) = connected_pair(CallKind::Video);
    assert_eq!(
        net.cmd(Alice, c.a, Command::StopRecording),
        Err(CommandError::NotRecording)
    );
    net.drain(Alice).assert_empty();
    net.ok(Alice, c.a, Command::StartRecording);
    assert_eq!(
        net.cmd(Alice, c.a, Command::StartRecording),
        Err(CommandError::AlreadyRecording)
    );
    net.drain(Alice).assert_empty();
    assert!(net.info(Alice, c.a).local_media.recording);
    assert_eq!(CommandError::AlreadyRecording.code(), "already-recording");
    assert_eq!(CommandError::NotRecording.code(), "not-recording");
}

#[test]
fn a_call_not_yet_answered_cannot_be_recorded() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    for (who, call) in [(Alice, r.caller), (Bob, b)] {
        assert!(
            matches!(
                net.cmd(who, call, Command::StartRecording),
                Err(CommandError::InvalidState {
                    command: "startRecording",
                    ..
                })
            ),
            "{who:?}"
        );
        net.drain(who).assert_empty();
    }
}

#[test]
fn an_ended_call_cannot_be_recorded() {
    let (mut net, c) = connected_pair(CallKind::Video);
    net.ok(Alice, c.a, Command::Hangup);
    assert_eq!(
        net.cmd(Alice, c.a, Command::StartRecording),
        Err(CommandError::CallEnded)
    );
}

#[test]
fn a_recorder_that_cannot_start_tells_the_peer_recording_is_off() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let started = net.ok(Alice, c.a, Command::StartRecording);
    net.recv(Bob, Alice, &started.message("media"));
    let failed = net.feed(Alice, c.a, EffectResult::RecordingFailed);
    // No error event: the app's `startRecording()` Promise says why.
    assert_eq!(
        failed.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: recorded(false)
            }),
            send(Alice, Bob, ID, recording_body(2, false)),
        ]
    );
    let told = net.recv(Bob, Alice, &failed.message("media"));
    assert!(!net.info(Bob, c.b).remote_media.recording, "{told:?}");
    // It can be started again.
    net.ok(Alice, c.a, Command::StartRecording);
}

#[test]
fn a_recorder_that_stops_by_itself_is_an_error_and_the_peer_is_told() {
    let (mut net, c) = connected_pair(CallKind::Video);
    net.ok(Alice, c.a, Command::StartRecording);
    let stopped = net.feed(Alice, c.a, EffectResult::RecordingStopped);
    let codes: Vec<&str> = stopped
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::Error { error, .. } => Some(error.code()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, vec!["media-error"]);
    assert!(!net.info(Alice, c.a).local_media.recording);
    assert_eq!(stopped.message("media").body, recording_body(2, false));
    // A late report after the app stopped it is nothing.
    let late = net.feed(Alice, c.a, EffectResult::RecordingStopped);
    late.assert_empty();
}

#[test]
fn recording_goes_on_through_hold_and_the_hangup_releases_the_recorder() {
    let (mut net, c) = connected_pair(CallKind::Video);
    net.ok(Alice, c.a, Command::StartRecording);
    let held = net.ok(Bob, c.b, Command::Hold);
    let told = net.recv(Alice, Bob, &held.message("media"));
    assert!(net.info(Alice, c.a).local_media.recording, "{told:?}");
    // The driver's release of the call stops the recorder and hands over what it recorded.
    let ended = net.ok(Alice, c.a, Command::Hangup);
    assert_eq!(ended.effects().last(), Some(&&Effect::Release));
}

#[test]
fn a_stranger_cannot_make_the_app_show_a_recording() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let spoof = msg(Carol, ID, recording_body(9, true));
    net.recv(Bob, Carol, &spoof);
    assert!(!net.info(Bob, c.b).remote_media.recording);
}
