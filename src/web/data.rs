//! The driver's half of the data path: the two data channels of each peer connection, the
//! payloads of queued messages, the files being sent and the one being received. Every decision
//! (what waits, what goes, when a transfer pauses or ends) is the core's (`call::data`); this
//! moves the bytes and turns the core's data events into the app's.

use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Array, ArrayBuffer, Function, JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::RtcPeerConnection;

use super::bindings::{self, Blob, DataChannel, PeerConnectionExt as _};
use super::driver::{report, Finished, Input, Weak, Work};
use super::js;
use super::listener::EventListener;
use super::peer::PeerEvent;
use super::resources::{ByCall, CallResources};
use super::tasks::settled;
use crate::call::{CallHandle, Direction, EffectResult, Event, TransferEnd, BLOCK_BYTES};

/// The size of one binary frame of a file: 16 KiB, which every browser's SCTP stack sends
/// without fragmenting trouble.
const FRAME_BYTES: u32 = 16 * 1024;
/// `bufferedamountlow` fires when the `files` channel drains below this.
const LOW_WATER_BYTES: f64 = 256.0 * 1024.0;
/// The receiver reports progress each time this many more bytes are in.
const REPORT_EVERY: u64 = BLOCK_BYTES;
/// The receiver folds its received parts into one `Blob` each time this many bytes are in, so
/// the page holds at most this much of a file in `ArrayBuffer`s (the Blob's bytes live in the
/// browser's blob storage).
const MERGE_EVERY: u64 = 1024 * 1024;

/// A peer connection's two pre-negotiated channels (ids 0 and 1 on both sides, so no
/// `datachannel` event and no extra round trip): `messages`, then `files`.
pub struct Channels {
    pub messages: DataChannel,
    pub files: DataChannel,
    _listeners: Vec<EventListener>,
}

impl Channels {
    /// Creates the channels on `pc` (before its first offer, which then carries them) and
    /// reports what they do.
    pub fn open(
        pc: &RtcPeerConnection,
        report: &Rc<dyn Fn(PeerEvent)>,
    ) -> Result<Channels, JsValue> {
        let channel = |label: &str, id: u32| {
            let options = js::object();
            js::set(&options, "negotiated", true);
            js::set(&options, "id", id);
            let channel = pc.create_data_channel(label, &options)?;
            channel.set_binary_type("arraybuffer");
            Ok::<DataChannel, JsValue>(channel)
        };
        let messages = channel("messages", 0)?;
        let files = channel("files", 1)?;
        files.set_buffered_amount_low_threshold(LOW_WATER_BYTES);
        // One closure type for every listener (each closure type costs its own glue).
        let opened = Rc::new(Cell::new(0u8));
        let listen = |channel: &DataChannel, event: &'static str, files: bool| {
            let (report, opened) = (report.clone(), opened.clone());
            EventListener::new(channel, event, move |e| {
                on_channel_event(&report, &opened, files, &e);
            })
        };
        let listeners = vec![
            listen(&messages, "open", false),
            listen(&files, "open", true),
            listen(&messages, "close", false),
            listen(&files, "close", true),
            listen(&messages, "message", false),
            listen(&files, "message", true),
            listen(&files, "bufferedamountlow", true),
        ];
        Ok(Channels {
            messages,
            files,
            _listeners: listeners,
        })
    }
}

/// One event of a channel (`files` or `messages`), reported: `DataOpen` once both are open,
/// `DataClosed` once when either closes, frames as they arrive.
fn on_channel_event(
    report: &Rc<dyn Fn(PeerEvent)>,
    opened: &Cell<u8>,
    files: bool,
    event: &web_sys::Event,
) {
    let result = match event.type_().as_str() {
        "open" => {
            opened.set(opened.get() + 1);
            if opened.get() != 2 {
                return;
            }
            EffectResult::DataOpen
        }
        "close" => {
            if opened.replace(u8::MAX) == u8::MAX {
                return;
            }
            EffectResult::DataClosed
        }
        "message" => {
            let data = js::get(event, "data");
            match (files, data.as_string()) {
                (false, _) => return report(PeerEvent::Message(data)),
                (true, Some(frame)) => EffectResult::FileFrame(frame),
                (true, None) => return report(PeerEvent::FileChunk(data.unchecked_into())),
            }
        }
        _ => EffectResult::BufferLow,
    };
    report(PeerEvent::Result(result));
}

