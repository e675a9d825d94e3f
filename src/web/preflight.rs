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
//!
//! Size matters here (this is a small part of the package): the check is a few awaits over
//! state its event listeners fill in (one listener function for every event), and the loopback's
//! step is a boxed future of its own, not inlined into the check (one async function with
//! everything in it was 13 KB of wasm).

use crate::prelude::*;
use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::Object;
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, MediaStreamTrack, RtcConfiguration, RtcPeerConnection};

use super::bindings::{self, DataChannel, PeerConnectionExt as _};
use super::js;
use super::listener::EventListener;
use super::media::{self, Opened};
use super::options::PreflightOptions;
use super::tasks::{settled, Settled};
use super::timer::Timeout;
use crate::call::preflight::{self as rules, CandidateType, Findings, ServerError};
use crate::call::DeviceKind;

/// A step of the check as a boxed future: its poll is its own function, called through the
/// box, never inlined into the step that awaits it (measured: 86 B brotli fewer for the
/// loopback's step; the devices' step is smaller inlined, by 37 B).
type Step<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs the check with the app's options (read already): the report `preflight()` resolves with.
pub async fn check(options: PreflightOptions) -> Result<Object, JsValue> {
    // The connections are made first: a configuration the browser refuses (a malformed URL)
    // is a bad option, not a failed network, and no device has been opened for it.
    let relay_pair = options.turn && !options.relay_only;
    let mut loopback = Loopback::new(&options.rtc_config, relay_pair)?;
    let (microphone, track) = open_device(DeviceKind::Microphone, options.microphone).await;
    // The camera is stopped as soon as its size is read (its track is dropped here).
    let (camera, _) = open_device(DeviceKind::Camera, options.camera).await;
    let listened = track
        .as_ref()
        .and_then(Opened::get)
        .filter(|_| options.listen_ms > 0);
    if let Some(track) = listened {
        loopback.send(track);
    }
    let listen_ms = listened.map_or(0, |_| options.listen_ms);
    let mut found = Findings {
        relay: if relay_pair {
            Some(1)
        } else {
            options.relay_only.then_some(0)
        },
        ..Findings::default()
    };
    let level = loopback
        .run(options.timeout_ms, listen_ms, &mut found)
        .await;
    drop(track); // stops it
    if microphone.is_object() {
        js::set(microphone.unchecked_ref(), "level", number_or_null(level));
    }
    let network = network_report(options.turn, &found);
    let ok = [&microphone, &camera, &network]
        .iter()
        .all(|part| part.is_null() || js::get(part, "ok").as_bool() == Some(true));
    Ok(object_of(&[
        ("ok", ok.into()),
        ("microphone", microphone),
        ("camera", camera),
        ("network", network),
    ]))
}

/// A fresh object with these properties (one loop for every object of the report).
fn object_of(entries: &[(&str, JsValue)]) -> Object {
    let object = js::object();
    for (key, value) in entries {
        bindings::reflect_set(&object, key, value);
    }
    object
}

/// The report's `network` part.
fn network_report(turn: bool, found: &Findings) -> JsValue {
    let code = rules::verdict(turn, found);
    let gathered = object_of(&[
        ("host", found.gathered.host.into()),
        ("srflx", found.gathered.srflx.into()),
        ("relay", found.gathered.relay.into()),
    ]);
    let errors = js_sys::Array::new();
    for error in &found.errors {
        errors.push(&object_of(&[
            ("url", error.url.as_str().into()),
            ("code", error.code().into()),
            ("errorCode", f64::from(error.error_code).into()),
            ("text", error.text.as_str().into()),
        ]));
    }
    object_of(&[
        ("ok", code.is_none().into()),
        ("code", code.map_or(JsValue::NULL, JsValue::from_str)),
        ("gathered", gathered.into()),
        ("connected", found.connected[0].into()),
        (
            "path",
            found.path.map_or(JsValue::NULL, |p| p.as_str().into()),
        ),
        ("rttMs", number_or_null(found.rtt_ms[0])),
        ("relayConnected", found.relay_connected().into()),
        ("relayRttMs", number_or_null(found.relay_rtt_ms())),
        ("errors", errors.into()),
    ])
    .into()
}

fn number_or_null(value: Option<f64>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_f64)
}

