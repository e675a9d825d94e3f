//! Mutations of valid messages.

use super::*;

/// Where a field sits in a message's JSON value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path {
    Top(&'static str),
    Description(&'static str),
    Candidate(usize, &'static str),
    Item(usize),
}

impl Path {
    /// The top-level field containing this one.
    pub(crate) fn top(self) -> &'static str {
        match self {
            Path::Top(key) => key,
            Path::Description(_) => "description",
            Path::Candidate(..) | Path::Item(_) => "candidates",
        }
    }
}

/// Every known field of `object`, at every level.
pub(crate) fn paths(object: &Map<String, Value>) -> Vec<Path> {
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

pub(crate) fn get(object: &Map<String, Value>, path: Path) -> Option<&Value> {
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
pub(crate) fn put(object: &mut Map<String, Value>, path: Path, value: Option<Value>) -> bool {
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
pub(crate) enum JsonKind {
    Null,
    Bool,
    UInt,
    OtherNumber,
    Str,
    Array,
    Object,
}

pub(crate) const JSON_KINDS: [JsonKind; 7] = [
    JsonKind::Null,
    JsonKind::Bool,
    JsonKind::UInt,
    JsonKind::OtherNumber,
    JsonKind::Str,
    JsonKind::Array,
    JsonKind::Object,
];

pub(crate) fn kind_of(value: &Value) -> JsonKind {
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

pub(crate) fn value_of_kind(rng: &mut Rng, kind: JsonKind) -> Value {
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
pub(crate) fn any_value(rng: &mut Rng) -> Value {
    let kind = *rng.pick(&JSON_KINDS);
    value_of_kind(rng, kind)
}

/// A key no v1 parser reads.
pub(crate) fn junk_key(rng: &mut Rng) -> String {
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
pub(crate) fn bad_value(rng: &mut Rng, message: &Message, path: Path, current: &Value) -> Value {
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
        (Path::Top(_), "partyId" | "toPartyId" | "selectedPartyId") => {
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
pub(crate) fn wrap(rng: &mut Rng, mut value: Value, levels: usize) -> Value {
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
pub(crate) fn mutate_field(
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

/// Sets an optional field this message leaves out (`onHold` of a `media` written with the hold
/// off, `preconnect` of an `invite` or a `ringing` written without it) to a boolean, to `null`
/// or to a value of another type, and predicts the result.
pub(crate) fn add_optional_field(
    rng: &mut Rng,
    message: &Message,
    object: &mut Map<String, Value>,
    key: &'static str,
) -> Expect {
    let value = match rng.below(4) {
        0 | 1 => Value::Bool(rng.coin()),
        _ => any_value(rng),
    };
    object.insert(key.to_owned(), value);
    expect_top(message, key, object.get(key))
}

/// The optional fields of `message`'s type that its JSON leaves out.
pub(crate) fn absent_optional_fields(
    message: &Message,
    object: &Map<String, Value>,
) -> Vec<&'static str> {
    optional_fields(message.body.type_name())
        .iter()
        .copied()
        .filter(|key| !object.contains_key(*key))
        .collect()
}

/// Adds fields no parser reads here: unknown keys at every level, and known keys the type does
/// not use at the top.
pub(crate) fn add_ignored_fields(
    rng: &mut Rng,
    message: &Message,
    object: &mut Map<String, Value>,
) {
    let used = body_fields(message.body.type_name());
    for _ in 0..rng.range(1, 5) {
        let mut budget = 30;
        let value = gen_value(rng, 4, &mut budget);
        match rng.below(4) {
            0 => {
                let foreign: Vec<&str> = FIELD_NAMES[5..]
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
pub(crate) fn mutation_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
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
            let absent = absent_optional_fields(&message, &object);
            let expect = if !absent.is_empty() && rng.ratio(1, 4) {
                let key = *rng.pick(&absent);
                add_optional_field(rng, &message, &mut object, key)
            } else {
                let path = *rng.pick(&all);
                mutate_field(rng, &message, &mut object, path)
            };
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
