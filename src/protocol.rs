//! The signaling wire format, version 1.
//!
//! Every peercall message is one JSON object carried by the app's own real-time channel. Each has
//! the protocol version `v`, a `type`, the 128-bit `callId` (32 lowercase hex digits) and the
//! sender's `partyId` (one per client instance, so several tabs or devices of one user can ring
//! at once), and, when the sender knows which instance it talks to, `toPartyId`. The types are:
//!
//! | `type`          | sent by | fields beyond the common ones                                   |
//! |-----------------|---------|-----------------------------------------------------------------|
//! | `invite`        | caller  | `kind` (`audio`/`video`), `sdp` (the offer), `lifetimeMs`, `metadata`?, `preconnect`? |
//! | `ringing`       | callee  | `preconnect`?: this device is ringing (and would connect meanwhile) |
//! | `preconnect`    | caller  | (none): connect while ringing, to the one device addressed      |
//! | `preconnect-answer` | callee | `sdp`: the answer for that connection, still without media    |
//! | `accept`        | callee  | (none): the preconnected device answered                        |
//! | `reoffer`       | caller  | `sdp`: a new offer for a device that answered without the preconnected connection |
//! | `answer`        | callee  | `sdp` (the answer)                                              |
//! | `select-answer` | caller  | `selectedPartyId`: the device whose answer won                  |
//! | `reject`        | callee  | `reason`: `rejected`, `busy` or `media-failed`                  |
//! | `hangup`        | either  | `reason`: an [`EndReason`] that may travel (see [`EndReason::can_be_sent`]) |
//! | `candidates`    | either  | `candidates` (array of `{candidate, sdpMid?, sdpMLineIndex?}`), `end` (end-of-candidates) |
//! | `negotiate`     | either  | `seq`, `description` (`{type: offer/answer, sdp}`): renegotiation |
//! | `media`         | either  | `seq`, `audioMuted`, `videoMuted`, `screenSharing`, `onHold`?, `recording`? (absent: false) |
//!
//! Parsing never panics: every way a message can be wrong is a [`ProtocolError`] with a stable
//! [`code`](ProtocolError::code). Unknown fields are ignored (so v1 peers can add optional ones);
//! unknown types and other versions are rejected with their own errors.

use crate::prelude::*;
use core::fmt;

use crate::text::{concat, number};

use crate::json::{self, Map, Value, Writer};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u64 = 1;
/// Largest accepted message, in bytes of JSON text.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest accepted SDP, in bytes.
pub const MAX_SDP_BYTES: usize = 48 * 1024;
/// Most candidates in one `candidates` message.
pub const MAX_CANDIDATES: usize = 32;
/// Longest accepted candidate line, in bytes.
pub const MAX_CANDIDATE_BYTES: usize = 512;
/// Longest accepted `sdpMid`, in bytes.
pub const MAX_SDP_MID_BYTES: usize = 32;
/// Largest accepted `sdpMLineIndex`.
pub const MAX_M_LINE_INDEX: u64 = 63;
/// Longest party id, in bytes (`[A-Za-z0-9_-]` only).
pub const MAX_PARTY_ID_BYTES: usize = 64;
/// Longest user id, in bytes.
pub const MAX_USER_ID_BYTES: usize = 256;
/// Largest app metadata on an invite, in bytes of JSON text.
pub const MAX_METADATA_BYTES: usize = 4 * 1024;
/// Shortest accepted invite lifetime, in milliseconds.
pub const MIN_LIFETIME_MS: u64 = 1_000;
/// Longest accepted invite lifetime, in milliseconds.
pub const MAX_LIFETIME_MS: u64 = 600_000;

/// A random, unguessable 128-bit call identifier, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub [u8; 16]);

impl CallId {
    /// Parses the 32-lowercase-hex-digit form.
    pub fn parse(text: &str) -> Result<CallId, ProtocolError> {
        let bytes = text.as_bytes();
        if bytes.len() != 32 {
            return Err(ProtocolError::InvalidCallId);
        }
        let mut id = [0u8; 16];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or(ProtocolError::InvalidCallId)?;
            let lo = hex_value(pair[1]).ok_or(ProtocolError::InvalidCallId)?;
            id[i] = (hi << 4) | lo;
        }
        Ok(CallId(id))
    }

    /// The 32-lowercase-hex-digit form (written by hand: the browser build has no formatter).
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = String::with_capacity(32);
        for byte in self.0 {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 15)]));
        }
        text
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallId({self})")
    }
}

/// One client instance (a tab or a device) of a user.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct PartyId(String);