/// Opens a device (`device`: `None` not checked, `Some(None)` the default one): its part of the
/// report, `{ ok: true, label }` (and the camera's `width` and `height` as opened) or
/// `{ ok: false, code, message }`, and the track, stopped when dropped.
async fn open_device(
    kind: DeviceKind,
    device: Option<Option<String>>,
) -> (JsValue, Option<Opened<MediaStreamTrack>>) {
    {
        let Some(device) = device else {
            return (JsValue::NULL, None);
        };
        let track = match media::open_track(kind, device.as_deref(), &[None; 3]).await {
            Ok(track) => track,
            Err(error) => {
                let report = object_of(&[
                    ("ok", false.into()),
                    ("code", error.code().into()),
                    ("message", error.message().as_str().into()),
                ]);
                return (report.into(), None);
            }
        };
        let Some(live) = track.get() else {
            return (JsValue::NULL, None);
        };
        let report = object_of(&[("ok", true.into()), ("label", js::get(live, "label"))]);
        if kind == DeviceKind::Camera {
            let settings = live
                .unchecked_ref::<bindings::TrackMethods>()
                .get_settings();
            js::set(&report, "width", js::get(&settings, "width"));
            js::set(&report, "height", js::get(&settings, "height"));
        }
        (report.into(), Some(track))
    }
}

/// Milliseconds between readings of the microphone's level.
const READ_EVERY_MS: u32 = 100;

/// What the listeners of the loopback connections saw, for the steps that wait on them.
/// Connections `2n` and `2n + 1` are pair `n`; there are at most two pairs.
#[derive(Default)]
struct Probe {
    /// Bumped by every event and alarm, so that a waiting step looks again.
    changes: u32,
    waker: Option<Waker>,
    gathered: rules::Gathered,
    errors: Vec<ServerError>,
    /// Per connection: its gathering is over.
    complete: [bool; 4],
    /// Per pair: candidates gathered.
    candidates: [u32; 2],
    /// Per pair: the data channel opened (ICE and DTLS are done).
    open: [bool; 2],
    /// Per pair: ICE failed on either side.
    failed: [bool; 2],
    timed_out: bool,
    /// Candidates that came before their partner had the remote description: (partner, it).
    early: Vec<(usize, JsValue)>,
    /// The `addIceCandidate` promises, awaited by nobody: held so that a refusal is handled
    /// (one refused is one path fewer) and their callbacks are freed with the check.
    added: Vec<Settled>,
}

impl Probe {
    /// Nothing more will happen that the check waits for, with `pairs` pairs.
    fn settled(&self, pairs: usize) -> bool {
        self.timed_out
            || (0..pairs).all(|pair| {
                let gathered = self.complete[2 * pair] && self.complete[2 * pair + 1];
                gathered && (self.open[pair] || self.failed[pair] || self.candidates[pair] == 0)
            })
    }
}

type SharedProbe = Rc<RefCell<Probe>>;

/// Marks the probe changed and wakes the step waiting on it.
fn changed(probe: &SharedProbe) {
    let waker = probe.try_borrow_mut().ok().and_then(|mut probe| {
        probe.changes = probe.changes.wrapping_add(1);
        probe.waker.take()
    });
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A timer that marks the probe changed after `ms` (and, for the `deadline`, timed out).
fn alarm(probe: &SharedProbe, ms: u32, deadline: bool) -> Timeout {
    let probe = probe.clone();
    Timeout::new(ms, move || {
        if let Ok(mut probe) = probe.try_borrow_mut() {
            probe.timed_out |= deadline;
        }
        changed(&probe);
    })
}

/// Gives a candidate to the connection at the other end (whose remote description is set).
fn give(added: &mut Vec<Settled>, to: &RtcPeerConnection, candidate: &JsValue) {
    let promise =
        to.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(candidate.unchecked_ref()));
    added.push(settled(&promise));
}

