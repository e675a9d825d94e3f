//! Property test of the call machine: arbitrary sequences of inputs (well-formed and malformed
//! messages from known and unknown senders, effect results for any call and any op, commands in
//! any state, timers) never panic, refuse what does not fit with typed errors, and keep the
//! machine's promises: one `Release` per ended call and no effect after it, no deadline left in
//! the past after `handle_timeout`, at most one call under way and not on hold (hold and resume
//! are among the commands, and call waiting is on in half the sequences), `active_call` and the
//! `waiting` flag as documented.
//!
//! `PEERCALL_FUZZ_SEQUENCES=N` sets how many sequences run (default 20,000 of 60 inputs each).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::collections::BTreeMap;

use peercall::call::{
    CallHandle, CallId, CallInfo, CallKind, CallMachine, CallState, Command, DeviceKind, Direction,
    Effect, EffectResult, EndReason, Event, IceState, MediaError, Output, SdpOp, StatsSample,
};
use peercall::protocol::{Body, IceCandidate, MediaState, Message, PartyId, SdpType};
use support::rng::Rng;
use support::{call_id_from, env_u64, Promises};

const USERS: [&str; 4] = ["alice", "bob", "carol", "me"];
const PARTIES: [&str; 3] = ["p1", "p2", "p3"];

fn random_body(rng: &mut Rng) -> Body {
    let reason = *rng.pick(&EndReason::ALL);
    match rng.below(13) {
        0 => Body::Invite {
            kind: if rng.coin() {
                CallKind::Audio
            } else {
                CallKind::Video
            },
            sdp: format!("v=0\r\nm=audio {}", rng.below(5)),
            lifetime_ms: rng.range(1_000, 60_000) as u32,
            metadata: None,
            preconnect: rng.coin(),
        },
        1 => Body::Ringing {
            preconnect: rng.coin(),
        },
        2 => Body::Answer {
            sdp: "v=0 answer".into(),
        },
        3 => Body::SelectAnswer {
            selected_party_id: PartyId::new(rng.pick_copied(&["me-tab", "p1", "p2"])).unwrap(),
        },
        4 => Body::Reject {
            reason: if reason.is_reject_reason() {
                reason
            } else {
                EndReason::Busy
            },
        },
        5 => Body::Hangup {
            reason: if reason.can_be_sent() {
                reason
            } else {
                EndReason::Hangup
            },
        },
        6 => Body::Candidates {
            candidates: (0..rng.below(4))
                .map(|n| IceCandidate {
                    candidate: format!("candidate:{n}"),
                    sdp_mid: None,
                    sdp_m_line_index: Some(0),
                })
                .collect(),
            end: rng.coin(),
        },
        7 => Body::Negotiate {
            seq: rng.below(4) as u32,
            sdp_type: if rng.coin() {
                SdpType::Offer
            } else {
                SdpType::Answer
            },
            sdp: "v=0 re".into(),
        },
        8 => Body::Media {
            seq: rng.below(5) as u32,
            state: MediaState {
                audio_muted: rng.coin(),
                video_muted: rng.coin(),
                screen_sharing: rng.coin(),
                on_hold: rng.coin(),
                recording: rng.coin(),
            },
        },
        9 => Body::Preconnect,
        10 => Body::PreconnectAnswer {
            sdp: "v=0 preconnect answer".into(),
        },
        11 => Body::Accept,
        _ => Body::Reoffer {
            sdp: "v=0 reoffer".into(),
        },
    }
}

fn random_result(rng: &mut Rng) -> EffectResult {
    let op = SdpOp(rng.below(6) as u32);
    let error = || MediaError::from_dom_name("NotAllowedError");
    match rng.below(19) {
        0 => EffectResult::MediaAcquired {
            video: rng.coin(),
            camera_error: rng.coin().then(error),
        },
        1 => EffectResult::MediaFailed(error()),
        2 => EffectResult::OfferCreated {
            op,
            sdp: "v=0 o".into(),
        },
        3 => EffectResult::AnswerCreated {
            op,
            sdp: "v=0 a".into(),
        },
        4 => EffectResult::AnswerApplied { op },
        5 => EffectResult::SdpFailed {
            op,
            error: "x".into(),
        },
        6 => EffectResult::LocalCandidate(IceCandidate {
            candidate: "candidate:9".into(),
            sdp_mid: None,
            sdp_m_line_index: None,
        }),
        7 => EffectResult::LocalCandidatesComplete,
        8 => EffectResult::IceStateChanged(*rng.pick(&[
            IceState::Checking,
            IceState::Connected,
            IceState::Disconnected,
            IceState::Failed,
        ])),
        9 => EffectResult::NegotiationNeeded,
        10 => EffectResult::Stats(StatsSample {
            packets_received: rng.below(1000),
            ..StatsSample::default()
        }),
        11 => EffectResult::ScreenShareStarted,
        12 => EffectResult::ScreenShareEnded,
        13 => EffectResult::CameraAcquired,
        14 => EffectResult::CameraFailed(error()),
        15 => EffectResult::RecordingFailed,
        16 => EffectResult::RecordingStopped,
        17 => EffectResult::MicrophoneLevel(rng.below(100) as f64 / 100.0),
        _ => EffectResult::SwitchDeviceFailed(error()),
    }
}

