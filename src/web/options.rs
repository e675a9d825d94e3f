//! Reading the app's options: `new CallClient(options)`, `client.call(peer, options)`,
//! `call.accept(options)`, `call.switchDevice(kind, id)`. Each mistake is an `invalid-option`
//! (or `invalid-transport`) error at once, not a failed call later.

use crate::prelude::*;
use wasm_bindgen::prelude::*;

use super::js;
use crate::call::Sound;
use crate::call::{preflight, CallKind, Config, DeviceKind};
use crate::json::Value;
use crate::protocol::{PartyId, UserId};

/// What `new CallClient(options)` is made of.
pub struct ClientOptions {
    pub config: Config,
    pub transport: JsValue,
    /// The `RTCConfiguration` of every call's peer connection.
    pub rtc_config: js_sys::Object,
    /// The app's screening hook (`screen`), asked about each new invite before it rings.
    pub screen: Option<js_sys::Function>,
    /// What plays for each call sound (`sounds`), by [`Sound::index`]: `true` (the generated
    /// tone), `false` (nothing) or the app's element; empty: no sounds.
    pub sounds: Vec<JsValue>,
    /// `voiceProcessing`, by [`VOICE_KEYS`](super::media::VOICE_KEYS).
    pub voice: [Option<bool>; 3],
}

fn invalid(message: &str) -> JsValue {
    js::error("invalid-option", message)
}

/// A millisecond or count option: absent, or a finite number that is not negative.
fn option_u64(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    let value = js::get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n as u64)),
        _ => Err(invalid(&crate::text::concat(&[
            "option `",
            key,
            "` must be a non-negative number",
        ]))),
    }
}

