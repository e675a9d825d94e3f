//! The JavaScript API: `CallClient` and `Call`.

use crate::prelude::*;
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::client::{self, Awaited, Client, Shared};
use super::js;
use super::media;
use crate::call::{
    CallHandle, CallId, CallKind, CallMachine, Command, CommandError, Config, DeviceKind, Direction,
};
use crate::protocol::{PartyId, UserId};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A message channel to other users: yours (Socket.IO, WebSocket, ...) or a built-in one. */
export interface Transport {
  /** Delivers `message` to every client of user `to`. May return a Promise that rejects when
   * `to` cannot be reached: the call then ends with `unreachable`. */
  send(to: string, message: object): void | Promise<unknown>;
  /** Calls `onMessage(from, message)` for each message to this user; `from` is the sender as
   * your server vouches for it. Returns a function that unsubscribes. */
  subscribe(onMessage: (from: string, message: object | string) => void): () => void;
}

export interface CallClientOptions {
  /** This user's id, as the transport knows it. */
  userId: string;
  transport: Transport;
  /** STUN/TURN servers, as for RTCPeerConnection. Default: none (host candidates only). */
  iceServers?: RTCIceServer[];
  /** `'relay'` sends media only through the TURN servers of `iceServers` (hides the users'
   * addresses from each other); `'all'` (the default) also tries direct paths first. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** How long an outgoing call rings before it ends with `timeout`, and the longest an incoming
   * call rings, whatever its caller asks. Default 30000. */
  ringTimeoutMs?: number;
  /** How long an answered call may take to connect before `ice-failed`. Default 20000. */
  connectTimeoutMs?: number;
  /** How long a dropped connection waits before an ICE restart. Default 2000. */
  iceRestartDelayMs?: number;
  /** How long a dropped connection may stay down before `ice-failed`. Default 20000. */
  iceGiveUpMs?: number;
  /** How often the `quality` event fires while connected. Default 2000. */
  statsIntervalMs?: number;
  /** This tab's or device's id among the user's clients. Default: random. */
  partyId?: string;
  /** Invites one caller may place in a burst before the rest are dropped. Default 5. */
  inviteBurst?: number;
  /** After the burst, one more invite per this many milliseconds. Default 4000. */
  inviteRefillMs?: number;
}

export interface CallOptions {
  /** Turn the camera on (a video call). Default false. */
  video?: boolean;
  /** App data the callee receives with the incoming call (JSON, at most 4 KiB). */
  metadata?: unknown;
}

export interface AcceptOptions {
  /** Send video (on a video call). Default: the call's kind. */
  video?: boolean;
}

export type CallState = 'calling' | 'ringing' | 'connecting' | 'connected' | 'reconnecting' | 'ended';
export type CallKind = 'audio' | 'video';
export type EndReason = 'hangup' | 'remote-hangup' | 'rejected' | 'busy' | 'timeout' | 'cancelled'
  | 'answered-elsewhere' | 'unreachable' | 'media-failed' | 'ice-failed' | 'protocol-error';

export interface MediaState { audioMuted: boolean; videoMuted: boolean; screenSharing: boolean; }
export interface Quality {
  rttMs: number | null; packetLoss: number; jitterMs: number | null; bitrateKbps: number;
  /** 0 (no media) to 4 (excellent). */
  level: number;
}
export interface Ended { reason: EndReason; /** An incoming call that was never answered. */ missed: boolean; }
/** Every error peercall throws, rejects with or emits has a stable `code`. */
export interface PeercallError extends Error { code: string; }

export interface CallEvents {
  state: (state: CallState) => void;
  localStream: (stream: MediaStream) => void;
  remoteStream: (stream: MediaStream) => void;
  remoteMedia: (media: MediaState) => void;
  localMedia: (media: MediaState) => void;
  quality: (quality: Quality) => void;
  videoUnavailable: (error: PeercallError) => void;
  ended: (ended: Ended) => void;
  error: (error: PeercallError) => void;
}

export interface CallClientEvents {
  incoming: (call: Call) => void;
  busy: (info: { from: string; kind: CallKind }) => void;
  devicechange: () => void;
  error: (error: PeercallError) => void;
}