impl PartyId {
    /// Checks the party id rules: 1 to [`MAX_PARTY_ID_BYTES`] of `[A-Za-z0-9_-]`.
    pub fn new(text: &str) -> Result<PartyId, ProtocolError> {
        let ok = !text.is_empty()
            && text.len() <= MAX_PARTY_ID_BYTES
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(PartyId(text.to_owned()))
        } else {
            Err(ProtocolError::InvalidPartyId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user of the app, as the app's server vouches for it (the transport's `from`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct UserId(String);

impl UserId {
    /// Checks the user id rules: 1 to [`MAX_USER_ID_BYTES`] bytes, no control characters and no
    /// Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069), which would let one name
    /// display as another.
    pub fn new(text: &str) -> Result<UserId, ProtocolError> {
        let forbidden = |c: char| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        };
        if text.is_empty() || text.len() > MAX_USER_ID_BYTES || text.chars().any(forbidden) {
            return Err(ProtocolError::InvalidUserId);
        }
        Ok(UserId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Audio-only or audio and video.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum CallKind {
    /// Microphone only.
    Audio,
    /// Microphone and camera.
    Video,
}

impl CallKind {
    /// The wire and JS name: `audio` or `video`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Audio => "audio",
            CallKind::Video => "video",
        }
    }

    fn parse(text: &str) -> Option<CallKind> {
        match text {
            "audio" => Some(CallKind::Audio),
            "video" => Some(CallKind::Video),
            _ => None,
        }
    }
}

/// Why a call ended: the one documented list, used for the `ended` event and on the wire.
///
/// The name is from the point of view of the side reporting it: a call the local user hangs up
/// ends with [`Hangup`](EndReason::Hangup) here and [`RemoteHangup`](EndReason::RemoteHangup) on
/// the other side; every other reason reads the same on both sides.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum EndReason {
    /// `hangup`: the local user hung up a call that had been answered.
    Hangup,
    /// `remote-hangup`: the other side hung up.
    RemoteHangup,
    /// `rejected`: the callee declined (on this device or another of theirs).
    Rejected,
    /// `busy`: the callee was already in a call.
    Busy,
    /// `timeout`: nobody answered before the ring timeout (for a callee: a missed call).
    Timeout,
    /// `cancelled`: the caller gave up before an answer (for a callee: a missed call).
    Cancelled,
    /// `answered-elsewhere`: another device of the callee answered (or the call merged into the
    /// other one during glare).
    AnsweredElsewhere,
    /// `unreachable`: the transport could not deliver to the other user.
    Unreachable,
    /// `media-failed`: the microphone could not be opened (on either side).
    MediaFailed,
    /// `ice-failed`: no media path could be established or restored in time.
    IceFailed,
    /// `protocol-error`: the peer sent something that could not be applied.
    ProtocolError,
}

impl EndReason {
    /// Every reason, in documentation order.
    pub const ALL: [EndReason; 11] = [
        EndReason::Hangup,
        EndReason::RemoteHangup,
        EndReason::Rejected,
        EndReason::Busy,
        EndReason::Timeout,
        EndReason::Cancelled,
        EndReason::AnsweredElsewhere,
        EndReason::Unreachable,
        EndReason::MediaFailed,
        EndReason::IceFailed,
        EndReason::ProtocolError,
    ];

    /// The stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Hangup => "hangup",
            EndReason::RemoteHangup => "remote-hangup",
            EndReason::Rejected => "rejected",
            EndReason::Busy => "busy",
            EndReason::Timeout => "timeout",
            EndReason::Cancelled => "cancelled",
            EndReason::AnsweredElsewhere => "answered-elsewhere",
            EndReason::Unreachable => "unreachable",
            EndReason::MediaFailed => "media-failed",
            EndReason::IceFailed => "ice-failed",
            EndReason::ProtocolError => "protocol-error",
        }
    }

    /// Parses the kebab-case name.
    pub fn parse(text: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether a `hangup` message may carry this reason. `remote-hangup` and `unreachable` only
    /// ever describe what one side observed, so they never travel.
    pub fn can_be_sent(self) -> bool {
        !matches!(self, EndReason::RemoteHangup | EndReason::Unreachable)
    }

    /// Whether a `reject` message may carry this reason.
    pub fn is_reject_reason(self) -> bool {
        matches!(
            self,
            EndReason::Rejected | EndReason::Busy | EndReason::MediaFailed
        )
    }

    /// The reason the receiver of a `hangup` carrying `self` ends its call with.
    pub fn as_seen_by_peer(self) -> EndReason {
        match self {
            EndReason::Hangup => EndReason::RemoteHangup,
            other => other,
        }
    }

    /// Whether, for a callee, a call ending this way before it was answered is a missed call.
    pub fn is_missed(self) -> bool {
        matches!(self, EndReason::Cancelled | EndReason::Timeout)
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One trickled ICE candidate, as `RTCIceCandidateInit`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IceCandidate {
    /// The `candidate:` line (empty means end-of-candidates for one m-line in some browsers).
    pub candidate: String,
    /// The media stream identification tag, if known.
    pub sdp_mid: Option<String>,
    /// The m-line index, if known.
    pub sdp_m_line_index: Option<u16>,
}

/// Which half of an offer/answer exchange a description is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SdpType {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

/// The mute and sharing state of one side's media.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MediaState {
    /// The microphone is muted (or absent).
    pub audio_muted: bool,
    /// The camera is off (or absent).
    pub video_muted: bool,
    /// The screen is being shared instead of the camera.
    pub screen_sharing: bool,
    /// This side put the call on hold: neither side sends media until it resumes. Optional on
    /// the wire (`onHold`, absent means false), so a peer that predates hold still parses the
    /// message (it does not know hold, though: it takes the silence for a dropped path).
    pub on_hold: bool,
    /// This side records the call (`startRecording`): the peer's app shows it. Optional on the
    /// wire (`recording`, absent means false), so a peer that predates recording still parses
    /// every `media` message that does not record.
    pub recording: bool,
}

/// A validated peercall message.
#[derive(Clone, PartialEq, Debug)]
pub struct Message {
    /// The call this message belongs to.
    pub call_id: CallId,
    /// The sending client instance.
    pub party_id: PartyId,
    /// The receiving client instance, when the sender knows it (`toPartyId`): other instances of
    /// the user drop the message quietly. Absent on messages meant for every instance (an invite,
    /// `select-answer`, a caller's hangup before an answer).
    pub to_party_id: Option<PartyId>,
    /// What the message says.
    pub body: Body,
}

/// The type-specific part of a [`Message`].
#[derive(Clone, PartialEq, Debug)]
pub enum Body {
    /// `invite`: the caller's offer.
    Invite {
        /// Audio or video.
        kind: CallKind,
        /// The offer SDP.
        sdp: String,
        /// How long the callee may ring, from when it receives the invite.
        lifetime_ms: u32,
        /// Application data shown with the incoming call (at most [`MAX_METADATA_BYTES`]).
        metadata: Option<Value>,
        /// The caller can connect while the call rings (`preconnect`; absent: false).
        preconnect: bool,
    },
    /// `ringing`: a callee device is ringing.
    Ringing {
        /// This device would connect while it rings (`preconnect`; absent: false).
        preconnect: bool,
    },
    /// `preconnect`: the caller asks this one ringing device to connect while it rings.
    Preconnect,
    /// `preconnect-answer`: the ringing device's answer for a connection without media.
    PreconnectAnswer {
        /// The answer SDP.
        sdp: String,
    },
    /// `accept`: the preconnected device answered: media may flow on its connection.
    Accept,
    /// `reoffer`: the caller starts the connection over for the device that answered (its
    /// connection was preconnected with another device); answered with `negotiate` seq 0.
    Reoffer {
        /// The new offer SDP.
        sdp: String,
    },
    /// `answer`: a callee device answered with this SDP.
    Answer {
        /// The answer SDP.
        sdp: String,
    },
    /// `select-answer`: the caller took this device's answer; other devices stop.
    SelectAnswer {
        /// The device whose answer won.
        selected_party_id: PartyId,
    },
    /// `reject`: a callee device declined.
    Reject {
        /// `rejected`, `busy` or `media-failed`.
        reason: EndReason,
    },
    /// `hangup`: end the call (cancel before an answer, hang up after).
    Hangup {
        /// Why, from the sender's point of view.
        reason: EndReason,
    },
    /// `candidates`: a batch of trickled ICE candidates.
    Candidates {
        /// The candidates, in gathering order.
        candidates: Vec<IceCandidate>,
        /// The sender has gathered all its candidates.
        end: bool,
    },
    /// `negotiate`: a renegotiation offer or its answer.
    Negotiate {
        /// The offerer's sequence number; an answer repeats the offer's.
        seq: u32,
        /// Offer or answer.
        sdp_type: SdpType,
        /// The SDP.
        sdp: String,
    },
    /// `media`: the sender's mute and sharing state.
    Media {
        /// Increases with each change so a late message cannot undo a newer one.
        seq: u32,
        /// The state.
        state: MediaState,
    },
}

impl Body {
    /// The wire `type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::Invite { .. } => "invite",
            Body::Ringing { .. } => "ringing",
            Body::Preconnect => "preconnect",
            Body::PreconnectAnswer { .. } => "preconnect-answer",
            Body::Accept => "accept",
            Body::Reoffer { .. } => "reoffer",
            Body::Answer { .. } => "answer",
            Body::SelectAnswer { .. } => "select-answer",
            Body::Reject { .. } => "reject",
            Body::Hangup { .. } => "hangup",
            Body::Candidates { .. } => "candidates",
            Body::Negotiate { .. } => "negotiate",
            Body::Media { .. } => "media",
        }
    }
}

