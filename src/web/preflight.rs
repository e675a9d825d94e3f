//! `preflight()`: the pre-call check. Opens the microphone and the camera; makes a media path
//! through the app's ICE servers with a loopback pair of peer connections inside the page,
//! sending the microphone over it to read its level; then stops and closes everything.
//! Everything it opens is owned here and released by `Drop` whichever way the check ends; the
//! decisions (candidate kinds, what a server's error means, the verdict) are `call::preflight`'s.
//!
//! With a TURN server configured and the default `iceTransportPolicy`, two loopback pairs run
//! at once: one with the app's policy (host and server-reflexive candidates, the path a call
//! would take first) and one with `'relay'` only, so that a connection through TURN is made and
//! its round-trip time measured even where a direct path exists.
//!
//! The level comes from `getStats()`'s `audioLevel`, not Web Audio: an `AudioContext` needs a
//! user gesture under the autoplay policy and an audio output to run (headless Firefox has none),
//! and the stats need neither. Chromium gives it on the sender's `media-source`, Firefox on the
//! receiver's `inbound-rtp` (Chromium computes that one only for audio that is played).

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidate, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcSessionDescriptionInit,
};

use super::bindings::{self, DataChannel, PeerConnectionExt as _};
use super::js;
use super::listener::EventListener;
use super::media::{self, Opened};
use super::options::PreflightOptions;
use super::tasks::settled;
use super::timer::{sleep, Timeout};
use crate::call::preflight::{self as rules, CandidateType, Gathered, Round, ServerError};
use crate::call::{DeviceKind, MediaError};

/// Runs the check with the app's options (read already): the report `preflight()` resolves with.
pub async fn check(options: PreflightOptions) -> Result<Object, JsValue> {
    // The connections are made first: a configuration the browser refuses (a malformed URL)
    // is a bad option, not a failed network, and no device has been opened for it.
    let two_rounds = options.turn && !options.relay_only;
    let relay = two_rounds.then(|| relay_config(&options.rtc_config));
    let mut loopback = Loopback::new(&options.rtc_config, relay.as_ref())?;
    let (microphone, track) = open_microphone(options.microphone).await;
    let camera = check_camera(options.camera).await;
    let listened = track
        .as_ref()
        .and_then(Opened::get)
        .filter(|_| options.listen_ms > 0);
    if let Some(track) = listened {
        loopback.send(track);
    }
    let listen_ms = listened.map(|_| options.listen_ms);
    let (rounds, level) = loopback.run(options.timeout_ms, listen_ms).await;
    drop(track); // stops it
    if microphone.is_object() {
        js::set(microphone.unchecked_ref(), "level", number_or_null(level));
    }
    let main = &rounds[0];
    let relay = rounds.get(1);
    let relay_round = relay.or(options.relay_only.then_some(main));
    let network = network_report(options.turn, main, relay, relay_round);
    let ok = [&microphone, &camera, &network]
        .iter()
        .all(|part| part.is_null() || js::get(part, "ok").as_bool() == Some(true));
    let report = js::object();
    js::set(&report, "ok", ok);
    js::set(&report, "microphone", microphone);
    js::set(&report, "camera", camera);
    js::set(&report, "network", network);
    Ok(report)
}

/// The app's configuration with `iceTransportPolicy: 'relay'`.
fn relay_config(config: &Object) -> Object {
    let relay = js::object();
    js::set(&relay, "iceServers", js::get(config, "iceServers"));
    js::set(&relay, "iceTransportPolicy", "relay");
    relay
}