export interface Call {
  on<K extends keyof CallEvents>(event: K, listener: CallEvents[K]): void;
  off<K extends keyof CallEvents>(event: K, listener: CallEvents[K]): void;
}
/** What the WebAssembly engine holds: see `memoryUsage()`. */
export interface MemoryUsage {
  /** Bytes the engine's allocator has handed out and not taken back. Flat over many calls. */
  liveBytes: number;
  /** Allocations not yet freed. */
  liveAllocations: number;
  /** The size of the WebAssembly memory, which grows in 64 KiB pages and never shrinks. */
  memoryBytes: number;
}
export interface CallClient {
  on<K extends keyof CallClientEvents>(event: K, listener: CallClientEvents[K]): void;
  off<K extends keyof CallClientEvents>(event: K, listener: CallClientEvents[K]): void;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `CallClientOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallClientOptions")]
    pub type CallClientOptions;
    /// `CallOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallOptions")]
    pub type CallOptions;
    /// `AcceptOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "AcceptOptions")]
    pub type AcceptOptions;
    /// `Promise<void>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type VoidPromise;
    /// `MediaStream | null` in TypeScript.
    #[wasm_bindgen(typescript_type = "MediaStream | null")]
    pub type MaybeStream;
    /// `MediaState` in TypeScript.
    #[wasm_bindgen(typescript_type = "MediaState")]
    pub type MediaStateObject;
    /// `CallState` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallState")]
    pub type CallStateName;
    /// `CallKind` in TypeScript.
    #[wasm_bindgen(typescript_type = "CallKind")]
    pub type CallKindName;
    /// `EndReason | null` in TypeScript.
    #[wasm_bindgen(typescript_type = "EndReason | null")]
    pub type MaybeEndReason;
    /// `Promise<MediaDeviceInfo[]>` in TypeScript.
    #[wasm_bindgen(typescript_type = "Promise<MediaDeviceInfo[]>")]
    pub type DevicesPromise;
    /// `'microphone' | 'camera'` in TypeScript.
    #[wasm_bindgen(typescript_type = "'microphone' | 'camera'")]
    pub type DeviceKindName;
}

type StreamPair = (Option<web_sys::MediaStream>, Option<web_sys::MediaStream>);

fn command_error(error: CommandError) -> JsValue {
    js::error(error.code(), &error.message())
}

fn destroyed() -> JsValue {
    js::error("destroyed", "the client was destroyed")
}

fn option_u64(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    let value = js::get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n as u64)),
        _ => Err(js::error(
            "invalid-option",
            &crate::text::concat(&["option `", key, "` must be a non-negative number"]),
        )),
    }
}

/// The `RTCConfiguration` every call's peer connection is made with, from the client's options;
/// checked here so that a mistake is an `invalid-option` at once, not a failed call later.
fn rtc_config(options: &JsValue) -> Result<js_sys::Object, JsValue> {
    let config = js::object();
    let servers = js::get(options, "iceServers");
    if !servers.is_undefined() && !servers.is_null() {
        if !js_sys::Array::is_array(&servers) {
            return Err(js::error(
                "invalid-option",
                "option `iceServers` must be an array of { urls, username?, credential? }",
            ));
        }
        js::set(&config, "iceServers", servers);
    }
    let policy = js::get(options, "iceTransportPolicy");
    if !policy.is_undefined() && !policy.is_null() {
        match policy.as_string().as_deref() {
            Some("all" | "relay") => js::set(&config, "iceTransportPolicy", policy),
            _ => {
                return Err(js::error(
                    "invalid-option",
                    "option `iceTransportPolicy` must be 'all' or 'relay'",
                ))
            }
        }
    }
    Ok(config)
}

fn random_hex<const N: usize>() -> Result<String, JsValue> {
    let bytes: [u8; N] = js::random_bytes()?;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * N);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 15)]));
    }
    Ok(text)
}