/// A message waiting in the core's queue: its frame once known, and its Promise's callbacks.
struct Pending {
    id: u64,
    /// The frame to send: a string (`s` or `j` and the text) or bytes. `None` while a `Blob`
    /// is read.
    frame: Option<JsValue>,
    resolve: Function,
    reject: Function,
}

/// A file this side sends.
struct Sending {
    id: u64,
    blob: Blob,
    resolve: Function,
    reject: Function,
}

/// The file this side receives.
struct Receiving {
    id: u64,
    size: u64,
    name: String,
    mime: String,
    received: u64,
    /// Progress was last reported at this many bytes.
    reported: u64,
    /// What came in, folded into a `Blob` every [`MERGE_EVERY`] bytes.
    parts: Array,
    unmerged: u64,
}

/// The data path of one call, as the driver holds it.
#[derive(Default)]
pub struct CallData {
    messages: Vec<Pending>,
    sending: Vec<Sending>,
    receiving: Option<Receiving>,
    /// The transfer whose blocks may go on the channel (0: none). A block read that resolves
    /// after its transfer ended finds another id here and sends nothing, so no byte of a
    /// cancelled file follows the next file's offer.
    current: Rc<Cell<u64>>,
}

/// What the app passed to `send()`, as the core sizes it and the channel sends it.
pub enum Payload {
    /// A frame ready to send, of this many bytes.
    Ready(JsValue, usize),
    /// A `Blob`, read before it goes.
    Blob(Blob),
}

/// Turns the app's value into a frame: a string as `s` and the text, bytes as a copy (the app
/// may reuse its buffer), a `Blob` to read, anything else as `j` and its JSON.
pub fn payload(data: &JsValue) -> Result<Payload, JsValue> {
    let too_large = || {
        let e = crate::call::CommandError::MessageTooLarge;
        js::error(e.code(), &e.message())
    };
    if let Some(blob) = data.dyn_ref::<Blob>() {
        return Ok(Payload::Blob(blob.clone()));
    }
    if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        let copy = buffer.slice(0);
        return Ok(Payload::Ready(
            copy.clone().into(),
            copy.byte_length() as usize,
        ));
    }
    if ArrayBuffer::is_view(data) {
        let bytes = Uint8Array::new_with_byte_offset_and_length(
            &js::get(data, "buffer"),
            js::get(data, "byteOffset").as_f64().unwrap_or(0.0) as u32,
            js::get(data, "byteLength").as_f64().unwrap_or(0.0) as u32,
        );
        let copy = bytes.slice(0, bytes.length());
        let len = copy.length() as usize;
        return Ok(Payload::Ready(copy.into(), len));
    }
    let (prefix, text) =
        match data.dyn_ref::<JsString>() {
            Some(text) => ("s", text.clone()),
            None => match bindings::json_stringify(data).map(JsValue::dyn_into::<JsString>) {
                Ok(Ok(json)) => ("j", json),
                _ => return Err(js::error(
                    "invalid-value",
                    "send() takes a string, a JSON value, an ArrayBuffer, a typed array or a Blob",
                )),
            },
        };
    // A text longer than the limit in UTF-16 units is longer in UTF-8 bytes too: it is refused
    // before it is copied into the wasm memory.
    if text.length() as usize > crate::call::MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    let text = String::from(text);
    // The limit is on the app's bytes: the one-letter tag rides on top.
    let len = text.len();
    let frame = crate::text::concat(&[prefix, &text]);
    Ok(Payload::Ready(JsValue::from_str(&frame), len))
}

