//! Media state: mute, camera, screen share, upgrade, stats and stalls.

use super::*;

#[test]
fn mute_disables_the_track_and_the_peer_sees_it() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let muted = MediaState {
        audio_muted: true,
        ..MediaState::default()
    };
    let outs = net.ok(Alice, c.a, Command::SetMuted(true));
    assert_eq!(
        outs.0,
        vec![
            effect(
                c.a,
                Effect::SetTrackEnabled {
                    kind: DeviceKind::Microphone,
                    enabled: false
                }
            ),
            event(Event::LocalMedia {
                call: c.a,
                state: muted
            }),
            send(Alice, Bob, ID, media_body(1, true, false, false)),
        ]
    );
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: muted
        })]
    );
    assert_eq!(net.info(Bob, c.b).remote_media, muted);
    assert_eq!(net.info(Alice, c.a).local_media, muted);
    // Muting again changes nothing.
    net.ok(Alice, c.a, Command::SetMuted(true)).assert_empty();
    let outs = net.ok(Alice, c.a, Command::SetMuted(false));
    assert_eq!(
        outs.effects(),
        vec![&Effect::SetTrackEnabled {
            kind: DeviceKind::Microphone,
            enabled: true
        }]
    );
    assert_eq!(
        outs.message("media").body,
        media_body(2, false, false, false)
    );
}

#[test]
fn an_older_media_state_is_ignored() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let first = net.ok(Alice, c.a, Command::SetMuted(true)).message("media");
    let second = net
        .ok(Alice, c.a, Command::SetVideoEnabled(false))
        .message("media");
    assert_eq!(second.body, media_body(2, true, true, false));
    let both = MediaState {
        audio_muted: true,
        video_muted: true,
        screen_sharing: false,
        on_hold: false,
        recording: false,
    };
    assert_eq!(
        net.recv(Bob, Alice, &second).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: both
        })]
    );
    net.recv(Bob, Alice, &first).assert_empty();
    net.recv(Bob, Alice, &second).assert_empty();
    assert_eq!(net.info(Bob, c.b).remote_media, both);
}

#[test]
fn camera_toggle_on_a_video_call() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let outs = net.ok(Bob, c.b, Command::SetVideoEnabled(false));
    let off = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert_eq!(
        outs.0,
        vec![
            effect(
                c.b,
                Effect::SetTrackEnabled {
                    kind: DeviceKind::Camera,
                    enabled: false
                }
            ),
            event(Event::LocalMedia {
                call: c.b,
                state: off
            }),
            send(Bob, Alice, ID, media_body(1, false, true, false)),
        ]
    );
    net.ok(Bob, c.b, Command::SetVideoEnabled(false))
        .assert_empty();
    let outs = net.ok(Bob, c.b, Command::SetVideoEnabled(true));
    assert_eq!(
        outs.message("media").body,
        media_body(2, false, false, false)
    );
}

#[test]
fn screen_share_start_and_stop() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let sharing = MediaState {
        screen_sharing: true,
        ..MediaState::default()
    };
    assert_eq!(
        net.ok(Alice, c.a, Command::StartScreenShare).0,
        vec![effect(c.a, Effect::StartScreenShare)]
    );
    assert!(!net.info(Alice, c.a).local_media.screen_sharing, "not yet");
    let outs = net.feed(Alice, c.a, EffectResult::ScreenShareStarted);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: sharing
            }),
            send(Alice, Bob, ID, media_body(1, false, false, true)),
        ]
    );
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: sharing
        })]
    );
    net.ok(Alice, c.a, Command::StartScreenShare).assert_empty();

    let outs = net.ok(Alice, c.a, Command::StopScreenShare);
    assert_eq!(
        outs.0,
        vec![
            effect(c.a, Effect::StopScreenShare),
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(2, false, false, false)),
        ]
    );
    net.feed(Alice, c.a, EffectResult::ScreenShareEnded)
        .assert_empty();
    net.ok(Alice, c.a, Command::StopScreenShare).assert_empty();

    // Stopped from the browser's own control.
    net.ok(Alice, c.a, Command::StartScreenShare);
    net.feed(Alice, c.a, EffectResult::ScreenShareStarted);
    let outs = net.feed(Alice, c.a, EffectResult::ScreenShareEnded);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(4, false, false, false)),
        ]
    );

    // The picker cancelled: reported, the call goes on.
    net.ok(Alice, c.a, Command::StartScreenShare);
    assert_eq!(
        net.feed(
            Alice,
            c.a,
            EffectResult::ScreenShareFailed(MediaError::PermissionDenied)
        )
        .0,
        vec![error(
            Some(c.a),
            CallError::Media(MediaError::PermissionDenied)
        )]
    );
    assert_eq!(net.state(Alice, c.a), CallState::Connected);
}