/// What the engine holds right now, for leak checks and diagnostics: live heap bytes and
/// allocations (exact, from the counting allocator) and the WebAssembly memory size.
#[wasm_bindgen(js_name = memoryUsage, unchecked_return_type = "MemoryUsage")]
pub fn memory_usage() -> JsValue {
    let usage = js::object();
    js::set(&usage, "liveBytes", super::heap::live_bytes() as f64);
    js::set(
        &usage,
        "liveAllocations",
        super::heap::live_allocations() as f64,
    );
    let memory_bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64)
        .unwrap_or(0.0);
    js::set(&usage, "memoryBytes", memory_bytes);
    usage.into()
}

/// A client of one user on one transport: places calls and receives them.
#[wasm_bindgen]
pub struct CallClient {
    shared: Shared,
}

#[wasm_bindgen]
impl CallClient {
    /// Creates the client and subscribes to the transport.
    #[wasm_bindgen(constructor)]
    pub fn new(options: CallClientOptions) -> Result<CallClient, JsValue> {
        let options: JsValue = options.into();
        let user = js::get(&options, "userId")
            .as_string()
            .and_then(|u| UserId::new(&u).ok())
            .ok_or_else(|| {
                js::error(
                    "invalid-option",
                    "option `userId` must be a non-empty string",
                )
            })?;
        let party = match js::get(&options, "partyId").as_string() {
            Some(p) => PartyId::new(&p).map_err(|e| {
                js::error(
                    "invalid-option",
                    &crate::text::concat(&["option `partyId`: ", &e.message()]),
                )
            })?,
            None => PartyId::new(&random_hex::<8>()?)
                .map_err(|e| js::error("invalid-option", &e.message()))?,
        };
        let transport = js::get(&options, "transport");
        if !transport.is_object() {
            return Err(js::error(
                "invalid-transport",
                "option `transport` is required",
            ));
        }
        let mut config = Config::new(user, party);
        if let Some(ms) = option_u64(&options, "ringTimeoutMs")? {
            config.ring_timeout_ms = ms;
        }
        if let Some(ms) = option_u64(&options, "connectTimeoutMs")? {
            config.connect_timeout_ms = ms;
        }
        if let Some(ms) = option_u64(&options, "iceRestartDelayMs")? {
            config.ice_restart_delay_ms = ms;
        }
        if let Some(ms) = option_u64(&options, "iceGiveUpMs")? {
            config.ice_give_up_ms = ms;
        }
        if let Some(ms) = option_u64(&options, "statsIntervalMs")? {
            config.stats_interval_ms = ms;
        }
        if let Some(burst) = option_u64(&options, "inviteBurst")? {
            config.invite_burst = u32::try_from(burst).unwrap_or(u32::MAX);
        }
        if let Some(ms) = option_u64(&options, "inviteRefillMs")? {
            config.invite_refill_ms = ms;
        }
        // The core decides every range (`Config::validate`): `invalid-option`, nothing clamped.
        let machine = CallMachine::new(config).map_err(|e| js::error(e.code(), &e.message()))?;
        let client = Client::new(machine, transport, rtc_config(&options)?);
        let shared = Rc::new(RefCell::new(client));
        client::start(&shared)?;
        Ok(CallClient { shared })
    }