/// Pairs of peer connections, each pair connected to itself inside the page with a data
/// channel: the app's configuration, and with TURN a relay-only one. All are closed when this
/// is dropped.
struct Loopback {
    pcs: Vec<RtcPeerConnection>,
    probe: SharedProbe,
    _channels: Vec<DataChannel>,
    listeners: Vec<EventListener>,
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

/// What one of the loopback's events changes. Every listener is this one function (one
/// closure type, so one set of wasm-bindgen shims), told its event by name.
fn on_event(
    probe: &SharedProbe,
    index: usize,
    [this, partner]: &[RtcPeerConnection; 2],
    name: &str,
    event: &JsValue,
) {
    let pair = index / 2;
    if let Ok(mut probe) = probe.try_borrow_mut() {
        let probe = &mut *probe;
        match name {
            "icecandidate" => {
                let candidate = js::get(event, "candidate");
                let line = js::get(&candidate, "candidate").as_string();
                match line.as_deref() {
                    // No candidate: this connection's gathering is over.
                    None if !candidate.is_object() => probe.complete[index] = true,
                    // An empty one marks one m-line's end (Firefox).
                    None | Some("") => {}
                    Some(line) => {
                        probe.gathered.note_line(line);
                        probe.candidates[pair] += 1;
                        if js::get(partner, "remoteDescription").is_object() {
                            give(&mut probe.added, partner, &candidate);
                        } else {
                            probe.early.push((index ^ 1, candidate));
                        }
                    }
                }
            }
            "icecandidateerror" => {
                let error = ServerError {
                    url: js::get(event, "url").as_string().unwrap_or_default(),
                    error_code: js::get(event, "errorCode").as_f64().unwrap_or(0.0) as u16,
                    text: js::get(event, "errorText").as_string().unwrap_or_default(),
                };
                rules::note_error(&mut probe.errors, error);
            }
            "open" => probe.open[pair] = true,
            // "iceconnectionstatechange"
            _ => {
                if js::get(this, "iceConnectionState").as_string().as_deref() == Some("failed") {
                    probe.failed[pair] = true;
                }
            }
        }
    }
    changed(probe);
}

impl Loopback {
    /// The pairs, not yet negotiated: the app's, and with `relay_pair` a relay-only one.
    fn new(config: &Object, relay_pair: bool) -> Result<Loopback, JsValue> {
        let mut loopback = Loopback {
            pcs: Vec::new(),
            probe: SharedProbe::default(),
            _channels: Vec::new(),
            listeners: Vec::new(),
        };
        let relay = js::object();
        js::set(&relay, "iceServers", js::get(config, "iceServers"));
        js::set(&relay, "iceTransportPolicy", "relay");
        let configs = if relay_pair { 4 } else { 2 };
        for index in 0..configs {
            // Pushed one by one: if one fails, `Drop` closes those made.
            loopback
                .pcs
                .push(new_pc(if index < 2 { config } else { &relay })?);
        }
        for index in 0..configs {
            let pc = loopback.pcs[index].clone();
            for name in [
                "icecandidate",
                "icecandidateerror",
                "iceconnectionstatechange",
            ] {
                loopback.listen(&pc, name, index);
            }
            if index % 2 == 0 {
                if let Ok(channel) = pc.create_data_channel("preflight", &JsValue::UNDEFINED) {
                    loopback.listen(&channel, "open", index);
                    loopback._channels.push(channel);
                }
            }
        }
        Ok(loopback)
    }

    /// Listens for `name` on `target`, for connection `index`.
    fn listen(&mut self, target: &web_sys::EventTarget, name: &'static str, index: usize) {
        let probe = self.probe.clone();
        let ends = [self.pcs[index].clone(), self.pcs[index ^ 1].clone()];
        self.listeners
            .push(EventListener::new(target, name, move |event| {
                on_event(&probe, index, &ends, name, &event);
            }));
    }

    /// Sends `track` from the first connection of the app's pair to the second, for its level.
    fn send(&mut self, track: &MediaStreamTrack) {
        if let Ok(stream) = MediaStream::new() {
            stream.add_track(track);
            self.pcs[0].add_track_0(track, &stream);
        }
    }