fn option_bool(options: &JsValue, key: &str) -> Result<Option<bool>, JsValue> {
    let value = js::get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_bool().map(Some).ok_or_else(|| {
        invalid(&crate::text::concat(&[
            "option `",
            key,
            "` must be a boolean",
        ]))
    })
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

/// Reads the client's options. Their types are checked here; their ranges by the core
/// (`Config::validate`, when the machine is made): `invalid-option` either way, nothing clamped.
pub fn client_options(options: &JsValue) -> Result<ClientOptions, JsValue> {
    let user = js::get(options, "userId")
        .as_string()
        .and_then(|u| UserId::new(&u).ok())
        .ok_or_else(|| invalid("option `userId` must be a non-empty string"))?;
    let party = match js::get(options, "partyId").as_string() {
        Some(p) => PartyId::new(&p)
            .map_err(|e| invalid(&crate::text::concat(&["option `partyId`: ", &e.message()])))?,
        None => PartyId::new(&random_hex::<8>()?).map_err(|e| invalid(&e.message()))?,
    };
    let transport = js::get(options, "transport");
    if !transport.is_object() {
        return Err(js::error(
            "invalid-transport",
            "option `transport` is required",
        ));
    }
    let mut config = Config::new(user, party);
    if let Some(ms) = option_u64(options, "ringTimeoutMs")? {
        config.ring_timeout_ms = ms;
    }
    if let Some(ms) = option_u64(options, "connectTimeoutMs")? {
        config.connect_timeout_ms = ms;
    }
    if let Some(ms) = option_u64(options, "iceRestartDelayMs")? {
        config.ice_restart_delay_ms = ms;
    }
    if let Some(ms) = option_u64(options, "iceGiveUpMs")? {
        config.ice_give_up_ms = ms;
    }
    if let Some(ms) = option_u64(options, "statsIntervalMs")? {
        config.stats_interval_ms = ms;
    }
    if let Some(burst) = option_u64(options, "inviteBurst")? {
        config.invite_burst = u32::try_from(burst).unwrap_or(u32::MAX);
    }
    if let Some(ms) = option_u64(options, "inviteRefillMs")? {
        config.invite_refill_ms = ms;
    }
    if let Some(waiting) = option_bool(options, "callWaiting")? {
        config.call_waiting = waiting;
    }
    if let Some(preconnect) = option_bool(options, "preconnect")? {
        config.preconnect = preconnect;
    }
    let screen = js::get(options, "screen");
    let screen = if screen.is_undefined() || screen.is_null() {
        None
    } else {
        let hook = screen
            .dyn_into::<js_sys::Function>()
            .map_err(|_| invalid("option `screen` must be a function"))?;
        config.screening = true;
        Some(hook)
    };
    Ok(ClientOptions {
        config,
        transport,
        rtc_config: rtc_config(options)?,
        screen,
        sounds: sounds(&js::get(options, "sounds"))?,
        voice: voice_processing(&js::get(options, "voiceProcessing"))?,
    })
}

/// `sounds`: `false` or absent (none), `true` (every generated tone), or an object naming what
/// plays for each sound: `true` or absent (the generated tone), `false` (nothing), or an
/// `HTMLMediaElement` (anything with `play()` and `pause()`).
fn sounds(option: &JsValue) -> Result<Vec<JsValue>, JsValue> {
    if option.is_undefined() || option.is_null() || option == &JsValue::FALSE {
        return Ok(Vec::new());
    }
    if option == &JsValue::TRUE {
        return Ok(vec![JsValue::TRUE; 5]);
    }
    if !option.is_object() {
        return Err(invalid(
            "option `sounds` must be a boolean or { ringback, ringtone, waiting, busy, ended }",
        ));
    }
    let mut sources = Vec::with_capacity(5);
    for sound in Sound::ALL {
        let value = js::get(option, sound.as_str());
        let element =
            js::get(&value, "play").is_function() && js::get(&value, "pause").is_function();
        sources.push(if value.is_undefined() || value.is_null() {
            JsValue::TRUE
        } else if value.as_bool().is_some() || element {
            value
        } else {
            return Err(invalid(&crate::text::concat(&[
                "option `sounds.",
                sound.as_str(),
                "` must be true, false or an HTMLMediaElement",
            ])));
        });
    }
    Ok(sources)
}

/// The `RTCConfiguration` every call's peer connection is made with (and the pre-call check's).
pub fn rtc_config(options: &JsValue) -> Result<js_sys::Object, JsValue> {
    let config = js::object();
    let servers = js::get(options, "iceServers");
    if !servers.is_undefined() && !servers.is_null() {
        if !js_sys::Array::is_array(&servers) {
            return Err(invalid(
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
                return Err(invalid(
                    "option `iceTransportPolicy` must be 'all' or 'relay'",
                ))
            }
        }
    }
    Ok(config)
}

/// `client.call(peer, { video, metadata })`: the call's kind and its metadata as JSON.
pub fn call_options(options: &JsValue) -> Result<(CallKind, Option<Value>), JsValue> {
    let kind = if js::get(options, "video").as_bool().unwrap_or(false) {
        CallKind::Video
    } else {
        CallKind::Audio
    };
    let metadata = js::get(options, "metadata");
    if metadata.is_undefined() {
        return Ok((kind, None));
    }
    let metadata = super::bindings::json_stringify(&metadata)
        .ok()
        .and_then(|t| t.as_string())
        .and_then(|text| crate::json::parse(&text))
        .ok_or_else(|| invalid("`metadata` must be JSON"))?;
    Ok((kind, Some(metadata)))
}

/// `call.accept({ video })`: whether to send video; `None` when the app did not say.
pub fn accept_video(options: &JsValue) -> Option<bool> {
    js::get(options, "video").as_bool()
}

/// `call.switchDevice(kind, ...)`'s kind.
pub fn device_kind(kind: &JsValue) -> Result<DeviceKind, JsValue> {
    match kind.as_string().as_deref() {
        Some("microphone" | "audioinput" | "audio") => Ok(DeviceKind::Microphone),
        Some("camera" | "videoinput" | "video") => Ok(DeviceKind::Camera),
        _ => Err(invalid("kind must be 'microphone' or 'camera'")),
    }
}

/// `call.startRecording({ video, mimeType, timesliceMs, onData })`.
#[cfg(feature = "calls")]
pub fn recording_request(options: &JsValue) -> Result<super::recording::Request, JsValue> {
    if !options.is_undefined() && !options.is_object() {
        return Err(invalid("startRecording() takes an options object"));
    }
    let video = js::get(options, "video");
    let mime_type = js::get(options, "mimeType");
    let on_data = js::get(options, "onData");
    let timeslice = js::get(options, "timesliceMs");
    let wrong = |ok: bool, message: &str| if ok { Ok(()) } else { Err(invalid(message)) };
    wrong(
        video.is_undefined() || video.as_bool().is_some(),
        "video must be a boolean",
    )?;
    wrong(
        mime_type.is_undefined() || mime_type.is_string(),
        "mimeType must be a string",
    )?;
    wrong(
        on_data.is_undefined() || on_data.is_function(),
        "onData must be a function",
    )?;
    let timeslice_ms = match timeslice.as_f64() {
        Some(ms) if ms.is_finite() && ms > 0.0 => Some(ms),
        None if timeslice.is_undefined() => None,
        _ => return Err(invalid("timesliceMs must be a positive number")),
    };
    Ok(super::recording::Request {
        video: video.as_bool(),
        mime_type: mime_type.as_string(),
        timeslice_ms,
        on_data: on_data.dyn_into().ok(),
    })
}

/// `voiceProcessing: { echoCancellation, noiseSuppression, autoGainControl }` (each a boolean,
/// absent: the browser's default), as on the client or in `call.setVoiceProcessing()`.
pub fn voice_processing(value: &JsValue) -> Result<[Option<bool>; 3], JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok([None; 3]);
    }
    if !value.is_object() {
        return Err(invalid("voiceProcessing must be an object"));
    }
    let mut voice = [None; 3];
    for (slot, key) in voice.iter_mut().zip(super::media::VOICE_KEYS) {
        *slot = option_bool(value, key)?;
    }
    Ok(voice)
}