    /// Calls `peer`. Returns the call at once; follow it with its events.
    pub fn call(&self, peer: &str, options: Option<CallOptions>) -> Result<Call, JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let kind = if js::get(&options, "video").as_bool().unwrap_or(false) {
            CallKind::Video
        } else {
            CallKind::Audio
        };
        let metadata = js::get(&options, "metadata");
        let metadata = if metadata.is_undefined() {
            None
        } else {
            let text = super::bindings::json_stringify(&metadata)
                .ok()
                .and_then(|t| t.as_string())
                .ok_or_else(|| js::error("invalid-option", "`metadata` must be JSON"))?;
            Some(
                crate::json::parse(&text)
                    .ok_or_else(|| js::error("invalid-option", "`metadata` must be JSON"))?,
            )
        };
        let call_id = CallId(js::random_bytes()?);
        let handle = {
            let mut client = self.shared.try_borrow_mut().map_err(|_| destroyed())?;
            if client.destroyed {
                return Err(destroyed());
            }
            client
                .machine
                .place_call(js::now_ms(), peer, kind, call_id, metadata)
                .map_err(command_error)?
        };
        // Not now: the app has not had the call yet, so its first `state` event would be lost.
        client::pump_soon(&self.shared);
        Ok(Call::new(Rc::downgrade(&self.shared), handle))
    }

    /// Listens for `incoming`, `busy`, `devicechange` or `error` (typed in `CallClientEvents`).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, listener: Function) {
        if let Ok(mut client) = self.shared.try_borrow_mut() {
            if !client.destroyed {
                client.emitter.on(event, listener);
            }
        }
    }

    /// Stops listening.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, listener: &Function) {
        if let Ok(mut client) = self.shared.try_borrow_mut() {
            client.emitter.off(event, listener);
        }
    }

    /// Hangs up every call and releases everything: the transport subscription, the page
    /// listeners, timers, tracks and peer connections. Safe to call twice.
    pub fn destroy(&self) {
        client::destroy(&self.shared);
    }

    /// This user's id.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> String {
        self.shared
            .try_borrow()
            .map(|c| c.machine.config().user_id.as_str().to_owned())
            .unwrap_or_default()
    }

    /// This client's party id.
    #[wasm_bindgen(getter, js_name = partyId)]
    pub fn party_id(&self) -> String {
        self.shared
            .try_borrow()
            .map(|c| c.machine.config().party_id.as_str().to_owned())
            .unwrap_or_default()
    }

    /// The capture and output devices (`enumerateDevices`).
    #[wasm_bindgen(js_name = listDevices, unchecked_return_type = "Promise<MediaDeviceInfo[]>")]
    pub fn list_devices(&self) -> Result<Promise, JsValue> {
        media::enumerate_devices()
    }
}

/// One call, incoming or outgoing.
#[wasm_bindgen]
pub struct Call {
    client: Weak<RefCell<Client>>,
    handle: CallHandle,
}

impl Call {
    pub(crate) fn new(client: Weak<RefCell<Client>>, handle: CallHandle) -> Call {
        Call { client, handle }
    }

    fn shared(&self) -> Result<Shared, JsValue> {
        self.client.upgrade().ok_or_else(destroyed)
    }

    /// One of the call's streams, or `null`.
    fn stream(&self, pick: impl Fn(StreamPair) -> Option<web_sys::MediaStream>) -> JsValue {
        self.client
            .upgrade()
            .and_then(|shared| pick(shared.try_borrow().ok()?.streams(self.handle)))
            .map_or(JsValue::NULL, JsValue::from)
    }

    fn info(&self) -> Option<crate::call::CallInfo> {
        let shared = self.client.upgrade()?;
        let client = shared.try_borrow().ok()?;
        client.machine.call_info(self.handle)
    }

    fn command(&self, command: Command) -> Result<(), JsValue> {
        let shared = self.shared()?;
        let result = {
            let mut client = shared.try_borrow_mut().map_err(|_| destroyed())?;
            if client.destroyed {
                return Err(destroyed());
            }
            client.machine.command(js::now_ms(), self.handle, command)
        };
        client::pump(&shared);
        result.map_err(command_error)
    }

    /// Runs a command whose outcome arrives later, as a Promise.
    fn command_awaiting(&self, command: Command, awaited: Awaited) -> Promise {
        let mut callbacks = None;
        let promise = Promise::new(&mut |resolve, reject| callbacks = Some((resolve, reject)));
        let Some((resolve, reject)) = callbacks else {
            return promise;
        };
        let outcome = self.shared().and_then(|shared| {
            if let Ok(mut client) = shared.try_borrow_mut() {
                client.wait(self.handle, awaited, resolve.clone(), reject.clone());
            }
            self.command(command)
        });
        if let Err(error) = outcome {
            // Refused at once: the Promise rejects now and nothing stays registered for it.
            if let Some(shared) = self.client.upgrade() {
                if let Ok(mut client) = shared.try_borrow_mut() {
                    client.forget_waiter(&reject);
                }
            }
            let _ = reject.call1(&JsValue::NULL, &error);
        }
        promise
    }
}