    /// Connects every pair, for at most `timeout_ms`, into `found`; then, with a `listen_ms`,
    /// reads the level of the track sent on the app's pair for that long. Closes them all.
    fn run<'a>(
        self,
        timeout_ms: u32,
        listen_ms: u32,
        found: &'a mut Findings,
    ) -> Step<'a, Option<f64>> {
        Box::pin(async move {
            let pairs = self.pcs.len() / 2;
            let _deadline = alarm(&self.probe, timeout_ms, true);
            if self.negotiate().await {
                // Both descriptions are set: the candidates that came too early can go.
                let early = core::mem::take(&mut self.probe.borrow_mut().early);
                for (to, candidate) in early {
                    give(
                        &mut self.probe.borrow_mut().added,
                        &self.pcs[to],
                        &candidate,
                    );
                }
                while !self.probe.borrow().settled(pairs) {
                    Changed::new(&self.probe).await;
                }
            }
            {
                let mut probe = self.probe.borrow_mut();
                found.gathered = probe.gathered;
                found.errors = core::mem::take(&mut probe.errors);
                found.connected = probe.open;
            }
            let listening = listen_ms > 0 && found.connected[0];
            let end = js::now_ms() + u64::from(listen_ms);
            let mut level: Option<f64> = None;
            let mut first = true;
            loop {
                for (index, pc) in self.pcs.iter().enumerate() {
                    // The first end of each connected pair, once, for its path; both ends of
                    // the app's pair while listening (each browser reports the level at one).
                    let path = first && index % 2 == 0 && found.connected[index / 2];
                    if !(path || (listening && index < 2)) {
                        continue;
                    }
                    let reading = read_stats(pc).await;
                    if let Some(heard) = reading.level {
                        level = Some(level.map_or(heard, |l| l.max(heard)));
                    }
                    if index % 2 == 0 && reading.found_pair {
                        if index == 0 {
                            found.path = reading.path;
                        }
                        found.rtt_ms[index / 2] = reading.rtt_ms;
                    }
                }
                first = false;
                if !listening || js::now_ms() >= end {
                    break;
                }
                let _tick = alarm(&self.probe, READ_EVERY_MS, false);
                Changed::new(&self.probe).await;
            }
            level.map(|level| level.clamp(0.0, 1.0))
        })
    }

    /// Offer from one side of each pair to the other, answer back; `false` if the browser
    /// refused a step.
    async fn negotiate(&self) -> bool {
        for pair in self.pcs.chunks(2) {
            // Four steps, one await: the offerer's local description, the answerer's remote
            // one, then the same the other way.
            for step in 0..4 {
                let (from, to) = if step < 2 {
                    (&pair[0], &pair[1])
                } else {
                    (&pair[1], &pair[0])
                };
                let promise = if step % 2 == 0 {
                    from.set_local_description_auto()
                } else {
                    // An `RTCSessionDescription` reads as the `{ type, sdp }` init it was made from.
                    let Some(description) = from.local_description() else {
                        return false;
                    };
                    to.set_remote_description(description.unchecked_ref())
                };
                if settled(&promise).await.is_err() {
                    return false;
                }
            }
        }
        true
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        for pc in &self.pcs {
            pc.close();
        }
    }
}

/// What one `getStats()` pass says.
#[derive(Default)]
struct Reading {
    /// The selected candidate pair was found.
    found_pair: bool,
    /// Its local candidate type and round-trip time.
    path: Option<CandidateType>,
    rtt_ms: Option<f64>,
    /// The loudest `audioLevel` (0 to 1, 1 being full scale), if any.
    level: Option<f64>,
}

/// Reads a connection's stats: the selected candidate pair (Chromium names it from its transport,
/// `selectedCandidatePairId`; Firefox marks it `selected`; either way a nominated pair that
/// succeeded will do) and the loudest audio level.
async fn read_stats(pc: &RtcPeerConnection) -> Reading {
    let mut reading = Reading::default();
    let Ok(report) = settled(&pc.get_stats()).await else {
        return reading;
    };
    let Ok(Some(entries)) = js_sys::try_iter(&report) else {
        return reading;
    };
    let map: &js_sys::Map = report.unchecked_ref();
    let mut chosen = JsValue::UNDEFINED;
    let mut nominated = JsValue::UNDEFINED;
    for entry in entries.flatten() {
        let stat = js::get(&entry, "1");
        if let Some(level) = js::get(&stat, "audioLevel").as_f64() {
            reading.level = Some(reading.level.map_or(level, |l| l.max(level)));
        }
        match js::get(&stat, "type").as_string().as_deref() {
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
        }
    }
    let pair = if chosen.is_object() {
        chosen
    } else {
        nominated
    };
    if pair.is_object() {
        let local = map.get(&js::get(&pair, "localCandidateId"));
        reading.found_pair = true;
        reading.path = js::get(&local, "candidateType")
            .as_string()
            .and_then(|name| CandidateType::from_name(&name));
        let number = |key: &str| js::get(&pair, key).as_f64();
        reading.rtt_ms = rules::pair_rtt_ms(
            number("currentRoundTripTime"),
            number("totalRoundTripTime"),
            number("responsesReceived"),
        );
    }
    reading
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
