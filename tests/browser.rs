#![cfg(target_arch = "wasm32")]
//! Browser tier: runs inside headless Chromium and Firefox through `wasm-pack test` (see
//! tests/run.sh), with the fake camera and microphone that `webdriver.json` turns on.
//!
//! The smoke tests here prove that the tier itself works before anything of peercall's is judged by
//! it: the fake devices answer getUserMedia with live tracks, and two RTCPeerConnections in one page
//! connect over host candidates with no ICE servers. If one of these fails, a failing peercall test
//! in the same run says nothing about peercall.
//!
//! Tests may panic (that is how they fail), so every `expect` names what was being attempted.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Date, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{
    MediaStream, MediaStreamConstraints, MediaStreamTrack, MediaStreamTrackState, RtcConfiguration,
    RtcIceCandidateInit, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

wasm_bindgen_test_configure!(run_in_browser);

/// How long two local peer connections may take to connect. Measured here: ~70 ms warm and
/// ~340 ms for a fresh browser's first call, so this only catches a tier that cannot connect at all.
const CONNECT_TIMEOUT_MS: f64 = 15_000.0;
const POLL_INTERVAL_MS: i32 = 20;

fn window() -> web_sys::Window {
    web_sys::window().expect("no `window`: these tests must run in a browser page, not a worker")
}

/// Awaits a JS promise, panicking with `what` and the rejection reason if it rejects.
async fn settle(promise: Promise, what: &str) -> JsValue {
    match JsFuture::from(promise).await {
        Ok(value) => value,
        Err(reason) => panic!("{what} rejected: {reason:?}"),
    }
}

async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout failed");
    });
    settle(promise, "timer").await;
}

async fn get_user_media(audio: bool, video: bool) -> MediaStream {
    let devices = window()
        .navigator()
        .media_devices()
        .expect("navigator.mediaDevices is missing: the test page is not a secure context");
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::from_bool(audio));
    constraints.set_video(&JsValue::from_bool(video));
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .expect("getUserMedia threw synchronously");
    settle(
        promise,
        "getUserMedia (are the fake-device flags from webdriver.json applied?)",
    )
    .await
    .dyn_into::<MediaStream>()
    .expect("getUserMedia resolved to something that is not a MediaStream")
}

fn tracks(list: Array) -> Vec<MediaStreamTrack> {
    list.iter()
        .map(|t| {
            t.dyn_into::<MediaStreamTrack>()
                .expect("a track list held something that is not a MediaStreamTrack")
        })
        .collect()
}

#[wasm_bindgen_test]
async fn fake_devices_give_one_live_audio_and_one_live_video_track_that_end_when_stopped() {
    let stream = get_user_media(true, true).await;
    let audio = tracks(stream.get_audio_tracks());
    let video = tracks(stream.get_video_tracks());
    assert_eq!(audio.len(), 1, "expected one fake audio track");
    assert_eq!(video.len(), 1, "expected one fake video track");
    assert_eq!(
        tracks(stream.get_tracks()).len(),
        2,
        "expected no other tracks"
    );

    for (track, kind) in [(&audio[0], "audio"), (&video[0], "video")] {
        assert_eq!(track.kind(), kind);
        assert_eq!(
            track.ready_state(),
            MediaStreamTrackState::Live,
            "fresh {kind} track ({:?}) is not live",
            track.label()
        );
        assert!(track.enabled(), "fresh {kind} track is disabled");
    }
    assert!(stream.active(), "a stream with live tracks must be active");

    for track in audio.iter().chain(&video) {
        track.stop();
    }
    for track in audio.iter().chain(&video) {
        assert_eq!(
            track.ready_state(),
            MediaStreamTrackState::Ended,
            "{} track still {:?} after stop()",
            track.kind(),
            track.ready_state()
        );
    }
}

/// One side of the in-page call: its connection, the candidates it has gathered but not yet
/// delivered, and the remote tracks it has received. The handlers are owned here and detached in
/// `close`, so no closure outlives the test.
struct Peer {
    name: &'static str,
    pc: RtcPeerConnection,
    outbox: Rc<RefCell<Vec<RtcIceCandidateInit>>>,
    gathering_done: Rc<RefCell<bool>>,
    remote_kinds: Rc<RefCell<Vec<String>>>,
    _on_ice: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_track: Closure<dyn FnMut(RtcTrackEvent)>,
}