fn random_command(rng: &mut Rng) -> Command {
    match rng.below(14) {
        0 => Command::Accept { video: rng.coin() },
        1 => Command::Reject,
        2 => Command::Hangup,
        3 => Command::SetMuted(rng.coin()),
        4 => Command::SetVideoEnabled(rng.coin()),
        5 => Command::StartScreenShare,
        6 => Command::StopScreenShare,
        7 => Command::UpgradeToVideo,
        8 => Command::SwitchDevice {
            kind: if rng.coin() {
                DeviceKind::Camera
            } else {
                DeviceKind::Microphone
            },
            device_id: "d".into(),
        },
        9 => Command::RestartIce,
        10 => Command::Hold,
        11 => Command::StartRecording,
        12 => Command::StopRecording,
        _ => Command::Resume,
    }
}

#[derive(Default)]
struct Tally {
    inputs: u64,
    command_errors: BTreeMap<&'static str, u64>,
    event_errors: BTreeMap<&'static str, u64>,
    ended: BTreeMap<&'static str, u64>,
    /// `SetSending` effects seen: holds and resumes (by either side) that took effect.
    sending_changes: u64,
    /// Messages the machine sent, by type (the preconnect ones show their paths were reached).
    sent: BTreeMap<&'static str, u64>,
    /// `Preconnected` events.
    preconnected: u64,
}

fn run_sequence(seed: u64, tally: &mut Tally) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let mut config = support::config("me", "me-tab");
    config.invite_burst = rng.range(1, 5) as u32;
    config.call_waiting = rng.coin();
    // Preconnect (connecting while a call rings) is on in half the sequences, so the invites,
    // ringing, preconnect, preconnect-answer, accept and reoffer messages reach its paths.
    config.preconnect = rng.coin();
    let mut machine = support::machine(config);
    let mut now = 0u64;
    // A few call ids, so messages often hit the calls that exist.
    let mut ids: Vec<CallId> = (0..3).map(|n| CallId([n as u8 + 1; 16])).collect();
    let mut handles: Vec<CallHandle> = vec![CallHandle(1), CallHandle(2), CallHandle(99)];
    let mut promises = Promises::default();
    for _ in 0..60 {
        tally.inputs += 1;
        now += rng.small_size(40_000) as u64;
        match rng.below(12) {
            0..=4 => {
                let message = Message {
                    call_id: *rng.pick(&ids),
                    party_id: PartyId::new(rng.pick_copied(&PARTIES)).unwrap(),
                    to_party_id: match rng.below(4) {
                        0 => Some(PartyId::new("me-tab").unwrap()),
                        1 => Some(PartyId::new("p1").unwrap()),
                        _ => None,
                    },
                    body: random_body(&mut rng),
                };
                let from = *rng.pick(&USERS);
                let mut json = message.to_json();
                if rng.chance(0.1) {
                    // Corrupt it: truncate, or splice in junk.
                    let cut = rng.index(json.len());
                    json.truncate(cut);
                    json.push_str(rng.pick_copied(&["", "}", "\"", "\u{0}", "ü"]));
                }
                machine.handle_message(now, from, &json);
            }
            5 | 6 => {
                let handle = *rng.pick(&handles);
                machine.handle_effect(now, handle, random_result(&mut rng));
            }
            7 | 8 => {
                let handle = *rng.pick(&handles);
                if let Err(error) = machine.command(now, handle, random_command(&mut rng)) {
                    *tally.command_errors.entry(error.code()).or_default() += 1;
                }
            }
            9 => {
                let id = call_id_from(rng.next_u64());
                let kind = if rng.coin() {
                    CallKind::Audio
                } else {
                    CallKind::Video
                };
                match machine.place_call(now, rng.pick_copied(&USERS), kind, id, None) {
                    Ok(handle) => {
                        handles.push(handle);
                        ids.push(id);
                    }
                    Err(error) => *tally.command_errors.entry(error.code()).or_default() += 1,
                }
            }
            10 => machine.handle_send_failed(now, *rng.pick(&ids)),
            _ => {
                if let Some(at) = machine.poll_timeout() {
                    now = now.max(at);
                }
                machine.handle_timeout(now);
                if let Some(next) = machine.poll_timeout() {
                    if next <= now {
                        return Err(format!(
                            "deadline {next} not after now {now} after handle_timeout"
                        ));
                    }
                }
            }
        }
        for output in support::drain(&mut machine) {
            promises.observe(&output)?;
            match output {
                Output::Event(Event::Incoming { call, .. }) => handles.push(call),
                Output::Send { message, .. } => {
                    *tally.sent.entry(message.body.type_name()).or_default() += 1;
                }
                Output::Event(Event::Preconnected { .. }) => tally.preconnected += 1,
                Output::Effect {
                    effect: Effect::SetSending { .. },
                    ..
                } => tally.sending_changes += 1,
                Output::Event(Event::Ended { reason, .. }) => {
                    *tally.ended.entry(reason.as_str()).or_default() += 1;
                }
                Output::Event(Event::Error { error, .. }) => {
                    *tally.event_errors.entry(error.code()).or_default() += 1;
                }
                _ => {}
            }
        }
        check_calls(&machine)?;
    }
    promises.settled(&machine)
}

