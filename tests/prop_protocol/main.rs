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
//! For every input: parsing does not panic; an `Ok` message respects every limit constant, is
//! written by `to_json` with exactly its type's fields (the optional booleans, `onHold` and
//! `preconnect`, only when true) and survives `to_json` -> `parse` unchanged; an `Err` has a
//! known `code()`, a non-empty message and self-consistent fields; input over
//! [`MAX_MESSAGE_BYTES`] is always `MessageTooLarge`. A full run must parse every type, and each
//! optional boolean set, at least once.
//!
//! Run `cargo test --test prop_protocol -- --nocapture` to see the summary line.

#[path = "../support/mod.rs"]
mod support;

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
use serde_json::{Map, Value};
use support::env_u64;
use support::rng::Rng;

mod bytes_gen;
mod checking;
mod json_gen;
mod mutations;
mod oracle;
mod random;
mod spec;
mod writing;
use bytes_gen::*;
use checking::*;
use json_gen::*;
use mutations::*;
use oracle::*;
use random::*;
use spec::*;
use writing::*;

// ---------------------------------------------------------------------------------------------
// The tests.

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
        "protocol fuzz: {} cases, {} ok ({:?}; optional booleans set: {:?}), {} errors by code: {:?} \
         [{} parses, {} with an exactly predicted result; cases by generator: {}; \
         seed {:#x}; {:.2}s]; peercall::json against serde_json: {} inputs, {} read alike by both, \
         the rest refused by both but {} (out of a double's range)",
        tally.cases,
        tally.ok,
        tally.ok_by_type,
        tally.ok_with_flag,
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
        for type_name in TYPE_NAMES {
            assert!(
                tally.ok_by_type.get(type_name).copied().unwrap_or(0) > 0,
                "no {type_name} message parsed: the generators have lost coverage"
            );
            for key in optional_fields(type_name) {
                let flag = format!("{type_name} {key}");
                assert!(
                    tally.ok_with_flag.get(&flag).copied().unwrap_or(0) > 0,
                    "no {type_name} parsed with {key} set: the generators have lost coverage"
                );
            }
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
        // An optional field left out, set to a value of every JSON type.
        for key in absent_optional_fields(&message, &object) {
            for kind in JSON_KINDS {
                let mut changed = object.clone();
                changed.insert(key.to_owned(), value_of_kind(&mut rng, kind));
                let expect = expect_top(&message, key, changed.get(key));
                let text = Value::Object(changed).to_string();
                check(&fixed_ctx("each-field", case), &mut tally, &text, &expect);
            }
        }
    }
    assert_eq!(tally.predicted, tally.parses);
}

/// The rules of one optional boolean `key` of `message`'s type: written exactly when true, read
/// as false when absent, as itself when a boolean, and a wrong-type error for anything else
/// (`null` included); with the flag unset and set, and every other field as `message` has it.
fn check_optional_boolean(ctx: &Ctx, tally: &mut Tally, message: &Message, key: &'static str) {
    assert!(optional_fields(message.body.type_name()).contains(&key));
    for set in [false, true] {
        let message = with_flag(message, key, set);
        let value = to_value(&message);
        let object = value.as_object().unwrap();
        assert_eq!(
            object.get(key),
            set.then_some(&Value::Bool(true)),
            "{key} of a {} is written exactly when set",
            message.body.type_name()
        );
        check(ctx, tally, &message.to_json(), &Expect::Ok(message.clone()));
        let wrong = || Expect::Err(wrong_type(key, A_BOOLEAN));
        let cases: [(Option<Value>, Expect); 9] = [
            (None, Expect::Ok(with_flag(&message, key, false))),
            (
                Some(Value::Bool(false)),
                Expect::Ok(with_flag(&message, key, false)),
            ),
            (
                Some(Value::Bool(true)),
                Expect::Ok(with_flag(&message, key, true)),
            ),
            (Some(Value::Null), wrong()),
            (Some(Value::from(1)), wrong()),
            (Some(Value::from(0)), wrong()),
            (Some(Value::from("true")), wrong()),
            (Some(Value::Array(vec![])), wrong()),
            (Some(Value::Object(Map::new())), wrong()),
        ];
        for (replacement, expect) in cases {
            let mut changed = object.clone();
            match replacement {
                Some(v) => changed.insert(key.into(), v),
                None => changed.remove(key),
            };
            // The oracle agrees with the table.
            let predicted = expect_top(&message, key, changed.get(key));
            assert_eq!(
                format!("{predicted:?}"),
                format!("{expect:?}"),
                "the oracle on {key} = {:?}",
                changed.get(key)
            );
            check(ctx, tally, &Value::Object(changed).to_string(), &expect);
        }
    }
}