impl Peer {
    fn new(name: &'static str) -> Self {
        let config = RtcConfiguration::new();
        // No ICE servers: nothing outside this machine is reachable, host candidates suffice.
        config.set_ice_servers(&Array::new());
        let pc = RtcPeerConnection::new_with_configuration(&config)
            .unwrap_or_else(|e| panic!("{name}: new RTCPeerConnection failed: {e:?}"));

        let outbox = Rc::new(RefCell::new(Vec::new()));
        let gathering_done = Rc::new(RefCell::new(false));
        let on_ice = {
            let outbox = Rc::clone(&outbox);
            let gathering_done = Rc::clone(&gathering_done);
            Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
                move |event: RtcPeerConnectionIceEvent| match event.candidate() {
                    // Copied field by field, as a signaling message would carry it.
                    Some(candidate) => {
                        let init = RtcIceCandidateInit::new(&candidate.candidate());
                        init.set_sdp_mid(candidate.sdp_mid().as_deref());
                        init.set_sdp_m_line_index(candidate.sdp_m_line_index());
                        outbox.borrow_mut().push(init);
                    }
                    None => *gathering_done.borrow_mut() = true,
                },
            )
        };
        pc.set_onicecandidate(Some(on_ice.as_ref().unchecked_ref()));

        let remote_kinds = Rc::new(RefCell::new(Vec::new()));
        let on_track = {
            let remote_kinds = Rc::clone(&remote_kinds);
            Closure::<dyn FnMut(RtcTrackEvent)>::new(move |event: RtcTrackEvent| {
                remote_kinds.borrow_mut().push(event.track().kind());
            })
        };
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));

        Peer {
            name,
            pc,
            outbox,
            gathering_done,
            remote_kinds,
            _on_ice: on_ice,
            _on_track: on_track,
        }
    }

    fn send_media(&self, stream: &MediaStream) {
        for track in tracks(stream.get_tracks()) {
            self.pc.add_track_0(&track, stream);
        }
    }

    async fn create_and_set_local(&self, sdp_type: RtcSdpType) -> RtcSessionDescriptionInit {
        let (promise, what) = match sdp_type {
            RtcSdpType::Offer => (self.pc.create_offer(), "createOffer"),
            RtcSdpType::Answer => (self.pc.create_answer(), "createAnswer"),
            other => panic!("cannot create a {other:?}"),
        };
        let created = settle(promise, &format!("{}: {what}", self.name)).await;
        let sdp = js_sys::Reflect::get(&created, &JsValue::from_str("sdp"))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| panic!("{}: {what} gave no SDP text: {created:?}", self.name));
        assert!(
            sdp.contains("m=audio") && sdp.contains("m=video"),
            "{}: {what} lacks an audio or video section:\n{sdp}",
            self.name
        );
        let description = RtcSessionDescriptionInit::new(sdp_type);
        description.set_sdp(&sdp);
        settle(
            self.pc.set_local_description(&description),
            &format!("{}: setLocalDescription({sdp_type:?})", self.name),
        )
        .await;
        description
    }

    async fn set_remote(&self, description: &RtcSessionDescriptionInit) {
        settle(
            self.pc.set_remote_description(description),
            &format!("{}: setRemoteDescription", self.name),
        )
        .await;
    }

    /// Delivers this peer's gathered candidates to `to`; returns how many.
    async fn deliver_candidates(&self, to: &Peer) -> usize {
        let batch: Vec<_> = self.outbox.borrow_mut().drain(..).collect();
        for candidate in &batch {
            settle(
                to.pc
                    .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(candidate)),
                &format!(
                    "{}: addIceCandidate({:?}) from {}",
                    to.name,
                    candidate.get_candidate(),
                    self.name
                ),
            )
            .await;
        }
        batch.len()
    }

    fn close(&self) {
        self.detach_and_close();
        assert_eq!(
            self.pc.signaling_state(),
            web_sys::RtcSignalingState::Closed,
            "{}: close() did not close the connection",
            self.name
        );
    }

    /// Idempotent: `close()` on a closed RTCPeerConnection does nothing.
    fn detach_and_close(&self) {
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        self.pc.close();
    }
}

