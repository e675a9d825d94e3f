//! Throughput of the sans-IO call core, natively, in the shipped build configuration.
//!
//! Run with `cargo bench --bench core_throughput`. The bench profile inherits the release one
//! (`opt-level = "z"`, LTO, one codegen unit), so the figures are for the code as it ships, size
//! optimised, not for the fastest build possible.
//!
//! What is measured, with a plain `Instant` timing loop:
//!
//! 1. **Whole calls.** Two [`CallMachine`]s, alice and bob, run complete video calls back to back:
//!    alice places the call, bob's device rings, bob accepts, both sides connect, one side hangs
//!    up (alternating between alice and bob), and the ended call settles (both sides ended, both
//!    released, no timer left armed). Messages go from one machine to the other as the real
//!    transport carries them: serialised to the JSON wire text and parsed and validated again on
//!    the other side. Effects are answered by a minimal fake executor standing in for the browser
//!    (media acquired, a 3.9 KB offer and a 3.6 KB answer SDP created, descriptions set, three ICE
//!    candidates gathered, ICE connected). Like the real driver, it re-arms its timer with
//!    `poll_timeout` after every input and calls `handle_timeout` when the clock reaches it.
//!    The simulated clock advances 1 ms per delivered message or effect result, bob answers after
//!    1.5 s of ringing, the call talks for 1 s (under the 2 s stats interval, so no stats round),
//!    and 5 s pass between calls (more than the invite rate limit's refill, so no invite is
//!    dropped); no ring, connect or ICE timeout ever fires. Every delivered message and every
//!    input fed to either machine is counted. A call that does not connect on both sides, or does
//!    not end cleanly, panics: the benchmark cannot silently measure a failure path.
//!    The machines keep their history between calls (up to `ended_calls_kept` ended calls), so
//!    after the first 64 calls this is the steady state of a long-lived client.
//! 2. **Protocol parse and validation alone**: `Message::parse` over a mix of typical wire
//!    messages (an invite carrying a ~4 KB offer, a batch of three candidates, a hangup).
//!
//! Why: the core runs inside the browser on the page's main thread, once per signaling message
//! and per browser event. This puts a number on its cost (and on the JSON wire format's share of
//! it), so a change that makes it markedly slower shows up. The figures are native (x86-64 or
//! the like); the same code compiled to wasm32 and run by a browser is slower by some factor, but
//! what dominates (JSON text in and out, SDP copies) is the same.
//!
//! `PEERCALL_CORE_CALLS=N` sets the number of timed calls (default 20,000, after a 1,000-call
//! warm-up); the parse loop runs that many rounds of its three-message mix. The last output line is
//! `BENCH_JSON {...}`, one JSON object for scripts. MB means 10^6 bytes.
//!
//! The code is native only (it reads the clock with `Instant`); on wasm32 `main` does nothing, so
//! `cargo clippy --target wasm32-unknown-unknown --all-targets` still builds this target. (A
//! crate-level `#![cfg]` cannot be used: a `harness = false` target must always have a `main`.)

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

