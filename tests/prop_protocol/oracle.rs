//! The oracle: what one changed field of a valid message parses to.

use super::*;

pub(crate) fn with(message: &Message, edit: impl FnOnce(&mut Message)) -> Message {
    let mut changed = message.clone();
    edit(&mut changed);
    changed
}

pub(crate) fn ok(message: Message) -> Expect {
    Expect::Ok(message)
}

pub(crate) fn err(error: ProtocolError) -> Expect {
    Expect::Err(error)
}

pub(crate) fn wrong_type(field: &'static str, expected: &'static str) -> ProtocolError {
    ProtocolError::WrongType { field, expected }
}

/// The rules for an SDP string.
pub(crate) fn sdp_rule(sdp: &str) -> Result<String, ProtocolError> {
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
pub(crate) fn expect_item(item: &Value) -> Result<IceCandidate, Vec<ProtocolError>> {
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

pub(crate) fn expect_candidates(message: &Message, list: &Value) -> Expect {
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

pub(crate) fn expect_description(message: &Message, description: &Value) -> Expect {
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
pub(crate) fn expect_top(message: &Message, key: &'static str, value: Option<&Value>) -> Expect {
    let missing = ProtocolError::MissingField { field: key };
    let envelope = ["v", "type", "callId", "partyId", "toPartyId"].contains(&key);
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
        // Optional: absent or null is no receiving instance; present, a valid party id.
        "toPartyId" => match value {
            None | Some(Value::Null) => ok(with(message, |m| m.to_party_id = None)),
            Some(Value::String(text)) if is_valid_party_id(text) => ok(with(message, |m| {
                m.to_party_id = Some(PartyId::new(text).expect("a valid party id"));
            })),
            Some(Value::String(_)) => err(ProtocolError::InvalidPartyId),
            Some(_) => err(wrong_type(key, A_STRING)),
        },
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
        // Optional booleans (`media`'s `onHold` and `recording`, `invite`'s and `ringing`'s
        // `preconnect`): absent is false, present must be a boolean (`null` included).
        "onHold" | "recording" | "preconnect" => match value.map(Value::as_bool) {
            Some(None) => err(wrong_type(key, A_BOOLEAN)),
            absent_or_bool => ok(with_flag(
                message,
                key,
                absent_or_bool.flatten().unwrap_or(false),
            )),
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
pub(crate) fn expect_string(message: &Message, key: &'static str, text: &str) -> Expect {
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
                Body::Invite { sdp, .. }
                | Body::Answer { sdp }
                | Body::PreconnectAnswer { sdp }
                | Body::Reoffer { sdp } => *sdp = new_sdp,
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