#[wasm_bindgen]
impl Call {
    /// Answers an incoming call. Resolves once the microphone (and camera) are open and the
    /// answer is on its way; rejects with the end reason if the call ends first.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn accept(&self, options: Option<AcceptOptions>) -> Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let video = js::get(&options, "video")
            .as_bool()
            .unwrap_or_else(|| self.info().is_some_and(|i| i.kind == CallKind::Video));
        self.command_awaiting(Command::Accept { video }, Awaited::Answering)
    }

    /// Declines an incoming call that rings.
    pub fn reject(&self) -> Result<(), JsValue> {
        self.command(Command::Reject)
    }

    /// Ends the call: cancels it before an answer, declines it while it rings here, hangs up after.
    pub fn hangup(&self) -> Result<(), JsValue> {
        self.command(Command::Hangup)
    }

    /// Mutes or unmutes the microphone; the peer sees `remoteMedia.audioMuted`.
    #[wasm_bindgen(js_name = setMuted)]
    pub fn set_muted(&self, muted: bool) -> Result<(), JsValue> {
        self.command(Command::SetMuted(muted))
    }

    /// Turns the camera off or on; the peer sees `remoteMedia.videoMuted`.
    #[wasm_bindgen(js_name = setVideoEnabled)]
    pub fn set_video_enabled(&self, enabled: bool) -> Result<(), JsValue> {
        self.command(Command::SetVideoEnabled(enabled))
    }

    /// Shares the screen in place of the camera (or in addition, on an audio call).
    #[wasm_bindgen(js_name = startScreenShare, unchecked_return_type = "Promise<void>")]
    pub fn start_screen_share(&self) -> Promise {
        if self.info().is_some_and(|i| i.local_media.screen_sharing) {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        self.command_awaiting(Command::StartScreenShare, Awaited::ScreenShare)
    }

    /// Stops sharing the screen; the camera comes back.
    #[wasm_bindgen(js_name = stopScreenShare)]
    pub fn stop_screen_share(&self) -> Result<(), JsValue> {
        self.command(Command::StopScreenShare)
    }

    /// Adds the camera to an audio call (renegotiates).
    #[wasm_bindgen(js_name = upgradeToVideo, unchecked_return_type = "Promise<void>")]
    pub fn upgrade_to_video(&self) -> Promise {
        let has_camera = self
            .client
            .upgrade()
            .and_then(|s| {
                let (local, _) = s.try_borrow().ok()?.streams(self.handle);
                local.map(|l| l.get_video_tracks().length() > 0)
            })
            .unwrap_or(false);
        if has_camera {
            return Promise::resolve(&JsValue::UNDEFINED);
        }
        self.command_awaiting(Command::UpgradeToVideo, Awaited::Camera)
    }

    /// Uses another microphone or camera (a `deviceId` from `listDevices`).
    #[wasm_bindgen(js_name = switchDevice, unchecked_return_type = "Promise<void>")]
    pub fn switch_device(&self, kind: DeviceKindName, device_id: String) -> Promise {
        let kind = match JsValue::from(kind).as_string().as_deref() {
            Some("microphone" | "audioinput" | "audio") => DeviceKind::Microphone,
            Some("camera" | "videoinput" | "video") => DeviceKind::Camera,
            _ => {
                let error = js::error("invalid-option", "kind must be 'microphone' or 'camera'");
                return Promise::reject(&error);
            }
        };
        self.command_awaiting(Command::SwitchDevice { kind, device_id }, Awaited::Switch)
    }

    /// Restarts ICE now (for example when the app knows the network changed).
    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(&self) -> Result<(), JsValue> {
        self.command(Command::RestartIce)
    }

    /// Listens for `state`, `localStream`, `remoteStream`, `remoteMedia`, `localMedia`,
    /// `quality`, `videoUnavailable`, `ended` or `error` (typed in `CallEvents`).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, event: &str, listener: Function) {
        let Some(shared) = self.client.upgrade() else {
            return;
        };
        let Ok(mut client) = shared.try_borrow_mut() else {
            return;
        };
        let live = client
            .machine
            .call_info(self.handle)
            .is_some_and(|i| !i.state.is_ended());
        if live {
            client.call_emitters.entry(self.handle).on(event, listener);
        }
    }

    /// Stops listening.
    #[wasm_bindgen(skip_typescript)]
    pub fn off(&self, event: &str, listener: &Function) {
        if let Some(shared) = self.client.upgrade() {
            if let Ok(mut client) = shared.try_borrow_mut() {
                if let Some(emitter) = client.call_emitters.get_mut(&self.handle) {
                    emitter.off(event, listener);
                }
            }
        }
    }

    /// The wire call id (32 hex digits).
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.info().map(|i| i.call_id.to_hex()).unwrap_or_default()
    }

    /// `calling`, `ringing`, `connecting`, `connected`, `reconnecting` or `ended`.
    #[wasm_bindgen(getter, unchecked_return_type = "CallState")]
    pub fn state(&self) -> String {
        self.info()
            .map_or("ended", |i| client::state_name(i.state))
            .to_owned()
    }

    /// Why the call ended, or `null`.
    #[wasm_bindgen(getter, js_name = endReason, unchecked_return_type = "EndReason | null")]
    pub fn end_reason(&self) -> JsValue {
        match self.info().map(|i| i.state) {
            Some(crate::call::CallState::Ended(reason)) => JsValue::from_str(reason.as_str()),
            _ => JsValue::NULL,
        }
    }

    /// The other user.
    #[wasm_bindgen(getter)]
    pub fn peer(&self) -> String {
        self.info()
            .map(|i| i.peer.as_str().to_owned())
            .unwrap_or_default()
    }

    /// `audio` or `video`.
    #[wasm_bindgen(getter, unchecked_return_type = "CallKind")]
    pub fn kind(&self) -> String {
        self.info().map_or("audio", |i| i.kind.as_str()).to_owned()
    }

    /// `outgoing` or `incoming`.
    #[wasm_bindgen(getter, unchecked_return_type = "'outgoing' | 'incoming'")]
    pub fn direction(&self) -> String {
        match self.info().map(|i| i.direction) {
            Some(Direction::Incoming) => "incoming".into(),
            _ => "outgoing".into(),
        }
    }

    /// The caller's metadata, if any.
    #[wasm_bindgen(getter)]
    pub fn metadata(&self) -> JsValue {
        self.info()
            .and_then(|i| i.metadata)
            .and_then(|m| super::bindings::json_parse(&m.to_json()).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// The microphone and camera stream, once open.
    #[wasm_bindgen(getter, js_name = localStream, unchecked_return_type = "MediaStream | null")]
    pub fn local_stream(&self) -> JsValue {
        self.stream(|(local, _)| local)
    }

    /// The peer's stream, once a track arrived.
    #[wasm_bindgen(getter, js_name = remoteStream, unchecked_return_type = "MediaStream | null")]
    pub fn remote_stream(&self) -> JsValue {
        self.stream(|(_, remote)| remote)
    }

    /// The peer's mute and sharing state.
    #[wasm_bindgen(getter, js_name = remoteMedia, unchecked_return_type = "MediaState")]
    pub fn remote_media(&self) -> JsValue {
        media_state(self.info().map(|i| i.remote_media).unwrap_or_default())
    }

    /// This side's mute and sharing state.
    #[wasm_bindgen(getter, js_name = localMedia, unchecked_return_type = "MediaState")]
    pub fn local_media(&self) -> JsValue {
        media_state(self.info().map(|i| i.local_media).unwrap_or_default())
    }

    /// Milliseconds since media first flowed (0 before), frozen when the call ends.
    #[wasm_bindgen(getter)]
    pub fn duration(&self) -> f64 {
        self.info()
            .map_or(0.0, |i| i.duration_ms(js::now_ms()) as f64)
    }
}

fn media_state(state: crate::protocol::MediaState) -> JsValue {
    let o = js::object();
    js::set(&o, "audioMuted", state.audio_muted);
    js::set(&o, "videoMuted", state.video_muted);
    js::set(&o, "screenSharing", state.screen_sharing);
    o.into()
}