/// Every type that does not read `key` ignores it, whatever it holds.
fn check_ignored_elsewhere(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng, key: &'static str) {
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < TYPE_NAMES.len() {
        let message = gen_message(rng);
        let type_name = message.body.type_name();
        seen.insert(type_name);
        if body_fields(type_name).contains(&key) {
            continue;
        }
        for kind in JSON_KINDS {
            let mut value = to_value(&message);
            value
                .as_object_mut()
                .unwrap()
                .insert(key.into(), value_of_kind(rng, kind));
            check(ctx, tally, &value.to_string(), &Expect::Ok(message.clone()));
        }
    }
}

/// `media`'s optional boolean `key`: read as false when absent, a wrong-type error when not a
/// boolean, written only when true, and ignored on every other type.
fn check_media_flag(seed: u64, name: &'static str, key: &'static str) {
    let mut rng = Rng::new(seed);
    let ctx = fixed_ctx(name, 0);
    let mut tally = Tally::default();
    let message = Message {
        call_id: gen_call_id(&mut rng),
        party_id: PartyId::new("tab-1").unwrap(),
        to_party_id: None,
        body: Body::Media {
            seq: 3,
            state: MediaState {
                audio_muted: true,
                ..MediaState::default()
            },
        },
    };
    check_optional_boolean(&ctx, &mut tally, &message, key);
    // Another type ignores it, whatever it holds.
    check_ignored_elsewhere(&ctx, &mut tally, &mut rng, key);
    assert_eq!(tally.predicted, tally.parses);
}

#[test]
fn on_hold_is_optional_and_written_only_when_set() {
    check_media_flag(2, "on-hold", "onHold");
}

#[test]
fn recording_is_optional_and_written_only_when_set() {
    check_media_flag(4, "recording", "recording");
}