impl Drop for Peer {
    /// The handlers are dropped with this struct, so the connection must stop calling them first.
    fn drop(&mut self) {
        self.detach_and_close();
    }
}

#[wasm_bindgen_test]
async fn two_peer_connections_in_one_page_connect_with_fake_media_and_no_ice_servers() {
    let caller = Peer::new("caller");
    let callee = Peer::new("callee");
    let caller_media = get_user_media(true, true).await;
    let callee_media = get_user_media(true, true).await;
    caller.send_media(&caller_media);
    callee.send_media(&callee_media);

    // Offer/answer handed across directly: the page is its own signaling channel.
    let offer = caller.create_and_set_local(RtcSdpType::Offer).await;
    callee.set_remote(&offer).await;
    let answer = callee.create_and_set_local(RtcSdpType::Answer).await;
    caller.set_remote(&answer).await;

    // Both remote descriptions are set, so candidates can be applied as they are gathered.
    let started = Date::now();
    let mut delivered = (0, 0);
    loop {
        delivered.0 += caller.deliver_candidates(&callee).await;
        delivered.1 += callee.deliver_candidates(&caller).await;
        let states = (caller.pc.connection_state(), callee.pc.connection_state());
        let connected = RtcPeerConnectionState::Connected;
        if states.0 == connected && states.1 == connected {
            break;
        }
        let elapsed = Date::now() - started;
        let failed = [states.0, states.1].contains(&RtcPeerConnectionState::Failed);
        if failed || elapsed > CONNECT_TIMEOUT_MS {
            panic!(
                "peer connections did not both reach \"connected\" ({} after {elapsed:.0} ms): \
                 caller {:?} (ice {:?}, {} candidates sent, gathering done: {}), \
                 callee {:?} (ice {:?}, {} candidates sent, gathering done: {})",
                if failed { "one failed" } else { "timed out" },
                states.0,
                caller.pc.ice_connection_state(),
                delivered.0,
                caller.gathering_done.borrow(),
                states.1,
                callee.pc.ice_connection_state(),
                delivered.1,
                callee.gathering_done.borrow(),
            );
        }
        sleep_ms(POLL_INTERVAL_MS).await;
    }
    let connected_after = Date::now() - started;

    // ICE can connect on one side's candidates alone (the other side's arrive as peer-reflexive),
    // so let gathering finish and check that both sides really produced and delivered host
    // candidates: that is what the app's signaling channel will carry.
    while !(*caller.gathering_done.borrow() && *callee.gathering_done.borrow()) {
        assert!(
            Date::now() - started < CONNECT_TIMEOUT_MS,
            "ICE gathering did not complete within {CONNECT_TIMEOUT_MS} ms: caller {:?}, callee {:?}",
            caller.pc.ice_gathering_state(),
            callee.pc.ice_gathering_state()
        );
        sleep_ms(POLL_INTERVAL_MS).await;
    }
    delivered.0 += caller.deliver_candidates(&callee).await;
    delivered.1 += callee.deliver_candidates(&caller).await;
    assert!(
        delivered.0 > 0 && delivered.1 > 0,
        "a side gathered no ICE candidates (caller, callee) = {delivered:?}: \
         host candidates are expected with no ICE servers"
    );

    // Each side received the other's audio and video.
    for peer in [&caller, &callee] {
        let mut kinds = peer.remote_kinds.borrow().clone();
        kinds.sort();
        assert_eq!(
            kinds,
            ["audio", "video"],
            "{}: remote tracks received",
            peer.name
        );
    }
    web_sys::console::log_1(
        &format!(
            "both peers connected {connected_after:.0} ms after the answer was applied \
             ({} + {} candidates)",
            delivered.0, delivered.1
        )
        .into(),
    );

    caller.close();
    callee.close();
    for track in tracks(caller_media.get_tracks())
        .into_iter()
        .chain(tracks(callee_media.get_tracks()))
    {
        track.stop();
    }
}