/// Every way a received message can be wrong.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ProtocolError {
    /// The text is larger than [`MAX_MESSAGE_BYTES`].
    MessageTooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// The text is not JSON.
    NotJson,
    /// The JSON is not an object.
    NotAnObject,
    /// There is no `v` field, or it is not a whole number.
    MissingVersion,
    /// The `v` field names a version this build does not speak.
    UnsupportedVersion {
        /// The version the message claims.
        version: u64,
    },
    /// There is no `type` string.
    MissingType,
    /// The `type` is not one of the v1 types.
    UnknownType {
        /// The type (at most 32 bytes of it).
        name: String,
    },
    /// A required field is absent.
    MissingField {
        /// The field's wire name.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    WrongType {
        /// The field's wire name.
        field: &'static str,
        /// The JSON type expected.
        expected: &'static str,
    },
    /// A field is longer than its limit.
    TooLong {
        /// The field's wire name.
        field: &'static str,
        /// Its length in bytes (or items).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A number or name is outside what the field allows.
    InvalidValue {
        /// The field's wire name.
        field: &'static str,
    },
    /// `callId` is not 32 lowercase hex digits.
    InvalidCallId,
    /// `partyId` (or `selectedPartyId`) breaks the party id rules.
    InvalidPartyId,
    /// The sender's user id (from the transport) breaks the user id rules.
    InvalidUserId,
}

impl ProtocolError {
    /// The stable code, for logs and for the JS `Error.code` (`protocol/<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            ProtocolError::MessageTooLarge { .. } => "message-too-large",
            ProtocolError::NotJson => "not-json",
            ProtocolError::NotAnObject => "not-an-object",
            ProtocolError::MissingVersion => "missing-version",
            ProtocolError::UnsupportedVersion { .. } => "unsupported-version",
            ProtocolError::MissingType => "missing-type",
            ProtocolError::UnknownType { .. } => "unknown-type",
            ProtocolError::MissingField { .. } => "missing-field",
            ProtocolError::WrongType { .. } => "wrong-type",
            ProtocolError::TooLong { .. } => "too-long",
            ProtocolError::InvalidValue { .. } => "invalid-value",
            ProtocolError::InvalidCallId => "invalid-call-id",
            ProtocolError::InvalidPartyId => "invalid-party-id",
            ProtocolError::InvalidUserId => "invalid-user-id",
        }
    }
}

