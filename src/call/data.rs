//! A call's data path: in-call messages and file transfers over the call's own peer connection.
//!
//! The driver opens two pre-negotiated data channels with every peer connection (no extra round
//! trip: they are part of the first offer): `messages` carries the app's messages, `files` carries
//! file offers, cancels and the files' bytes. This module holds every decision about them; the
//! driver only moves bytes:
//! - messages sent before the channels are open wait in order (at most [`MAX_QUEUED_BYTES`]) and
//!   go out once they are; one larger than [`MAX_MESSAGE_BYTES`] is refused;
//! - files go one at a time, in blocks of at most [`BLOCK_BYTES`], one block in flight; after a
//!   block, the channel's `bufferedAmount` above [`HIGH_WATER_BYTES`] pauses the transfer until
//!   the browser reports the buffer low again, so memory stays bounded whatever the file's size;
//! - an incoming file is offered first (its size, name and type, checked here), then its bytes
//!   follow in order on the same channel; a transfer that receives more bytes than offered fails;
//! - either side may cancel a transfer; a channel that closes fails the transfers under way; a
//!   call that ends ends its transfers with `call-ended`.
//!
//! Wire frames on the `files` channel (text): an offer `{"id":7,"size":1024,"name":"a.png",
//! "type":"image/png"}`; `x7`: the sender cancels its transfer 7; `r7`: the receiver refuses (or
//! cancels) the peer's transfer 7. Binary frames are the bytes of the transfer offered last.
//! Transfer ids are per side: the offer carries the sender's, and every transfer has a local id
//! for the app (unique among the call's transfers in both directions).

use crate::json::{self, Writer};
use crate::prelude::*;

use super::error::{CallError, CommandError};
use super::io::{Effect, Event, Outbox};
use super::{CallHandle, Direction, Instant, Millis};

/// The largest message, in bytes (UTF-8 text, JSON text or binary): 64 KiB, which every
/// browser's data channel carries in one piece.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most bytes of messages that wait for the channel to open.
pub const MAX_QUEUED_BYTES: usize = 1024 * 1024;
/// The most outgoing files of a call not yet sent (the one under way included).
pub const MAX_QUEUED_FILES: usize = 16;
/// The largest file: 2^53 - 1 bytes, the largest size a JavaScript number holds exactly.
pub const MAX_FILE_BYTES: u64 = (1 << 53) - 1;
/// The longest file name or type, in UTF-8 bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;
/// How many bytes of a file the driver reads and sends in one go.
pub const BLOCK_BYTES: u64 = 256 * 1024;
/// Above this `bufferedAmount` after a block, a transfer waits for the buffer to drain.
pub const HIGH_WATER_BYTES: u64 = 1024 * 1024;
/// How long transfers under way outlive a closed channel, waiting for the call's end. A peer
/// that hangs up closes its connection as it sends the hangup: the channel's close often
/// arrives first, and the transfers should end `call-ended`, as the call does, not `failed`.
pub const CLOSE_GRACE_MS: Millis = 2_000;

/// What the app asks to send on a call's data path.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outgoing {
    /// A message of `len` bytes. `ready` is false for a `Blob` the driver still reads: the
    /// message waits (and so do the messages after it) until
    /// [`EffectResult::MessageRead`](super::EffectResult::MessageRead).
    Message {
        /// Its size in bytes, as sent.
        len: usize,
        /// Its bytes are at hand.
        ready: bool,
    },
    /// A file of `size` bytes, with the name and media type the receiver gets.
    File {
        /// Its size in bytes.
        size: u64,
        /// Its name (may be empty).
        name: String,
        /// Its media type (may be empty).
        mime: String,
    },
}

/// Why a transfer ended before its last byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TransferEnd {
    /// This side cancelled it.
    Cancelled,
    /// The other side cancelled it.
    RemoteCancelled,
    /// The call ended.
    CallEnded,
    /// The channel closed, a read or send failed, or the bytes did not match the offer.
    Failed,
}

