//! Generator 1: bytes.

use super::*;

/// Pieces of JSON (and of messages) to glue together at random.
pub(crate) const JSON_SOUP: [&str; 41] = [
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
    "\"preconnect\"",
    "\"preconnect-answer\"",
    "\"accept\"",
    "\"reoffer\"",
    "\"answer\"",
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

pub(crate) fn bytes_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng) {
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
pub(crate) const LONG_VARIANTS: u64 = 10;

/// Inputs around and far over [`MAX_MESSAGE_BYTES`], and deep nesting that fits under it.
pub(crate) fn long_case(ctx: &Ctx, tally: &mut Tally, rng: &mut Rng, variant: u64) {
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
            // An answer (or a preconnect answer, or a reoffer) with the largest SDP, padded by an
            // unknown field to exactly the limit.
            let mut sdp = text_of_len(rng, MAX_SDP_BYTES);
            let probe = Value::String(sdp.clone()).to_string().len();
            if probe > MAX_SDP_BYTES + 2 + 1_000 {
                sdp = repeated("é", MAX_SDP_BYTES);
            }
            let body = match rng.below(3) {
                0 => Body::Answer { sdp },
                1 => Body::PreconnectAnswer { sdp },
                _ => Body::Reoffer { sdp },
            };
            let message = Message {
                call_id: gen_call_id(rng),
                party_id: PartyId::new(&gen_party_id(rng)).unwrap(),
                to_party_id: None,
                body,
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