/// The harness the native tests share (clients, env knobs, the machine's output promises).
#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/support/mod.rs"]
mod support;

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::VecDeque;
    use std::hint::black_box;
    use std::time::Instant;

    use peercall::call::{
        CallHandle, CallId, CallKind, CallMachine, CallState, Command, Effect, EffectResult,
        EndReason, Event, IceState, Millis, Output,
    };
    use peercall::protocol::{Body, IceCandidate, Message, PartyId};

    use super::support::rng::splitmix64;
    use super::support::{self, env_u64, Promises};

    const DEFAULT_CALLS: u64 = 20_000;
    const WARMUP_CALLS: u64 = 1_000;
    /// Simulated time each delivered message or effect result takes.
    const STEP_MS: Millis = 1;
    /// How long bob's device rings before he answers (well under the 30 s ring timeout).
    const RING_MS: Millis = 1_500;
    /// How long the call talks (under the 2 s stats interval: no stats round).
    const TALK_MS: Millis = 1_000;
    /// The pause between calls (over the 4 s invite refill: the rate limit never drops one).
    const IDLE_MS: Millis = 5_000;

    const ALICE: usize = 0;
    const BOB: usize = 1;
    const NAMES: [&str; 2] = ["alice", "bob"];
    const PARTIES: [&str; 2] = ["alice-tab-1", "bob-phone"];

    /// Something the fake world does next, in order.
    enum Work {
        /// The transport delivers this wire text to a side.
        Deliver { to: usize, json: String },
        /// The fake browser reports an effect's result (or an event) to a side.
        Result {
            side: usize,
            handle: CallHandle,
            result: EffectResult,
        },
    }

    /// One client: its machine, its driver's armed timer, and the fake browser's view of its
    /// current call.
    struct Side {
        machine: CallMachine,
        /// The deadline the driver's timer is armed for (`poll_timeout` after the last input).
        timer: Option<Millis>,
        call: Option<CallHandle>,
        local_description: bool,
        remote_description: bool,
        remote_candidates: usize,
        ice_reported: bool,
        connected: bool,
        ended: Option<EndReason>,
        released: bool,
    }

    impl Side {
        fn new(index: usize) -> Side {
            Side {
                machine: support::machine(support::config(NAMES[index], PARTIES[index])),
                timer: None,
                call: None,
                local_description: false,
                remote_description: false,
                remote_candidates: 0,
                ice_reported: false,
                connected: false,
                ended: None,
                released: false,
            }
        }

        /// Forgets the fake browser state of the last call (the machine keeps its history).
        fn reset_call(&mut self) {
            self.call = None;
            self.local_description = false;
            self.remote_description = false;
            self.remote_candidates = 0;
            self.ice_reported = false;
            self.connected = false;
            self.ended = None;
            self.released = false;
        }
    }

    /// What the fake browser hands out: SDPs and candidates, created once and cloned per use as
    /// the browser would create fresh strings.
    struct Fixtures {
        offer: String,
        answer: String,
        candidates: [Vec<IceCandidate>; 2],
    }

    #[derive(Default, Clone, Copy)]
    struct Counts {
        messages: u64,
        wire_bytes: u64,
        inputs: u64,
    }

    struct World {
        now: Millis,
        sides: [Side; 2],
        queue: VecDeque<Work>,
        fixtures: Fixtures,
        counts: Counts,
        calls_placed: u64,
        /// During the warm-up, every output is checked against the machine's promises (shared
        /// with the tests); the timed calls run without the checks.
        promises: Option<[Promises; 2]>,
    }

    impl World {
        fn new() -> World {
            World {
                now: 0,
                sides: [Side::new(ALICE), Side::new(BOB)],
                queue: VecDeque::new(),
                fixtures: Fixtures {
                    offer: fake_sdp(false),
                    answer: fake_sdp(true),
                    candidates: [fake_candidates(ALICE), fake_candidates(BOB)],
                },
                counts: Counts::default(),
                calls_placed: 0,
                promises: Some(Default::default()),
            }
        }

        /// One whole call, from alice placing it to both sides settled.
        fn run_call(&mut self) {
            let n = self.calls_placed;
            self.calls_placed += 1;
            for side in &mut self.sides {
                side.reset_call();
            }

            // Alice calls; bob's device rings.
            let id = call_id(n);
            let placed = self.sides[ALICE].machine.place_call(
                self.now,
                NAMES[BOB],
                CallKind::Video,
                id,
                None,
            );
            let handle = placed.unwrap_or_else(|e| panic!("call {n}: place_call refused: {e}"));
            self.sides[ALICE].call = Some(handle);
            self.after_input(ALICE);
            self.run_until_quiet();
            let Some(incoming) = self.sides[BOB].call else {
                panic!("call {n}: bob's device never rang");
            };
            self.expect_state(n, ALICE, CallState::Ringing);
            self.expect_state(n, BOB, CallState::Ringing);

            // Bob answers with video; both sides connect.
            self.advance(RING_MS);
            let accepted = self.sides[BOB].machine.command(
                self.now,
                incoming,
                Command::Accept { video: true },
            );
            accepted.unwrap_or_else(|e| panic!("call {n}: accept refused: {e}"));
            self.after_input(BOB);
            self.run_until_quiet();
            for side in [ALICE, BOB] {
                assert!(
                    self.sides[side].connected,
                    "call {n}: {} never reached connected (state {:?})",
                    NAMES[side],
                    self.state(side)
                );
            }
            self.expect_state(n, ALICE, CallState::Connected);
            self.expect_state(n, BOB, CallState::Connected);

            // One side hangs up; the other follows; both release.
            self.advance(TALK_MS);
            let hanger = if n % 2 == 0 { ALICE } else { BOB };
            let other = 1 - hanger;
            let call = self.sides[hanger].call.unwrap();
            let hung_up = self.sides[hanger]
                .machine
                .command(self.now, call, Command::Hangup);
            hung_up.unwrap_or_else(|e| panic!("call {n}: hangup refused: {e}"));
            self.after_input(hanger);
            self.run_until_quiet();
            for (side, reason) in [
                (hanger, EndReason::Hangup),
                (other, EndReason::RemoteHangup),
            ] {
                let s = &self.sides[side];
                assert_eq!(
                    s.ended,
                    Some(reason),
                    "call {n}: {} did not end with {reason}",
                    NAMES[side]
                );
                assert!(s.released, "call {n}: {} never released", NAMES[side]);
                assert!(
                    s.timer.is_none() && s.machine.active_call().is_none(),
                    "call {n}: {} did not settle (timer {:?})",
                    NAMES[side],
                    s.timer
                );
            }
            self.expect_state(n, ALICE, CallState::Ended(self.sides[ALICE].ended.unwrap()));
            self.advance(IDLE_MS);
        }

        fn state(&self, side: usize) -> Option<CallState> {
            let s = &self.sides[side];
            s.call
                .and_then(|h| s.machine.call_info(h))
                .map(|info| info.state)
        }

        fn expect_state(&self, n: u64, side: usize, expected: CallState) {
            let state = self.state(side);
            assert_eq!(
                state,
                Some(expected),
                "call {n}: {} is {state:?}, expected {expected:?}",
                NAMES[side]
            );
        }

        /// Moves the clock on, firing the timers that come due as the real driver would.
        fn advance(&mut self, ms: Millis) {
            self.now += ms;
            self.fire_timers();
            self.run_until_quiet();
        }

        fn fire_timers(&mut self) {
            for side in [ALICE, BOB] {
                if self.sides[side].timer.is_some_and(|at| at <= self.now) {
                    self.sides[side].machine.handle_timeout(self.now);
                    self.after_input(side);
                }
            }
        }

        /// Processes queued deliveries and results until nothing is left to do.
        fn run_until_quiet(&mut self) {
            while let Some(work) = self.queue.pop_front() {
                self.now += STEP_MS;
                self.fire_timers();
                match work {
                    Work::Deliver { to, json } => {
                        self.counts.messages += 1;
                        self.counts.wire_bytes += json.len() as u64;
                        let from = NAMES[1 - to];
                        self.sides[to].machine.handle_message(self.now, from, &json);
                        self.after_input(to);
                    }
                    Work::Result {
                        side,
                        handle,
                        result,
                    } => {
                        if self.sides[side].released {
                            continue; // The driver drops results of released calls.
                        }
                        self.sides[side]
                            .machine
                            .handle_effect(self.now, handle, result);
                        self.after_input(side);
                    }
                }
            }
        }

        /// After an input: count it, drain the outputs, re-arm the timer.
        fn after_input(&mut self, side: usize) {
            self.counts.inputs += 1;
            while let Some(output) = self.sides[side].machine.poll_output() {
                if let Some(promises) = &mut self.promises {
                    if let Err(problem) = promises[side].observe(&output) {
                        panic!("{}: {problem}", NAMES[side]);
                    }
                }
                match output {
                    Output::Send { to, message } => {
                        let peer = 1 - side;
                        assert_eq!(to.as_str(), NAMES[peer], "message to an unknown user");
                        let json = message.to_json();
                        self.queue.push_back(Work::Deliver { to: peer, json });
                    }
                    Output::Effect { call, effect } => self.execute(side, call, effect),
                    Output::Event(event) => self.observe(side, event),
                }
            }
            self.sides[side].timer = self.sides[side].machine.poll_timeout();
        }

        fn observe(&mut self, side: usize, event: Event) {
            let s = &mut self.sides[side];
            match event {
                Event::Incoming { call, kind, .. } => {
                    assert_eq!(side, BOB, "alice got an incoming call");
                    assert_eq!(kind, CallKind::Video);
                    s.call = Some(call);
                }
                Event::StateChanged { call, state } => {
                    assert_eq!(
                        Some(call),
                        s.call,
                        "{}: event for another call",
                        NAMES[side]
                    );
                    if state == CallState::Connected {
                        s.connected = true;
                    }
                }
                Event::Ended { call, reason, .. } => {
                    assert_eq!(
                        Some(call),
                        s.call,
                        "{}: event for another call",
                        NAMES[side]
                    );
                    assert!(s.ended.is_none(), "{}: call ended twice", NAMES[side]);
                    s.ended = Some(reason);
                }
                Event::Error { call, error } => {
                    panic!("{}: unexpected error on {call:?}: {error}", NAMES[side])
                }
                Event::BusyRejected { from, .. } | Event::Missed { from, .. } => {
                    panic!("{}: rejected a call from {from} as busy", NAMES[side])
                }
                Event::Screen { from, .. } => {
                    panic!(
                        "{}: screened a call from {from} (screening is off)",
                        NAMES[side]
                    )
                }
                Event::VideoUnavailable { .. }
                | Event::RemoteMedia { .. }
                | Event::LocalMedia { .. }
                | Event::Quality { .. }
                | Event::Preconnected { .. }
                | Event::SpeakingWhileMuted { .. } => {}
                Event::FileIncoming { .. }
                | Event::Progress { .. }
                | Event::FileSent { .. }
                | Event::FileReceived { .. }
                | Event::TransferEnded { .. } => {
                    panic!("{}: a file event, yet no file was sent", NAMES[side])
                }
            }
        }

        /// The fake browser: answers each effect at once (the result is queued).
        fn execute(&mut self, side: usize, handle: CallHandle, effect: Effect) {
            let result = |result| Work::Result {
                side,
                handle,
                result,
            };
            match effect {
                Effect::AcquireMedia { video } => {
                    assert!(video, "{}: a video call asked for audio only", NAMES[side]);
                    self.queue.push_back(result(EffectResult::MediaAcquired {
                        video,
                        camera_error: None,
                    }));
                }
                Effect::CreateOffer { op, ice_restart } => {
                    assert!(!ice_restart, "unexpected ICE restart");
                    self.sides[side].local_description = true;
                    let sdp = self.fixtures.offer.clone();
                    self.queue
                        .push_back(result(EffectResult::OfferCreated { op, sdp }));
                    self.gather(side, handle);
                }
                Effect::AcceptOffer { op, sdp } => {
                    assert_eq!(
                        sdp.len(),
                        self.fixtures.offer.len(),
                        "the offer was altered"
                    );
                    let s = &mut self.sides[side];
                    s.remote_description = true;
                    s.local_description = true;
                    let sdp = self.fixtures.answer.clone();
                    self.queue
                        .push_back(result(EffectResult::AnswerCreated { op, sdp }));
                    self.gather(side, handle);
                }
                Effect::ApplyAnswer { op, sdp } => {
                    assert_eq!(
                        sdp.len(),
                        self.fixtures.answer.len(),
                        "the answer was altered"
                    );
                    self.sides[side].remote_description = true;
                    self.queue
                        .push_back(result(EffectResult::AnswerApplied { op }));
                    self.maybe_connect(side, handle);
                }
                Effect::AddRemoteCandidates { candidates, .. } => {
                    let s = &mut self.sides[side];
                    assert!(
                        s.remote_description,
                        "{}: candidates before the remote description",
                        NAMES[side]
                    );
                    s.remote_candidates += candidates.len();
                    self.maybe_connect(side, handle);
                }
                Effect::Release => {
                    let s = &mut self.sides[side];
                    assert!(!s.released, "{}: released twice", NAMES[side]);
                    s.released = true;
                }
                other => panic!("{}: unexpected effect {other:?}", NAMES[side]),
            }
        }

        /// The local description is set: the candidates trickle in, then gathering completes.
        fn gather(&mut self, side: usize, handle: CallHandle) {
            for candidate in &self.fixtures.candidates[side] {
                self.queue.push_back(Work::Result {
                    side,
                    handle,
                    result: EffectResult::LocalCandidate(candidate.clone()),
                });
            }
            self.queue.push_back(Work::Result {
                side,
                handle,
                result: EffectResult::LocalCandidatesComplete,
            });
        }

        /// ICE connects once both descriptions are set and a remote candidate was added.
        fn maybe_connect(&mut self, side: usize, handle: CallHandle) {
            let s = &mut self.sides[side];
            if s.local_description
                && s.remote_description
                && s.remote_candidates > 0
                && !s.ice_reported
            {
                s.ice_reported = true;
                self.queue.push_back(Work::Result {
                    side,
                    handle,
                    result: EffectResult::IceStateChanged(IceState::Connected),
                });
            }
        }
    }

    /// A distinct, well-mixed call id per call (SplitMix64 of the call number).
    fn call_id(n: u64) -> CallId {
        support::call_id_from(splitmix64(&mut n.clone()))
    }

    /// A Chrome-like audio+video SDP (BUNDLE, Opus, VP8/VP9/AV1/H264 with RTX, simulcast-free):
    /// about 3.9 KB for the offer and 3.6 KB for the answer, with CRLF line ends as a browser
    /// produces them.
    fn fake_sdp(answer: bool) -> String {
        let (session, ufrag, pwd, setup) = if answer {
            (
                "7735117496101478623",
                "Zr3k",
                "qQ4vHc0wNx2Lk8PaRj6sTe1m",
                "active",
            )
        } else {
            (
                "4611731400430051336",
                "EsAw",
                "bP+XJMM09aR8AiX1jdukzR6Y",
                "actpass",
            )
        };
        let fingerprint = (0..32u32)
            .map(|i| format!("{:02X}", (i * 37 + if answer { 11 } else { 5 }) % 256))
            .collect::<Vec<_>>()
            .join(":");
        let stream = if answer {
            "c3a1f0de-54b2-4e07-9a41-2f1e8c0b7d65"
        } else {
            "9f2c6e1a-0b7d-4c3e-8a5f-6d4b2e1c9a07"
        };
        let cname = if answer {
            "Yq2bN7vR0tLw4sHc"
        } else {
            "kX9pW3mZ5aJd8fQe"
        };
        let transport = [
            "c=IN IP4 0.0.0.0".to_owned(),
            "a=rtcp:9 IN IP4 0.0.0.0".to_owned(),
            format!("a=ice-ufrag:{ufrag}"),
            format!("a=ice-pwd:{pwd}"),
            "a=ice-options:trickle".to_owned(),
            format!("a=fingerprint:sha-256 {fingerprint}"),
            format!("a=setup:{setup}"),
        ];
        let mut lines = vec![
            "v=0".to_owned(),
            format!("o=- {session} 2 IN IP4 127.0.0.1"),
            "s=-".to_owned(),
            "t=0 0".to_owned(),
            "a=group:BUNDLE 0 1".to_owned(),
            "a=extmap-allow-mixed".to_owned(),
            format!("a=msid-semantic: WMS {stream}"),
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126".to_owned(),
        ];
        lines.extend(transport.iter().cloned());
        lines.extend(
            [
                "a=mid:0",
                "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                "a=sendrecv",
            ]
            .map(str::to_owned),
        );
        lines.push(format!("a=msid:{stream} audio-{cname}"));
        lines.extend(
            [
                "a=rtcp-mux",
                "a=rtcp-rsize",
                "a=rtpmap:111 opus/48000/2",
                "a=rtcp-fb:111 transport-cc",
                "a=fmtp:111 minptime=10;useinbandfec=1",
                "a=rtpmap:63 red/48000/2",
                "a=fmtp:63 111/111",
                "a=rtpmap:9 G722/8000",
                "a=rtpmap:0 PCMU/8000",
                "a=rtpmap:8 PCMA/8000",
                "a=rtpmap:13 CN/8000",
                "a=rtpmap:110 telephone-event/48000",
                "a=rtpmap:126 telephone-event/8000",
            ]
            .map(str::to_owned),
        );
        let audio_ssrc = if answer {
            2_718_281_828u32
        } else {
            3_141_592_653
        };
        lines.push(format!("a=ssrc:{audio_ssrc} cname:{cname}"));
        lines.push(format!("a=ssrc:{audio_ssrc} msid:{stream} audio-{cname}"));
        let video_codecs: &[(u32, &str, Option<&str>)] = &[
            (96, "VP8/90000", None),
            (98, "VP9/90000", Some("profile-id=0")),
            (100, "VP9/90000", Some("profile-id=2")),
            (45, "AV1/90000", Some("level-idx=5;profile=0;tier=0")),
            (
                102,
                "H264/90000",
                Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            ),
        ];
        // The answer keeps the codecs the answerer prefers, as a browser's answer does.
        let video_codecs = if answer {
            &video_codecs[..4]
        } else {
            video_codecs
        };
        let payloads: Vec<String> = video_codecs
            .iter()
            .flat_map(|(pt, _, _)| [pt.to_string(), (pt + 1).to_string()])
            .chain(["114".to_owned(), "115".to_owned(), "116".to_owned()])
            .collect();
        lines.push(format!(
            "m=video 9 UDP/TLS/RTP/SAVPF {}",
            payloads.join(" ")
        ));
        lines.extend(transport.iter().cloned());
        lines.extend(
            [
                "a=mid:1",
                "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
                "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
                "a=extmap:13 urn:3gpp:video-orientation",
                "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
                "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type",
                "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing",
                "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space",
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
                "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
                "a=sendrecv",
            ]
            .map(str::to_owned),
        );
        lines.push(format!("a=msid:{stream} video-{cname}"));
        lines.push("a=rtcp-mux".to_owned());
        lines.push("a=rtcp-rsize".to_owned());
        for (pt, codec, fmtp) in video_codecs {
            lines.push(format!("a=rtpmap:{pt} {codec}"));
            for feedback in ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"] {
                lines.push(format!("a=rtcp-fb:{pt} {feedback}"));
            }
            if let Some(fmtp) = fmtp {
                lines.push(format!("a=fmtp:{pt} {fmtp}"));
            }
            lines.push(format!("a=rtpmap:{} rtx/90000", pt + 1));
            lines.push(format!("a=fmtp:{} apt={pt}", pt + 1));
        }
        lines.extend(
            [
                "a=rtpmap:114 red/90000",
                "a=rtpmap:115 rtx/90000",
                "a=fmtp:115 apt=114",
                "a=rtpmap:116 ulpfec/90000",
            ]
            .map(str::to_owned),
        );
        let (video_ssrc, rtx_ssrc) = if answer {
            (1_618_033_988u32, 1_414_213_562u32)
        } else {
            (2_236_067_977, 1_732_050_807)
        };
        lines.push(format!("a=ssrc-group:FID {video_ssrc} {rtx_ssrc}"));
        for ssrc in [video_ssrc, rtx_ssrc] {
            lines.push(format!("a=ssrc:{ssrc} cname:{cname}"));
            lines.push(format!("a=ssrc:{ssrc} msid:{stream} video-{cname}"));
        }
        let mut sdp = lines.join("\r\n");
        sdp.push_str("\r\n");
        sdp
    }

    /// What a browser gathers on a typical home network: host, server-reflexive and relay.
    fn fake_candidates(side: usize) -> Vec<IceCandidate> {
        let (ufrag, host, port) = if side == ALICE {
            ("EsAw", "192.168.1.23", 54_400u32)
        } else {
            ("Zr3k", "10.0.0.42", 61_020)
        };
        [
            format!(
                "candidate:1467250027 1 udp 2122260223 {host} {port} typ host generation 0 \
                 ufrag {ufrag} network-id 1 network-cost 10"
            ),
            format!(
                "candidate:842163049 1 udp 1686052607 203.0.113.{} {} typ srflx raddr {host} \
                 rport {port} generation 0 ufrag {ufrag} network-id 1 network-cost 10",
                7 + side,
                port + 1
            ),
            format!(
                "candidate:3098147521 1 udp 41885439 198.51.100.{} 3478{} typ relay raddr \
                 203.0.113.{} rport {} generation 0 ufrag {ufrag} network-id 1 network-cost 10",
                20 + side,
                side,
                7 + side,
                port + 1
            ),
        ]
        .into_iter()
        .map(|candidate| IceCandidate {
            candidate,
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        })
        .collect()
    }

    /// The parse mix: an invite with a ~4 KB offer, a candidates batch, a hangup.
    fn parse_mix(fixtures: &Fixtures) -> Vec<String> {
        let message = |to_party_id: Option<&str>, body| Message {
            call_id: call_id(u64::MAX),
            party_id: PartyId::new(PARTIES[ALICE]).unwrap(),
            to_party_id: to_party_id.map(|p| PartyId::new(p).unwrap()),
            body,
        };
        let invite = message(
            None,
            Body::Invite {
                kind: CallKind::Video,
                sdp: fixtures.offer.clone(),
                lifetime_ms: 30_000,
                metadata: None,
                preconnect: false,
            },
        );
        let candidates = message(
            Some(PARTIES[BOB]),
            Body::Candidates {
                candidates: fixtures.candidates[ALICE].clone(),
                end: true,
            },
        );
        let hangup = message(
            Some(PARTIES[BOB]),
            Body::Hangup {
                reason: EndReason::Hangup,
            },
        );
        [invite, candidates, hangup]
            .iter()
            .map(Message::to_json)
            .collect()
    }

    fn parse_rounds(mix: &[String], rounds: u64) {
        for _ in 0..rounds {
            for text in mix {
                let parsed = Message::parse(black_box(text));
                black_box(parsed.expect("a fixture message failed to parse"));
            }
        }
    }

    pub fn main() {
        let calls = env_u64("PEERCALL_CORE_CALLS").unwrap_or(DEFAULT_CALLS);
        assert!(calls > 0, "PEERCALL_CORE_CALLS must be at least 1");

        let mut world = World::new();
        for _ in 0..WARMUP_CALLS {
            world.run_call();
        }
        if let Some(promises) = world.promises.take() {
            for side in [ALICE, BOB] {
                let kept = promises[side].settled(&world.sides[side].machine);
                kept.unwrap_or_else(|problem| panic!("{}: {problem}", NAMES[side]));
            }
        }
        let before = world.counts;
        let started = Instant::now();
        for _ in 0..calls {
            world.run_call();
        }
        let seconds = started.elapsed().as_secs_f64().max(1e-9);
        let messages = world.counts.messages - before.messages;
        let inputs = world.counts.inputs - before.inputs;
        let wire_bytes = world.counts.wire_bytes - before.wire_bytes;

        let mix = parse_mix(&world.fixtures);
        let mix_bytes: u64 = mix.iter().map(|m| m.len() as u64).sum();
        parse_rounds(&mix, (calls / 20).max(1));
        let parse_started = Instant::now();
        parse_rounds(&mix, calls);
        let parse_seconds = parse_started.elapsed().as_secs_f64().max(1e-9);
        let parse_messages = calls * mix.len() as u64;
        let parse_bytes = calls * mix_bytes;

        let calls_f = calls as f64;
        let per_sec = |n: u64| n as f64 / seconds;
        println!(
            "core_throughput: {calls} video calls (after {WARMUP_CALLS} warm-up) in {seconds:.3} s \
             (offer SDP {} B, answer SDP {} B)",
            world.fixtures.offer.len(),
            world.fixtures.answer.len()
        );
        println!(
            "  {:.0} calls/s, {:.1} us/call; {:.0} signaling messages/s ({:.1}/call, {:.0} wire \
             bytes/call); {:.0} inputs/s ({:.1}/call)",
            per_sec(calls),
            seconds * 1e6 / calls_f,
            per_sec(messages),
            messages as f64 / calls_f,
            wire_bytes as f64 / calls_f,
            per_sec(inputs),
            inputs as f64 / calls_f,
        );
        println!(
            "  parse+validate: {parse_messages} messages ({} B mix: invite {} B, candidates {} B, \
             hangup {} B) in {parse_seconds:.3} s: {:.0} messages/s, {:.1} MB/s",
            mix_bytes,
            mix[0].len(),
            mix[1].len(),
            mix[2].len(),
            parse_messages as f64 / parse_seconds,
            parse_bytes as f64 / 1e6 / parse_seconds,
        );
        // By hand, to keep the keys in this order (serde_json's map would sort them).
        let report = format!(
            "{{\"calls\":{calls},\"seconds\":{seconds:.6},\"callsPerSec\":{:.1},\
             \"messagesPerSec\":{:.1},\"inputsPerSec\":{:.1},\"usPerCall\":{:.3},\
             \"messagesPerCall\":{:.2},\"inputsPerCall\":{:.2},\"wireBytesPerCall\":{:.1},\
             \"warmupCalls\":{WARMUP_CALLS},\"parse\":{{\"messages\":{parse_messages},\
             \"bytes\":{parse_bytes},\"seconds\":{parse_seconds:.6},\"messagesPerSec\":{:.1},\
             \"mbPerSec\":{:.2}}}}}",
            per_sec(calls),
            per_sec(messages),
            per_sec(inputs),
            seconds * 1e6 / calls_f,
            messages as f64 / calls_f,
            inputs as f64 / calls_f,
            wire_bytes as f64 / calls_f,
            parse_messages as f64 / parse_seconds,
            parse_bytes as f64 / 1e6 / parse_seconds,
        );
        // A malformed line would only be found by whatever script reads it: check it here.
        serde_json::from_str::<serde_json::Value>(&report).expect("BENCH_JSON is not valid JSON");
        println!("BENCH_JSON {report}");
    }
}