impl CallData {
    /// Keeps a message the core queued under `id`; a `Blob` is read now.
    pub fn queue_message(
        &mut self,
        weak: &Weak,
        call: CallHandle,
        tasks: &super::tasks::Tasks,
        id: u64,
        payload: Payload,
        (resolve, reject): (Function, Function),
    ) {
        let frame = match payload {
            Payload::Ready(frame, _) => Some(frame),
            Payload::Blob(blob) => {
                let read = settled(&blob.array_buffer());
                let weak = weak.clone();
                tasks.spawn(async move {
                    let finished = Finished::MessageRead {
                        id,
                        bytes: read.await,
                    };
                    super::driver::queue(&weak, Input::Finished { call, finished });
                });
                None
            }
        };
        self.messages.push(Pending {
            id,
            frame,
            resolve,
            reject,
        });
    }

    /// A `Blob` message was read (or not: its Promise rejects now).
    pub fn message_read(
        &mut self,
        id: u64,
        bytes: Result<JsValue, JsValue>,
        work: &mut Vec<Work>,
    ) -> Option<EffectResult> {
        let index = self.messages.iter().position(|m| m.id == id)?;
        let ok = match bytes {
            Ok(bytes) => {
                self.messages[index].frame = Some(bytes);
                true
            }
            Err(error) => {
                let pending = self.messages.remove(index);
                let message = crate::text::concat(&[
                    "the Blob could not be read: ",
                    &js::error_message(&error),
                ]);
                work.push(Work::call(
                    pending.reject,
                    js::error("read-failed", &message),
                ));
                false
            }
        };
        Some(EffectResult::MessageRead { id, ok })
    }

    /// Keeps a file the core queued under `id`.
    pub fn queue_file(&mut self, id: u64, blob: Blob, (resolve, reject): (Function, Function)) {
        self.sending.push(Sending {
            id,
            blob,
            resolve,
            reject,
        });
    }

    /// The call is over: the Promises of messages not sent reject with `call-ended`.
    pub fn release(&mut self, work: &mut Vec<Work>) {
        for pending in self.messages.drain(..) {
            work.push(Work::call(pending.reject, call_ended()));
        }
        self.current.set(0);
    }
}

fn call_ended() -> JsValue {
    let e = crate::call::CommandError::CallEnded;
    js::error(e.code(), &e.message())
}

/// Sends queued message `id` on the `messages` channel and settles its Promise.
pub fn send_message(resources: &mut CallResources, id: u64, work: &mut Vec<Work>) {
    let data = &mut resources.data;
    let Some(index) = data.messages.iter().position(|m| m.id == id) else {
        return;
    };
    let pending = data.messages.remove(index);
    let channel = resources.peer.as_ref().and_then(|p| p.channels.as_ref());
    let sent = match (channel, &pending.frame) {
        (Some(channels), Some(frame)) => channels.messages.send_value(frame),
        _ => Err(JsValue::from_str("no data channel")),
    };
    match sent {
        Ok(()) => work.push(Work::call(pending.resolve, JsValue::UNDEFINED)),
        Err(error) => {
            let message = crate::text::concat(&[
                "the channel refused the message: ",
                &js::error_message(&error),
            ]);
            work.push(Work::call(
                pending.reject,
                js::error("send-failed", &message),
            ));
        }
    }
}

/// Sends a control frame (an offer, a cancel, a refusal) on the `files` channel. A channel that
/// refuses it is closing: its `close` event ends the transfers.
pub fn send_frame(resources: &CallResources, frame: &str) {
    if let Some(channels) = resources.peer.as_ref().and_then(|p| p.channels.as_ref()) {
        let _ = channels.files.send_text(frame);
    }
}