/// At most one call is under way and not on hold here (placed or accepted, live: "current"),
/// `active_call` names a live active call, the current one if there is one, and a call is
/// `waiting` exactly when it rings while another is under way.
fn check_calls(machine: &CallMachine) -> Result<(), String> {
    let infos: Vec<CallInfo> = machine
        .calls()
        .filter_map(|h| machine.call_info(h))
        .collect();
    let ringing_here = |i: &CallInfo| {
        !i.state.is_ended() && i.direction == Direction::Incoming && i.state == CallState::Ringing
    };
    let active = |i: &CallInfo| !i.state.is_ended() && !ringing_here(i);
    let current: Vec<CallHandle> = infos
        .iter()
        .filter(|i| active(i) && !i.local_media.on_hold)
        .map(|i| i.handle)
        .collect();
    if current.len() > 1 {
        return Err(format!(
            "{} calls under way and not on hold: {current:?}",
            current.len()
        ));
    }
    let any_active = infos.iter().any(active);
    match machine.active_call() {
        None if any_active => return Err("a call is active, yet active_call is None".into()),
        Some(h) if !infos.iter().any(|i| i.handle == h && active(i)) => {
            return Err(format!("active_call {h:?} is not an active call"));
        }
        Some(h) if !current.is_empty() && current[0] != h => {
            return Err(format!(
                "active_call {h:?}, yet {:?} is the current one",
                current[0]
            ));
        }
        _ => {}
    }
    for i in &infos {
        if i.waiting != (ringing_here(i) && any_active) {
            return Err(format!("{:?}: waiting {} is wrong", i.handle, i.waiting));
        }
    }
    Ok(())
}

#[test]
fn arbitrary_input_sequences_never_break_the_machine() {
    let sequences = env_u64("PEERCALL_FUZZ_SEQUENCES").unwrap_or(20_000);
    let mut tally = Tally::default();
    let started = std::time::Instant::now();
    for seed in 0..sequences {
        if let Err(problem) = run_sequence(seed, &mut tally) {
            panic!("sequence seed {seed}: {problem}");
        }
    }
    eprintln!(
        "machine fuzz: {sequences} sequences, {} inputs in {:.1} s",
        tally.inputs,
        started.elapsed().as_secs_f64()
    );
    eprintln!("  refused commands: {:?}", tally.command_errors);
    eprintln!("  dropped inputs reported: {:?}", tally.event_errors);
    eprintln!("  calls ended: {:?}", tally.ended);
    eprintln!(
        "  senders switched by a hold or resume: {}",
        tally.sending_changes
    );
    eprintln!("  messages sent: {:?}", tally.sent);
    eprintln!("  preconnected: {}", tally.preconnected);
    assert!(tally.event_errors.contains_key("bad-message"));
    assert!(
        sequences < 20_000 || tally.sending_changes > 0,
        "no hold or resume took effect: the inputs have lost coverage"
    );
    assert!(
        tally.command_errors.contains_key("call-ended")
            || tally.command_errors.contains_key("unknown-call")
    );
}