#[test]
fn preconnect_is_optional_and_written_only_when_set() {
    let mut rng = Rng::new(3);
    let ctx = fixed_ctx("preconnect", 0);
    let mut tally = Tally::default();
    let envelope = |rng: &mut Rng, body: Body| Message {
        call_id: gen_call_id(rng),
        party_id: PartyId::new("tab-1").unwrap(),
        to_party_id: rng.coin().then(|| PartyId::new("phone_2").unwrap()),
        body,
    };
    let invite = |metadata: Option<&str>| Body::Invite {
        kind: CallKind::Video,
        sdp: "v=0".into(),
        lifetime_ms: 30_000,
        metadata: metadata.and_then(peercall::json::parse),
        preconnect: false,
    };
    for body in [
        invite(None),
        invite(Some(r#"{"preconnect": 1, "room": "r"}"#)),
        Body::Ringing { preconnect: false },
    ] {
        let message = envelope(&mut rng, body);
        check_optional_boolean(&ctx, &mut tally, &message, "preconnect");
    }
    // Every other type ignores it (`preconnect` itself and `accept` included), whatever it holds.
    check_ignored_elsewhere(&ctx, &mut tally, &mut rng, "preconnect");
    assert_eq!(tally.predicted, tally.parses);
}

#[test]
fn preconnect_and_accept_carry_nothing_but_the_envelope() {
    let mut rng = Rng::new(4);
    let ctx = fixed_ctx("no-fields", 0);
    let mut tally = Tally::default();
    for body in [Body::Preconnect, Body::Accept] {
        let name = body.type_name();
        let message = Message {
            call_id: gen_call_id(&mut rng),
            party_id: PartyId::new("tab-1").unwrap(),
            to_party_id: Some(PartyId::new("phone").unwrap()),
            body,
        };
        let expected = format!(
            r#"{{"v":1,"type":"{name}","callId":"{}","partyId":"tab-1","toPartyId":"phone"}}"#,
            message.call_id
        );
        assert_eq!(message.to_json(), expected);
        check(&ctx, &mut tally, &expected, &Expect::Ok(message.clone()));
        // Fields of other types, even wrong for them, are ignored.
        let mut value = to_value(&message);
        let object = value.as_object_mut().unwrap();
        object.insert("sdp".into(), Value::from(""));
        object.insert("preconnect".into(), Value::Null);
        object.insert("reason".into(), Value::from(7));
        check(&ctx, &mut tally, &value.to_string(), &Expect::Ok(message));
    }
    // The names are exact.
    let mut value = to_value(&Message {
        call_id: gen_call_id(&mut rng),
        party_id: PartyId::new("tab-1").unwrap(),
        to_party_id: None,
        body: Body::Reoffer { sdp: "v=0".into() },
    });
    for name in [
        "preconnectAnswer",
        "preconnect_answer",
        "Preconnect",
        "pre-connect",
        "accepted",
        "re-offer",
        "reOffer",
        "preconnect-answer ",
    ] {
        value
            .as_object_mut()
            .unwrap()
            .insert("type".into(), Value::from(name));
        check(
            &ctx,
            &mut tally,
            &value.to_string(),
            &Expect::Err(ProtocolError::UnknownType { name: name.into() }),
        );
    }
    assert_eq!(tally.predicted, tally.parses);
}

#[test]
fn specific_mutations_give_specific_errors() {
    let mut rng = Rng::new(1);
    let ctx = fixed_ctx("specific", 0);
    let mut tally = Tally::default();
    // The three types whose one field is an `sdp`: the same rules for each.
    for body in [
        Body::Answer { sdp: "v=0".into() },
        Body::PreconnectAnswer { sdp: "v=0".into() },
        Body::Reoffer { sdp: "v=0".into() },
    ] {
        let message = Message {
            call_id: gen_call_id(&mut rng),
            party_id: PartyId::new("tab-1").unwrap(),
            to_party_id: None,
            body,
        };
        specific_mutations_of(&ctx, &mut tally, &message);
    }
    assert_eq!(tally.predicted, tally.parses);
}

fn specific_mutations_of(ctx: &Ctx, tally: &mut Tally, message: &Message) {
    let type_name = message.body.type_name();
    let capitalised = format!("{}{}", type_name[..1].to_uppercase(), &type_name[1..]);
    let edit = |key: &str, value: Option<Value>| {
        let mut value_map = to_value(message);
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
            edit("type", Some(capitalised.clone().into())),
            ProtocolError::UnknownType { name: capitalised },
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
        check(ctx, tally, &text, &Expect::Err(error));
    }
    check(ctx, tally, &message.to_json(), &Expect::Ok(message.clone()));
    check(
        ctx,
        tally,
        &edit("partyId", Some("x".repeat(MAX_PARTY_ID_BYTES).into())),
        &Expect::Ok(with(message, |m| {
            m.party_id = PartyId::new(&"x".repeat(MAX_PARTY_ID_BYTES)).unwrap();
        })),
    );
    // An SDP of exactly the limit, in one- and two-byte characters.
    for sdp in [repeated("x", MAX_SDP_BYTES), repeated("é", MAX_SDP_BYTES)] {
        check(
            ctx,
            tally,
            &edit("sdp", Some(sdp.clone().into())),
            &Expect::Ok(with(message, |m| match &mut m.body {
                Body::Answer { sdp: slot }
                | Body::PreconnectAnswer { sdp: slot }
                | Body::Reoffer { sdp: slot } => *slot = sdp,
                _ => unreachable!(),
            })),
        );
    }
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
                preconnect: false,
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