impl TransferEnd {
    /// The stable name: `cancelled`, `remote-cancelled`, `call-ended` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferEnd::Cancelled => "cancelled",
            TransferEnd::RemoteCancelled => "remote-cancelled",
            TransferEnd::CallEnded => "call-ended",
            TransferEnd::Failed => "failed",
        }
    }
}

/// A message waiting to be sent.
#[derive(Clone, Debug)]
struct Queued {
    id: u64,
    len: usize,
    ready: bool,
}

/// A file this side sends.
#[derive(Clone, Debug)]
struct OutgoingFile {
    id: u64,
    size: u64,
    name: String,
    mime: String,
    /// Bytes the driver has handed to the channel.
    sent: u64,
    /// The offer is out: the peer knows of it.
    offered: bool,
}

/// A file this side receives.
#[derive(Clone, Debug)]
struct IncomingFile {
    id: u64,
    /// The sender's id for it (in its offer).
    remote_id: u64,
    size: u64,
}

/// The data path of one call.
#[derive(Clone, Debug, Default)]
pub(crate) struct DataPath {
    /// Both channels are open.
    open: bool,
    next_message: u64,
    next_transfer: u64,
    messages: Vec<Queued>,
    queued_bytes: usize,
    /// The front one is under way once offered.
    outgoing: Vec<OutgoingFile>,
    /// The bytes on the `files` channel belong to this transfer (one at a time: the sender sends
    /// one file after the other).
    incoming: Option<IncomingFile>,
    /// The length of the block the driver is sending, if any.
    block: Option<u64>,
    /// The buffer was above the high-water mark after the last block.
    paused: bool,
    /// A channel closed with transfers under way: they fail at this time unless the call ends
    /// first ([`CLOSE_GRACE_MS`]).
    fail_at: Option<Instant>,
}

impl DataPath {
    /// Queues a message or a file, and sends what can go. Returns its id.
    pub(crate) fn send(
        &mut self,
        handle: CallHandle,
        outgoing: Outgoing,
        out: &mut Outbox,
    ) -> Result<u64, CommandError> {
        let id = match outgoing {
            Outgoing::Message { len, ready } => {
                if len > MAX_MESSAGE_BYTES {
                    return Err(CommandError::MessageTooLarge);
                }
                if self.queued_bytes + len > MAX_QUEUED_BYTES {
                    return Err(CommandError::SendQueueFull);
                }
                self.next_message += 1;
                let id = self.next_message;
                self.messages.push(Queued { id, len, ready });
                self.queued_bytes += len;
                id
            }
            Outgoing::File { size, name, mime } => {
                if size > MAX_FILE_BYTES
                    || name.len() > MAX_FILE_NAME_BYTES
                    || mime.len() > MAX_FILE_NAME_BYTES
                {
                    return Err(CommandError::InvalidFile);
                }
                if self.outgoing.len() >= MAX_QUEUED_FILES {
                    return Err(CommandError::SendQueueFull);
                }
                let id = self.new_transfer_id();
                self.outgoing.push(OutgoingFile {
                    id,
                    size,
                    name,
                    mime,
                    sent: 0,
                    offered: false,
                });
                id
            }
        };
        self.pump(handle, out);
        Ok(id)
    }

    fn new_transfer_id(&mut self) -> u64 {
        self.next_transfer += 1;
        self.next_transfer
    }

    /// The driver has read a `Blob` message (`ok`), or could not (it rejected the app's Promise
    /// itself): the queue moves on.
    pub(crate) fn message_read(&mut self, handle: CallHandle, id: u64, ok: bool, out: &mut Outbox) {
        if let Some(index) = self.messages.iter().position(|m| m.id == id) {
            if ok {
                self.messages[index].ready = true;
            } else {
                self.queued_bytes -= self.messages.remove(index).len;
            }
        }
        self.pump(handle, out);
    }