/// What `preflight(options)` is made of.
pub struct PreflightOptions {
    /// The `RTCConfiguration` of the app's calls: `iceServers` and `iceTransportPolicy`.
    pub rtc_config: js_sys::Object,
    /// A TURN server is among `iceServers`.
    pub turn: bool,
    /// `iceTransportPolicy: 'relay'`.
    pub relay_only: bool,
    /// The microphone to check (`Some(None)`: the default one), or none.
    pub microphone: Option<Option<String>>,
    /// The camera to check, likewise.
    pub camera: Option<Option<String>>,
    /// How long the network check may take.
    pub timeout_ms: u32,
    /// How long the microphone is listened to.
    pub listen_ms: u32,
}

/// `audio` / `video`: `true` (the default device), `false` (not checked) or a `deviceId`.
fn device_option(options: &JsValue, key: &str) -> Result<Option<Option<String>>, JsValue> {
    let value = js::get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(Some(None));
    }
    if let Some(on) = value.as_bool() {
        return Ok(on.then_some(None));
    }
    value.as_string().map(|id| Some(Some(id))).ok_or_else(|| {
        invalid(&crate::text::concat(&[
            "option `",
            key,
            "` must be a boolean or a deviceId",
        ]))
    })
}

/// A duration option of the check, at most `max` (and at least `min`).
fn bounded_ms(
    options: &JsValue,
    key: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u32, JsValue> {
    let ms = option_u64(options, key)?.unwrap_or(default);
    if ms < min || ms > max {
        return Err(invalid(&crate::text::concat(&[
            "option `",
            key,
            "` must be from ",
            &crate::text::number(min),
            " to ",
            &crate::text::number(max),
        ])));
    }
    Ok(ms as u32)
}

/// Whether any of `iceServers`' URLs (`urls`: a string or an array of them) is a TURN one.
fn has_turn(config: &js_sys::Object) -> bool {
    let servers = js::get(config, "iceServers");
    let Some(servers) = servers.dyn_ref::<js_sys::Array>() else {
        return false;
    };
    servers.iter().any(|server| {
        let urls = js::get(&server, "urls");
        let is_turn = |url: JsValue| url.as_string().is_some_and(|u| preflight::is_turn_url(&u));
        match urls.dyn_ref::<js_sys::Array>() {
            Some(list) => list.iter().any(is_turn),
            None => is_turn(urls),
        }
    })
}

/// Reads `preflight(options)`'s options: `invalid-option` for any of the wrong type or range.
pub fn preflight_options(options: &JsValue) -> Result<PreflightOptions, JsValue> {
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(invalid("the options must be an object"));
    }
    let rtc_config = rtc_config(options)?;
    let relay_only = js::get(&rtc_config, "iceTransportPolicy")
        .as_string()
        .as_deref()
        == Some("relay");
    Ok(PreflightOptions {
        turn: has_turn(&rtc_config),
        relay_only,
        rtc_config,
        microphone: device_option(options, "audio")?,
        camera: device_option(options, "video")?,
        timeout_ms: bounded_ms(
            options,
            "timeoutMs",
            preflight::DEFAULT_TIMEOUT_MS,
            1,
            preflight::MAX_TIMEOUT_MS,
        )?,
        listen_ms: bounded_ms(
            options,
            "listenMs",
            preflight::DEFAULT_LISTEN_MS,
            0,
            preflight::MAX_LISTEN_MS,
        )?,
    })
}