fn network_report(
    turn: bool,
    main: &Round,
    relay: Option<&Round>,
    relay_round: Option<&Round>,
) -> JsValue {
    let report = js::object();
    let code = rules::verdict(turn, main, relay);
    js::set(&report, "ok", code.is_none());
    js::set(
        &report,
        "code",
        code.map_or(JsValue::NULL, JsValue::from_str),
    );
    let all = relay.map_or(main.gathered, |r| main.gathered.union(r.gathered));
    let gathered = js::object();
    js::set(&gathered, "host", all.host);
    js::set(&gathered, "srflx", all.srflx);
    js::set(&gathered, "relay", all.relay);
    js::set(&report, "gathered", gathered);
    js::set(&report, "connected", main.connected);
    js::set(
        &report,
        "path",
        main.path.map_or(JsValue::NULL, |p| p.as_str().into()),
    );
    js::set(&report, "rttMs", number_or_null(main.rtt_ms));
    js::set(
        &report,
        "relayConnected",
        relay_round.is_some_and(|r| r.connected),
    );
    js::set(
        &report,
        "relayRttMs",
        number_or_null(relay_round.and_then(|r| r.rtt_ms)),
    );
    // Each pair reports a server's error once; both pairs use the same servers.
    let mut all_errors = main.errors.clone();
    for error in relay.iter().flat_map(|r| &r.errors) {
        rules::note_error(&mut all_errors, error.clone());
    }
    let errors = Array::new();
    for error in &all_errors {
        let entry = js::object();
        js::set(&entry, "url", error.url.as_str());
        js::set(&entry, "code", error.code());
        js::set(&entry, "errorCode", f64::from(error.error_code));
        js::set(&entry, "text", error.text.as_str());
        errors.push(&entry);
    }
    js::set(&report, "errors", errors);
    report.into()
}

fn number_or_null(value: Option<f64>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_f64)
}

/// `{ ok: false, code, message }` for a device that did not open.
fn device_failure(error: &MediaError) -> Object {
    let report = js::object();
    js::set(&report, "ok", false);
    js::set(&report, "code", error.code());
    js::set(&report, "message", error.message().as_str());
    report
}

/// `{ ok: true, label }` for a device that opened.
fn device_opened(track: &MediaStreamTrack) -> Object {
    let report = js::object();
    js::set(&report, "ok", true);
    js::set(&report, "label", track.label().as_str());
    report
}

/// Opens the microphone: its report, and the track if it opened.
async fn open_microphone(
    device: Option<Option<String>>,
) -> (JsValue, Option<Opened<MediaStreamTrack>>) {
    let Some(device) = device else {
        return (JsValue::NULL, None);
    };
    match media::open_track(DeviceKind::Microphone, device.as_deref()).await {
        Ok(track) => match track.get() {
            Some(live) => (device_opened(live).into(), Some(track)),
            None => (JsValue::NULL, None),
        },
        Err(error) => (device_failure(&error).into(), None),
    }
}

/// Opens the camera, reads the size it opened at, stops it.
async fn check_camera(device: Option<Option<String>>) -> JsValue {
    let Some(device) = device else {
        return JsValue::NULL;
    };
    let track = match media::open_track(DeviceKind::Camera, device.as_deref()).await {
        Ok(track) => track,
        Err(error) => return device_failure(&error).into(),
    };
    let Some(live) = track.get() else {
        return JsValue::NULL;
    };
    let report = device_opened(live);
    let settings = live
        .unchecked_ref::<bindings::TrackMethods>()
        .get_settings();
    js::set(&report, "width", js::get(&settings, "width"));
    js::set(&report, "height", js::get(&settings, "height"));
    report.into()
}

/// Milliseconds between readings of the microphone's level.
const READ_EVERY_MS: u32 = 100;

/// The loudest `audioLevel` in a connection's stats (0 to 1, 1 being full scale), if any.
async fn audio_level(pc: &RtcPeerConnection) -> Option<f64> {
    let report = settled(&pc.get_stats()).await.ok()?;
    let mut loudest: Option<f64> = None;
    report
        .unchecked_ref::<js_sys::Map>()
        .for_each(&mut |stat, _| {
            if let Some(level) = js::get(&stat, "audioLevel").as_f64() {
                loudest = Some(loudest.map_or(level, |l| l.max(level)));
            }
        });
    loudest
}

