//! `preflight()`: the pre-call check. Opens the microphone (and listens to its level) and the
//! camera, then stops them; makes a media path through the app's ICE servers with a loopback
//! pair of peer connections inside the page, then closes it. Everything it opens is owned here
//! and released by `Drop` whichever way the check ends; the decisions (candidate kinds, what a
//! server's error means, the verdict) are `call::preflight`'s.
//!
//! With a TURN server configured and the default `iceTransportPolicy`, two loopback rounds run
//! at once: one with the app's policy (host and server-reflexive candidates, the path a call
//! would take first) and one with `'relay'` only, so that a connection through TURN is made and
//! its round-trip time measured even where a direct path exists.

use crate::prelude::*;
use alloc::boxed::Box;
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

use super::bindings::{self, AudioContext, AudioNode, DataChannel, PeerConnectionExt as _};
use super::listener::EventListener;
use super::options::PreflightOptions;
use super::tasks::settled;
use super::timer::{sleep, Sleep, Timeout};
use super::{js, media};
use crate::call::preflight::{self as rules, CandidateType, Gathered, Round, ServerError};
use crate::call::{DeviceKind, MediaError};

/// Runs the check with the app's options (read already): the report `preflight()` resolves with.
pub async fn check(options: PreflightOptions) -> Result<Object, JsValue> {
    // Both rounds' connections are made first: a configuration the browser refuses (a
    // malformed URL) is a bad option, not a failed network.
    let main = Pair::new(&options.rtc_config)?;
    let relay = match options.turn && !options.relay_only {
        true => Some(Pair::new(&relay_config(&options.rtc_config))?),
        false => None,
    };
    let timeout_ms = options.timeout_ms;
    let network = join(main.run(timeout_ms), async move {
        match relay {
            Some(pair) => Some(pair.run(timeout_ms).await),
            None => None,
        }
    });
    let devices = join(
        check_microphone(options.microphone, options.listen_ms),
        check_camera(options.camera),
    );
    let ((microphone, camera), (main, relay)) = join(devices, network).await;
    let relay_round = match (&relay, options.relay_only) {
        (Some(relay), _) => Some(relay),
        (None, true) => Some(&main),
        (None, false) => None,
    };
    let network = network_report(options.turn, &main, relay.as_ref(), relay_round);
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
    let errors = Array::new();
    for error in main
        .errors
        .iter()
        .chain(relay.into_iter().flat_map(|r| &r.errors))
    {
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

/// Opens the microphone, listens to it for `listen_ms`, stops it.
async fn check_microphone(device: Option<Option<String>>, listen_ms: u32) -> JsValue {
    let Some(device) = device else {
        return JsValue::NULL;
    };
    let track = match media::open_track(DeviceKind::Microphone, device.as_deref()).await {
        Ok(track) => track,
        Err(error) => return device_failure(&error).into(),
    };
    let Some(live) = track.get() else {
        return JsValue::NULL;
    };
    let report = device_opened(live);
    let level = listen(live, listen_ms).await;
    js::set(&report, "level", number_or_null(level));
    drop(track); // stops it
    report.into()
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

/// Samples per reading of the level (the analyser's window: 43 ms at 48 kHz).
const WINDOW: u32 = 2048;
/// Milliseconds between readings.
const READ_EVERY_MS: u32 = 50;

/// The loudest RMS of the track over `listen_ms` (0 to 1), or `None` when the page may not run
/// audio (no user gesture yet, under the autoplay policy) or `listen_ms` is 0.
async fn listen(track: &MediaStreamTrack, listen_ms: u32) -> Option<f64> {
    if listen_ms == 0 {
        return None;
    }
    let stream = MediaStream::new_with_tracks(&Array::of1(track)).ok()?;
    let meter = Meter::new(&stream)?;
    // `resume()` stays pending without a user gesture where the policy wants one.
    within(1000, settled(&meter.context.resume())).await;
    if js::get(&meter.context, "state").as_string().as_deref() != Some("running") {
        meter.close().await;
        return None;
    }
    let samples = js_sys::Float32Array::new_with_length(WINDOW);
    let mut buffer = vec![0f32; WINDOW as usize];
    let end = js::now_ms() + u64::from(listen_ms);
    let mut loudest = 0f64;
    loop {
        meter.analyser.get_float_time_domain_data(&samples);
        samples.copy_to(&mut buffer);
        loudest = loudest.max(rules::mean_square(&buffer));
        if js::now_ms() >= end {
            break;
        }
        sleep(READ_EVERY_MS).await;
    }
    meter.close().await;
    Some(js_sys::Math::sqrt(loudest).min(1.0))
}

/// An `AudioContext` with the track's source feeding an analyser (not the speakers); the
/// context is closed when this is dropped, if [`Meter::close`] did not.
struct Meter {
    context: AudioContext,
    analyser: AudioNode,
    closed: bool,
}

impl Meter {
    fn new(stream: &MediaStream) -> Option<Meter> {
        let context = AudioContext::new_audio_context().ok()?;
        let mut meter = Meter {
            analyser: JsValue::UNDEFINED.unchecked_into(),
            context,
            closed: false,
        };
        let source = meter.context.create_media_stream_source(stream).ok()?;
        meter.analyser = meter.context.create_analyser().ok()?;
        bindings::reflect_set(&meter.analyser, "fftSize", &WINDOW.into());
        source.connect(&meter.analyser).ok()?;
        Some(meter)
    }

    /// Closes the context and waits until it is.
    async fn close(mut self) {
        self.closed = true;
        let _ = settled(&self.context.close()).await;
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        if !self.closed {
            // Not awaited: a late rejection lands on the callbacks `settled` leaves to JS.
            drop(settled(&self.context.close()));
        }
    }
}

/// What the listeners of one loopback pair saw, for the round that waits on it.
#[derive(Default)]
struct Probe {
    /// Bumped by every event, so that the waiting round looks again.
    changes: u32,
    waker: Option<Waker>,
    /// Candidates of each connection not yet given to the other.
    pending: [Vec<RtcIceCandidate>; 2],
    /// Each connection's gathering is over.
    complete: [bool; 2],
    /// Candidates given to the other side so far.
    sent: u32,
    gathered: Gathered,
    errors: Vec<ServerError>,
    /// The data channel opened: ICE and DTLS are done.
    open: bool,
    /// ICE failed on either connection.
    failed: bool,
    timed_out: bool,
}

impl Probe {
    /// Nothing more will happen that the round waits for.
    fn settled(&self) -> bool {
        let gathered = self.complete[0] && self.complete[1];
        self.timed_out || (gathered && (self.open || self.failed || self.sent == 0))
    }
}

type SharedProbe = Rc<RefCell<Probe>>;

/// Changes the probe and wakes the round. Listeners and timers run between the round's polls,
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

/// Two peer connections of one configuration connected to each other inside the page, with a
/// data channel between them; both are closed when this is dropped.
struct Pair {
    pcs: [RtcPeerConnection; 2],
    probe: SharedProbe,
    _channel: Option<DataChannel>,
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

impl Pair {
    fn new(config: &Object) -> Result<Pair, JsValue> {
        let first = new_pc(config)?;
        let second = new_pc(config).inspect_err(|_| first.close())?;
        let probe = SharedProbe::default();
        let pcs = [first, second];
        let mut listeners = Vec::new();
        for (side, pc) in pcs.iter().enumerate() {
            let target: &web_sys::EventTarget = pc.as_ref();
            let on_candidate = probe.clone();
            listeners.push(EventListener::new(target, "icecandidate", move |event| {
                let Ok(event) = event.dyn_into::<RtcPeerConnectionIceEvent>() else {
                    return;
                };
                touch(&on_candidate, |probe| match event.candidate() {
                    // An empty candidate marks one m-line's end (Firefox).
                    Some(candidate) if candidate.candidate().is_empty() => {}
                    Some(candidate) => {
                        probe.gathered.note_line(&candidate.candidate());
                        probe.pending[side].push(candidate);
                    }
                    None => probe.complete[side] = true,
                });
            }));
            let on_error = probe.clone();
            listeners.push(EventListener::new(
                target,
                "icecandidateerror",
                move |event| {
                    let error = ServerError {
                        url: js::get(&event, "url").as_string().unwrap_or_default(),
                        error_code: js::get(&event, "errorCode").as_f64().unwrap_or(0.0) as u16,
                        text: js::get(&event, "errorText").as_string().unwrap_or_default(),
                    };
                    touch(&on_error, |probe| {
                        rules::note_error(&mut probe.errors, error)
                    });
                },
            ));
            let on_state = probe.clone();
            let watched = pc.clone();
            listeners.push(EventListener::new(
                target,
                "iceconnectionstatechange",
                move |_| {
                    if js::get(&watched, "iceConnectionState")
                        .as_string()
                        .as_deref()
                        == Some("failed")
                    {
                        touch(&on_state, |probe| probe.failed = true);
                    }
                },
            ));
        }
        let channel = pcs[0]
            .create_data_channel("preflight", &JsValue::UNDEFINED)
            .ok();
        if let Some(channel) = &channel {
            let on_open = probe.clone();
            listeners.push(EventListener::new(channel, "open", move |_| {
                touch(&on_open, |probe| probe.open = true);
            }));
        }
        Ok(Pair {
            pcs,
            probe,
            _channel: channel,
            _listeners: listeners,
        })
    }

    /// Offer from the first to the second, answer back.
    async fn negotiate(&self) -> Result<(), JsValue> {
        let [first, second] = &self.pcs;
        settled(&first.set_local_description_auto()).await?;
        settled(&second.set_remote_description(local_description(first)?.unchecked_ref())).await?;
        settled(&second.set_local_description_auto()).await?;
        settled(&first.set_remote_description(local_description(second)?.unchecked_ref())).await?;
        Ok(())
    }

    /// Connects the pair, for at most `timeout_ms`, and says what it found. Closes the pair.
    async fn run(self, timeout_ms: u32) -> Round {
        let probe = self.probe.clone();
        let _deadline = Timeout::new(timeout_ms, move || touch(&probe, |p| p.timed_out = true));
        if self.negotiate().await.is_ok() {
            loop {
                self.forward_candidates();
                if self.probe.borrow().settled() {
                    break;
                }
                Changed::new(&self.probe).await;
            }
        }
        let (connected, gathered, errors) = {
            let mut probe = self.probe.borrow_mut();
            (
                probe.open,
                probe.gathered,
                core::mem::take(&mut probe.errors),
            )
        };
        let (path, rtt_ms) = match connected {
            true => selected_pair(&self.pcs[0]).await,
            false => (None, None),
        };
        Round {
            gathered,
            connected,
            path,
            rtt_ms,
            errors,
        }
    }

    /// Gives each connection's new candidates to the other (both descriptions are set).
    fn forward_candidates(&self) {
        for side in 0..2 {
            let candidates = core::mem::take(&mut self.probe.borrow_mut().pending[side]);
            self.probe.borrow_mut().sent += candidates.len() as u32;
            for candidate in candidates {
                let other = &self.pcs[1 - side];
                let added = other.add_ice_candidate_with_opt_rtc_ice_candidate(Some(&candidate));
                // Not awaited: one the browser refuses is one path fewer, reported as such.
                drop(settled(&added));
            }
        }
    }
}

impl Drop for Pair {
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

/// Both futures, run at once; ready with both outputs.
fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B>
where
    A::Output: Unpin,
    B::Output: Unpin,
{
    Join {
        a: Some(Box::pin(a)),
        b: Some(Box::pin(b)),
        a_out: None,
        b_out: None,
    }
}

/// The future [`join`] returns.
struct Join<A: Future, B: Future> {
    a: Option<Pin<Box<A>>>,
    b: Option<Pin<Box<B>>>,
    a_out: Option<A::Output>,
    b_out: Option<B::Output>,
}

impl<A: Future, B: Future> Future for Join<A, B>
where
    A::Output: Unpin,
    B::Output: Unpin,
{
    type Output = (A::Output, B::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(a) = this.a.as_mut() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                this.a_out = Some(out);
                this.a = None;
            }
        }
        if let Some(b) = this.b.as_mut() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                this.b_out = Some(out);
                this.b = None;
            }
        }
        match (this.a_out.take(), this.b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                this.a_out = a;
                this.b_out = b;
                Poll::Pending
            }
        }
    }
}

/// `future`'s output, or `None` if `ms` pass first (the future is dropped then).
async fn within<F: Future>(ms: u32, future: F) -> Option<F::Output> {
    Within {
        future: Box::pin(future),
        timer: sleep(ms),
    }
    .await
}

struct Within<F: Future> {
    future: Pin<Box<F>>,
    timer: Sleep,
}

impl<F: Future> Future for Within<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(out) = this.future.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match Pin::new(&mut this.timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
