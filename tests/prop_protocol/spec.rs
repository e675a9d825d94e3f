//! The specification, as this test reads it from src/protocol.rs's documentation.

use super::*;

pub(crate) const DEFAULT_CASES: u64 = 200_000;
pub(crate) const DEFAULT_SEED: u64 = 0x7065_6572_6361_6c6c; // "peercall"

/// Every v1 `type`.
pub(crate) const TYPE_NAMES: [&str; 13] = [
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
];

/// Every `ProtocolError::code()`.
pub(crate) const ERROR_CODES: [&str; 14] = [
    "message-too-large",
    "not-json",
    "not-an-object",
    "missing-version",
    "unsupported-version",
    "missing-type",
    "unknown-type",
    "missing-field",
    "wrong-type",
    "too-long",
    "invalid-value",
    "invalid-call-id",
    "invalid-party-id",
    "invalid-user-id",
];

/// Every field name a v1 parser reads, at any level (top, `description`, a candidate).
pub(crate) const FIELD_NAMES: [&str; 24] = [
    "v",
    "type",
    "callId",
    "partyId",
    "toPartyId",
    "kind",
    "sdp",
    "lifetimeMs",
    "metadata",
    "selectedPartyId",
    "reason",
    "candidates",
    "end",
    "candidate",
    "sdpMid",
    "sdpMLineIndex",
    "seq",
    "description",
    "audioMuted",
    "videoMuted",
    "screenSharing",
    "onHold",
    "recording",
    "preconnect",
];

/// The `expected` texts of `WrongType`.
pub(crate) const EXPECTED_TYPES: [&str; 6] = [
    "a string",
    "a boolean",
    "a non-negative whole number",
    "an array",
    "an object",
    "an array of objects",
];

pub(crate) const A_STRING: &str = "a string";
pub(crate) const A_BOOLEAN: &str = "a boolean";
pub(crate) const A_NUMBER: &str = "a non-negative whole number";

/// `reject` may carry only these reasons.
pub(crate) const REJECT_REASONS: [&str; 3] = ["rejected", "busy", "media-failed"];
/// `hangup` may carry every reason but these.
pub(crate) const LOCAL_ONLY_REASONS: [&str; 2] = ["remote-hangup", "unreachable"];

/// `UnknownType` keeps at most this many bytes of the name.
pub(crate) const MAX_REPORTED_TYPE_BYTES: usize = 32;

/// The deepest nesting of arrays and objects serde_json accepts (its recursion limit is 128
/// levels, counted so that 127 containers parse and 128 do not). Deeper text is `NotJson`; the
/// `serde_json_nesting_limit` test below pins this down.
pub(crate) const MAX_JSON_DEPTH: usize = 127;

/// The top-level body fields each type reads.
pub(crate) fn body_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "invite" => &["kind", "sdp", "lifetimeMs", "metadata", "preconnect"],
        "ringing" => &["preconnect"],
        "answer" | "preconnect-answer" | "reoffer" => &["sdp"],
        "select-answer" => &["selectedPartyId"],
        "reject" | "hangup" => &["reason"],
        "candidates" => &["candidates", "end"],
        "negotiate" => &["seq", "description"],
        "media" => &[
            "seq",
            "audioMuted",
            "videoMuted",
            "screenSharing",
            "onHold",
            "recording",
        ],
        _ => &[],
    }
}

/// The body fields of each type that may be absent (the rest are required): the optional
/// booleans, `media`'s `onHold` and `recording` and `invite`'s and `ringing`'s `preconnect`, each read as false
/// when absent, a wrong-type error when present and not a boolean (`null` included), and written
/// only when true. (`invite`'s `metadata` may be absent too; its own rules are in the oracle.)
/// (`preconnect` and `accept` have no body fields at all.)
pub(crate) fn optional_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "invite" | "ringing" => &["preconnect"],
        "media" => &["onHold", "recording"],
        _ => &[],
    }
}

/// The value of the optional boolean `key` of `message`, if its type has that field.
pub(crate) fn optional_flag(message: &Message, key: &str) -> Option<bool> {
    match (&message.body, key) {
        (Body::Invite { preconnect, .. } | Body::Ringing { preconnect }, "preconnect") => {
            Some(*preconnect)
        }
        (Body::Media { state, .. }, "onHold") => Some(state.on_hold),
        (Body::Media { state, .. }, "recording") => Some(state.recording),
        _ => None,
    }
}