#[test]
fn set_video_enabled_on_an_audio_call_is_no_video() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    assert_eq!(
        net.cmd(Alice, c.a, Command::SetVideoEnabled(true)),
        Err(CommandError::NoVideo)
    );
    assert_eq!(
        net.cmd(
            Alice,
            c.a,
            Command::SwitchDevice {
                kind: DeviceKind::Camera,
                device_id: "cam-2".into()
            }
        ),
        Err(CommandError::NoVideo)
    );
    net.drain(Alice).assert_empty();
    // Another microphone is fine.
    assert_eq!(
        net.ok(
            Alice,
            c.a,
            Command::SwitchDevice {
                kind: DeviceKind::Microphone,
                device_id: "mic-2".into()
            }
        )
        .0,
        vec![effect(
            c.a,
            Effect::SwitchDevice {
                kind: DeviceKind::Microphone,
                device_id: "mic-2".into()
            }
        )]
    );
}

#[test]
fn upgrade_to_video_acquires_the_camera() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    assert!(net.info(Alice, c.a).local_media.video_muted);
    assert_eq!(
        net.ok(Alice, c.a, Command::UpgradeToVideo).0,
        vec![effect(c.a, Effect::AcquireCamera)]
    );
    let outs = net.feed(Alice, c.a, EffectResult::CameraAcquired);
    assert_eq!(
        outs.0,
        vec![
            event(Event::LocalMedia {
                call: c.a,
                state: MediaState::default()
            }),
            send(Alice, Bob, ID, media_body(1, false, false, false)),
        ]
    );
    net.recv(Bob, Alice, &outs.message("media"));
    assert_eq!(net.info(Bob, c.b).remote_media, MediaState::default());
    let info = net.info(Alice, c.a);
    assert_eq!(info.kind, CallKind::Video);
    // Now the camera can be toggled, and upgrading again does nothing.
    assert!(net.cmd(Alice, c.a, Command::SetVideoEnabled(false)).is_ok());
    net.drain(Alice);
    net.ok(Alice, c.a, Command::UpgradeToVideo).assert_empty();
}

#[test]
fn audio_call_peer_sees_the_camera_absent_until_the_upgrade() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    let no_camera = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert_eq!(net.info(Alice, c.a).local_media, no_camera);
    assert_eq!(net.info(Bob, c.b).local_media, no_camera);
    assert_eq!(
        net.info(Bob, c.b).remote_media,
        no_camera,
        "alice's camera is absent"
    );
    assert_eq!(net.info(Alice, c.a).remote_media, no_camera);
    net.ok(Alice, c.a, Command::UpgradeToVideo);
    let outs = net.feed(Alice, c.a, EffectResult::CameraAcquired);
    assert_eq!(
        net.recv(Bob, Alice, &outs.message("media")).0,
        vec![event(Event::RemoteMedia {
            call: c.b,
            state: MediaState::default()
        })],
        "bob learns alice's camera is on"
    );
}