impl ProtocolError {
    /// What is wrong with the message, in a sentence.
    pub fn message(&self) -> String {
        match self {
            ProtocolError::MessageTooLarge { size } => concat(&[
                "message of ",
                &number(*size as u64),
                " bytes exceeds ",
                &number(MAX_MESSAGE_BYTES as u64),
            ]),
            ProtocolError::NotJson => "message is not valid JSON".to_owned(),
            ProtocolError::NotAnObject => "message is not a JSON object".to_owned(),
            ProtocolError::MissingVersion => "message has no numeric `v` field".to_owned(),
            ProtocolError::UnsupportedVersion { version } => concat(&[
                "protocol version ",
                &number(*version),
                " is not supported (this build speaks ",
                &number(PROTOCOL_VERSION),
                ")",
            ]),
            ProtocolError::MissingType => "message has no `type` string".to_owned(),
            ProtocolError::UnknownType { name } => concat(&["unknown message type `", name, "`"]),
            ProtocolError::MissingField { field } => concat(&["field `", field, "` is missing"]),
            ProtocolError::WrongType { field, expected } => {
                concat(&["field `", field, "` must be ", expected])
            }
            ProtocolError::TooLong { field, len, max } => concat(&[
                "field `",
                field,
                "` has length ",
                &number(*len as u64),
                ", limit ",
                &number(*max as u64),
            ]),
            ProtocolError::InvalidValue { field } => {
                concat(&["field `", field, "` has a value that is not allowed"])
            }
            ProtocolError::InvalidCallId => {
                "`callId` must be 32 lowercase hexadecimal digits".to_owned()
            }
            ProtocolError::InvalidPartyId => {
                "party id must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'".to_owned()
            }
            ProtocolError::InvalidUserId => {
                "user id must be 1-256 bytes without control or bidirectional characters".to_owned()
            }
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for ProtocolError {}

impl Message {
    /// Parses and validates one message from JSON text.
    pub fn parse(text: &str) -> Result<Message, ProtocolError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(ProtocolError::MessageTooLarge { size: text.len() });
        }
        let value = json::parse(text).ok_or(ProtocolError::NotJson)?;
        Message::from_value(&value)
    }

    /// Validates an already-parsed JSON value (for transports that deliver objects).
    pub fn from_value(value: &Value) -> Result<Message, ProtocolError> {
        let object = value.as_object().ok_or(ProtocolError::NotAnObject)?;
        let version = object
            .get("v")
            .and_then(Value::as_u64)
            .ok_or(ProtocolError::MissingVersion)?;
        if version != PROTOCOL_VERSION {
            return Err(ProtocolError::UnsupportedVersion { version });
        }
        let type_name = object
            .get("type")
            .and_then(Value::as_str)
            .ok_or(ProtocolError::MissingType)?;
        // Check the type before the other fields so a future type gets its own error.
        let body_parser: fn(&Fields) -> Result<Body, ProtocolError> = match type_name {
            "invite" => parse_invite,
            "ringing" => |f| {
                Ok(Body::Ringing {
                    preconnect: f.flag("preconnect")?,
                })
            },
            "preconnect" => |_| Ok(Body::Preconnect),
            "preconnect-answer" => |f| Ok(Body::PreconnectAnswer { sdp: f.sdp("sdp")? }),
            "accept" => |_| Ok(Body::Accept),
            "reoffer" => |f| Ok(Body::Reoffer { sdp: f.sdp("sdp")? }),
            "answer" => |f| Ok(Body::Answer { sdp: f.sdp("sdp")? }),
            "select-answer" => |f| {
                Ok(Body::SelectAnswer {
                    selected_party_id: PartyId::new(f.str("selectedPartyId")?)?,
                })
            },
            "reject" => |f| {
                let reason = f.reason()?;
                if !reason.is_reject_reason() {
                    return Err(ProtocolError::InvalidValue { field: "reason" });
                }
                Ok(Body::Reject { reason })
            },
            "hangup" => |f| {
                let reason = f.reason()?;
                if !reason.can_be_sent() {
                    return Err(ProtocolError::InvalidValue { field: "reason" });
                }
                Ok(Body::Hangup { reason })
            },
            "candidates" => parse_candidates,
            "negotiate" => parse_negotiate,
            "media" => |f| {
                Ok(Body::Media {
                    seq: f.u32("seq")?,
                    state: MediaState {
                        audio_muted: f.bool("audioMuted")?,
                        video_muted: f.bool("videoMuted")?,
                        screen_sharing: f.bool("screenSharing")?,
                        on_hold: f.flag("onHold")?,
                        recording: f.flag("recording")?,
                    },
                })
            },
            other => {
                let mut name = other.to_owned();
                truncate_to_boundary(&mut name, 32);
                return Err(ProtocolError::UnknownType { name });
            }
        };
        let fields = Fields(object);
        let call_id = CallId::parse(fields.str("callId")?)?;
        let party_id = PartyId::new(fields.str("partyId")?)?;
        let to_party_id = match object.get("toPartyId") {
            None | Some(Value::Null) => None,
            Some(_) => Some(PartyId::new(fields.str("toPartyId")?)?),
        };
        let body = body_parser(&fields)?;
        Ok(Message {
            call_id,
            party_id,
            to_party_id,
            body,
        })
    }

    /// Serialises the message to its JSON value.
    pub fn to_value(&self) -> Value {
        // The text is ours and always JSON; the fallback is never taken.
        json::parse(&self.to_json()).unwrap_or(Value::Null)
    }

    /// Serialises the message to compact JSON text, written straight out (no value tree).
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        let mut object = Writer::object(&mut out);
        object.u64("v", PROTOCOL_VERSION);
        object.str("type", self.body.type_name());
        object.str("callId", &self.call_id.to_hex());
        object.str("partyId", self.party_id.as_str());
        if let Some(to) = &self.to_party_id {
            object.str("toPartyId", to.as_str());
        }
        match &self.body {
            Body::Invite {
                kind,
                sdp,
                lifetime_ms,
                metadata,
                preconnect,
            } => {
                object.str("kind", kind.as_str());
                object.str("sdp", sdp);
                object.u64("lifetimeMs", u64::from(*lifetime_ms));
                if let Some(metadata) = metadata {
                    metadata.write(object.key("metadata"));
                }
                if *preconnect {
                    object.bool("preconnect", true);
                }
            }
            Body::Ringing { preconnect } => {
                if *preconnect {
                    object.bool("preconnect", true);
                }
            }
            Body::Preconnect | Body::Accept => {}
            Body::Answer { sdp } | Body::PreconnectAnswer { sdp } | Body::Reoffer { sdp } => {
                object.str("sdp", sdp)
            }
            Body::SelectAnswer { selected_party_id } => {
                object.str("selectedPartyId", selected_party_id.as_str());
            }
            Body::Reject { reason } | Body::Hangup { reason } => {
                object.str("reason", reason.as_str());
            }
            Body::Candidates { candidates, end } => {
                let list = object.key("candidates");
                list.push('[');
                for (i, candidate) in candidates.iter().enumerate() {
                    if i > 0 {
                        list.push(',');
                    }
                    let mut item = Writer::object(list);
                    item.str("candidate", &candidate.candidate);
                    if let Some(mid) = &candidate.sdp_mid {
                        item.str("sdpMid", mid);
                    }
                    if let Some(index) = candidate.sdp_m_line_index {
                        item.u64("sdpMLineIndex", u64::from(index));
                    }
                    item.end();
                }
                list.push(']');
                object.bool("end", *end);
            }
            Body::Negotiate { seq, sdp_type, sdp } => {
                object.u64("seq", u64::from(*seq));
                let mut description = Writer::object(object.key("description"));
                let type_name = match sdp_type {
                    SdpType::Offer => "offer",
                    SdpType::Answer => "answer",
                };
                description.str("type", type_name);
                description.str("sdp", sdp);
                description.end();
            }
            Body::Media { seq, state } => {
                object.u64("seq", u64::from(*seq));
                object.bool("audioMuted", state.audio_muted);
                object.bool("videoMuted", state.video_muted);
                object.bool("screenSharing", state.screen_sharing);
                if state.on_hold {
                    object.bool("onHold", true);
                }
                if state.recording {
                    object.bool("recording", true);
                }
            }
        }
        object.end();
        out
    }
}