/// What the listeners of the loopback connections saw, for the loop that waits on them.
/// Connections `2n` and `2n + 1` are pair `n`.
#[derive(Default)]
struct Probe {
    /// Bumped by every event, so that the waiting loop looks again.
    changes: u32,
    waker: Option<Waker>,
    /// Per connection: its candidates not yet given to its partner.
    pending: Vec<Vec<RtcIceCandidate>>,
    /// Per connection: its gathering is over.
    complete: Vec<bool>,
    /// Per pair: candidates given across so far.
    sent: Vec<u32>,
    gathered: Vec<Gathered>,
    errors: Vec<Vec<ServerError>>,
    /// Per pair: the data channel opened (ICE and DTLS are done).
    open: Vec<bool>,
    /// Per pair: ICE failed on either side.
    failed: Vec<bool>,
    timed_out: bool,
}

impl Probe {
    fn new(pairs: usize) -> Probe {
        Probe {
            pending: (0..2 * pairs).map(|_| Vec::new()).collect(),
            complete: vec![false; 2 * pairs],
            sent: vec![0; pairs],
            gathered: vec![Gathered::default(); pairs],
            errors: (0..pairs).map(|_| Vec::new()).collect(),
            open: vec![false; pairs],
            failed: vec![false; pairs],
            ..Probe::default()
        }
    }

    /// Nothing more will happen that the check waits for.
    fn settled(&self) -> bool {
        self.timed_out
            || (0..self.open.len()).all(|pair| {
                let gathered = self.complete[2 * pair] && self.complete[2 * pair + 1];
                gathered && (self.open[pair] || self.failed[pair] || self.sent[pair] == 0)
            })
    }
}

type SharedProbe = Rc<RefCell<Probe>>;