    /// Both channels are open.
    pub(crate) fn opened(&mut self, handle: CallHandle, out: &mut Outbox) {
        // New channels: what was under way on the closed ones cannot go on.
        if self.fail_at.is_some() {
            self.fail_under_way(handle, out);
        }
        self.open = true;
        self.pump(handle, out);
    }

    /// A channel closed (or the peer connection was replaced): nothing more goes out; the
    /// transfers under way fail after [`CLOSE_GRACE_MS`] unless the call ends first. Messages
    /// and files not started wait for the channels of a new connection.
    pub(crate) fn closed(&mut self, now: Instant) {
        self.open = false;
        self.block = None;
        self.paused = false;
        let under_way = self.incoming.is_some() || self.outgoing.first().is_some_and(|f| f.offered);
        if under_way && self.fail_at.is_none() {
            self.fail_at = Some(now + CLOSE_GRACE_MS);
        }
    }

    /// When [`on_timeout`](Self::on_timeout) has work.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.fail_at
    }

    /// The grace after a channel closed is over: the transfers under way then fail.
    pub(crate) fn on_timeout(&mut self, now: Instant, handle: CallHandle, out: &mut Outbox) {
        if self.fail_at.is_some_and(|at| now >= at) {
            self.fail_under_way(handle, out);
        }
    }

    fn fail_under_way(&mut self, handle: CallHandle, out: &mut Outbox) {
        self.fail_at = None;
        let under_way = usize::from(self.outgoing.first().is_some_and(|f| f.offered));
        self.end_transfers(handle, under_way, TransferEnd::Failed, out);
    }

    /// Ends the first `outgoing` outgoing transfers and the incoming one, for `reason`.
    fn end_transfers(
        &mut self,
        handle: CallHandle,
        outgoing: usize,
        reason: TransferEnd,
        out: &mut Outbox,
    ) {
        for file in self.outgoing.drain(..outgoing) {
            end_transfer(handle, file.id, Direction::Outgoing, reason, out);
        }
        if let Some(file) = self.incoming.take() {
            end_transfer(handle, file.id, Direction::Incoming, reason, out);
        }
    }

    /// The user cancels a transfer (either direction). The peer is told if it knows of it.
    pub(crate) fn cancel(
        &mut self,
        handle: CallHandle,
        id: u64,
        out: &mut Outbox,
    ) -> Result<(), CommandError> {
        let reason = TransferEnd::Cancelled;
        if let Some(index) = self.outgoing.iter().position(|f| f.id == id) {
            let offered = self.outgoing.remove(index).offered;
            if offered {
                self.block = None;
                self.frame(out, handle, 'x', id);
            }
            end_transfer(handle, id, Direction::Outgoing, reason, out);
        } else if self.incoming.as_ref().is_some_and(|f| f.id == id) {
            self.refuse_incoming(handle, reason, out);
        } else {
            return Err(CommandError::UnknownTransfer);
        }
        self.pump(handle, out);
        Ok(())
    }

    /// The driver has handed block `id` to the channel; the channel's `bufferedAmount` is now
    /// `buffered`.
    pub(crate) fn block_sent(
        &mut self,
        handle: CallHandle,
        id: u64,
        buffered: u64,
        out: &mut Outbox,
    ) {
        let Some(len) = self.block else { return };
        let Some(file) = self.outgoing.first_mut().filter(|f| f.id == id) else {
            return;
        };
        self.block = None;
        file.sent += len;
        out.event(Event::Progress {
            call: handle,
            id,
            direction: Direction::Outgoing,
            bytes: file.sent,
            size: file.size,
        });
        if file.sent >= file.size {
            self.outgoing.remove(0);
            out.event(Event::FileSent { call: handle, id });
        }
        self.paused = buffered > HIGH_WATER_BYTES;
        self.pump(handle, out);
    }

    /// The driver could not read or send a block of `id`: the transfer fails and the peer is
    /// told.
    pub(crate) fn block_failed(&mut self, handle: CallHandle, id: u64, out: &mut Outbox) {
        if self.block.is_none() || self.outgoing.first().is_none_or(|f| f.id != id) {
            return;
        }
        self.outgoing.remove(0);
        self.block = None;
        self.frame(out, handle, 'x', id);
        end_transfer(handle, id, Direction::Outgoing, TransferEnd::Failed, out);
        self.pump(handle, out);
    }

    /// The channel's buffer drained below the low-water mark.
    pub(crate) fn buffer_low(&mut self, handle: CallHandle, out: &mut Outbox) {
        if self.paused {
            self.paused = false;
            self.pump(handle, out);
        }
    }

    /// A text frame arrived on the `files` channel: an offer, a cancel or a refusal.
    pub(crate) fn on_frame(&mut self, handle: CallHandle, frame: &str, out: &mut Outbox) {
        let kind = frame.as_bytes().first().copied();
        // `x7`, `r7`: a letter and a decimal id (read as a JSON number: one number parser).
        let id = frame
            .get(1..)
            .filter(|rest| rest.bytes().all(|b| b.is_ascii_digit()))
            .and_then(json::parse)
            .and_then(|v| v.as_u64());
        match (kind, id) {
            (Some(b'x'), Some(remote_id)) => {
                if self
                    .incoming
                    .as_ref()
                    .is_some_and(|f| f.remote_id == remote_id)
                {
                    if let Some(file) = self.incoming.take() {
                        let reason = TransferEnd::RemoteCancelled;
                        end_transfer(handle, file.id, Direction::Incoming, reason, out);
                    }
                }
            }
            (Some(b'r'), Some(id)) => {
                // Our transfer `id`, refused: it may have finished or been cancelled meanwhile.
                if let Some(index) = self.outgoing.iter().position(|f| f.id == id && f.offered) {
                    self.outgoing.remove(index);
                    self.block = None;
                    let reason = TransferEnd::RemoteCancelled;
                    end_transfer(handle, id, Direction::Outgoing, reason, out);
                    self.pump(handle, out);
                }
            }
            (Some(b'{'), _) => self.on_offer(handle, frame, out),
            _ => out.error(Some(handle), CallError::BadFrame),
        }
    }

    fn on_offer(&mut self, handle: CallHandle, frame: &str, out: &mut Outbox) {
        let Some(offer) = parse_offer(frame) else {
            out.error(Some(handle), CallError::BadFrame);
            // Refuse it if it can be named, so the sender does not stream into the void.
            if let Some(remote_id) = json::parse(frame)
                .as_ref()
                .and_then(|v| v.as_object())
                .and_then(|v| v.get("id"))
                .and_then(|v| v.as_u64())
            {
                self.frame(out, handle, 'r', remote_id);
            }
            return;
        };
        // The sender sends one file at a time: a new offer means the previous one is over
        // without its last bytes. It fails.
        if let Some(file) = self.incoming.take() {
            self.frame(out, handle, 'r', file.remote_id);
            end_transfer(
                handle,
                file.id,
                Direction::Incoming,
                TransferEnd::Failed,
                out,
            );
        }
        let id = self.new_transfer_id();
        let FileOffer {
            remote_id,
            size,
            name,
            mime,
        } = offer;
        self.incoming = Some(IncomingFile {
            id,
            remote_id,
            size,
        });
        out.event(Event::FileIncoming {
            call: handle,
            id,
            name: name.clone(),
            mime: mime.clone(),
            size,
        });
        out.effect(
            handle,
            Effect::ReceiveFile {
                id,
                size,
                name,
                mime,
            },
        );
        if size == 0 {
            self.bytes_received(handle, id, 0, out);
        }
    }

    /// The driver has received `received` bytes of incoming transfer `id` so far.
    pub(crate) fn bytes_received(
        &mut self,
        handle: CallHandle,
        id: u64,
        received: u64,
        out: &mut Outbox,
    ) {
        let Some(file) = self.incoming.as_ref().filter(|f| f.id == id) else {
            return;
        };
        let size = file.size;
        if received > size {
            out.error(Some(handle), CallError::BadFrame);
            self.refuse_incoming(handle, TransferEnd::Failed, out);
            return;
        }
        out.event(Event::Progress {
            call: handle,
            id,
            direction: Direction::Incoming,
            bytes: received,
            size,
        });
        if received == size {
            self.incoming = None;
            out.event(Event::FileReceived { call: handle, id });
        }
    }

    /// Ends the incoming transfer and tells the sender to stop.
    fn refuse_incoming(&mut self, handle: CallHandle, reason: TransferEnd, out: &mut Outbox) {
        if let Some(file) = self.incoming.take() {
            self.frame(out, handle, 'r', file.remote_id);
            end_transfer(handle, file.id, Direction::Incoming, reason, out);
        }
    }

    /// The call ended: every transfer ends with `call-ended`; queued messages are dropped (the
    /// driver rejects their Promises with `call-ended`).
    pub(crate) fn end(&mut self, handle: CallHandle, out: &mut Outbox) {
        self.open = false;
        self.fail_at = None;
        self.messages.clear();
        self.queued_bytes = 0;
        self.block = None;
        let all = self.outgoing.len();
        self.end_transfers(handle, all, TransferEnd::CallEnded, out);
    }

    /// Sends what can go: ready messages in order, then the next block of the file under way.
    fn pump(&mut self, handle: CallHandle, out: &mut Outbox) {
        if !self.open {
            return;
        }
        let ready = self.messages.iter().take_while(|m| m.ready).count();
        for message in self.messages.drain(..ready) {
            self.queued_bytes -= message.len;
            out.effect(handle, Effect::SendMessage { id: message.id });
        }
        if self.block.is_some() || self.paused {
            return;
        }
        let Some(file) = self.outgoing.first_mut() else {
            return;
        };
        if !file.offered {
            file.offered = true;
            let mut frame = String::new();
            let mut w = Writer::object(&mut frame);
            w.u64("id", file.id);
            w.u64("size", file.size);
            w.str("name", &file.name);
            w.str("type", &file.mime);
            w.end();
            out.effect(handle, Effect::SendFrame { frame });
            if file.size == 0 {
                let id = file.id;
                self.outgoing.remove(0);
                out.event(Event::Progress {
                    call: handle,
                    id,
                    direction: Direction::Outgoing,
                    bytes: 0,
                    size: 0,
                });
                out.event(Event::FileSent { call: handle, id });
                return self.pump(handle, out);
            }
        }
        let len = BLOCK_BYTES.min(file.size - file.sent);
        self.block = Some(len);
        out.effect(
            handle,
            Effect::SendFileBlock {
                id: file.id,
                offset: file.sent,
                len,
            },
        );
    }

    /// Queues a control frame (`x` or `r` and an id) for the `files` channel.
    fn frame(&self, out: &mut Outbox, handle: CallHandle, kind: char, id: u64) {
        let mut frame = String::new();
        frame.push(kind);
        json::push_u64(&mut frame, id);
        out.effect(handle, Effect::SendFrame { frame });
    }

    /// Whether the data channels are open.
    pub(crate) fn is_open(&self) -> bool {
        self.open
    }
}

fn end_transfer(
    handle: CallHandle,
    id: u64,
    direction: Direction,
    reason: TransferEnd,
    out: &mut Outbox,
) {
    out.event(Event::TransferEnded {
        call: handle,
        id,
        direction,
        reason,
    });
}

/// A peer's file offer, checked.
struct FileOffer {
    remote_id: u64,
    size: u64,
    name: String,
    mime: String,
}

fn parse_offer(frame: &str) -> Option<FileOffer> {
    let value = json::parse(frame)?;
    let value = value.as_object()?;
    let text = |key| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| s.len() <= MAX_FILE_NAME_BYTES)
            .map(str::to_owned)
    };
    Some(FileOffer {
        remote_id: value.get("id")?.as_u64()?,
        size: value
            .get("size")?
            .as_u64()
            .filter(|&s| s <= MAX_FILE_BYTES)?,
        name: text("name")?,
        mime: text("type")?,
    })
}
