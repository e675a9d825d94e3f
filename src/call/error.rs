//! Typed errors: for commands that do not fit (returned), and for inputs that were dropped
//! (reported as [`Event::Error`](super::Event::Error)).

use crate::prelude::*;
use core::fmt;

use crate::protocol::{CallId, ProtocolError, UserId};
use crate::text::{concat, number};

use super::CallState;

/// Why a user command was refused. Nothing changed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum CommandError {
    /// No call has this handle (never existed, or ended long ago and was forgotten).
    UnknownCall,
    /// The call has ended.
    CallEnded,
    /// The command does not fit the call's phase or direction.
    InvalidState {
        /// The command.
        command: &'static str,
        /// The call's phase.
        state: CallState,
    },
    /// Another call is active; hang it up first.
    AlreadyInCall,
    /// The peer's user id is invalid, or is this client's own user.
    InvalidPeer,
    /// The command needs a camera track, and this call has none (see `upgradeToVideo`).
    NoVideo,
    /// The call's metadata is larger than the protocol allows.
    MetadataTooLarge,
    /// The command changes what the call sends, and the call is on hold (by either side).
    OnHold,
    /// The message is larger than [`MAX_MESSAGE_BYTES`](super::data::MAX_MESSAGE_BYTES).
    MessageTooLarge,
    /// Too much is waiting to be sent: messages before the channel opens, or files.
    SendQueueFull,
    /// The file's name or type is too long, or it is too large.
    InvalidFile,
    /// No transfer of the call has this id (it finished, or never existed).
    UnknownTransfer,
    /// `startRecording()` while the call is already recorded here.
    AlreadyRecording,
    /// `stopRecording()` while the call is not recorded here.
    NotRecording,
}

impl CommandError {
    /// The stable code (the JS `Error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::UnknownCall => "unknown-call",
            CommandError::CallEnded => "call-ended",
            CommandError::InvalidState { .. } => "invalid-state",
            CommandError::AlreadyInCall => "already-in-call",
            CommandError::InvalidPeer => "invalid-peer",
            CommandError::NoVideo => "no-video",
            CommandError::MetadataTooLarge => "metadata-too-large",
            CommandError::OnHold => "on-hold",
            CommandError::MessageTooLarge => "message-too-large",
            CommandError::SendQueueFull => "send-queue-full",
            CommandError::InvalidFile => "invalid-file",
            CommandError::UnknownTransfer => "unknown-transfer",
            CommandError::AlreadyRecording => "already-recording",
            CommandError::NotRecording => "not-recording",
        }
    }
}

impl CommandError {
    /// What went wrong, in a sentence (the JS `Error.message`).
    pub fn message(&self) -> String {
        match self {
            CommandError::UnknownCall => "no such call".to_owned(),
            CommandError::CallEnded => "the call has ended".to_owned(),
            CommandError::InvalidState { command, state } => concat(&[
                "`",
                command,
                "` is not possible while the call is ",
                state.as_str(),
            ]),
            CommandError::AlreadyInCall => {
                "another call is active; hang it up or hold it first".to_owned()
            }
            CommandError::InvalidPeer => "cannot call that user".to_owned(),
            CommandError::NoVideo => "the call has no camera track".to_owned(),
            CommandError::OnHold => "the call is on hold; resume it first".to_owned(),
            CommandError::MessageTooLarge => concat(&[
                "the message exceeds ",
                &number(super::data::MAX_MESSAGE_BYTES as u64),
                " bytes",
            ]),
            CommandError::SendQueueFull => {
                "too much is waiting to be sent on this call; wait for it to go".to_owned()
            }
            CommandError::InvalidFile => concat(&[
                "the file's name or type exceeds ",
                &number(super::data::MAX_FILE_NAME_BYTES as u64),
                " bytes, or the file is too large",
            ]),
            CommandError::UnknownTransfer => "no transfer of this call has that id".to_owned(),
            CommandError::AlreadyRecording => "the call is already being recorded".to_owned(),
            CommandError::NotRecording => "the call is not being recorded".to_owned(),
            CommandError::MetadataTooLarge => concat(&[
                "call metadata exceeds ",
                &number(crate::protocol::MAX_METADATA_BYTES as u64),
                " bytes of JSON",
            ]),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for CommandError {}

/// Why the browser refused a capture device.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MediaError {
    /// `NotAllowedError` / `SecurityError`: the user or the page's policy refused.
    PermissionDenied,
    /// `NotFoundError` / `OverconstrainedError`: no such device.
    DeviceNotFound,
    /// `NotReadableError` / `AbortError`: the device is in use or broken.
    DeviceBusy,
    /// Any other failure, with the browser's name for it.
    Other(String),
}

impl MediaError {
    /// Maps a `DOMException` name to the error.
    pub fn from_dom_name(name: &str) -> MediaError {
        match name {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => {
                MediaError::PermissionDenied
            }
            "NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError" => {
                MediaError::DeviceNotFound
            }
            "NotReadableError" | "AbortError" | "TrackStartError" => MediaError::DeviceBusy,
            other => MediaError::Other(other.to_owned()),
        }
    }

    /// The stable code: `permission-denied`, `device-not-found`, `device-busy` or `media-error`.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::PermissionDenied => "permission-denied",
            MediaError::DeviceNotFound => "device-not-found",
            MediaError::DeviceBusy => "device-busy",
            MediaError::Other(_) => "media-error",
        }
    }
}