/// Reads `len` bytes of file `id` from `offset` and sends them in [`FRAME_BYTES`] frames, then
/// reports the channel's `bufferedAmount` (or the failure).
pub fn send_block(
    weak: &Weak,
    call: CallHandle,
    resources: &mut CallResources,
    id: u64,
    offset: u64,
    len: u64,
) {
    let generation = resources.generation;
    let Some(sending) = resources.data.sending.iter().find(|s| s.id == id) else {
        return;
    };
    let peer = resources.peer.as_ref();
    let Some((handle, channel)) =
        peer.and_then(|p| Some((p.handle(), p.channels.as_ref()?.files.clone())))
    else {
        return report(weak, call, None, EffectResult::FileBlockFailed { id });
    };
    let block = sending.blob.slice(offset as f64, (offset + len) as f64);
    let current = resources.data.current.clone();
    current.set(id);
    let weak = weak.clone();
    handle.spawn(async move {
        let read = settled(&block.array_buffer()).await;
        if current.get() != id {
            return; // The transfer ended meanwhile.
        }
        let result = match read.and_then(|buffer| send_frames(&channel, &buffer)) {
            Ok(()) => EffectResult::FileBlockSent {
                id,
                buffered: channel.buffered_amount() as u64,
            },
            // The channel closed under it (the peer hung up, say): that is the channel's close,
            // whose grace lets the call's end, which may follow, say why the transfer ended.
            Err(_) if js::get(&channel, "readyState").as_string().as_deref() != Some("open") => {
                EffectResult::DataClosed
            }
            Err(_) => EffectResult::FileBlockFailed { id },
        };
        report(&weak, call, Some(generation), result);
    });
}

fn send_frames(channel: &DataChannel, buffer: &JsValue) -> Result<(), JsValue> {
    let buffer: &ArrayBuffer = buffer.unchecked_ref();
    let len = buffer.byte_length();
    let mut offset = 0;
    while offset < len {
        let size = FRAME_BYTES.min(len - offset);
        let frame = Uint8Array::new_with_byte_offset_and_length(buffer, offset, size);
        channel.send_value(&frame)?;
        offset += size;
    }
    Ok(())
}

/// The binary frames on the `files` channel are now the bytes of file `id`.
pub fn receive(resources: &mut CallResources, id: u64, size: u64, name: String, mime: String) {
    resources.data.receiving = Some(Receiving {
        id,
        size,
        name,
        mime,
        received: 0,
        reported: 0,
        parts: Array::new(),
        unmerged: 0,
    });
}

/// Bytes arrived on the `files` channel: they join the file being received. Bytes of a transfer
/// that ended (cancelled while they were on their way) are dropped.
pub fn chunk(resources: &mut CallResources, bytes: ArrayBuffer) -> Option<EffectResult> {
    let receiving = resources.data.receiving.as_mut()?;
    let len = u64::from(bytes.byte_length());
    receiving.parts.push(&bytes);
    receiving.received += len;
    receiving.unmerged += len;
    if receiving.unmerged >= MERGE_EVERY {
        let merged = bindings::Blob::new_blob(&receiving.parts, &JsValue::UNDEFINED);
        receiving.parts = Array::of1(&merged);
        receiving.unmerged = 0;
    }
    let received = receiving.received;
    if received >= receiving.size || received >= receiving.reported + REPORT_EVERY {
        receiving.reported = received;
        return Some(EffectResult::FileBytes {
            id: receiving.id,
            received,
        });
    }
    None
}

/// A frame on the `messages` channel, as the app's `message` event carries it: the string, the
/// JSON value, or the bytes as an `ArrayBuffer`. `None` for a frame that is none of these.
pub fn decode_message(data: &JsValue) -> Option<JsValue> {
    let limit = crate::call::MAX_MESSAGE_BYTES as u32;
    let Some(text) = data.dyn_ref::<JsString>() else {
        let buffer = data.dyn_ref::<ArrayBuffer>()?;
        return (buffer.byte_length() <= limit).then(|| data.clone());
    };
    // Nothing of a frame enters the wasm memory: a peer's oversized frame is refused by its
    // length (a UTF-8 text of at most `limit` bytes has at most `limit` UTF-16 units).
    if text.length() > limit + 1 {
        return None;
    }
    let body = text.slice(1, text.length());
    match text.char_code_at(0) as u32 {
        0x73 /* 's' */ => Some(body.into()),
        0x6a /* 'j' */ => bindings::json_parse_text(&body).ok(),
        _ => None,
    }
}

