#![cfg(not(target_arch = "wasm32"))]
//! Property test of the signaling wire format: `Message::parse` on hostile input.
//!
//! Over many seeded cases (200,000 by default; `PEERCALL_FUZZ_CASES=n` to change, and
//! `PEERCALL_FUZZ_SEED=s` to explore or replay another run) three generators feed
//! [`Message::parse`]:
//!
//! 1. **bytes**: random bytes (invalid UTF-8 goes through `String::from_utf8_lossy`), JSON-token
//!    soup, byte-level damage to valid messages, and now and then inputs around and far over
//!    [`MAX_MESSAGE_BYTES`] (including 30,000-deep nesting);
//! 2. **json**: random JSON values written with random whitespace, escapes and key order, mostly
//!    message-shaped objects (`v`, a real or junk `type`, `callId`, `partyId` and a random mix of
//!    plausible and random fields), sometimes with non-JSON tokens spliced in;
//! 3. **mutations**: a random valid message of every [`Body`] variant, at and below every limit,
//!    is serialised with `to_value()`, checked to parse back unchanged, then changed in one way
//!    (delete a field, give it another JSON type, an out-of-range number or an over-limit
//!    string, change `v` or `type`, add unknown fields, nest it deeply, re-encode or damage the
//!    text, ...) with the exact result predicted by a small oracle, or several ways at once with
//!    only the general properties checked.
//!
//! For every input: parsing does not panic; an `Ok` message respects every limit constant and
//! survives `to_json` -> `parse` unchanged; an `Err` has a known `code()`, a non-empty message and
//! self-consistent fields; input over [`MAX_MESSAGE_BYTES`] is always `MessageTooLarge`.
//!
//! Run `cargo test --test prop_protocol -- --nocapture` to see the summary line.

#[path = "support/rng.rs"]
mod rng;

use std::collections::BTreeMap;
use std::fmt::{Debug, Write as _};
use std::panic;
use std::time::{Duration, Instant};

use peercall::protocol::{
    Body, CallId, CallKind, EndReason, IceCandidate, MediaState, Message, PartyId, ProtocolError,
    SdpType, MAX_CANDIDATES, MAX_CANDIDATE_BYTES, MAX_LIFETIME_MS, MAX_MESSAGE_BYTES,
    MAX_METADATA_BYTES, MAX_M_LINE_INDEX, MAX_PARTY_ID_BYTES, MAX_SDP_BYTES, MAX_SDP_MID_BYTES,
    MIN_LIFETIME_MS, PROTOCOL_VERSION,
};
use rng::Rng;
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// The specification, as this test reads it from src/protocol.rs's documentation.

const DEFAULT_CASES: u64 = 200_000;
const DEFAULT_SEED: u64 = 0x7065_6572_6361_6c6c; // "peercall"

/// Every v1 `type`.
const TYPE_NAMES: [&str; 9] = [
    "invite",
    "ringing",
    "answer",
    "select-answer",
    "reject",
    "hangup",
    "candidates",
    "negotiate",
    "media",
];

/// Every `ProtocolError::code()`.
const ERROR_CODES: [&str; 14] = [
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
const FIELD_NAMES: [&str; 20] = [
    "v",
    "type",
    "callId",
    "partyId",
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
];

/// The `expected` texts of `WrongType`.
const EXPECTED_TYPES: [&str; 6] = [
    "a string",
    "a boolean",
    "a non-negative whole number",
    "an array",
    "an object",
    "an array of objects",
];

const A_STRING: &str = "a string";
const A_BOOLEAN: &str = "a boolean";
const A_NUMBER: &str = "a non-negative whole number";

/// `reject` may carry only these reasons.
const REJECT_REASONS: [&str; 3] = ["rejected", "busy", "media-failed"];
/// `hangup` may carry every reason but these.
const LOCAL_ONLY_REASONS: [&str; 2] = ["remote-hangup", "unreachable"];

/// `UnknownType` keeps at most this many bytes of the name.
const MAX_REPORTED_TYPE_BYTES: usize = 32;

/// The deepest nesting of arrays and objects serde_json accepts (its recursion limit is 128
/// levels, counted so that 127 containers parse and 128 do not). Deeper text is `NotJson`; the
/// `serde_json_nesting_limit` test below pins this down.
const MAX_JSON_DEPTH: usize = 127;

/// The top-level body fields each type reads.
fn body_fields(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "invite" => &["kind", "sdp", "lifetimeMs", "metadata"],
        "answer" => &["sdp"],
        "select-answer" => &["selectedPartyId"],
        "reject" | "hangup" => &["reason"],
        "candidates" => &["candidates", "end"],
        "negotiate" => &["seq", "description"],
        "media" => &["seq", "audioMuted", "videoMuted", "screenSharing"],
        _ => &[],
    }
}

fn known_field(name: &str) -> Option<&'static str> {
    FIELD_NAMES.iter().copied().find(|&f| f == name)
}

