//! Generator 2: JSON values, mostly shaped like messages.

use super::*;

pub(crate) fn candidate_value(candidate: &IceCandidate) -> Value {
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
pub(crate) fn plausible(rng: &mut Rng, field: &str) -> Value {
    let mut budget = 30;
    match field {
        "callId" => match rng.below(10) {
            0 => Value::String(random_text(rng, 40)),
            1 => Value::String(gen_call_id(rng).to_string().to_uppercase()),
            _ => Value::String(gen_call_id(rng).to_string()),
        },
        "partyId" | "toPartyId" | "selectedPartyId" => match rng.below(10) {
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
        "end" | "audioMuted" | "videoMuted" | "screenSharing" | "onHold" | "recording"
        | "preconnect" => match rng.below(10) {
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
pub(crate) fn gen_envelope(rng: &mut Rng) -> Value {
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
    // The optional envelope field: the receiving instance.
    if rng.ratio(1, 3) {
        let value = if rng.ratio(19, 20) {
            plausible(rng, "toPartyId")
        } else {
            any_value(rng)
        };
        map.insert("toPartyId".into(), value);
    }
    let used = body_fields(&type_name);
    for &field in &FIELD_NAMES[5..] {
        let p = if optional_fields(&type_name).contains(&field) {
            0.5
        } else if used.contains(&field) {
            0.93
        } else {
            0.04
        };
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
pub(crate) fn expect_envelope(value: &Value) -> Expect {
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

pub(crate) fn json_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
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