fn parse_invite(fields: &Fields) -> Result<Body, ProtocolError> {
    let kind = CallKind::parse(fields.str("kind")?)
        .ok_or(ProtocolError::InvalidValue { field: "kind" })?;
    let lifetime = fields.u64("lifetimeMs")?;
    if !(MIN_LIFETIME_MS..=MAX_LIFETIME_MS).contains(&lifetime) {
        return Err(ProtocolError::InvalidValue {
            field: "lifetimeMs",
        });
    }
    let metadata = match fields.0.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value) => {
            let len = value.to_json().len();
            if len > MAX_METADATA_BYTES {
                return Err(ProtocolError::TooLong {
                    field: "metadata",
                    len,
                    max: MAX_METADATA_BYTES,
                });
            }
            Some(value.clone())
        }
    };
    Ok(Body::Invite {
        kind,
        sdp: fields.sdp("sdp")?,
        lifetime_ms: lifetime as u32,
        metadata,
        preconnect: fields.flag("preconnect")?,
    })
}

fn parse_candidates(fields: &Fields) -> Result<Body, ProtocolError> {
    let list = fields
        .0
        .get("candidates")
        .ok_or(ProtocolError::MissingField {
            field: "candidates",
        })?
        .as_array()
        .ok_or(ProtocolError::WrongType {
            field: "candidates",
            expected: "an array",
        })?;
    if list.len() > MAX_CANDIDATES {
        return Err(ProtocolError::TooLong {
            field: "candidates",
            len: list.len(),
            max: MAX_CANDIDATES,
        });
    }
    let mut candidates = Vec::with_capacity(list.len());
    for item in list {
        let object = item.as_object().ok_or(ProtocolError::WrongType {
            field: "candidates",
            expected: "an array of objects",
        })?;
        let fields = Fields(object);
        let candidate = fields.bounded_str("candidate", MAX_CANDIDATE_BYTES)?;
        let sdp_mid = match object.get("sdpMid") {
            None | Some(Value::Null) => None,
            Some(_) => Some(fields.bounded_str("sdpMid", MAX_SDP_MID_BYTES)?),
        };
        let sdp_m_line_index = match object.get("sdpMLineIndex") {
            None | Some(Value::Null) => None,
            Some(_) => {
                let index = fields.u64("sdpMLineIndex")?;
                if index > MAX_M_LINE_INDEX {
                    return Err(ProtocolError::InvalidValue {
                        field: "sdpMLineIndex",
                    });
                }
                Some(index as u16)
            }
        };
        candidates.push(IceCandidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
        });
    }
    Ok(Body::Candidates {
        candidates,
        end: fields.bool("end")?,
    })
}

fn parse_negotiate(fields: &Fields) -> Result<Body, ProtocolError> {
    let description = fields
        .0
        .get("description")
        .ok_or(ProtocolError::MissingField {
            field: "description",
        })?
        .as_object()
        .ok_or(ProtocolError::WrongType {
            field: "description",
            expected: "an object",
        })?;
    let description = Fields(description);
    let sdp_type = match description.str("type")? {
        "offer" => SdpType::Offer,
        "answer" => SdpType::Answer,
        _ => return Err(ProtocolError::InvalidValue { field: "type" }),
    };
    Ok(Body::Negotiate {
        seq: fields.u32("seq")?,
        sdp_type,
        sdp: description.sdp("sdp")?,
    })
}

/// Typed access to the fields of one JSON object, each failure naming its field.
struct Fields<'a>(&'a Map);

impl Fields<'_> {
    fn get(&self, field: &'static str) -> Result<&Value, ProtocolError> {
        self.0
            .get(field)
            .ok_or(ProtocolError::MissingField { field })
    }

    fn str(&self, field: &'static str) -> Result<&str, ProtocolError> {
        self.get(field)?.as_str().ok_or(ProtocolError::WrongType {
            field,
            expected: "a string",
        })
    }

    fn bounded_str(&self, field: &'static str, max: usize) -> Result<String, ProtocolError> {
        let text = self.str(field)?;
        if text.len() > max {
            return Err(ProtocolError::TooLong {
                field,
                len: text.len(),
                max,
            });
        }
        Ok(text.to_owned())
    }

    fn sdp(&self, field: &'static str) -> Result<String, ProtocolError> {
        let sdp = self.bounded_str(field, MAX_SDP_BYTES)?;
        if sdp.is_empty() {
            return Err(ProtocolError::InvalidValue { field });
        }
        Ok(sdp)
    }

    fn bool(&self, field: &'static str) -> Result<bool, ProtocolError> {
        self.get(field)?.as_bool().ok_or(ProtocolError::WrongType {
            field,
            expected: "a boolean",
        })
    }

    /// An optional boolean: absent is false.
    fn flag(&self, field: &'static str) -> Result<bool, ProtocolError> {
        match self.0.get(field) {
            None => Ok(false),
            Some(_) => self.bool(field),
        }
    }

    fn u64(&self, field: &'static str) -> Result<u64, ProtocolError> {
        self.get(field)?.as_u64().ok_or(ProtocolError::WrongType {
            field,
            expected: "a non-negative whole number",
        })
    }

    fn u32(&self, field: &'static str) -> Result<u32, ProtocolError> {
        u32::try_from(self.u64(field)?).map_err(|_| ProtocolError::InvalidValue { field })
    }

    fn reason(&self) -> Result<EndReason, ProtocolError> {
        EndReason::parse(self.str("reason")?).ok_or(ProtocolError::InvalidValue { field: "reason" })
    }
}

