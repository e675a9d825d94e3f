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

#[test]
fn on_hold_is_optional_and_written_only_when_set() {
    let mut rng = Rng::new(2);
    let ctx = fixed_ctx("on-hold", 0);
    let mut tally = Tally::default();
    for on_hold in [false, true] {
        let message = Message {
            call_id: gen_call_id(&mut rng),
            party_id: PartyId::new("tab-1").unwrap(),
            to_party_id: None,
            body: Body::Media {
                seq: 3,
                state: MediaState {
                    audio_muted: true,
                    video_muted: false,
                    screen_sharing: false,
                    on_hold,
                },
            },
        };
        let value = to_value(&message);
        let object = value.as_object().unwrap();
        assert_eq!(
            object.get("onHold"),
            on_hold.then_some(&Value::Bool(true)),
            "onHold is written exactly when set"
        );
        check(
            &ctx,
            &mut tally,
            &message.to_json(),
            &Expect::Ok(message.clone()),
        );
        let held = |b: bool| {
            with(&message, |m| {
                if let Body::Media { state, .. } = &mut m.body {
                    state.on_hold = b;
                }
            })
        };
        let wrong = || {
            Expect::Err(ProtocolError::WrongType {
                field: "onHold",
                expected: A_BOOLEAN,
            })
        };
        let cases: [(Option<Value>, Expect); 7] = [
            (None, Expect::Ok(held(false))),
            (Some(Value::Bool(false)), Expect::Ok(held(false))),
            (Some(Value::Bool(true)), Expect::Ok(held(true))),
            (Some(Value::Null), wrong()),
            (Some(Value::from(1)), wrong()),
            (Some(Value::from("true")), wrong()),
            (Some(Value::Array(vec![])), wrong()),
        ];
        for (replacement, expect) in cases {
            let mut changed = object.clone();
            match replacement {
                Some(v) => changed.insert("onHold".into(), v),
                None => changed.remove("onHold"),
            };
            check(
                &ctx,
                &mut tally,
                &Value::Object(changed).to_string(),
                &expect,
            );
        }
    }
    // Another type ignores it, whatever it holds.
    let ringing = Message {
        call_id: gen_call_id(&mut rng),
        party_id: PartyId::new("tab-1").unwrap(),
        to_party_id: None,
        body: Body::Ringing { preconnect: false },
    };
    let mut value = to_value(&ringing);
    value
        .as_object_mut()
        .unwrap()
        .insert("onHold".into(), Value::from(7));
    check(&ctx, &mut tally, &value.to_string(), &Expect::Ok(ringing));
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