impl MediaError {
    /// What went wrong, in a sentence (the JS `Error.message`).
    pub fn message(&self) -> String {
        match self {
            MediaError::PermissionDenied => "permission to use the device was denied".to_owned(),
            MediaError::DeviceNotFound => "no such capture device".to_owned(),
            MediaError::DeviceBusy => "the device is in use by another application".to_owned(),
            MediaError::Other(name) => concat(&["the device failed (", name, ")"]),
        }
    }
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// An input that was dropped, or an optional action that failed. Reported, never applied.
#[derive(Clone, PartialEq, Debug)]
pub enum CallError {
    /// A message from the transport was malformed.
    Protocol(ProtocolError),
    /// A message named a call this client does not know.
    UnknownCall {
        /// The call id named.
        call_id: CallId,
        /// Its sender.
        from: UserId,
    },
    /// A message came from someone other than the call's remote party.
    WrongSender {
        /// The call id named.
        call_id: CallId,
        /// Its sender.
        from: UserId,
    },
    /// A message does not fit the call's phase (out of order, or an answer to no offer).
    UnexpectedMessage {
        /// The message type.
        message: &'static str,
        /// The call's phase.
        state: CallState,
    },
    /// An invite was dropped because its sender placed too many.
    RateLimited {
        /// The sender.
        from: UserId,
    },
    /// An invite was declined as busy because another call from the same sender already rings
    /// here: one sender rings at most one call at a time.
    AlreadyRinging {
        /// The sender.
        from: UserId,
    },
    /// A copy of an invite that already rings here was dropped unanswered (the first copy was
    /// answered with `ringing` once more, in case the first `ringing` was lost).
    DuplicateInvite {
        /// The call id named.
        call_id: CallId,
        /// Its sender.
        from: UserId,
    },
    /// The transport could not deliver a message of this connected call (its `send` threw or
    /// rejected). The call goes on; the media state is sent again shortly.
    SendFailed {
        /// The call.
        call_id: CallId,
    },
    /// Too many remote candidates arrived before the remote description; the extra were dropped.
    TooManyCandidates,
    /// The browser failed an SDP operation.
    SdpFailed(String),
    /// A camera, screen or device action failed; the call goes on.
    Media(MediaError),
    /// A frame on a data channel was malformed (or a file's bytes did not match its offer) and
    /// was dropped.
    BadFrame,
    /// A setting is outside its range (see [`Config::validate`](super::Config::validate)): the
    /// client is not created.
    InvalidOption {
        /// The option, as the JS API names it (`ringTimeoutMs`, ...).
        option: &'static str,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
}

impl CallError {
    /// The stable code (the JS `Error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Protocol(_) => "bad-message",
            CallError::UnknownCall { .. } => "unknown-call",
            CallError::WrongSender { .. } => "wrong-sender",
            CallError::UnexpectedMessage { .. } => "unexpected-message",
            CallError::RateLimited { .. } => "rate-limited",
            CallError::AlreadyRinging { .. } => "already-ringing",
            CallError::DuplicateInvite { .. } => "duplicate-invite",
            CallError::SendFailed { .. } => "send-failed",
            CallError::TooManyCandidates => "too-many-candidates",
            CallError::SdpFailed(_) => "sdp-failed",
            CallError::Media(error) => error.code(),
            CallError::BadFrame => "bad-frame",
            CallError::InvalidOption { .. } => "invalid-option",
        }
    }
}

impl CallError {
    /// What was dropped and why, in a sentence (the JS `Error.message`).
    pub fn message(&self) -> String {
        match self {
            CallError::Protocol(error) => concat(&[
                "malformed message dropped (",
                error.code(),
                "): ",
                &error.message(),
            ]),
            CallError::UnknownCall { call_id, from } => concat(&[
                "message from ",
                from.as_str(),
                " for unknown call ",
                &call_id.to_hex(),
                " dropped",
            ]),
            CallError::WrongSender { call_id, from } => concat(&[
                "message from ",
                from.as_str(),
                " for call ",
                &call_id.to_hex(),
                " dropped: not the call's remote party",
            ]),
            CallError::UnexpectedMessage { message, state } => concat(&[
                "`",
                message,
                "` message dropped: unexpected while the call is ",
                state.as_str(),
            ]),
            CallError::RateLimited { from } => {
                concat(&["invite from ", from.as_str(), " dropped: too many invites"])
            }
            CallError::AlreadyRinging { from } => concat(&[
                "invite from ",
                from.as_str(),
                " declined as busy: another call from them already rings",
            ]),
            CallError::DuplicateInvite { call_id, from } => concat(&[
                "copy of the invite of call ",
                &call_id.to_hex(),
                " from ",
                from.as_str(),
                " dropped",
            ]),
            CallError::SendFailed { call_id } => concat(&[
                "a message of call ",
                &call_id.to_hex(),
                " could not be sent; its media state will be sent again",
            ]),
            CallError::TooManyCandidates => {
                "remote candidates dropped: too many before the remote description".to_owned()
            }
            CallError::SdpFailed(message) => concat(&["session description failed: ", message]),
            CallError::Media(error) => error.message(),
            CallError::BadFrame => "a malformed data channel frame was dropped".to_owned(),
            CallError::InvalidOption { option, min, max } => concat(&[
                "option `",
                option,
                "` must be from ",
                &number(*min),
                " to ",
                &number(*max),
            ]),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for CallError {}