#[test]
fn upgrade_to_video_failure_is_reported_and_the_call_goes_on() {
    let (mut net, c) = connected_pair(CallKind::Audio);
    net.ok(Bob, c.b, Command::UpgradeToVideo);
    assert_eq!(
        net.feed(Bob, c.b, EffectResult::CameraFailed(MediaError::DeviceBusy))
            .0,
        vec![error(Some(c.b), CallError::Media(MediaError::DeviceBusy))]
    );
    assert_eq!(
        net.cmd(Bob, c.b, Command::SetVideoEnabled(true)),
        Err(CommandError::NoVideo)
    );
    assert_eq!(net.state(Bob, c.b), CallState::Connected);
}

#[test]
fn media_commands_need_local_media() {
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let b = r.on(Bob);
    assert_eq!(
        net.cmd(Bob, b, Command::SetMuted(true)),
        Err(CommandError::InvalidState {
            command: "setMuted",
            state: CallState::Ringing
        })
    );
    assert_eq!(
        net.cmd(Bob, b, Command::RestartIce),
        Err(CommandError::InvalidState {
            command: "restartIce",
            state: CallState::Ringing
        })
    );
    net.drain(Bob).assert_empty();
}

#[test]
fn muting_before_the_invite_is_out_travels_after_it() {
    let mut net = Net::pair();
    let a = net.place(Alice, Bob, CallKind::Video, ID);
    net.drain(Alice);
    let op = net.feed(Alice, a, media(true)).sdp_op();
    let outs = net.ok(Alice, a, Command::SetMuted(true));
    assert!(outs.sends().is_empty(), "nobody to tell yet: {outs:?}");
    let sdp = Alice.offer_sdp();
    let outs = net.feed(Alice, a, EffectResult::OfferCreated { op, sdp });
    let types: Vec<&str> = outs
        .sends()
        .iter()
        .map(|(_, m)| m.body.type_name())
        .collect();
    assert_eq!(types, ["invite", "media"]);
    assert_eq!(
        outs.message("media").body,
        media_body(1, true, false, false)
    );
}

#[test]
fn the_callee_sends_its_media_state_after_the_answer_only_when_it_differs_from_the_assumed_one() {
    // An audio call answered with the microphone on: what alice assumes, so only the answer.
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Audio, ID);
    let outs = answer(&mut net, Bob, r.on(Bob), false);
    let answer_body = Body::Answer {
        sdp: Bob.answer_sdp(),
    };
    assert_eq!(outs.0, vec![send(Bob, Alice, ID, answer_body)]);

    // A video call answered without the camera: alice assumes it on, so she is told.
    let mut net = Net::pair();
    let r = ring(&mut net, Alice, Bob, CallKind::Video, ID);
    let (a, b) = (r.caller, r.on(Bob));
    let outs = answer(&mut net, Bob, b, false);
    let types: Vec<&str> = outs
        .sends()
        .iter()
        .map(|(_, m)| m.body.type_name())
        .collect();
    assert_eq!(types, ["answer", "media"]);
    let media = outs.message("media");
    assert_eq!(media.to_party_id, Some(party(Alice)));
    let camera_off = MediaState {
        video_muted: true,
        ..MediaState::default()
    };
    assert!(
        matches!(media.body, Body::Media { state, .. } if state == camera_off),
        "{media:?}"
    );
    net.recv(Alice, Bob, &outs.message("answer"));
    assert_eq!(
        net.recv(Alice, Bob, &media).0,
        vec![event(Event::RemoteMedia {
            call: a,
            state: camera_off
        })]
    );
}