/// The protocol and the call core run in the browser as they do natively: two machines exchange
/// real JSON messages (through `Message::parse`) and reach `Connected`, with effect results fed by
/// hand in place of the driver.
#[wasm_bindgen_test]
fn call_core_runs_in_the_browser() {
    use peercall::call::{
        CallHandle, CallId, CallKind, CallMachine, CallState, Command, Config, Effect,
        EffectResult, Event, IceState, Output,
    };
    use peercall::protocol::{PartyId, UserId};

    fn machine(user: &str, party: &str) -> CallMachine {
        let user = UserId::new(user).expect("user id");
        CallMachine::new(Config::new(user, PartyId::new(party).expect("party id")))
            .expect("the default config is valid")
    }
    /// Drains a machine: messages as (to, json), effects, and the states it reported.
    fn drain(m: &mut CallMachine) -> (Vec<String>, Vec<Effect>, Vec<CallState>) {
        let (mut sent, mut effects, mut states) = (vec![], vec![], vec![]);
        while let Some(output) = m.poll_output() {
            match output {
                Output::Send { message, .. } => sent.push(message.to_json()),
                Output::Effect { effect, .. } => effects.push(effect),
                Output::Event(Event::StateChanged { state, .. }) => states.push(state),
                Output::Event(_) => {}
            }
        }
        (sent, effects, states)
    }
    fn op(effects: &[Effect]) -> peercall::call::SdpOp {
        effects
            .iter()
            .find_map(|e| match e {
                Effect::CreateOffer { op, .. }
                | Effect::AcceptOffer { op, .. }
                | Effect::ApplyAnswer { op, .. } => Some(*op),
                _ => None,
            })
            .expect("an SDP effect")
    }

    let mut alice = machine("alice", "a1");
    let mut bob = machine("bob", "b1");
    let call = alice
        .place_call(0, "bob", CallKind::Video, CallId([7; 16]), None)
        .expect("place_call");
    drain(&mut alice);
    let media = EffectResult::MediaAcquired {
        video: true,
        camera_error: None,
    };
    alice.handle_effect(1, call, media.clone());
    let (_, effects, _) = drain(&mut alice);
    let offer = EffectResult::OfferCreated {
        op: op(&effects),
        sdp: "v=0\r\nm=audio offer".into(),
    };
    alice.handle_effect(2, call, offer);
    let (invite, _, _) = drain(&mut alice);
    assert!(invite[0].contains("\"type\":\"invite\""), "{invite:?}");
    bob.handle_message(3, "alice", &invite[0]);
    let (ringing, _, _) = drain(&mut bob);
    let bobs_call = CallHandle(1);
    alice.handle_message(4, "bob", &ringing[0]);
    assert_eq!(drain(&mut alice).2, vec![CallState::Ringing]);
    bob.command(5, bobs_call, Command::Accept { video: true })
        .expect("accept");
    drain(&mut bob);
    bob.handle_effect(6, bobs_call, media);
    let (_, effects, _) = drain(&mut bob);
    let answer = EffectResult::AnswerCreated {
        op: op(&effects),
        sdp: "v=0 answer".into(),
    };
    bob.handle_effect(7, bobs_call, answer);
    let (answer, _, _) = drain(&mut bob);
    alice.handle_message(8, "bob", &answer[0]);
    let (_, effects, states) = drain(&mut alice);
    assert_eq!(states, vec![CallState::Connecting]);
    alice.handle_effect(9, call, EffectResult::AnswerApplied { op: op(&effects) });
    for (m, handle) in [(&mut alice, call), (&mut bob, bobs_call)] {
        m.handle_effect(
            10,
            handle,
            EffectResult::IceStateChanged(IceState::Connected),
        );
        assert_eq!(drain(m).2, vec![CallState::Connected]);
    }
    // A malformed message is a typed error event in the browser too, never a panic.
    bob.handle_message(11, "alice", "{\"v\":1,\"type\":\"hangup\"");
    let errors = std::iter::from_fn(|| bob.poll_output())
        .filter(|o| matches!(o, Output::Event(Event::Error { .. })))
        .count();
    assert_eq!(errors, 1);
}