/// Turns one of the core's data events into the app's (`progress`, `fileIncoming`, `file`,
/// `transferEnded`) and settles a file's `done` Promise. Returns the event back if it is not a
/// data event. Runs in the collect phase, before the effects that follow the event (a call's
/// release): what the event needs is taken out of the call's resources here.
pub fn on_event(
    calls: &mut ByCall<CallResources>,
    event: Event,
    work: &mut Vec<Work>,
) -> Option<Event> {
    let direction_name = |d: Direction| match d {
        Direction::Outgoing => "outgoing",
        Direction::Incoming => "incoming",
    };
    match event {
        Event::Progress {
            call,
            id,
            direction,
            bytes,
            size,
        } => {
            let o = js::object();
            js::set(&o, "id", id as f64);
            js::set(&o, "direction", direction_name(direction));
            js::set(&o, "bytes", bytes as f64);
            js::set(&o, "size", size as f64);
            work.push(Work::emit(call, "progress", o.into()));
        }
        Event::FileIncoming {
            call,
            id,
            name,
            mime,
            size,
        } => {
            let o = file_info(id, &name, &mime, size);
            work.push(Work::emit(call, "fileIncoming", o.into()));
        }
        Event::FileSent { call, id } => {
            let data = &mut calls.get_mut(&call)?.data;
            if data.current.get() == id {
                data.current.set(0);
            }
            let index = data.sending.iter().position(|s| s.id == id)?;
            let sending = data.sending.remove(index);
            work.push(Work::call(sending.resolve, JsValue::UNDEFINED));
        }
        Event::FileReceived { call, id } => {
            let data = &mut calls.get_mut(&call)?.data;
            let receiving = data.receiving.take().filter(|r| r.id == id)?;
            let options = js::object();
            js::set(&options, "type", receiving.mime.as_str());
            let o = file_info(id, &receiving.name, &receiving.mime, receiving.size);
            let file: JsValue =
                match bindings::File::new_file(&receiving.parts, &receiving.name, &options) {
                    Ok(file) => file.into(),
                    Err(_) => Blob::new_blob(&receiving.parts, &options).into(),
                };
            js::set(&o, "file", file);
            work.push(Work::emit(call, "file", o.into()));
        }
        Event::TransferEnded {
            call,
            id,
            direction,
            reason,
        } => {
            if let Some(resources) = calls.get_mut(&call) {
                let data = &mut resources.data;
                match direction {
                    Direction::Outgoing => {
                        if data.current.get() == id {
                            data.current.set(0);
                        }
                        if let Some(index) = data.sending.iter().position(|s| s.id == id) {
                            let sending = data.sending.remove(index);
                            work.push(Work::call(sending.reject, transfer_error(reason)));
                        }
                    }
                    Direction::Incoming => {
                        if data.receiving.as_ref().is_some_and(|r| r.id == id) {
                            data.receiving = None;
                        }
                    }
                }
            }
            let o = js::object();
            js::set(&o, "id", id as f64);
            js::set(&o, "direction", direction_name(direction));
            js::set(&o, "reason", reason.as_str());
            work.push(Work::emit(call, "transferEnded", o.into()));
        }
        other => return Some(other),
    }
    None
}

/// `{ id, name, type, size }` of a file.
fn file_info(id: u64, name: &str, mime: &str, size: u64) -> js_sys::Object {
    let o = js::object();
    js::set(&o, "id", id as f64);
    js::set(&o, "name", name);
    js::set(&o, "type", mime);
    js::set(&o, "size", size as f64);
    o
}

/// The error a file's `done` Promise rejects with.
fn transfer_error(reason: TransferEnd) -> JsValue {
    match reason {
        TransferEnd::Cancelled => js::error("transfer-cancelled", "the transfer was cancelled"),
        TransferEnd::RemoteCancelled => js::error(
            "transfer-cancelled",
            "the other side cancelled the transfer",
        ),
        TransferEnd::CallEnded => call_ended(),
        TransferEnd::Failed => js::error(
            "transfer-failed",
            "the transfer failed: the channel closed or the file could not be read",
        ),
    }
}