#[test]
fn stats_are_sampled_while_connected() {
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    assert_eq!(net.poll_timeout(Alice), Some(connected_at + 2_000));
    let outs = net.run_timers(Alice, connected_at + 2_000);
    assert_eq!(outs.0, vec![effect(c.a, Effect::CollectStats)]);
    let sample = StatsSample {
        rtt_ms: Some(40.0),
        jitter_ms: Some(3.0),
        packets_received: 500,
        packets_lost: 0,
        bytes_received: 100_000,
    };
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample));
    match &outs.0[..] {
        [Output::Event(Event::Quality { call, quality })] => {
            assert_eq!(*call, c.a);
            assert_eq!(quality.level, 4);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(net.poll_timeout(Alice), Some(connected_at + 4_000));
}

#[test]
fn media_that_stops_arriving_counts_as_the_path_down_and_arriving_again_as_up() {
    // Firefox keeps reporting ICE `connected` for the old path once the peer restarts ICE, so a
    // stats interval without a single inbound packet is a drop too, and packets again mend it.
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    let sample = |packets: u64| StatsSample {
        rtt_ms: Some(40.0),
        jitter_ms: Some(3.0),
        packets_received: packets,
        packets_lost: 0,
        bytes_received: packets * 200,
    };
    let quality_only = |outs: &[Output]| {
        assert!(
            matches!(outs, [Output::Event(Event::Quality { .. })]),
            "{outs:?}"
        )
    };
    net.run_timers(Alice, connected_at + 2_000);
    quality_only(&net.feed(Alice, c.a, EffectResult::Stats(sample(100))).0);
    // Two seconds with nothing new: past the 1.5 s stall limit.
    net.run_timers(Alice, connected_at + 4_000);
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    assert!(
        matches!(outs.0[..], [Output::Event(Event::Quality { .. }), _]),
        "{:?}",
        outs.0
    );
    assert_eq!(outs.0[1], state(c.a, CallState::Reconnecting));
    // The caller's ICE restart is due after the restart delay, as for an ICE `disconnected`.
    let restart_at = net.now + 2_000;
    assert!(net.poll_timeout(Alice).is_some_and(|at| at <= restart_at));
    // Media arrives again before the restart: connected, with the recovery forgotten.
    net.run_timers(Alice, connected_at + 5_000);
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(150)));
    assert_eq!(outs.0.len(), 2, "{:?}", outs.0);
    assert_eq!(outs.0[1], state(c.a, CallState::Connected));
    let later = net.run_timers(Alice, restart_at);
    assert!(
        !later.0.iter().any(|o| matches!(
            o,
            Output::Effect {
                effect: Effect::CreateOffer { .. },
                ..
            }
        )),
        "no ICE restart once media is back: {:?}",
        later.0
    );
}

#[test]
fn after_media_flowed_an_ice_connected_report_needs_media_to_count_as_recovered() {
    // Firefox reports `connected` right after an ICE restart that cannot get through: once media
    // has flowed, recovery ends only when media arrives again.
    let (mut net, c) = connected_pair(CallKind::Video);
    let connected_at = net.now;
    let sample = |packets: u64| StatsSample {
        packets_received: packets,
        bytes_received: packets * 200,
        ..StatsSample::default()
    };
    net.run_timers(Alice, connected_at + 2_000);
    net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::IceStateChanged(IceState::Disconnected),
    );
    assert_eq!(outs.0, vec![state(c.a, CallState::Reconnecting)]);
    let reported_at = net.now;
    let outs = net.feed(
        Alice,
        c.a,
        EffectResult::IceStateChanged(IceState::Connected),
    );
    outs.assert_empty();
    // The stats are read 250 ms later rather than at the next interval.
    assert_eq!(net.poll_timeout(Alice), Some(reported_at + 250));
    let outs = net.run_timers(Alice, reported_at + 250);
    assert!(
        outs.0.contains(&effect(c.a, Effect::CollectStats)),
        "{:?}",
        outs.0
    );
    // Nothing new arrived: still reconnecting.
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(100)));
    assert!(
        !outs.0.contains(&state(c.a, CallState::Connected)),
        "{:?}",
        outs.0
    );
    // Media again: connected.
    let outs = net.feed(Alice, c.a, EffectResult::Stats(sample(180)));
    assert_eq!(outs.0.last(), Some(&state(c.a, CallState::Connected)));
}
