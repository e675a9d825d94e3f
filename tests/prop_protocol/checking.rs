//! Checking one input.

use super::*;

#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) seed: u64,
    pub(crate) cases: u64,
    pub(crate) case: u64,
    pub(crate) generator: &'static str,
}

impl Ctx {
    pub(crate) fn fail(&self, text: &str, problem: &str) -> ! {
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
pub(crate) fn clip(text: &str, max: usize) -> String {
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

pub(crate) fn show(value: &impl Debug) -> String {
    clip(&format!("{value:?}"), 1500)
}

#[derive(Default)]
pub(crate) struct GeneratorStats {
    pub(crate) cases: u64,
    /// Parses that returned `Ok`.
    pub(crate) ok: u64,
    pub(crate) time: Duration,
}

#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) cases: u64,
    pub(crate) parses: u64,
    pub(crate) ok: u64,
    pub(crate) errors: BTreeMap<&'static str, u64>,
    /// Per generator.
    pub(crate) generators: BTreeMap<&'static str, GeneratorStats>,
    /// Parses that returned `Ok`, by message type.
    pub(crate) ok_by_type: BTreeMap<&'static str, u64>,
    /// Of those, how many had each optional boolean set, by type and field (`"ringing
    /// preconnect"`).
    pub(crate) ok_with_flag: BTreeMap<String, u64>,
    /// Inputs whose exact result was predicted.
    pub(crate) predicted: u64,
    /// Inputs `peercall::json::parse` was checked on against serde_json.
    pub(crate) json_checked: u64,
    /// Of those, how many both accepted (and read the same value).
    pub(crate) json_accepted: u64,
    /// Of those, how many serde_json refused only for a number out of a double's range.
    pub(crate) json_out_of_range: u64,
}

/// What a case predicts `parse` returns.
#[derive(Debug)]
pub(crate) enum Expect {
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
    pub(crate) fn errors(mut errors: Vec<ProtocolError>) -> Expect {
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
    pub(crate) fn for_depth(self, json_depth: usize) -> Expect {
        if json_depth > MAX_JSON_DEPTH {
            Expect::Err(ProtocolError::NotJson)
        } else {
            self
        }
    }
}

pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

pub(crate) fn parse_no_panic(ctx: &Ctx, text: &str, what: &str) -> Result<Message, ProtocolError> {
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
pub(crate) fn check(ctx: &Ctx, tally: &mut Tally, text: &str, expect: &Expect) {
    check_json_against_serde(ctx, tally, text);
    let result = parse_no_panic(ctx, text, "on the case input");
    tally.parses += 1;
    let entry = tally.generators.entry(ctx.generator).or_default();
    match &result {
        Ok(message) => {
            tally.ok += 1;
            entry.ok += 1;
            let type_name = message.body.type_name();
            *tally.ok_by_type.entry(type_name).or_default() += 1;
            for &key in optional_fields(type_name) {
                if optional_flag(message, key) == Some(true) {
                    *tally
                        .ok_with_flag
                        .entry(format!("{type_name} {key}"))
                        .or_default() += 1;
                }
            }
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
pub(crate) fn limit_violations(message: &Message) -> Vec<String> {
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
        Body::Ringing { .. } | Body::Media { .. } | Body::Preconnect | Body::Accept => {}
        Body::Answer { sdp }
        | Body::PreconnectAnswer { sdp }
        | Body::Reoffer { sdp }
        | Body::Negotiate { sdp, .. } => {
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

/// What `to_json` wrote against what it must write for `message`: the envelope, `toPartyId`
/// exactly when there is one, every required field of the type, `metadata` exactly when there is
/// some, each optional boolean (`onHold`, `preconnect`) exactly when it is true and then as `true`,
/// and nothing else.
pub(crate) fn written_field_violations(message: &Message, json: &str) -> Vec<String> {
    // The top-level keys, with the booleans among their values, as serde_json reads them (or,
    // when `metadata` holds a number out of a double's range, which serde_json refuses, as
    // peercall::json does: the one documented difference between the two).
    let object: BTreeMap<String, Option<bool>> = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(object)) => object
            .iter()
            .map(|(key, value)| (key.clone(), value.as_bool()))
            .collect(),
        Err(e) if e.to_string().starts_with("number out of range") => {
            match peercall::json::parse(json)
                .as_ref()
                .and_then(|v| v.as_object())
            {
                Some(object) => object
                    .iter()
                    .map(|(key, value)| (key.to_owned(), value.as_bool()))
                    .collect(),
                None => return vec!["not a JSON object to peercall::json".to_owned()],
            }
        }
        other => return vec![format!("not a JSON object: {}", show(&other))],
    };
    let type_name = message.body.type_name();
    let fields = body_fields(type_name);
    let mut problems = Vec::new();
    for key in object.keys() {
        let envelope = ["v", "type", "callId", "partyId", "toPartyId"].contains(&key.as_str());
        if !envelope && !fields.contains(&key.as_str()) {
            problems.push(format!("{key:?} written on a {type_name}"));
        }
    }
    for key in ["v", "type", "callId", "partyId"] {
        if !object.contains_key(key) {
            problems.push(format!("{key:?} left out"));
        }
    }
    if object.contains_key("toPartyId") != message.to_party_id.is_some() {
        problems.push(format!(
            "toPartyId written: {}, set: {}",
            object.contains_key("toPartyId"),
            message.to_party_id.is_some()
        ));
    }
    for &key in fields {
        let written = object.get(key);
        if optional_fields(type_name).contains(&key) {
            let set = optional_flag(message, key) == Some(true);
            if written != set.then_some(&Some(true)) {
                problems.push(format!(
                    "optional {key:?} is {set} but written as {written:?}"
                ));
            }
        } else if key == "metadata" {
            let some = matches!(
                &message.body,
                Body::Invite {
                    metadata: Some(_),
                    ..
                }
            );
            if written.is_some() != some {
                problems.push(format!(
                    "metadata written: {}, set: {some}",
                    written.is_some()
                ));
            }
        } else if written.is_none() {
            problems.push(format!("required {key:?} left out"));
        }
    }
    problems
}

pub(crate) fn check_message(ctx: &Ctx, text: &str, message: &Message) {
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
    let problems = written_field_violations(message, &json);
    if !problems.is_empty() {
        ctx.fail(
            text,
            &format!(
                "to_json wrote the wrong fields: {}\nmessage: {}\nto_json: {}",
                problems.join("; "),
                show(message),
                clip(&json, 1500)
            ),
        );
    }
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
pub(crate) fn metadata_drift_hint(a: &Message, b: &Message) -> &'static str {
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

pub(crate) fn check_error(ctx: &Ctx, text: &str, error: &ProtocolError) {
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