/// `message` with its optional boolean `key` set to `value` (its type must have that field).
pub(crate) fn with_flag(message: &Message, key: &str, value: bool) -> Message {
    with(message, |m| match (&mut m.body, key) {
        (Body::Invite { preconnect, .. } | Body::Ringing { preconnect }, "preconnect") => {
            *preconnect = value;
        }
        (Body::Media { state, .. }, "onHold") => state.on_hold = value,
        (Body::Media { state, .. }, "recording") => state.recording = value,
        _ => unreachable!("{key} on {}", m.body.type_name()),
    })
}

pub(crate) fn known_field(name: &str) -> Option<&'static str> {
    FIELD_NAMES.iter().copied().find(|&f| f == name)
}

pub(crate) fn is_valid_party_id(text: &str) -> bool {
    (1..=MAX_PARTY_ID_BYTES).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn call_id_from_hex(text: &str) -> Option<CallId> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, pair) in bytes.chunks(2).enumerate() {
        id[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(CallId(id))
}

pub(crate) fn end_reason(name: &str) -> Option<EndReason> {
    EndReason::ALL.into_iter().find(|r| r.as_str() == name)
}

/// The limit `TooLong` must report for a field.
pub(crate) fn limit_of(field: &str) -> Option<usize> {
    match field {
        "sdp" => Some(MAX_SDP_BYTES),
        "candidates" => Some(MAX_CANDIDATES),
        "candidate" => Some(MAX_CANDIDATE_BYTES),
        "sdpMid" => Some(MAX_SDP_MID_BYTES),
        "metadata" => Some(MAX_METADATA_BYTES),
        _ => None,
    }
}

pub(crate) fn truncated(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The nesting depth of a JSON value, counting arrays and objects.
pub(crate) fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The oracle for `peercall::json`, the shipped JSON reader: on every input it accepts what
/// serde_json accepts, rejects what serde_json rejects, and reads the same value (compared as
/// serde_json values, so numbers compare by value and objects regardless of key order). The one
/// documented difference: a number too large for a double (`1e400`), which serde_json refuses.
pub(crate) fn check_json_against_serde(ctx: &Ctx, tally: &mut Tally, text: &str) {
    let ours = match panic::catch_unwind(|| peercall::json::parse(text)) {
        Ok(ours) => ours,
        Err(payload) => ctx.fail(
            text,
            &format!("peercall::json::parse panicked: {}", panic_text(&*payload)),
        ),
    };
    let theirs = serde_json::from_str::<Value>(text);
    tally.json_checked += 1;
    match (&ours, &theirs) {
        (Some(ours), Ok(theirs)) => {
            tally.json_accepted += 1;
            let written = ours.to_json();
            match serde_json::from_str::<Value>(&written) {
                Ok(again) if again == *theirs => {}
                other => ctx.fail(
                    text,
                    &format!(
                        "peercall::json read a different value than serde_json\n  ours written: {}\n  serde_json: {}\n  ours reread: {}",
                        clip(&written, 1500),
                        show(theirs),
                        show(&other)
                    ),
                ),
            }
        }
        (None, Err(_)) => {}
        (Some(_), Err(e)) if e.to_string().starts_with("number out of range") => {
            tally.json_out_of_range += 1;
        }
        (Some(ours), Err(e)) => ctx.fail(
            text,
            &format!(
                "peercall::json accepted what serde_json refuses ({e}): {}",
                show(ours)
            ),
        ),
        (None, Ok(theirs)) => ctx.fail(
            text,
            &format!(
                "peercall::json refused what serde_json reads: {}",
                show(theirs)
            ),
        ),
    }
}

/// A message's JSON value, as serde_json reads the text `to_json` writes.
pub(crate) fn to_value(message: &Message) -> Value {
    serde_json::from_str(&message.to_json()).expect("to_json writes JSON")
}

/// peercall's own reading of a JSON value (as serde_json writes it).
pub(crate) fn ours(value: &Value) -> peercall::json::Value {
    let text = value.to_string();
    peercall::json::parse(&text).unwrap_or_else(|| panic!("peercall::json cannot read {text:?}"))
}

/// What `Message::parse` makes of `value` once it is JSON text: the numbers as they read back.
/// (A value nested past serde_json's limit does not read back at all; it is returned as is, and
/// the prediction for it is `NotJson` whatever it holds.)
pub(crate) fn reparsed(value: &Value) -> Value {
    serde_json::from_str(&value.to_string()).unwrap_or_else(|_| value.clone())
}