/// Shortens `text` to at most `max` bytes without splitting a character.
fn truncate_to_boundary(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The tests build their inputs with serde_json, the independent JSON implementation.
    use serde_json::{Map, Value};

    const ID: &str = "0123456789abcdef0123456789abcdef";

    fn parse(json: Value) -> Result<Message, ProtocolError> {
        Message::parse(&json.to_string())
    }

    fn base(kind: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("v".into(), 1.into());
        m.insert("type".into(), kind.into());
        m.insert("callId".into(), ID.into());
        m.insert("partyId".into(), "tab-1".into());
        m
    }

    fn with(mut m: Map<String, Value>, key: &str, value: Value) -> Value {
        m.insert(key.into(), value);
        Value::Object(m)
    }

    fn every_message() -> Vec<Message> {
        let call_id = CallId::parse(ID).unwrap();
        let party_id = PartyId::new("tab_1").unwrap();
        let bodies = vec![
            Body::Invite {
                kind: CallKind::Video,
                sdp: "v=0 offer".into(),
                lifetime_ms: 30_000,
                metadata: json::parse(r#"{"chat": "room-1", "n": [1, 2.50, -3e2]}"#),
                preconnect: false,
            },
            Body::Invite {
                kind: CallKind::Audio,
                sdp: "v=0".into(),
                lifetime_ms: 1_000,
                metadata: None,
                preconnect: false,
            },
            Body::Invite {
                kind: CallKind::Video,
                sdp: "v=0 preconnect".into(),
                lifetime_ms: 600_000,
                metadata: json::parse(r#"{"preconnect": false}"#),
                preconnect: true,
            },
            Body::Ringing { preconnect: false },
            Body::Ringing { preconnect: true },
            Body::Preconnect,
            Body::PreconnectAnswer {
                sdp: "v=0 answer without media".into(),
            },
            Body::Accept,
            Body::Reoffer {
                sdp: "v=0 new offer".into(),
            },
            Body::Answer { sdp: "v=0".into() },
            Body::SelectAnswer {
                selected_party_id: PartyId::new("phone").unwrap(),
            },
            Body::Reject {
                reason: EndReason::Busy,
            },
            Body::Hangup {
                reason: EndReason::Hangup,
            },
            Body::Candidates {
                candidates: vec![
                    IceCandidate {
                        candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                        sdp_mid: Some("0".into()),
                        sdp_m_line_index: Some(0),
                    },
                    IceCandidate {
                        candidate: String::new(),
                        sdp_mid: None,
                        sdp_m_line_index: None,
                    },
                ],
                end: true,
            },
            Body::Negotiate {
                seq: 7,
                sdp_type: SdpType::Answer,
                sdp: "v=0".into(),
            },
            Body::Media {
                seq: 3,
                state: MediaState {
                    audio_muted: true,
                    video_muted: false,
                    screen_sharing: true,
                    on_hold: true,
                    recording: true,
                },
            },
        ];
        bodies
            .into_iter()
            .enumerate()
            .map(|(i, body)| Message {
                call_id,
                party_id: party_id.clone(),
                to_party_id: (i % 2 == 0).then(|| PartyId::new("phone").unwrap()),
                body,
            })
            .collect()
    }

    #[test]
    fn every_message_type_round_trips() {
        for message in every_message() {
            let text = message.to_json();
            assert_eq!(Message::parse(&text), Ok(message), "{text}");
        }
    }

    #[test]
    fn recording_is_optional_and_written_only_when_set() {
        let base = r#"{"v":1,"type":"media","callId":"0123456789abcdef0123456789abcdef","partyId":"p","seq":1,"audioMuted":false,"videoMuted":false,"screenSharing":false"#;
        let absent = Message::parse(&format!("{base}}}")).unwrap();
        assert!(matches!(absent.body, Body::Media { state, .. } if !state.recording));
        assert!(!absent.to_json().contains("recording"));
        let recording = Message::parse(&format!(r#"{base},"recording":true}}"#)).unwrap();
        assert!(matches!(recording.body, Body::Media { state, .. } if state.recording));
        assert!(recording.to_json().contains(r#""recording":true"#));
        assert_eq!(
            Message::parse(&format!(r#"{base},"recording":"yes"}}"#)),
            Err(ProtocolError::WrongType {
                field: "recording",
                expected: "a boolean"
            })
        );
    }

    #[test]
    fn on_hold_is_optional_and_written_only_when_set() {
        let base = r#"{"v":1,"type":"media","callId":"0123456789abcdef0123456789abcdef","partyId":"p","seq":1,"audioMuted":false,"videoMuted":false,"screenSharing":false"#;
        let absent = Message::parse(&format!("{base}}}")).unwrap();
        let Body::Media { state, .. } = &absent.body else {
            panic!("{absent:?}")
        };
        assert!(!state.on_hold, "a peer that predates hold is not on hold");
        assert!(!absent.to_json().contains("onHold"));
        let held = Message::parse(&format!(r#"{base},"onHold":true}}"#)).unwrap();
        assert!(matches!(held.body, Body::Media { state, .. } if state.on_hold));
        assert_eq!(
            Message::parse(&format!(r#"{base},"onHold":1}}"#)),
            Err(ProtocolError::WrongType {
                field: "onHold",
                expected: "a boolean"
            })
        );
    }

    #[test]
    fn type_names_are_the_wire_names() {
        let names: Vec<&str> = every_message().iter().map(|m| m.body.type_name()).collect();
        for name in [
            "invite",
            "ringing",
            "preconnect",
            "preconnect-answer",
            "accept",
            "reoffer",
            "answer",
            "select-answer",
            "reject",
            "hangup",
            "candidates",
            "negotiate",
            "media",
        ] {
            assert!(names.contains(&name), "{name} is not covered");
        }
        for message in every_message() {
            let value: Value = serde_json::from_str(&message.to_json()).unwrap();
            assert_eq!(value["type"], message.body.type_name());
        }
        for near in [
            "preconnectAnswer",
            "preconnect_answer",
            "re-offer",
            "accepted",
        ] {
            assert_eq!(
                parse(with(base("accept"), "type", near.into())),
                Err(ProtocolError::UnknownType { name: near.into() })
            );
        }
    }

    #[test]
    fn preconnect_is_optional_and_written_only_when_set() {
        let mut invite = base("invite");
        invite.insert("kind".into(), "audio".into());
        invite.insert("sdp".into(), "v=0".into());
        invite.insert("lifetimeMs".into(), 30_000.into());
        for m in [invite, base("ringing")] {
            let flag = |m: &Message| match m.body {
                Body::Invite { preconnect, .. } | Body::Ringing { preconnect } => preconnect,
                _ => panic!("{m:?}"),
            };
            let absent = parse(Value::Object(m.clone())).unwrap();
            assert!(
                !flag(&absent),
                "a peer that predates preconnect does not offer it"
            );
            assert!(!absent.to_json().contains("preconnect"));
            let off = parse(with(m.clone(), "preconnect", false.into())).unwrap();
            assert_eq!(off, absent);
            assert!(
                !off.to_json().contains("preconnect"),
                "written only when set"
            );
            let on = parse(with(m.clone(), "preconnect", true.into())).unwrap();
            assert!(flag(&on));
            assert!(on.to_json().contains(r#""preconnect":true"#));
            assert_eq!(Message::parse(&on.to_json()), Ok(on));
            for wrong in [
                Value::Null,
                1.into(),
                0.into(),
                "true".into(),
                Value::Array(vec![]),
            ] {
                assert_eq!(
                    parse(with(m.clone(), "preconnect", wrong.clone())),
                    Err(ProtocolError::WrongType {
                        field: "preconnect",
                        expected: "a boolean"
                    }),
                    "{wrong}"
                );
            }
        }
        // The types that do not read it ignore it.
        for kind in ["preconnect", "accept"] {
            assert!(parse(with(base(kind), "preconnect", 1.into())).is_ok());
        }
        let mut answer = base("answer");
        answer.insert("sdp".into(), "v=0".into());
        assert!(parse(with(answer, "preconnect", Value::Null)).is_ok());
    }

    #[test]
    fn preconnect_answer_and_reoffer_follow_the_answer_sdp_rules() {
        for kind in ["answer", "preconnect-answer", "reoffer"] {
            let sdp = |sdp: Value| parse(with(base(kind), "sdp", sdp));
            let body = |sdp: &str| match kind {
                "answer" => Body::Answer { sdp: sdp.into() },
                "preconnect-answer" => Body::PreconnectAnswer { sdp: sdp.into() },
                _ => Body::Reoffer { sdp: sdp.into() },
            };
            assert_eq!(sdp("v=0".into()).map(|m| m.body), Ok(body("v=0")));
            let longest = "é".repeat(MAX_SDP_BYTES / 2);
            assert_eq!(
                sdp(longest.clone().into()).map(|m| m.body),
                Ok(body(&longest))
            );
            assert_eq!(
                sdp("x".repeat(MAX_SDP_BYTES + 1).into()),
                Err(ProtocolError::TooLong {
                    field: "sdp",
                    len: MAX_SDP_BYTES + 1,
                    max: MAX_SDP_BYTES
                })
            );
            assert_eq!(
                sdp("".into()),
                Err(ProtocolError::InvalidValue { field: "sdp" })
            );
            assert_eq!(
                sdp(5.into()),
                Err(ProtocolError::WrongType {
                    field: "sdp",
                    expected: "a string"
                })
            );
            assert_eq!(
                sdp(Value::Null),
                Err(ProtocolError::WrongType {
                    field: "sdp",
                    expected: "a string"
                })
            );
            assert_eq!(
                parse(Value::Object(base(kind))),
                Err(ProtocolError::MissingField { field: "sdp" })
            );
            // The description of `negotiate` is not where these look.
            let nested = serde_json::json!({"type": "answer", "sdp": "v=0"});
            assert_eq!(
                parse(with(base(kind), "description", nested)),
                Err(ProtocolError::MissingField { field: "sdp" })
            );
        }
    }

    #[test]
    fn preconnect_and_accept_have_no_fields() {
        for (kind, body) in [("preconnect", Body::Preconnect), ("accept", Body::Accept)] {
            let message = parse(Value::Object(base(kind))).unwrap();
            assert_eq!(message.body, body);
            assert_eq!(message.to_party_id, None);
            assert_eq!(
                message.to_json(),
                format!(r#"{{"v":1,"type":"{kind}","callId":"{ID}","partyId":"tab-1"}}"#)
            );
            // Other types' fields, even invalid, are not read.
            let mut m = base(kind);
            m.insert("sdp".into(), "".into());
            m.insert("reason".into(), "bored".into());
            m.insert("toPartyId".into(), "phone".into());
            let addressed = parse(Value::Object(m)).unwrap();
            assert_eq!(addressed.body, body);
            assert_eq!(addressed.to_party_id, Some(PartyId::new("phone").unwrap()));
            // The envelope is still checked.
            assert_eq!(
                parse(with(base(kind), "callId", "0".into())),
                Err(ProtocolError::InvalidCallId)
            );
        }
    }

    #[test]
    fn call_id_accepts_only_lowercase_hex_of_32_digits() {
        assert_eq!(CallId::parse(ID).unwrap().to_string(), ID);
        for bad in [
            "",
            "0123",
            &ID.to_uppercase(),
            &format!("{ID}0"),
            &ID.replace('a', "g"),
        ] {
            assert_eq!(
                CallId::parse(bad),
                Err(ProtocolError::InvalidCallId),
                "{bad}"
            );
        }
        assert_eq!(
            CallId::parse("é123456789abcdef0123456789abcde"),
            Err(ProtocolError::InvalidCallId)
        );
    }

    #[test]
    fn envelope_errors_are_typed() {
        assert_eq!(Message::parse("{"), Err(ProtocolError::NotJson));
        assert_eq!(Message::parse("[1]"), Err(ProtocolError::NotAnObject));
        assert_eq!(Message::parse("{}"), Err(ProtocolError::MissingVersion));
        assert_eq!(
            parse(with(base("ringing"), "v", 2.into())),
            Err(ProtocolError::UnsupportedVersion { version: 2 })
        );
        assert_eq!(
            parse(with(base("ringing"), "v", "1".into())),
            Err(ProtocolError::MissingVersion)
        );
        let mut no_type = base("ringing");
        no_type.remove("type");
        assert_eq!(
            parse(Value::Object(no_type)),
            Err(ProtocolError::MissingType)
        );
        assert_eq!(
            parse(with(base("ringing"), "type", "m.call.invite".into())),
            Err(ProtocolError::UnknownType {
                name: "m.call.invite".into()
            })
        );
        assert_eq!(
            parse(with(base("ringing"), "callId", "xyz".into())),
            Err(ProtocolError::InvalidCallId)
        );
        assert_eq!(
            parse(with(base("ringing"), "partyId", "a b".into())),
            Err(ProtocolError::InvalidPartyId)
        );
        assert_eq!(
            parse(with(base("ringing"), "partyId", 5.into())),
            Err(ProtocolError::WrongType {
                field: "partyId",
                expected: "a string"
            })
        );
        let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert_eq!(
            Message::parse(&huge),
            Err(ProtocolError::MessageTooLarge {
                size: MAX_MESSAGE_BYTES + 1
            })
        );
        // Unknown extra fields are ignored, for forward compatibility within v1.
        assert!(parse(with(base("ringing"), "future", true.into())).is_ok());
    }

    #[test]
    fn invite_limits() {
        let invite = |sdp: Value, lifetime: Value, metadata: Value| {
            let mut m = base("invite");
            m.insert("kind".into(), "video".into());
            m.insert("sdp".into(), sdp);
            m.insert("lifetimeMs".into(), lifetime);
            m.insert("metadata".into(), metadata);
            parse(Value::Object(m))
        };
        assert!(invite("v=0".into(), 30_000.into(), Value::Null).is_ok());
        assert_eq!(
            invite(
                "x".repeat(MAX_SDP_BYTES + 1).into(),
                30_000.into(),
                Value::Null
            ),
            Err(ProtocolError::TooLong {
                field: "sdp",
                len: MAX_SDP_BYTES + 1,
                max: MAX_SDP_BYTES
            })
        );
        assert_eq!(
            invite("".into(), 30_000.into(), Value::Null),
            Err(ProtocolError::InvalidValue { field: "sdp" })
        );
        assert_eq!(
            invite("v=0".into(), 999.into(), Value::Null),
            Err(ProtocolError::InvalidValue {
                field: "lifetimeMs"
            })
        );
        assert_eq!(
            invite("v=0".into(), (-5).into(), Value::Null),
            Err(ProtocolError::WrongType {
                field: "lifetimeMs",
                expected: "a non-negative whole number"
            })
        );
        let big = serde_json::json!({ "blob": "y".repeat(MAX_METADATA_BYTES) });
        assert!(matches!(
            invite("v=0".into(), 30_000.into(), big),
            Err(ProtocolError::TooLong {
                field: "metadata",
                ..
            })
        ));
        let mut no_kind = base("invite");
        no_kind.insert("sdp".into(), "v=0".into());
        no_kind.insert("lifetimeMs".into(), 30_000.into());
        assert_eq!(
            parse(Value::Object(no_kind)),
            Err(ProtocolError::MissingField { field: "kind" })
        );
    }

    #[test]
    fn candidate_limits() {
        let candidates = |list: Value| parse(with(with_end(), "candidates", list));
        fn with_end() -> Map<String, Value> {
            let mut m = base("candidates");
            m.insert("end".into(), false.into());
            m
        }
        let one =
            serde_json::json!({"candidate": "candidate:1", "sdpMid": "0", "sdpMLineIndex": 0});
        assert!(candidates(Value::Array(vec![one.clone(); MAX_CANDIDATES])).is_ok());
        assert_eq!(
            candidates(Value::Array(vec![one; MAX_CANDIDATES + 1])),
            Err(ProtocolError::TooLong {
                field: "candidates",
                len: MAX_CANDIDATES + 1,
                max: MAX_CANDIDATES
            })
        );
        let long = serde_json::json!([{ "candidate": "c".repeat(MAX_CANDIDATE_BYTES + 1) }]);
        assert!(matches!(
            candidates(long),
            Err(ProtocolError::TooLong {
                field: "candidate",
                ..
            })
        ));
        let bad_index = serde_json::json!([{ "candidate": "c", "sdpMLineIndex": 64 }]);
        assert_eq!(
            candidates(bad_index),
            Err(ProtocolError::InvalidValue {
                field: "sdpMLineIndex"
            })
        );
        assert_eq!(
            candidates(serde_json::json!(["c"])),
            Err(ProtocolError::WrongType {
                field: "candidates",
                expected: "an array of objects"
            })
        );
    }

    #[test]
    fn reasons_are_checked_per_message_type() {
        let reject = |r: &str| parse(with(base("reject"), "reason", r.into()));
        let hangup = |r: &str| parse(with(base("hangup"), "reason", r.into()));
        assert!(reject("busy").is_ok());
        assert_eq!(
            reject("hangup"),
            Err(ProtocolError::InvalidValue { field: "reason" })
        );
        assert!(hangup("cancelled").is_ok());
        assert_eq!(
            hangup("remote-hangup"),
            Err(ProtocolError::InvalidValue { field: "reason" })
        );
        assert_eq!(
            hangup("bored"),
            Err(ProtocolError::InvalidValue { field: "reason" })
        );
        for reason in EndReason::ALL {
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
    }

    #[test]
    fn negotiate_and_media_fields() {
        let description = serde_json::json!({"type": "pranswer", "sdp": "v=0"});
        let mut m = base("negotiate");
        m.insert("seq".into(), 1.into());
        assert_eq!(
            parse(with(m.clone(), "description", description)),
            Err(ProtocolError::InvalidValue { field: "type" })
        );
        m.insert("seq".into(), (u64::from(u32::MAX) + 1).into());
        assert_eq!(
            parse(with(
                m,
                "description",
                serde_json::json!({"type": "offer", "sdp": "v=0"})
            )),
            Err(ProtocolError::InvalidValue { field: "seq" })
        );
        let mut media = base("media");
        media.insert("seq".into(), 1.into());
        media.insert("audioMuted".into(), true.into());
        media.insert("videoMuted".into(), false.into());
        assert_eq!(
            parse(Value::Object(media)),
            Err(ProtocolError::MissingField {
                field: "screenSharing"
            })
        );
    }

    #[test]
    fn error_codes_are_distinct() {
        let errors = [
            ProtocolError::MessageTooLarge { size: 0 },
            ProtocolError::NotJson,
            ProtocolError::NotAnObject,
            ProtocolError::MissingVersion,
            ProtocolError::UnsupportedVersion { version: 0 },
            ProtocolError::MissingType,
            ProtocolError::UnknownType {
                name: String::new(),
            },
            ProtocolError::MissingField { field: "" },
            ProtocolError::WrongType {
                field: "",
                expected: "",
            },
            ProtocolError::TooLong {
                field: "",
                len: 0,
                max: 0,
            },
            ProtocolError::InvalidValue { field: "" },
            ProtocolError::InvalidCallId,
            ProtocolError::InvalidPartyId,
            ProtocolError::InvalidUserId,
        ];
        let mut codes: Vec<_> = errors.iter().map(ProtocolError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        assert!(errors.iter().all(|e| !e.to_string().is_empty()));
    }

    #[test]
    fn unknown_type_name_is_truncated_on_a_char_boundary() {
        let name = "é".repeat(40);
        match parse(with(base("x"), "type", name.into())) {
            Err(ProtocolError::UnknownType { name }) => assert!(name.len() <= 32),
            other => panic!("{other:?}"),
        }
    }
}