/// Changes the probe and wakes the loop. Listeners and timers run between the loop's polls,
/// never inside one, so the borrow always succeeds.
fn touch(probe: &SharedProbe, change: impl FnOnce(&mut Probe)) {
    let waker = match probe.try_borrow_mut() {
        Ok(mut probe) => {
            change(&mut probe);
            probe.changes = probe.changes.wrapping_add(1);
            probe.waker.take()
        }
        Err(_) => None,
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Pairs of peer connections, each pair connected to itself inside the page with a data
/// channel: the app's configuration, and with TURN a relay-only one. All are closed when this
/// is dropped.
struct Loopback {
    pcs: Vec<RtcPeerConnection>,
    probe: SharedProbe,
    _channels: Vec<DataChannel>,
    _listeners: Vec<EventListener>,
}

fn new_pc(config: &Object) -> Result<RtcPeerConnection, JsValue> {
    RtcPeerConnection::new_with_configuration(config.unchecked_ref::<RtcConfiguration>()).map_err(
        |error| {
            js::error(
                "invalid-option",
                &crate::text::concat(&["option `iceServers`: ", &js::error_message(&error)]),
            )
        },
    )
}

impl Loopback {
    fn new(config: &Object, relay: Option<&Object>) -> Result<Loopback, JsValue> {
        let configs: Vec<&Object> = [Some(config), relay].into_iter().flatten().collect();
        let mut loopback = Loopback {
            pcs: Vec::new(),
            probe: Rc::new(RefCell::new(Probe::new(configs.len()))),
            _channels: Vec::new(),
            _listeners: Vec::new(),
        };
        for config in configs {
            // Pushed one by one: if the second fails, `Drop` closes the first.
            loopback.pcs.push(new_pc(config)?);
            loopback.pcs.push(new_pc(config)?);
        }
        for (index, pc) in loopback.pcs.iter().enumerate() {
            let pair = index / 2;
            let target: &web_sys::EventTarget = pc.as_ref();
            let probe = &loopback.probe;
            let on_candidate = probe.clone();
            loopback
                ._listeners
                .push(EventListener::new(target, "icecandidate", move |event| {
                    let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                        return;
                    };
                    touch(&on_candidate, |probe| match event.candidate() {
                        // An empty candidate marks one m-line's end (Firefox).
                        Some(candidate) if candidate.candidate().is_empty() => {}
                        Some(candidate) => {
                            probe.gathered[pair].note_line(&candidate.candidate());
                            probe.pending[index].push(candidate);
                        }
                        None => probe.complete[index] = true,
                    });
                }));
            let on_error = probe.clone();
            loopback._listeners.push(EventListener::new(
                target,
                "icecandidateerror",
                move |event| {
                    let error = ServerError {
                        url: js::get(&event, "url").as_string().unwrap_or_default(),
                        error_code: js::get(&event, "errorCode").as_f64().unwrap_or(0.0) as u16,
                        text: js::get(&event, "errorText").as_string().unwrap_or_default(),
                    };
                    touch(&on_error, |probe| {
                        rules::note_error(&mut probe.errors[pair], error)
                    });
                },
            ));
            let on_state = probe.clone();
            let watched = pc.clone();
            loopback._listeners.push(EventListener::new(
                target,
                "iceconnectionstatechange",
                move |_| {
                    if js::get(&watched, "iceConnectionState")
                        .as_string()
                        .as_deref()
                        == Some("failed")
                    {
                        touch(&on_state, |probe| probe.failed[pair] = true);
                    }
                },
            ));
            if index % 2 == 0 {
                if let Ok(channel) = pc.create_data_channel("preflight", &JsValue::UNDEFINED) {
                    let on_open = probe.clone();
                    loopback
                        ._listeners
                        .push(EventListener::new(&channel, "open", move |_| {
                            touch(&on_open, |probe| probe.open[pair] = true);
                        }));
                    loopback._channels.push(channel);
                }
            }
        }
        Ok(loopback)
    }

    /// Offer from one side of each pair to the other, answer back; `false` if the browser
    /// refused a step.
    async fn negotiate(&self) -> bool {
        for pair in self.pcs.chunks(2) {
            let [first, second] = pair else {
                return false;
            };
            let done = async {
                settled(&first.set_local_description_auto()).await?;
                settled(&second.set_remote_description(&local_description(first)?)).await?;
                settled(&second.set_local_description_auto()).await?;
                settled(&first.set_remote_description(&local_description(second)?)).await
            };
            if done.await.is_err() {
                return false;
            }
        }
        true
    }

    /// Sends `track` from the first connection of the app's pair to the second, for its level.
    fn send(&mut self, track: &MediaStreamTrack) {
        if let Ok(stream) = MediaStream::new_with_tracks(&Array::of1(track)) {
            self.pcs[0].add_track_0(track, &stream);
        }
    }

    /// Connects every pair, for at most `timeout_ms`, and says what each found (the app's
    /// configuration first); with `listen_ms`, then reads the level of the track sent on the
    /// app's pair for that long. Closes them all.
    async fn run(self, timeout_ms: u32, listen_ms: Option<u32>) -> (Vec<Round>, Option<f64>) {
        let probe = self.probe.clone();
        let _deadline = Timeout::new(timeout_ms, move || touch(&probe, |p| p.timed_out = true));
        if self.negotiate().await {
            loop {
                self.forward_candidates().await;
                if self.probe.borrow().settled() {
                    break;
                }
                Changed::new(&self.probe).await;
            }
        }
        let mut rounds = Vec::new();
        for pair in 0..self.pcs.len() / 2 {
            let (connected, gathered, errors) = {
                let mut probe = self.probe.borrow_mut();
                let errors = core::mem::take(&mut probe.errors[pair]);
                (probe.open[pair], probe.gathered[pair], errors)
            };
            let (path, rtt_ms) = match connected {
                true => selected_pair(&self.pcs[2 * pair]).await,
                false => (None, None),
            };
            rounds.push(Round {
                gathered,
                connected,
                path,
                rtt_ms,
                errors,
            });
        }
        let level = match (listen_ms, rounds[0].connected) {
            (Some(ms), true) => self.level(ms).await,
            _ => None,
        };
        (rounds, level)
    }

    /// The loudest level of the sent track over `listen_ms`, at either end of the app's pair.
    async fn level(&self, listen_ms: u32) -> Option<f64> {
        let end = js::now_ms() + u64::from(listen_ms);
        let mut loudest: Option<f64> = None;
        loop {
            for pc in &self.pcs[..2] {
                if let Some(level) = audio_level(pc).await {
                    loudest = Some(loudest.map_or(level, |l| l.max(level)));
                }
            }
            if js::now_ms() >= end {
                break;
            }
            sleep(READ_EVERY_MS).await;
        }
        loudest.map(|level| level.clamp(0.0, 1.0))
    }

    /// Gives each connection's new candidates to its partner (both descriptions are set).
    async fn forward_candidates(&self) {
        for index in 0..self.pcs.len() {
            let candidates = {
                let mut probe = self.probe.borrow_mut();
                let candidates = core::mem::take(&mut probe.pending[index]);
                probe.sent[index / 2] += candidates.len() as u32;
                candidates
            };
            let partner = &self.pcs[index ^ 1];
            for candidate in candidates {
                let added = partner.add_ice_candidate_with_opt_rtc_ice_candidate(Some(&candidate));
                // One the browser refuses is one path fewer, reported as such. Awaited, so
                // that the promise's callbacks are freed now rather than by the collector.
                let _ = settled(&added).await;
            }
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        for pc in &self.pcs {
            pc.close();
        }
    }
}

fn local_description(pc: &RtcPeerConnection) -> Result<RtcSessionDescriptionInit, JsValue> {
    // An `RTCSessionDescription` reads as the `{ type, sdp }` init it was made from.
    pc.local_description()
        .map(JsCast::unchecked_into)
        .ok_or_else(|| JsValue::from_str("no local description"))
}

/// The selected candidate pair's local candidate type and round-trip time. Chromium names the
/// pair from its transport (`selectedCandidatePairId`); Firefox marks it `selected`; either way
/// a nominated pair that succeeded will do.
async fn selected_pair(pc: &RtcPeerConnection) -> (Option<CandidateType>, Option<f64>) {
    let Ok(report) = settled(&pc.get_stats()).await else {
        return (None, None);
    };
    let map: &js_sys::Map = report.unchecked_ref();
    let mut chosen = JsValue::UNDEFINED;
    let mut nominated = JsValue::UNDEFINED;
    map.for_each(
        &mut |stat, _| match js::get(&stat, "type").as_string().as_deref() {
            Some("transport") => {
                let id = js::get(&stat, "selectedCandidatePairId");
                if id.is_string() {
                    chosen = map.get(&id);
                }
            }
            Some("candidate-pair") => {
                if js::get(&stat, "selected").as_bool() == Some(true) {
                    chosen = stat;
                } else if js::get(&stat, "nominated").as_bool() == Some(true)
                    && js::get(&stat, "state").as_string().as_deref() == Some("succeeded")
                {
                    nominated = stat;
                }
            }
            _ => {}
        },
    );
    let pair = if chosen.is_object() {
        chosen
    } else {
        nominated
    };
    if !pair.is_object() {
        return (None, None);
    }
    let local = map.get(&js::get(&pair, "localCandidateId"));
    let kind = js::get(&local, "candidateType")
        .as_string()
        .and_then(|name| CandidateType::from_name(&name));
    let number = |key: &str| js::get(&pair, key).as_f64();
    let rtt = rules::pair_rtt_ms(
        number("currentRoundTripTime"),
        number("totalRoundTripTime"),
        number("responsesReceived"),
    );
    (kind, rtt)
}

/// Ready once the probe has changed since it was made.
struct Changed<'a> {
    probe: &'a SharedProbe,
    seen: u32,
}

impl Changed<'_> {
    fn new(probe: &SharedProbe) -> Changed<'_> {
        let seen = probe.borrow().changes;
        Changed { probe, seen }
    }
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut probe = self.probe.borrow_mut();
        if probe.changes != self.seen {
            return Poll::Ready(());
        }
        probe.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