fn is_valid_party_id(text: &str) -> bool {
    (1..=MAX_PARTY_ID_BYTES).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn call_id_from_hex(text: &str) -> Option<CallId> {
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

fn end_reason(name: &str) -> Option<EndReason> {
    EndReason::ALL.into_iter().find(|r| r.as_str() == name)
}

/// The limit `TooLong` must report for a field.
fn limit_of(field: &str) -> Option<usize> {
    match field {
        "sdp" => Some(MAX_SDP_BYTES),
        "candidates" => Some(MAX_CANDIDATES),
        "candidate" => Some(MAX_CANDIDATE_BYTES),
        "sdpMid" => Some(MAX_SDP_MID_BYTES),
        "metadata" => Some(MAX_METADATA_BYTES),
        _ => None,
    }
}

fn truncated(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The nesting depth of a JSON value, counting arrays and objects.
fn depth(value: &Value) -> usize {
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
fn check_json_against_serde(ctx: &Ctx, tally: &mut Tally, text: &str) {
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
fn to_value(message: &Message) -> Value {
    serde_json::from_str(&message.to_json()).expect("to_json writes JSON")
}

/// peercall's own reading of a JSON value (as serde_json writes it).
fn ours(value: &Value) -> peercall::json::Value {
    let text = value.to_string();
    peercall::json::parse(&text).unwrap_or_else(|| panic!("peercall::json cannot read {text:?}"))
}

/// What `Message::parse` makes of `value` once it is JSON text: the numbers as they read back.
/// (A value nested past serde_json's limit does not read back at all; it is returned as is, and
/// the prediction for it is `NotJson` whatever it holds.)
fn reparsed(value: &Value) -> Value {
    serde_json::from_str(&value.to_string()).unwrap_or_else(|_| value.clone())
}

// ---------------------------------------------------------------------------------------------
// Checking one input.

#[derive(Clone, Copy)]
struct Ctx {
    seed: u64,
    cases: u64,
    case: u64,
    generator: &'static str,
}

impl Ctx {
    fn fail(&self, text: &str, problem: &str) -> ! {
        panic!(
            "protocol fuzz: {} case {} failed (replay: PEERCALL_FUZZ_SEED={:#x} \
             PEERCALL_FUZZ_CASES={}):\n{problem}\ninput ({} bytes): {}",
            self.generator,
            self.case,
            self.seed,
            self.cases,
            text.len(),
            clip(&format!("{text:?}"), 3000)
        )
    }
}

/// `text`, cut in the middle if it is long.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let head = truncated(text, max * 2 / 3);
    let mut tail_start = text.len() - max / 3;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!(
        "{head} ...[{} bytes]... {}",
        tail_start - head.len(),
        &text[tail_start..]
    )
}

fn show(value: &impl Debug) -> String {
    clip(&format!("{value:?}"), 1500)
}

#[derive(Default)]
struct GeneratorStats {
    cases: u64,
    /// Parses that returned `Ok`.
    ok: u64,
    time: Duration,
}

#[derive(Default)]
struct Tally {
    cases: u64,
    parses: u64,
    ok: u64,
    errors: BTreeMap<&'static str, u64>,
    /// Per generator.
    generators: BTreeMap<&'static str, GeneratorStats>,
    /// Inputs whose exact result was predicted.
    predicted: u64,
    /// Inputs `peercall::json::parse` was checked on against serde_json.
    json_checked: u64,
    /// Of those, how many both accepted (and read the same value).
    json_accepted: u64,
    /// Of those, how many serde_json refused only for a number out of a double's range.
    json_out_of_range: u64,
}

/// What a case predicts `parse` returns.
#[derive(Debug)]
enum Expect {
    Ok(Message),
    Err(ProtocolError),
    /// One of these errors (which one depends on the order fields are checked in).
    OneOf(Vec<ProtocolError>),
    /// A message of this type, or any error.
    OfType(&'static str),
    /// Nothing beyond the general properties.
    Any,
}

impl Expect {
    fn errors(mut errors: Vec<ProtocolError>) -> Expect {
        assert!(!errors.is_empty());
        if errors.len() == 1 {
            Expect::Err(errors.pop().unwrap())
        } else {
            Expect::OneOf(errors)
        }
    }

    /// The prediction for a value nested `json_depth` deep: past serde_json's limit, the text is
    /// not JSON to the parser whatever the fields say. (Size comes first of all: `check` predicts
    /// `MessageTooLarge` for any text over [`MAX_MESSAGE_BYTES`].)
    fn for_depth(self, json_depth: usize) -> Expect {
        if json_depth > MAX_JSON_DEPTH {
            Expect::Err(ProtocolError::NotJson)
        } else {
            self
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

fn parse_no_panic(ctx: &Ctx, text: &str, what: &str) -> Result<Message, ProtocolError> {
    match panic::catch_unwind(|| Message::parse(text)) {
        Ok(result) => result,
        Err(payload) => ctx.fail(
            text,
            &format!(
                "Message::parse panicked ({what}): {}",
                panic_text(&*payload)
            ),
        ),
    }
}

/// Parses `text`, checks every general property, and the prediction.
fn check(ctx: &Ctx, tally: &mut Tally, text: &str, expect: &Expect) {
    check_json_against_serde(ctx, tally, text);
    let result = parse_no_panic(ctx, text, "on the case input");
    tally.parses += 1;
    let entry = tally.generators.entry(ctx.generator).or_default();
    match &result {
        Ok(message) => {
            tally.ok += 1;
            entry.ok += 1;
            check_message(ctx, text, message);
        }
        Err(error) => {
            *tally.errors.entry(error.code()).or_default() += 1;
            check_error(ctx, text, error);
        }
    }
    let too_large;
    let expect = if text.len() > MAX_MESSAGE_BYTES {
        too_large = Expect::Err(ProtocolError::MessageTooLarge { size: text.len() });
        &too_large
    } else {
        expect
    };
    let as_predicted = match (expect, &result) {
        (Expect::Any, _) => true,
        (Expect::Ok(want), Ok(got)) => want == got,
        (Expect::Err(want), Err(got)) => want == got,
        (Expect::OneOf(want), Err(got)) => want.contains(got),
        (Expect::OfType(want), Ok(got)) => got.body.type_name() == *want,
        (Expect::OfType(_), Err(_)) => true,
        _ => false,
    };
    if !as_predicted {
        ctx.fail(
            text,
            &format!(
                "expected {}\n     got {}{}",
                show(expect),
                show(&result),
                match (expect, &result) {
                    (Expect::Ok(want), Ok(got)) => metadata_drift_hint(want, got),
                    _ => "",
                }
            ),
        );
    }
    if !matches!(expect, Expect::Any | Expect::OfType(_)) {
        tally.predicted += 1;
    }
}

/// Every limit a parsed message must respect; the violations found.
fn limit_violations(message: &Message) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    let party = message.party_id.as_str();
    need(
        is_valid_party_id(party),
        format!("partyId {party:?} breaks the party id rules"),
    );
    let call_id = message.call_id.to_string();
    need(
        call_id_from_hex(&call_id) == Some(message.call_id),
        format!("callId {call_id:?} does not print as 32 lowercase hex digits"),
    );
    let sdp_ok = |sdp: &str| !sdp.is_empty() && sdp.len() <= MAX_SDP_BYTES;
    match &message.body {
        Body::Invite {
            sdp,
            lifetime_ms,
            metadata,
            ..
        } => {
            need(sdp_ok(sdp), format!("invite sdp of {} bytes", sdp.len()));
            need(
                (MIN_LIFETIME_MS..=MAX_LIFETIME_MS).contains(&u64::from(*lifetime_ms)),
                format!("lifetimeMs {lifetime_ms} out of range"),
            );
            if let Some(metadata) = metadata {
                need(!metadata.is_null(), "metadata is Some(null)".to_owned());
                let len = metadata.to_string().len();
                need(
                    len <= MAX_METADATA_BYTES,
                    format!("metadata of {len} bytes"),
                );
            }
        }
        Body::Ringing | Body::Media { .. } => {}
        Body::Answer { sdp } | Body::Negotiate { sdp, .. } => {
            need(sdp_ok(sdp), format!("sdp of {} bytes", sdp.len()));
        }
        Body::SelectAnswer { selected_party_id } => {
            let id = selected_party_id.as_str();
            need(is_valid_party_id(id), format!("selectedPartyId {id:?}"));
        }
        Body::Reject { reason } => {
            need(reason.is_reject_reason(), format!("reject reason {reason}"));
            need(
                REJECT_REASONS.contains(&reason.as_str()),
                format!("reject reason {reason}"),
            );
        }
        Body::Hangup { reason } => {
            need(reason.can_be_sent(), format!("hangup reason {reason}"));
            need(
                !LOCAL_ONLY_REASONS.contains(&reason.as_str()),
                format!("hangup reason {reason}"),
            );
        }
        Body::Candidates { candidates, .. } => {
            need(
                candidates.len() <= MAX_CANDIDATES,
                format!("{} candidates", candidates.len()),
            );
            for c in candidates {
                need(
                    c.candidate.len() <= MAX_CANDIDATE_BYTES,
                    format!("candidate of {} bytes", c.candidate.len()),
                );
                if let Some(mid) = &c.sdp_mid {
                    need(
                        mid.len() <= MAX_SDP_MID_BYTES,
                        format!("sdpMid of {} bytes", mid.len()),
                    );
                }
                if let Some(index) = c.sdp_m_line_index {
                    need(
                        u64::from(index) <= MAX_M_LINE_INDEX,
                        format!("sdpMLineIndex {index}"),
                    );
                }
            }
        }
    }
    problems
}

fn check_message(ctx: &Ctx, text: &str, message: &Message) {
    let problems = limit_violations(message);
    if !problems.is_empty() {
        ctx.fail(
            text,
            &format!(
                "parse accepted a message that breaks a limit: {}\nmessage: {}",
                problems.join("; "),
                show(message)
            ),
        );
    }
    let json = message.to_json();
    if json.len() > MAX_MESSAGE_BYTES {
        ctx.fail(
            text,
            &format!(
                "the accepted message re-serialises to {} bytes, over MAX_MESSAGE_BYTES",
                json.len()
            ),
        );
    }
    if json == text {
        // `parse(text)` just gave `message`, and `text` is its own serialisation: round trip
        // proven without parsing again.
        return;
    }
    let again = parse_no_panic(ctx, &json, "on the message's own to_json()");
    if again.as_ref() != Ok(message) {
        ctx.fail(
            text,
            &format!(
                "round trip changed the message\n  parsed:   {}\n  to_json:  {}\n  reparsed: {}{}",
                show(message),
                clip(&json, 1500),
                show(&again),
                again
                    .as_ref()
                    .map_or("", |again| metadata_drift_hint(message, again))
            ),
        );
    }
}

/// A pointer to the likely cause when two messages differ only in their metadata: JSON numbers
/// that do not read back as the same `f64`.
fn metadata_drift_hint(a: &Message, b: &Message) -> &'static str {
    let without_metadata = |m: &Message| {
        with(m, |m| {
            if let Body::Invite { metadata, .. } = &mut m.body {
                *metadata = None;
            }
        })
    };
    if a != b && without_metadata(a) == without_metadata(b) {
        "\n(only `metadata` differs: a float that does not survive serde_json's write-then-read; \
         serde_json's default float parsing is not exact, its `float_roundtrip` feature is)"
    } else {
        ""
    }
}

fn check_error(ctx: &Ctx, text: &str, error: &ProtocolError) {
    let code = error.code();
    let shown = error.to_string();
    let mut problems = Vec::new();
    if !ERROR_CODES.contains(&code) {
        problems.push(format!("unknown code {code:?}"));
    }
    if shown.trim().is_empty() {
        problems.push("empty Display".to_owned());
    }
    let field_ok = |field: &str| known_field(field).is_some();
    match error {
        ProtocolError::MessageTooLarge { size } => {
            if *size != text.len() || *size <= MAX_MESSAGE_BYTES {
                problems.push(format!("size {size} for {} bytes of input", text.len()));
            }
        }
        ProtocolError::UnsupportedVersion { version } => {
            if *version == PROTOCOL_VERSION {
                problems.push("the supported version reported as unsupported".to_owned());
            }
        }
        ProtocolError::UnknownType { name } => {
            if name.len() > MAX_REPORTED_TYPE_BYTES || TYPE_NAMES.contains(&name.as_str()) {
                problems.push(format!("bad UnknownType name {name:?}"));
            }
        }
        ProtocolError::MissingField { field } | ProtocolError::InvalidValue { field } => {
            if !field_ok(field) {
                problems.push(format!("unknown field {field:?}"));
            }
        }
        ProtocolError::WrongType { field, expected } => {
            if !field_ok(field) || !EXPECTED_TYPES.contains(expected) {
                problems.push(format!("unknown field {field:?} or type {expected:?}"));
            }
        }
        ProtocolError::TooLong { field, len, max } => {
            if limit_of(field) != Some(*max) || len <= max {
                problems.push(format!("TooLong {field:?} {len} > {max} is inconsistent"));
            }
        }
        ProtocolError::InvalidUserId => {
            problems.push("parse never sees a user id".to_owned());
        }
        ProtocolError::NotJson
        | ProtocolError::NotAnObject
        | ProtocolError::MissingVersion
        | ProtocolError::MissingType
        | ProtocolError::InvalidCallId
        | ProtocolError::InvalidPartyId => {}
    }
    if !problems.is_empty() {
        ctx.fail(
            text,
            &format!("bad error {error:?} ({shown:?}): {}", problems.join("; ")),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Random text, JSON and messages.

/// Characters that stress JSON strings: escapes, controls, separators, astral planes.
const TRICKY_CHARS: [char; 24] = [
    '"',
    '\\',
    '/',
    '\0',
    '\n',
    '\r',
    '\t',
    '\u{8}',
    '\u{c}',
    '\u{1f}',
    '\u{7f}',
    '\u{80}',
    'é',
    'ß',
    '\u{2028}',
    '\u{2029}',
    '\u{feff}',
    '中',
    '\u{fffd}',
    '\u{ffff}',
    '😀',
    '\u{10ffff}',
    '\u{1d11e}',
    '\u{300}',
];

fn random_char(rng: &mut Rng) -> char {
    match rng.below(16) {
        0..=9 => char::from(rng.range(0x20, 0x7e) as u8),
        10 | 11 => *rng.pick(&TRICKY_CHARS),
        12 => char::from(rng.below(0x20) as u8),
        13 | 14 => loop {
            if let Some(c) = char::from_u32(rng.range(0x80, 0xffff) as u32) {
                break c;
            }
        },
        _ => char::from_u32(rng.range(0x1_0000, 0x10_ffff) as u32).expect("not a surrogate"),
    }
}

/// Random text of exactly `len` bytes.
fn text_of_len(rng: &mut Rng, len: usize) -> String {
    let mut text = String::with_capacity(len);
    // Long texts repeat a random piece, so that building one costs little.
    let piece_len = len.min(256);
    while text.len() < piece_len {
        let c = random_char(rng);
        if text.len() + c.len_utf8() <= piece_len {
            text.push(c);
        } else {
            text.push('x');
        }
    }
    let piece = text.clone();
    while text.len() < len {
        let room = len - text.len();
        if room >= piece_len {
            text.push_str(&piece);
        } else {
            let cut = truncated(&text[..piece_len], room);
            text.push_str(&cut);
            while text.len() < len {
                text.push('x');
            }
        }
    }
    text
}

/// Random text of up to `max` bytes, usually short.
fn random_text(rng: &mut Rng, max: usize) -> String {
    let len = rng.small_size(max);
    text_of_len(rng, len)
}

/// A non-empty string of `len` bytes made of `unit` repeated, padded with ASCII.
fn repeated(unit: &str, len: usize) -> String {
    let mut text = unit.repeat(len / unit.len());
    while text.len() < len {
        text.push('x');
    }
    text
}

/// A string over the limit: `max + 1` bytes, or a little or a lot more, sometimes in multibyte
/// characters so byte and character counts differ.
fn over_limit(rng: &mut Rng, max: usize) -> String {
    let len = match rng.below(4) {
        0 => max + 1,
        1 => max + 1 + rng.small_size(16),
        2 => max + 1 + rng.small_size(max),
        _ => {
            // Multibyte characters only: the character count may be at or under the limit.
            let unit = *rng.pick(&["é", "中", "😀"]);
            let chars = max / unit.len() + 1;
            return unit.repeat(chars);
        }
    };
    if rng.coin() {
        repeated("x", len)
    } else {
        text_of_len(rng, len)
    }
}

const PARTY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn gen_party_id(rng: &mut Rng) -> String {
    let len = if rng.ratio(1, 16) {
        MAX_PARTY_ID_BYTES
    } else {
        1 + rng.small_size(MAX_PARTY_ID_BYTES - 1)
    };
    (0..len)
        .map(|_| char::from(*rng.pick(PARTY_ALPHABET)))
        .collect()
}

fn gen_call_id(rng: &mut Rng) -> CallId {
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    CallId(id)
}

fn gen_sdp(rng: &mut Rng) -> String {
    match rng.below(400) {
        0 => text_of_len(rng, MAX_SDP_BYTES),
        1 => {
            let shorter = rng.small_size(100);
            text_of_len(rng, MAX_SDP_BYTES - shorter)
        }
        2 => repeated("é", MAX_SDP_BYTES),
        3..=199 => format!(
            "v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:{}\r\n",
            rng.next_u64(),
            rng.below(1 << 20)
        ),
        _ => {
            let len = 1 + rng.small_size(300);
            text_of_len(rng, len)
        }
    }
}

fn gen_number(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::from(rng.below(10)),
        1 => Value::from(rng.next_u64()),
        2 => Value::from(-(rng.below(1000) as i64) - 1),
        3 => Value::from(rng.next_u64() as i64),
        4 => Value::from(*rng.pick(&[u64::MAX, u64::from(u32::MAX), u64::from(u32::MAX) + 1])),
        5 => Value::from(*rng.pick(&[i64::MIN, -1])),
        6 => Value::from(rng.next_f64() * 1000.0),
        7 => Value::from(*rng.pick(&[0.0, -0.0, 1.0, 0.5, 1e300, -1e-300, 5e-324, f64::MAX])),
        8 => Value::from(rng.below(1 << 20) as f64 + 0.25),
        9 => Value::from(18_446_744_073_709_551_616.0_f64), // 2^64: integral but not a u64
        _ => loop {
            // Any finite double, bit pattern and all.
            let f = f64::from_bits(rng.next_u64());
            if f.is_finite() {
                break Value::from(f);
            }
        },
    }
}

fn gen_key(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=2 => (*rng.pick(&FIELD_NAMES)).to_owned(),
        3 => (*rng.pick(&[
            "V",
            "Type",
            "callid",
            "party_id",
            "",
            "__proto__",
            "constructor",
        ]))
        .to_owned(),
        _ => random_text(rng, 12),
    }
}

/// A random JSON value; `budget` bounds the number of nodes.
fn gen_value(rng: &mut Rng, max_depth: usize, budget: &mut usize) -> Value {
    *budget = budget.saturating_sub(1);
    let leaf = max_depth == 0 || *budget == 0;
    match rng.below(if leaf { 8 } else { 12 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.coin()),
        2..=4 => gen_number(rng),
        5..=7 => Value::String(random_text(rng, 40)),
        8..=9 => {
            let n = rng.small_size(8);
            Value::Array(
                (0..n)
                    .map(|_| gen_value(rng, max_depth - 1, budget))
                    .collect(),
            )
        }
        _ => {
            let n = rng.small_size(8);
            let mut map = Map::new();
            for _ in 0..n {
                let key = gen_key(rng);
                let value = gen_value(rng, max_depth - 1, budget);
                map.insert(key, value);
            }
            Value::Object(map)
        }
    }
}

fn gen_metadata(rng: &mut Rng) -> Option<Value> {
    match rng.below(10) {
        0..=3 => None,
        4 => {
            // Exactly at the limit, or just under, in one or two bytes per character.
            let len = MAX_METADATA_BYTES - rng.small_size(8);
            let unit = if rng.coin() { "m" } else { "é" };
            let text = repeated(unit, len - 2);
            (text.len() + 2 == len).then_some(Value::String(text))
        }
        _ => {
            let mut budget = 40;
            let value = gen_value(rng, 5, &mut budget);
            let value = reparsed(&value);
            (!value.is_null() && value.to_string().len() <= MAX_METADATA_BYTES).then_some(value)
        }
    }
}

fn gen_candidate(rng: &mut Rng) -> IceCandidate {
    let candidate = match rng.below(20) {
        0 => text_of_len(rng, MAX_CANDIDATE_BYTES),
        1 => String::new(),
        2..=9 => format!(
            "candidate:{} 1 udp {} 192.168.{}.{} {} typ host",
            rng.below(1 << 32),
            rng.next_u32(),
            rng.below(256),
            rng.below(256),
            rng.below(65536)
        ),
        _ => random_text(rng, MAX_CANDIDATE_BYTES),
    };
    let sdp_mid = match rng.below(10) {
        0..=2 => None,
        3 => Some(text_of_len(rng, MAX_SDP_MID_BYTES)),
        4..=6 => Some(rng.below(4).to_string()),
        _ => Some(random_text(rng, MAX_SDP_MID_BYTES)),
    };
    let sdp_m_line_index = match rng.below(10) {
        0..=2 => None,
        3 => Some(MAX_M_LINE_INDEX as u16),
        _ => Some(rng.range(0, MAX_M_LINE_INDEX) as u16),
    };
    IceCandidate {
        candidate,
        sdp_mid,
        sdp_m_line_index,
    }
}

fn gen_seq(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => 0,
        1 => u32::MAX,
        2 => rng.next_u32(),
        _ => rng.below(100) as u32,
    }
}

/// A random valid message: every body variant, every field at and under its limits.
fn gen_message(rng: &mut Rng) -> Message {
    let body = match rng.below(9) {
        0 => Body::Invite {
            kind: if rng.coin() {
                CallKind::Audio
            } else {
                CallKind::Video
            },
            sdp: gen_sdp(rng),
            lifetime_ms: match rng.below(6) {
                0 => MIN_LIFETIME_MS,
                1 => MAX_LIFETIME_MS,
                _ => rng.range(MIN_LIFETIME_MS, MAX_LIFETIME_MS),
            } as u32,
            metadata: gen_metadata(rng).as_ref().map(ours),
        },
        1 => Body::Ringing,
        2 => Body::Answer { sdp: gen_sdp(rng) },
        3 => Body::SelectAnswer {
            selected_party_id: PartyId::new(&gen_party_id(rng)).expect("valid party id"),
        },
        4 => Body::Reject {
            reason: end_reason(rng.pick_copied(&REJECT_REASONS)).expect("a reason"),
        },
        5 => Body::Hangup {
            reason: loop {
                let reason = *rng.pick(&EndReason::ALL);
                if !LOCAL_ONLY_REASONS.contains(&reason.as_str()) {
                    break reason;
                }
            },
        },
        6 => {
            let n = if rng.ratio(1, 10) {
                MAX_CANDIDATES
            } else {
                rng.small_size(MAX_CANDIDATES)
            };
            Body::Candidates {
                candidates: (0..n).map(|_| gen_candidate(rng)).collect(),
                end: rng.coin(),
            }
        }
        7 => Body::Negotiate {
            seq: gen_seq(rng),
            sdp_type: if rng.coin() {
                SdpType::Offer
            } else {
                SdpType::Answer
            },
            sdp: gen_sdp(rng),
        },
        _ => Body::Media {
            seq: gen_seq(rng),
            state: MediaState {
                audio_muted: rng.coin(),
                video_muted: rng.coin(),
                screen_sharing: rng.coin(),
            },
        },
    };
    Message {
        call_id: gen_call_id(rng),
        party_id: PartyId::new(&gen_party_id(rng)).expect("valid party id"),
        to_party_id: None,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing JSON text in many equivalent ways (and some broken ones).

/// How to write JSON: the same value in another encoding parses to the same message.
struct Style {
    /// Chance of whitespace around each token.
    space: f64,
    /// Chance of writing a character as a `\u` escape it does not need.
    escape: f64,
    /// Write object keys in a random order.
    shuffle: bool,
    /// Chance of writing a junk token instead of a value (the text may stop being JSON).
    chaos: f64,
}

impl Style {
    const CANONICAL: Style = Style {
        space: 0.0,
        escape: 0.0,
        shuffle: false,
        chaos: 0.0,
    };

    fn random(rng: &mut Rng) -> Style {
        Style {
            space: *rng.pick(&[0.0, 0.0, 0.1, 0.6]),
            escape: *rng.pick(&[0.0, 0.0, 0.05, 0.5, 1.0]),
            shuffle: rng.coin(),
            chaos: 0.0,
        }
    }
}

/// Tokens that are not JSON, or are JSON serde_json may not accept, or are odd but valid.
const CHAOS_TOKENS: [&str; 34] = [
    "NaN",
    "Infinity",
    "-Infinity",
    "undefined",
    "'x'",
    "01",
    "1.",
    ".5",
    "-",
    "+1",
    "1e",
    "1e400",
    "-1e400",
    "1e-400",
    "0x10",
    "\"\\ud800\"",
    "\"\\udc00\\ud800\"",
    "\"\\x41\"",
    "\"\t\"",
    "\"\u{1}\"",
    "[1,]",
    "{\"a\":1,}",
    "{a:1}",
    "/*c*/1",
    "tru",
    "nul",
    "\"\\u12\"",
    "123456789012345678901234567890",
    "-0",
    "-9223372036854775809",
    "18446744073709551616",
    "1E+2",
    "0.0000000000000000000000000001e-300",
    "\"\\ud83d\\ude00\"",
];

fn write_space(rng: &mut Rng, style: &Style, out: &mut String) {
    if style.space > 0.0 && rng.chance(style.space) {
        for _ in 0..rng.range(1, 3) {
            out.push(*rng.pick(&[' ', '\t', '\n', '\r']));
        }
    }
}

fn write_escape(rng: &mut Rng, unit: u32, out: &mut String) {
    if rng.coin() {
        write!(out, "\\u{unit:04x}").unwrap();
    } else {
        write!(out, "\\u{unit:04X}").unwrap();
    }
}

fn write_str(rng: &mut Rng, text: &str, style: &Style, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        let force = style.escape > 0.0 && rng.chance(style.escape);
        match c {
            '"' if !force => out.push_str("\\\""),
            '\\' if !force => out.push_str("\\\\"),
            '\n' if !force => out.push_str("\\n"),
            '\r' if !force => out.push_str("\\r"),
            '\t' if !force => out.push_str("\\t"),
            '\u{8}' if !force => out.push_str("\\b"),
            '\u{c}' if !force => out.push_str("\\f"),
            '/' if force && rng.coin() => out.push_str("\\/"),
            c if force || (c as u32) < 0x20 => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write_escape(rng, u32::from(*unit), out);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(rng: &mut Rng, value: &Value, style: &Style, out: &mut String) {
    write_space(rng, style, out);
    if style.chaos > 0.0 && rng.chance(style.chaos) {
        out.push_str(rng.pick_copied(&CHAOS_TOKENS));
        write_space(rng, style, out);
        return;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write!(out, "{n}").unwrap(),
        Value::String(s) => write_str(rng, s, style, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(rng, item, style, out);
            }
            write_space(rng, style, out);
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.shuffle {
                rng.shuffle(&mut entries);
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_space(rng, style, out);
                write_str(rng, key, style, out);
                write_space(rng, style, out);
                out.push(':');
                write_json(rng, item, style, out);
            }
            write_space(rng, style, out);
            out.push('}');
        }
    }
    write_space(rng, style, out);
}

/// `value` as JSON text: usually canonical, sometimes in another valid encoding.
fn encode(rng: &mut Rng, value: &Value) -> String {
    if rng.ratio(2, 3) {
        value.to_string()
    } else {
        let style = Style::random(rng);
        let mut out = String::new();
        write_json(rng, value, &style, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle: what one changed field of a valid message parses to.

fn with(message: &Message, edit: impl FnOnce(&mut Message)) -> Message {
    let mut changed = message.clone();
    edit(&mut changed);
    changed
}

fn ok(message: Message) -> Expect {
    Expect::Ok(message)
}

fn err(error: ProtocolError) -> Expect {
    Expect::Err(error)
}

fn wrong_type(field: &'static str, expected: &'static str) -> ProtocolError {
    ProtocolError::WrongType { field, expected }
}

/// The rules for an SDP string.
fn sdp_rule(sdp: &str) -> Result<String, ProtocolError> {
    if sdp.is_empty() {
        Err(ProtocolError::InvalidValue { field: "sdp" })
    } else if sdp.len() > MAX_SDP_BYTES {
        Err(ProtocolError::TooLong {
            field: "sdp",
            len: sdp.len(),
            max: MAX_SDP_BYTES,
        })
    } else {
        Ok(sdp.to_owned())
    }
}

/// What one element of `candidates` parses to, or every error it might report.
fn expect_item(item: &Value) -> Result<IceCandidate, Vec<ProtocolError>> {
    let Some(object) = item.as_object() else {
        return Err(vec![wrong_type("candidates", "an array of objects")]);
    };
    let mut errors = Vec::new();
    let candidate = match object.get("candidate") {
        None => Err(ProtocolError::MissingField { field: "candidate" }),
        Some(v) => match v.as_str() {
            None => Err(wrong_type("candidate", A_STRING)),
            Some(s) if s.len() > MAX_CANDIDATE_BYTES => Err(ProtocolError::TooLong {
                field: "candidate",
                len: s.len(),
                max: MAX_CANDIDATE_BYTES,
            }),
            Some(s) => Ok(s.to_owned()),
        },
    };
    let sdp_mid = match object.get("sdpMid") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_str() {
            None => Err(wrong_type("sdpMid", A_STRING)),
            Some(s) if s.len() > MAX_SDP_MID_BYTES => Err(ProtocolError::TooLong {
                field: "sdpMid",
                len: s.len(),
                max: MAX_SDP_MID_BYTES,
            }),
            Some(s) => Ok(Some(s.to_owned())),
        },
    };
    let index = match object.get("sdpMLineIndex") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            None => Err(wrong_type("sdpMLineIndex", A_NUMBER)),
            Some(n) if n > MAX_M_LINE_INDEX => Err(ProtocolError::InvalidValue {
                field: "sdpMLineIndex",
            }),
            Some(n) => Ok(Some(n as u16)),
        },
    };
    match (candidate, sdp_mid, index) {
        (Ok(candidate), Ok(sdp_mid), Ok(sdp_m_line_index)) => Ok(IceCandidate {
            candidate,
            sdp_mid,
            sdp_m_line_index,
        }),
        (a, b, c) => {
            errors.extend(a.err());
            errors.extend(b.err());
            errors.extend(c.err());
            Err(errors)
        }
    }
}

fn expect_candidates(message: &Message, list: &Value) -> Expect {
    let Some(list) = list.as_array() else {
        return err(wrong_type("candidates", "an array"));
    };
    let mut errors = Vec::new();
    if list.len() > MAX_CANDIDATES {
        errors.push(ProtocolError::TooLong {
            field: "candidates",
            len: list.len(),
            max: MAX_CANDIDATES,
        });
    }
    let mut parsed = Vec::new();
    for item in list {
        match expect_item(item) {
            Ok(candidate) => parsed.push(candidate),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Expect::errors(errors);
    }
    ok(with(message, |m| {
        if let Body::Candidates { candidates, .. } = &mut m.body {
            *candidates = parsed;
        }
    }))
}

fn expect_description(message: &Message, description: &Value) -> Expect {
    let Some(object) = description.as_object() else {
        return err(wrong_type("description", "an object"));
    };
    let sdp_type = match object.get("type").map(Value::as_str) {
        None => Err(ProtocolError::MissingField { field: "type" }),
        Some(None) => Err(wrong_type("type", A_STRING)),
        Some(Some("offer")) => Ok(SdpType::Offer),
        Some(Some("answer")) => Ok(SdpType::Answer),
        Some(Some(_)) => Err(ProtocolError::InvalidValue { field: "type" }),
    };
    let sdp = match object.get("sdp").map(Value::as_str) {
        None => Err(ProtocolError::MissingField { field: "sdp" }),
        Some(None) => Err(wrong_type("sdp", A_STRING)),
        Some(Some(s)) => sdp_rule(s),
    };
    match (sdp_type, sdp) {
        (Ok(new_type), Ok(new_sdp)) => ok(with(message, |m| {
            if let Body::Negotiate { sdp_type, sdp, .. } = &mut m.body {
                *sdp_type = new_type;
                *sdp = new_sdp;
            }
        })),
        (a, b) => Expect::errors(a.err().into_iter().chain(b.err()).collect()),
    }
}

/// What `message` parses to when its top-level field `key` is `value` (`None`: absent) and
/// everything else is unchanged.
fn expect_top(message: &Message, key: &'static str, value: Option<&Value>) -> Expect {
    let missing = ProtocolError::MissingField { field: key };
    let envelope = ["v", "type", "callId", "partyId"].contains(&key);
    if !envelope && !body_fields(message.body.type_name()).contains(&key) {
        // A field this type does not read is ignored, whatever it holds.
        return ok(message.clone());
    }
    match key {
        "v" => match value.and_then(Value::as_u64) {
            None => err(ProtocolError::MissingVersion),
            Some(PROTOCOL_VERSION) => ok(message.clone()),
            Some(version) => err(ProtocolError::UnsupportedVersion { version }),
        },
        "type" => match value.and_then(Value::as_str) {
            None => err(ProtocolError::MissingType),
            Some(name) if name == message.body.type_name() => ok(message.clone()),
            Some(name) => match TYPE_NAMES.iter().find(|&&t| t == name) {
                Some(real) => Expect::OfType(real),
                None => err(ProtocolError::UnknownType {
                    name: truncated(name, MAX_REPORTED_TYPE_BYTES),
                }),
            },
        },
        "metadata" => {
            let metadata = value.map(reparsed).filter(|v| !v.is_null());
            if let Some(len) = metadata.as_ref().map(|v| v.to_string().len()) {
                if len > MAX_METADATA_BYTES {
                    return err(ProtocolError::TooLong {
                        field: "metadata",
                        len,
                        max: MAX_METADATA_BYTES,
                    });
                }
            }
            ok(with(message, |m| {
                if let Body::Invite { metadata: slot, .. } = &mut m.body {
                    // Nested past the limit, it does not read back; the prediction is `NotJson`.
                    *slot = metadata
                        .as_ref()
                        .and_then(|v| peercall::json::parse(&v.to_string()));
                }
            }))
        }
        "candidates" => value.map_or(err(missing), |v| expect_candidates(message, v)),
        "description" => value.map_or(err(missing), |v| expect_description(message, v)),
        "lifetimeMs" | "seq" => match value.map(Value::as_u64) {
            None => err(missing),
            Some(None) => err(wrong_type(key, A_NUMBER)),
            Some(Some(n)) => match (key, &message.body) {
                ("lifetimeMs", _) if !(MIN_LIFETIME_MS..=MAX_LIFETIME_MS).contains(&n) => {
                    err(ProtocolError::InvalidValue { field: key })
                }
                ("seq", _) if n > u64::from(u32::MAX) => {
                    err(ProtocolError::InvalidValue { field: key })
                }
                _ => ok(with(message, |m| match &mut m.body {
                    Body::Invite { lifetime_ms, .. } => *lifetime_ms = n as u32,
                    Body::Negotiate { seq, .. } | Body::Media { seq, .. } => *seq = n as u32,
                    _ => unreachable!("{key} on {}", message.body.type_name()),
                })),
            },
        },
        "end" | "audioMuted" | "videoMuted" | "screenSharing" => match value.map(Value::as_bool) {
            None => err(missing),
            Some(None) => err(wrong_type(key, A_BOOLEAN)),
            Some(Some(b)) => ok(with(message, |m| match (&mut m.body, key) {
                (Body::Candidates { end, .. }, "end") => *end = b,
                (Body::Media { state, .. }, "audioMuted") => state.audio_muted = b,
                (Body::Media { state, .. }, "videoMuted") => state.video_muted = b,
                (Body::Media { state, .. }, "screenSharing") => state.screen_sharing = b,
                _ => unreachable!("{key} on {}", message.body.type_name()),
            })),
        },
        _ => match value.map(Value::as_str) {
            None => err(missing),
            Some(None) => err(wrong_type(key, A_STRING)),
            Some(Some(text)) => expect_string(message, key, text),
        },
    }
}

/// What `message` parses to with its top-level string field `key` set to `text`.
fn expect_string(message: &Message, key: &'static str, text: &str) -> Expect {
    match key {
        "callId" => match call_id_from_hex(text) {
            Some(id) => ok(with(message, |m| m.call_id = id)),
            None => err(ProtocolError::InvalidCallId),
        },
        "partyId" | "selectedPartyId" => {
            if !is_valid_party_id(text) {
                return err(ProtocolError::InvalidPartyId);
            }
            let id = PartyId::new(text).expect("a valid party id");
            ok(with(message, |m| match &mut m.body {
                Body::SelectAnswer { selected_party_id } if key == "selectedPartyId" => {
                    *selected_party_id = id;
                }
                _ => m.party_id = id,
            }))
        }
        "kind" => {
            let new_kind = match text {
                "audio" => CallKind::Audio,
                "video" => CallKind::Video,
                _ => return err(ProtocolError::InvalidValue { field: "kind" }),
            };
            ok(with(message, |m| {
                if let Body::Invite { kind, .. } = &mut m.body {
                    *kind = new_kind;
                }
            }))
        }
        "sdp" => match sdp_rule(text) {
            Err(e) => err(e),
            Ok(new_sdp) => ok(with(message, |m| match &mut m.body {
                Body::Invite { sdp, .. } | Body::Answer { sdp } => *sdp = new_sdp,
                _ => unreachable!("sdp on {}", message.body.type_name()),
            })),
        },
        "reason" => {
            let allowed = match message.body {
                Body::Reject { .. } => REJECT_REASONS.contains(&text),
                _ => !LOCAL_ONLY_REASONS.contains(&text),
            };
            match end_reason(text).filter(|_| allowed) {
                None => err(ProtocolError::InvalidValue { field: "reason" }),
                Some(new_reason) => ok(with(message, |m| match &mut m.body {
                    Body::Reject { reason } | Body::Hangup { reason } => *reason = new_reason,
                    _ => unreachable!("reason on {}", message.body.type_name()),
                })),
            }
        }
        _ => unreachable!("{key} is not a string field"),
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid messages.

/// Where a field sits in a message's JSON value.
#[derive(Clone, Copy, Debug)]
enum Path {
    Top(&'static str),
    Description(&'static str),
    Candidate(usize, &'static str),
    Item(usize),
}

impl Path {
    /// The top-level field containing this one.
    fn top(self) -> &'static str {
        match self {
            Path::Top(key) => key,
            Path::Description(_) => "description",
            Path::Candidate(..) | Path::Item(_) => "candidates",
        }
    }
}

/// Every known field of `object`, at every level.
fn paths(object: &Map<String, Value>) -> Vec<Path> {
    let mut found = Vec::new();
    for (key, value) in object {
        let Some(key) = known_field(key) else {
            continue;
        };
        found.push(Path::Top(key));
        match (key, value) {
            ("description", Value::Object(description)) => {
                for inner in description.keys() {
                    if let Some(inner) = known_field(inner) {
                        found.push(Path::Description(inner));
                    }
                }
            }
            ("candidates", Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    found.push(Path::Item(i));
                    if let Value::Object(item) = item {
                        for inner in item.keys() {
                            if let Some(inner) = known_field(inner) {
                                found.push(Path::Candidate(i, inner));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn get(object: &Map<String, Value>, path: Path) -> Option<&Value> {
    match path {
        Path::Top(key) => object.get(key),
        Path::Description(key) => object.get("description")?.as_object()?.get(key),
        Path::Item(i) => object.get("candidates")?.as_array()?.get(i),
        Path::Candidate(i, key) => object
            .get("candidates")?
            .as_array()?
            .get(i)?
            .as_object()?
            .get(key),
    }
}

/// Sets (`Some`) or removes (`None`) the field at `path`; false if the path is gone.
fn put(object: &mut Map<String, Value>, path: Path, value: Option<Value>) -> bool {
    fn put_in(map: &mut Map<String, Value>, key: &str, value: Option<Value>) -> bool {
        match value {
            Some(v) => {
                map.insert(key.to_owned(), v);
            }
            None => {
                map.remove(key);
            }
        }
        true
    }
    match path {
        Path::Top(key) => put_in(object, key, value),
        Path::Description(key) => match object.get_mut("description") {
            Some(Value::Object(description)) => put_in(description, key, value),
            _ => false,
        },
        Path::Item(i) => match object.get_mut("candidates") {
            Some(Value::Array(items)) if i < items.len() => {
                match value {
                    Some(v) => items[i] = v,
                    None => {
                        items.remove(i);
                    }
                }
                true
            }
            _ => false,
        },
        Path::Candidate(i, key) => match object.get_mut("candidates") {
            Some(Value::Array(items)) => match items.get_mut(i) {
                Some(Value::Object(item)) => put_in(item, key, value),
                _ => false,
            },
            _ => false,
        },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    Null,
    Bool,
    UInt,
    OtherNumber,
    Str,
    Array,
    Object,
}

const JSON_KINDS: [JsonKind; 7] = [
    JsonKind::Null,
    JsonKind::Bool,
    JsonKind::UInt,
    JsonKind::OtherNumber,
    JsonKind::Str,
    JsonKind::Array,
    JsonKind::Object,
];

fn kind_of(value: &Value) -> JsonKind {
    match value {
        Value::Null => JsonKind::Null,
        Value::Bool(_) => JsonKind::Bool,
        Value::Number(n) if n.is_u64() => JsonKind::UInt,
        Value::Number(_) => JsonKind::OtherNumber,
        Value::String(_) => JsonKind::Str,
        Value::Array(_) => JsonKind::Array,
        Value::Object(_) => JsonKind::Object,
    }
}

fn value_of_kind(rng: &mut Rng, kind: JsonKind) -> Value {
    let mut budget = 6;
    match kind {
        JsonKind::Null => Value::Null,
        JsonKind::Bool => Value::Bool(rng.coin()),
        JsonKind::UInt => {
            let any = rng.next_u64();
            Value::from(*rng.pick(&[0, 1, 2, 7, u64::MAX, any]))
        }
        JsonKind::OtherNumber => Value::from(*rng.pick(&[
            -1.0,
            1.0,
            0.5,
            -0.0,
            1e300,
            18_446_744_073_709_551_616.0,
            30_000.0,
        ])),
        JsonKind::Str => Value::String(random_text(rng, 20)),
        JsonKind::Array => Value::Array(
            (0..rng.small_size(3))
                .map(|_| gen_value(rng, 2, &mut budget))
                .collect(),
        ),
        JsonKind::Object => {
            let mut map = Map::new();
            for _ in 0..rng.small_size(3) {
                map.insert(junk_key(rng), gen_value(rng, 2, &mut budget));
            }
            Value::Object(map)
        }
    }
}

/// A small value of a random JSON type.
fn any_value(rng: &mut Rng) -> Value {
    let kind = *rng.pick(&JSON_KINDS);
    value_of_kind(rng, kind)
}

/// A key no v1 parser reads.
fn junk_key(rng: &mut Rng) -> String {
    loop {
        let key = match rng.below(4) {
            0 => (*rng.pick(&["V", "Type", "callid", "party_id", "", "x-ext", "__proto__"]))
                .to_owned(),
            1 => format!("~{}", rng.below(100)),
            _ => random_text(rng, 16),
        };
        if known_field(&key).is_none() {
            break key;
        }
    }
}

/// A value of the JSON type `path` holds, but (usually) not one its rules allow.
fn bad_value(rng: &mut Rng, message: &Message, path: Path, current: &Value) -> Value {
    let key = match path {
        Path::Top(key) | Path::Description(key) | Path::Candidate(_, key) => key,
        Path::Item(_) => "~item",
    };
    let text = |s: &str| Value::String(s.to_owned());
    match (path, key) {
        (Path::Top(_), "v") => {
            let any = rng.next_u64();
            Value::from(*rng.pick(&[0, 2, 3, 100, u64::MAX, any]))
        }
        (Path::Top(_), "type") => match rng.below(4) {
            0 => text(rng.pick_copied(&TYPE_NAMES)),
            1 => {
                let real = message.body.type_name();
                let variants = [
                    real.to_uppercase(),
                    format!(" {real}"),
                    format!("{real}\0"),
                    format!("m.call.{real}"),
                    real.replace('-', "_"),
                    format!("{real}{}", "é".repeat(20)),
                ];
                Value::String(rng.pick(&variants).clone())
            }
            2 => Value::String(random_text(rng, 100)),
            _ => {
                let len = rng.range_usize(30, 40);
                Value::String(text_of_len(rng, len))
            }
        },
        (Path::Top(_), "callId") => {
            let good = message.call_id.to_string();
            let bad = match rng.below(7) {
                0 => good.to_uppercase(),
                1 => good[1..].to_owned(),
                2 => format!("{good}0"),
                3 => String::new(),
                4 => {
                    let at = rng.index(32);
                    let c = *rng.pick(&["g", "G", " ", "é", "-", "\0"]);
                    format!("{}{c}{}", &good[..at], &good[at + 1..])
                }
                5 => format!("{{{good}}}"),
                _ => random_text(rng, 40),
            };
            Value::String(bad)
        }
        (Path::Top(_), "partyId" | "selectedPartyId") => {
            let bad = match rng.below(4) {
                0 => String::new(),
                1 => repeated("a", MAX_PARTY_ID_BYTES + 1 + rng.small_size(64)),
                2 => {
                    let mut id = gen_party_id(rng);
                    let at = rng.index(id.len() + 1);
                    id.insert_str(
                        at,
                        rng.pick_copied(&[" ", ".", "é", "\0", "+", "/", "\n", "😀"]),
                    );
                    id
                }
                _ => random_text(rng, 80),
            };
            Value::String(bad)
        }
        (Path::Top(_), "kind") => {
            text(rng.pick_copied(&["Audio", "VIDEO", "screen", "", "audio ", "a"]))
        }
        (_, "sdp") => match rng.below(3) {
            0 => text(""),
            _ => Value::String(over_limit(rng, MAX_SDP_BYTES)),
        },
        (Path::Top(_), "reason") => match rng.below(3) {
            0 => Value::String(random_text(rng, 20)),
            _ => text(rng.pick(&EndReason::ALL).as_str()),
        },
        (Path::Top(_), "lifetimeMs") => Value::from(match rng.below(5) {
            0 => MIN_LIFETIME_MS - 1,
            1 => MAX_LIFETIME_MS + 1,
            2 => rng.below(MIN_LIFETIME_MS),
            3 => u64::MAX,
            _ => rng.range(MAX_LIFETIME_MS + 1, u64::MAX),
        }),
        (Path::Top(_), "seq") => Value::from(match rng.below(3) {
            0 => u64::from(u32::MAX) + 1,
            1 => u64::MAX,
            _ => rng.range(u64::from(u32::MAX) + 1, u64::MAX),
        }),
        (Path::Top(_), "metadata") => match rng.below(3) {
            0 => Value::Null,
            1 => {
                // At, or one to many bytes over, the limit.
                let len = MAX_METADATA_BYTES + rng.small_size(100);
                Value::String(repeated(rng.pick_copied(&["m", "é"]), len - 2))
            }
            _ => {
                let mut budget = 400;
                gen_value(rng, 6, &mut budget)
            }
        },
        (Path::Top(_), "candidates") => {
            let n = match rng.below(3) {
                0 => MAX_CANDIDATES + 1,
                1 => rng.range_usize(MAX_CANDIDATES + 1, 2 * MAX_CANDIDATES),
                _ => rng.small_size(MAX_CANDIDATES),
            };
            let mut list: Vec<Value> = (0..n)
                .map(|_| {
                    let c = gen_candidate(rng);
                    let mut map = Map::new();
                    map.insert("candidate".into(), c.candidate.into());
                    if let Some(mid) = c.sdp_mid {
                        map.insert("sdpMid".into(), mid.into());
                    }
                    if let Some(index) = c.sdp_m_line_index {
                        map.insert("sdpMLineIndex".into(), index.into());
                    }
                    Value::Object(map)
                })
                .collect();
            if !list.is_empty() && rng.coin() {
                let at = rng.index(list.len());
                list[at] = any_value(rng);
            }
            Value::Array(list)
        }
        (Path::Top(_), "description") => {
            let mut map = Map::new();
            if rng.coin() {
                map.insert(
                    "type".into(),
                    text(rng.pick_copied(&["offer", "answer", "pranswer"])),
                );
            }
            if rng.coin() {
                map.insert("sdp".into(), text(rng.pick_copied(&["v=0", ""])));
            }
            Value::Object(map)
        }
        (Path::Description(_), "type") => {
            text(rng.pick_copied(&["pranswer", "rollback", "Offer", "ANSWER", "", "offer "]))
        }
        (Path::Candidate(..), "candidate") => Value::String(over_limit(rng, MAX_CANDIDATE_BYTES)),
        (Path::Candidate(..), "sdpMid") => match rng.below(3) {
            0 => Value::Null,
            _ => Value::String(over_limit(rng, MAX_SDP_MID_BYTES)),
        },
        (Path::Candidate(..), "sdpMLineIndex") => Value::from(match rng.below(5) {
            0 => MAX_M_LINE_INDEX + 1,
            1 => 65_535,
            2 => 65_536,
            3 => u64::MAX,
            _ => rng.range(MAX_M_LINE_INDEX + 1, u64::MAX),
        }),
        (Path::Item(_), _) => match rng.below(3) {
            0 => Value::Object(Map::new()),
            1 => any_value(rng),
            _ => {
                let mut item = current.clone();
                if let Value::Object(map) = &mut item {
                    map.insert(junk_key(rng), Value::from(1));
                }
                item
            }
        },
        // Booleans have no wrong value of the right type: flip them.
        _ => match current {
            Value::Bool(b) => Value::Bool(!b),
            other => value_of_kind(rng, kind_of(other)),
        },
    }
}

/// `value` inside `levels` arrays or objects (keyed so no parser reads the key).
fn wrap(rng: &mut Rng, mut value: Value, levels: usize) -> Value {
    for _ in 0..levels {
        value = if rng.coin() {
            Value::Array(vec![value])
        } else {
            let mut map = Map::new();
            map.insert(format!("~nest{}", rng.below(4)), value);
            Value::Object(map)
        };
    }
    value
}

/// One change to one field at `path`, and its prediction.
fn mutate_field(
    rng: &mut Rng,
    message: &Message,
    object: &mut Map<String, Value>,
    path: Path,
) -> Expect {
    let current = get(object, path).cloned().expect("the path exists");
    let replacement = match rng.below(4) {
        0 => None,
        1 => {
            let here = kind_of(&current);
            let others: Vec<JsonKind> = JSON_KINDS.into_iter().filter(|&k| k != here).collect();
            let kind = *rng.pick(&others);
            Some(value_of_kind(rng, kind))
        }
        2 => Some(bad_value(rng, message, path, &current)),
        _ => {
            let levels = match rng.below(8) {
                0 => rng.range_usize(MAX_JSON_DEPTH - 8, MAX_JSON_DEPTH + 8),
                1 => rng.range_usize(150, 300),
                _ => rng.range_usize(1, 4),
            };
            Some(wrap(rng, current, levels))
        }
    };
    assert!(put(object, path, replacement));
    let top = path.top();
    expect_top(message, top, object.get(top))
}

/// Adds fields no parser reads here: unknown keys at every level, and known keys the type does
/// not use at the top.
fn add_ignored_fields(rng: &mut Rng, message: &Message, object: &mut Map<String, Value>) {
    let used = body_fields(message.body.type_name());
    for _ in 0..rng.range(1, 5) {
        let mut budget = 30;
        let value = gen_value(rng, 4, &mut budget);
        match rng.below(4) {
            0 => {
                let foreign: Vec<&str> = FIELD_NAMES[4..]
                    .iter()
                    .copied()
                    .filter(|f| !used.contains(f))
                    .collect();
                object.insert((*rng.pick(&foreign)).to_owned(), value);
            }
            1 => {
                if let Some(Value::Object(description)) = object.get_mut("description") {
                    description.insert(junk_key(rng), value);
                } else if let Some(Value::Array(items)) = object.get_mut("candidates") {
                    if !items.is_empty() {
                        let at = rng.index(items.len());
                        if let Value::Object(item) = &mut items[at] {
                            item.insert(junk_key(rng), value);
                        }
                    }
                }
            }
            _ => {
                object.insert(junk_key(rng), value);
            }
        }
    }
}

/// One mutation case: a valid message, checked unchanged, then changed and checked again.
fn mutation_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
    let message = gen_message(rng);
    let canonical = message.to_json();
    check(ctx, tally, &canonical, &Expect::Ok(message.clone()));

    let mut object = match to_value(&message) {
        Value::Object(object) => object,
        other => panic!("to_value gave a non-object {other}"),
    };
    let (text, expect) = match rng.below(20) {
        // One field changed (deleted, retyped, out of range, over a limit, nested).
        0..=9 => {
            let all = paths(&object);
            let path = *rng.pick(&all);
            let expect = mutate_field(rng, &message, &mut object, path);
            let value = Value::Object(object);
            let text = encode(rng, &value);
            let d = depth(&value);
            (text, expect.for_depth(d))
        }
        // Unknown fields anywhere, and known ones this type does not read: ignored.
        10 | 11 => {
            add_ignored_fields(rng, &message, &mut object);
            let value = Value::Object(object);
            let text = encode(rng, &value);
            (text, Expect::Ok(message).for_depth(depth(&value)))
        }
        // The whole message wrapped in something else.
        12 => {
            let inner = Value::Object(object);
            let (value, expect) = match rng.below(4) {
                0 => (Value::Array(vec![inner]), ProtocolError::NotAnObject),
                1 => (Value::String(inner.to_string()), ProtocolError::NotAnObject),
                2 => (gen_number(rng), ProtocolError::NotAnObject),
                _ => {
                    let mut map = Map::new();
                    map.insert(junk_key(rng), inner);
                    (Value::Object(map), ProtocolError::MissingVersion)
                }
            };
            let text = encode(rng, &value);
            (text, Expect::Err(expect).for_depth(depth(&value)))
        }
        // Any strict prefix of a JSON object is not JSON.
        13 => {
            let mut end = rng.index(canonical.len());
            while !canonical.is_char_boundary(end) {
                end -= 1;
            }
            (
                canonical[..end].to_owned(),
                Expect::Err(ProtocolError::NotJson),
            )
        }
        // Trailing whitespace is fine; anything else after the object is not.
        14 => {
            if rng.coin() {
                let pad = " \n\t\r".repeat(rng.range_usize(1, 4));
                (format!("{pad}{canonical}{pad}"), Expect::Ok(message))
            } else {
                let junk = *rng.pick(&["x", "{}", "1", ",", "]", "}", "\0", "//", "null"]);
                (
                    format!("{canonical}{junk}"),
                    Expect::Err(ProtocolError::NotJson),
                )
            }
        }
        // The same value in another valid encoding: whitespace, escapes, key order.
        15 | 16 => {
            let style = Style::random(rng);
            let mut text = String::new();
            write_json(rng, &Value::Object(object), &style, &mut text);
            (text, Expect::Ok(message))
        }
        // A duplicated key: serde_json keeps the last, but only the general properties are
        // required here.
        17 => {
            let all = paths(&object);
            let Path::Top(key) = *rng.pick(&all) else {
                return;
            };
            let mut budget = 4;
            let value = gen_value(rng, 2, &mut budget);
            let body = canonical.strip_suffix('}').expect("an object");
            let text = format!("{body},{}:{value}}}", Value::from(key));
            (text, Expect::Any)
        }
        // Several changes at once.
        _ => {
            for _ in 0..rng.range(2, 4) {
                let all = paths(&object);
                if all.is_empty() || rng.ratio(1, 4) {
                    add_ignored_fields(rng, &message, &mut object);
                } else {
                    let path = *rng.pick(&all);
                    mutate_field(rng, &message, &mut object, path);
                }
            }
            let text = encode(rng, &Value::Object(object));
            (text, Expect::Any)
        }
    };
    check(ctx, tally, &text, &expect);
}

// ---------------------------------------------------------------------------------------------
// Generator 1: bytes.

/// Pieces of JSON (and of messages) to glue together at random.
const JSON_SOUP: [&str; 36] = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    " ",
    "\"v\"",
    "1",
    "2",
    "-",
    "e",
    "0",
    ".",
    "null",
    "true",
    "false",
    "\\u",
    "d800",
    "\"type\"",
    "\"invite\"",
    "\"ringing\"",
    "\"candidates\"",
    "\"callId\"",
    "\"partyId\"",
    "\"sdp\"",
    "\"metadata\"",
    "\"0123456789abcdef0123456789abcdef\"",
    "\"tab-1\"",
    "\"seq\"",
    "\u{0}",
    "é",
    "\u{fffd}",
    "18446744073709551616",
];

fn bytes_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
    let bytes: Vec<u8> = match rng.below(8) {
        0 | 1 => {
            let len = rng.small_size(512);
            rng.bytes(len)
        }
        2 | 3 => {
            let mut text = String::new();
            for _ in 0..rng.small_size(64) {
                text.push_str(rng.pick_copied(&JSON_SOUP));
            }
            text.into_bytes()
        }
        _ => {
            // A valid message, damaged byte by byte.
            let mut bytes = gen_message(rng).to_json().into_bytes();
            for _ in 0..rng.range(1, 8) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.index(bytes.len());
                match rng.below(6) {
                    0 => bytes[at] ^= 1 << rng.below(8),
                    1 => bytes[at] = rng.below(256) as u8,
                    2 => {
                        let b = *rng.pick(&[
                            b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', 0, 0xff, 0xc3, 0x80,
                            b'0', b'-',
                        ]);
                        bytes.insert(at, b);
                    }
                    3 => {
                        let end = (at + rng.small_size(16)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                    4 => {
                        let end = (at + rng.small_size(32)).min(bytes.len());
                        let copy = bytes[at..end].to_vec();
                        let to = rng.index(bytes.len() + 1);
                        bytes.splice(to..to, copy);
                    }
                    _ => bytes.truncate(at),
                }
            }
            bytes
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    check(ctx, tally, &text, &Expect::Any);
}

/// How many kinds of long input `long_case` makes.
const LONG_VARIANTS: u64 = 10;

/// Inputs around and far over [`MAX_MESSAGE_BYTES`], and deep nesting that fits under it.
fn long_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng, variant: u64) {
    let max = MAX_MESSAGE_BYTES;
    let (text, expect) = match variant % LONG_VARIANTS {
        0 => {
            let len = max + 1 + rng.small_size(max);
            let text = String::from_utf8_lossy(&rng.bytes(len)).into_owned();
            (text, Expect::Any)
        }
        1 => {
            // A JSON string of exactly the limit: read, and found not to be an object.
            let text = format!("\"{}\"", "a".repeat(max - 2));
            (text, Expect::Err(ProtocolError::NotAnObject))
        }
        2 => (format!("\"{}\"", "a".repeat(max - 1)), Expect::Any),
        3 | 4 => {
            // A valid message padded with whitespace to exactly the limit, or one byte over.
            let message = gen_message(rng);
            let json = message.to_json();
            let total = if variant % LONG_VARIANTS == 3 {
                max
            } else {
                max + 1
            };
            let pad = total - json.len();
            let before = rng.index(pad + 1);
            let text = format!("{}{json}{}", " ".repeat(before), "\n".repeat(pad - before));
            (text, Expect::Ok(message))
        }
        5 => {
            // An answer with the largest SDP, padded by an unknown field to exactly the limit.
            let mut sdp = text_of_len(rng, MAX_SDP_BYTES);
            let probe = Value::String(sdp.clone()).to_string().len();
            if probe > MAX_SDP_BYTES + 2 + 1_000 {
                sdp = repeated("é", MAX_SDP_BYTES);
            }
            let message = Message {
                call_id: gen_call_id(rng),
                party_id: PartyId::new(&gen_party_id(rng)).unwrap(),
                to_party_id: None,
                body: Body::Answer { sdp },
            };
            let mut value = to_value(&message);
            let base = value.to_string().len();
            // `,"~pad":"..."` adds 10 bytes and the padding.
            value
                .as_object_mut()
                .unwrap()
                .insert("~pad".into(), "p".repeat(max - base - 10).into());
            let text = value.to_string();
            assert_eq!(text.len(), max, "the padding arithmetic");
            (text, Expect::Ok(message))
        }
        6 => {
            let n = max / 2;
            let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
            (text, Expect::Err(ProtocolError::NotJson))
        }
        7 => {
            let n = (max - 1) / 6;
            let text = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
            (text, Expect::Err(ProtocolError::NotJson))
        }
        8 => ("[".repeat(max), Expect::Err(ProtocolError::NotJson)),
        _ => {
            let text = String::from_utf8_lossy(&rng.bytes(4 * max)).into_owned();
            (text, Expect::Any)
        }
    };
    check(ctx, tally, &text, &expect);
}

// ---------------------------------------------------------------------------------------------
// Generator 2: JSON values, mostly shaped like messages.

fn candidate_value(candidate: &IceCandidate) -> Value {
    let mut map = Map::new();
    map.insert("candidate".into(), candidate.candidate.clone().into());
    if let Some(mid) = &candidate.sdp_mid {
        map.insert("sdpMid".into(), mid.clone().into());
    }
    if let Some(index) = candidate.sdp_m_line_index {
        map.insert("sdpMLineIndex".into(), index.into());
    }
    Value::Object(map)
}

/// A value for `field` that is often valid and otherwise near it.
fn plausible(rng: &mut Rng, field: &str) -> Value {
    let mut budget = 30;
    match field {
        "callId" => match rng.below(10) {
            0 => Value::String(random_text(rng, 40)),
            1 => Value::String(gen_call_id(rng).to_string().to_uppercase()),
            _ => Value::String(gen_call_id(rng).to_string()),
        },
        "partyId" | "selectedPartyId" => match rng.below(10) {
            0 => Value::String(random_text(rng, 80)),
            _ => Value::String(gen_party_id(rng)),
        },
        "kind" => Value::from(*rng.pick(&["audio", "video", "audio", "video", "Audio", ""])),
        "sdp" => match rng.below(10) {
            0 => Value::from(""),
            _ => Value::String(gen_sdp(rng)),
        },
        "lifetimeMs" => match rng.below(5) {
            0 => Value::from(*rng.pick(&[0, MIN_LIFETIME_MS - 1, MAX_LIFETIME_MS + 1, u64::MAX])),
            _ => Value::from(rng.range(MIN_LIFETIME_MS, MAX_LIFETIME_MS)),
        },
        "metadata" => gen_metadata(rng).unwrap_or(Value::Null),
        "reason" => match rng.below(8) {
            0 => Value::from("bored"),
            _ => Value::from(rng.pick(&EndReason::ALL).as_str()),
        },
        "candidates" => {
            let n = rng.small_size(MAX_CANDIDATES + 2);
            Value::Array(
                (0..n)
                    .map(|_| match rng.below(10) {
                        0 => gen_value(rng, 2, &mut budget),
                        _ => candidate_value(&gen_candidate(rng)),
                    })
                    .collect(),
            )
        }
        "end" | "audioMuted" | "videoMuted" | "screenSharing" => match rng.below(10) {
            0 => gen_value(rng, 1, &mut budget),
            _ => Value::Bool(rng.coin()),
        },
        "seq" => match rng.below(8) {
            0 => Value::from(u64::from(u32::MAX) + 1),
            _ => Value::from(gen_seq(rng)),
        },
        "description" => {
            let mut map = Map::new();
            if rng.ratio(9, 10) {
                map.insert(
                    "type".into(),
                    Value::from(*rng.pick(&["offer", "answer", "offer", "answer", "pranswer"])),
                );
            }
            if rng.ratio(9, 10) {
                map.insert("sdp".into(), plausible(rng, "sdp"));
            }
            Value::Object(map)
        }
        _ => gen_value(rng, 3, &mut budget),
    }
}

/// An object shaped like a message: `v`, a real or junk `type`, ids, and a mix of the fields
/// this type reads, fields it does not, and junk, each usually plausible and sometimes random.
fn gen_envelope(rng: &mut Rng) -> Value {
    let mut map = Map::new();
    let type_name: String = if rng.ratio(17, 20) {
        (*rng.pick(&TYPE_NAMES)).to_owned()
    } else {
        random_text(rng, 40)
    };
    if rng.ratio(19, 20) {
        let v = if rng.ratio(9, 10) {
            Value::from(PROTOCOL_VERSION)
        } else {
            any_value(rng)
        };
        map.insert("v".into(), v);
    }
    if rng.ratio(19, 20) {
        let t = if rng.ratio(19, 20) {
            Value::String(type_name.clone())
        } else {
            any_value(rng)
        };
        map.insert("type".into(), t);
    }
    for field in ["callId", "partyId"] {
        if rng.ratio(19, 20) {
            let value = if rng.ratio(19, 20) {
                plausible(rng, field)
            } else {
                any_value(rng)
            };
            map.insert(field.into(), value);
        }
    }
    let used = body_fields(&type_name);
    for &field in &FIELD_NAMES[4..] {
        let p = if used.contains(&field) { 0.93 } else { 0.04 };
        if rng.chance(p) {
            let value = if rng.ratio(9, 10) {
                plausible(rng, field)
            } else {
                any_value(rng)
            };
            map.insert(field.into(), value);
        }
    }
    for _ in 0..rng.small_size(3) {
        let mut budget = 20;
        let value = gen_value(rng, 3, &mut budget);
        map.insert(junk_key(rng), value);
    }
    Value::Object(map)
}

/// The part of the outcome that the envelope alone decides.
fn expect_envelope(value: &Value) -> Expect {
    let Some(object) = value.as_object() else {
        return Expect::Err(ProtocolError::NotAnObject);
    };
    match object.get("v").and_then(Value::as_u64) {
        None => return Expect::Err(ProtocolError::MissingVersion),
        Some(PROTOCOL_VERSION) => {}
        Some(version) => return Expect::Err(ProtocolError::UnsupportedVersion { version }),
    }
    match object.get("type").and_then(Value::as_str) {
        None => Expect::Err(ProtocolError::MissingType),
        Some(name) => match TYPE_NAMES.iter().find(|&&t| t == name) {
            Some(real) => Expect::OfType(real),
            None => Expect::Err(ProtocolError::UnknownType {
                name: truncated(name, MAX_REPORTED_TYPE_BYTES),
            }),
        },
    }
}

fn json_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
    let value = if rng.ratio(1, 4) {
        let mut budget = 200;
        gen_value(rng, 8, &mut budget)
    } else {
        gen_envelope(rng)
    };
    let (style, chaotic) = match rng.below(10) {
        0..=3 => (Style::CANONICAL, false),
        4..=7 => (Style::random(rng), false),
        _ => {
            let mut style = Style::random(rng);
            style.chaos = *rng.pick(&[0.02, 0.1, 0.5]);
            (style, true)
        }
    };
    let mut text = String::new();
    write_json(rng, &value, &style, &mut text);
    let expect = if chaotic {
        Expect::Any
    } else {
        expect_envelope(&reparsed(&value)).for_depth(depth(&value))
    };
    check(ctx, tally, &text, &expect);
}

// ---------------------------------------------------------------------------------------------
// The tests.

fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    let text = raw.trim().replace('_', "");
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={raw:?} is not a number")))
}

#[test]
fn parse_never_panics_and_keeps_its_promises() {
    let cases = env_u64("PEERCALL_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let seed = env_u64("PEERCALL_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let mut tally = Tally::default();
    for case in 0..cases {
        let mut rng = Rng::for_case(seed, case);
        // Of every 20 cases: 5 bytes, 7 JSON, 8 mutations.
        let generator = match case % 20 {
            0..=4 => "bytes",
            5..=11 => "json",
            _ => "mutations",
        };
        let ctx = Ctx {
            seed,
            cases,
            case,
            generator,
        };
        tally.cases += 1;
        let case_started = Instant::now();
        match generator {
            "bytes" if (case / 20) % 1_000 == 0 => {
                long_case(&ctx, &mut tally, &mut rng, case / 20_000);
            }
            "bytes" => bytes_case(&ctx, &mut tally, &mut rng),
            "json" => json_case(&ctx, &mut tally, &mut rng),
            _ => mutation_case(&ctx, &mut tally, &mut rng),
        }
        let stats = tally.generators.entry(generator).or_default();
        stats.cases += 1;
        stats.time += case_started.elapsed();
    }
    let elapsed = started.elapsed();
    let errors: u64 = tally.errors.values().sum();
    let by_generator: Vec<String> = tally
        .generators
        .iter()
        .map(|(name, g)| {
            format!(
                "{name} {} ({} ok, {:.2}s)",
                g.cases,
                g.ok,
                g.time.as_secs_f64()
            )
        })
        .collect();
    eprintln!(
        "protocol fuzz: {} cases, {} ok, {} errors by code: {:?} \
         [{} parses, {} with an exactly predicted result; cases by generator: {}; \
         seed {:#x}; {:.2}s]; peercall::json against serde_json: {} inputs, {} read alike by both, \
         the rest refused by both but {} (out of a double's range)",
        tally.cases,
        tally.ok,
        errors,
        tally.errors,
        tally.parses,
        tally.predicted,
        by_generator.join(", "),
        seed,
        elapsed.as_secs_f64(),
        tally.json_checked,
        tally.json_accepted,
        tally.json_out_of_range
    );
    assert_eq!(tally.ok + errors, tally.parses);
    assert_eq!(tally.json_checked, tally.parses);
    // The generators must reach every outcome, or they are not testing what they claim.
    if cases >= 20_000 {
        for code in ERROR_CODES.iter().filter(|&&c| c != "invalid-user-id") {
            assert!(
                tally.errors.get(code).copied().unwrap_or(0) > 0,
                "no case produced {code}: the generators have lost coverage"
            );
        }
        assert!(
            tally.json_accepted > 0 && tally.json_accepted < tally.json_checked,
            "the JSON oracle saw only one outcome: the generators have lost coverage"
        );
        for (name, g) in &tally.generators {
            assert!(
                g.ok > 0,
                "no {name} case parsed: the generators have lost coverage"
            );
        }
    }
}

fn fixed_ctx(generator: &'static str, case: u64) -> Ctx {
    Ctx {
        seed: 0,
        cases: 0,
        case,
        generator,
    }
}

#[test]
fn long_inputs_around_the_size_limit() {
    let mut tally = Tally::default();
    for round in 0..3 {
        for variant in 0..LONG_VARIANTS {
            let case = round * LONG_VARIANTS + variant;
            let mut rng = Rng::for_case(DEFAULT_SEED, case);
            long_case(&fixed_ctx("long", case), &mut tally, &mut rng, variant);
        }
    }
    assert!(tally.ok > 0);
    assert!(tally.errors["message-too-large"] > 0);
}

#[test]
fn deleting_or_retyping_any_field_of_any_message_is_reported_exactly() {
    let mut tally = Tally::default();
    for case in 0..300 {
        let mut rng = Rng::for_case(DEFAULT_SEED ^ 0xde1e7e, case);
        let message = gen_message(&mut rng);
        let Value::Object(object) = to_value(&message) else {
            panic!("not an object")
        };
        for path in paths(&object) {
            let current = get(&object, path).unwrap().clone();
            let mut variants = vec![None];
            for kind in JSON_KINDS {
                if kind != kind_of(&current) {
                    variants.push(Some(value_of_kind(&mut rng, kind)));
                }
            }
            for replacement in variants {
                let mut changed = object.clone();
                put(&mut changed, path, replacement);
                let expect = expect_top(&message, path.top(), changed.get(path.top()));
                let text = Value::Object(changed).to_string();
                check(&fixed_ctx("each-field", case), &mut tally, &text, &expect);
            }
        }
    }
    assert_eq!(tally.predicted, tally.parses);
}

#[test]
fn specific_mutations_give_specific_errors() {
    let mut rng = Rng::new(1);
    let ctx = fixed_ctx("specific", 0);
    let mut tally = Tally::default();
    let message = Message {
        call_id: gen_call_id(&mut rng),
        party_id: PartyId::new("tab-1").unwrap(),
        to_party_id: None,
        body: Body::Answer { sdp: "v=0".into() },
    };
    let edit = |key: &str, value: Option<Value>| {
        let mut value_map = to_value(&message);
        let object = value_map.as_object_mut().unwrap();
        match value {
            Some(v) => object.insert(key.into(), v),
            None => object.remove(key),
        };
        value_map.to_string()
    };
    let cases: Vec<(String, ProtocolError)> = vec![
        (
            edit("callId", None),
            ProtocolError::MissingField { field: "callId" },
        ),
        (
            edit("partyId", None),
            ProtocolError::MissingField { field: "partyId" },
        ),
        (
            edit("sdp", None),
            ProtocolError::MissingField { field: "sdp" },
        ),
        (edit("v", None), ProtocolError::MissingVersion),
        (
            edit("v", Some(2.into())),
            ProtocolError::UnsupportedVersion { version: 2 },
        ),
        (edit("v", Some(1.0.into())), ProtocolError::MissingVersion),
        (edit("v", Some("1".into())), ProtocolError::MissingVersion),
        (edit("type", None), ProtocolError::MissingType),
        (edit("type", Some(7.into())), ProtocolError::MissingType),
        (
            edit("type", Some("Answer".into())),
            ProtocolError::UnknownType {
                name: "Answer".into(),
            },
        ),
        (
            edit("sdp", Some("".into())),
            ProtocolError::InvalidValue { field: "sdp" },
        ),
        (
            edit("sdp", Some("x".repeat(MAX_SDP_BYTES + 1).into())),
            ProtocolError::TooLong {
                field: "sdp",
                len: MAX_SDP_BYTES + 1,
                max: MAX_SDP_BYTES,
            },
        ),
        (
            edit("sdp", Some(true.into())),
            ProtocolError::WrongType {
                field: "sdp",
                expected: A_STRING,
            },
        ),
        (
            edit("partyId", Some("x".repeat(MAX_PARTY_ID_BYTES + 1).into())),
            ProtocolError::InvalidPartyId,
        ),
        (
            edit(
                "callId",
                Some(message.call_id.to_string().to_uppercase().into()),
            ),
            ProtocolError::InvalidCallId,
        ),
    ];
    for (text, error) in cases {
        check(&ctx, &mut tally, &text, &Expect::Err(error));
    }
    check(
        &ctx,
        &mut tally,
        &message.to_json(),
        &Expect::Ok(message.clone()),
    );
    check(
        &ctx,
        &mut tally,
        &edit("partyId", Some("x".repeat(MAX_PARTY_ID_BYTES).into())),
        &Expect::Ok(with(&message, |m| {
            m.party_id = PartyId::new(&"x".repeat(MAX_PARTY_ID_BYTES)).unwrap();
        })),
    );
}

/// Pins down the nesting limit the predictions assume (serde_json's, not peercall's).
#[test]
fn serde_json_nesting_limit() {
    let invite = |levels: usize| {
        let metadata = (0..levels).fold(Value::from(1), |v, _| Value::Array(vec![v]));
        let message = Message {
            call_id: CallId([7; 16]),
            party_id: PartyId::new("p").unwrap(),
            to_party_id: None,
            body: Body::Invite {
                kind: CallKind::Audio,
                sdp: "v=0".into(),
                lifetime_ms: 30_000,
                metadata: None,
            },
        };
        let mut value = to_value(&message);
        value
            .as_object_mut()
            .unwrap()
            .insert("metadata".into(), metadata);
        assert_eq!(depth(&value), 1 + levels);
        Message::parse(&value.to_string())
    };
    assert!(invite(MAX_JSON_DEPTH - 1).is_ok());
    assert_eq!(invite(MAX_JSON_DEPTH), Err(ProtocolError::NotJson));
}
