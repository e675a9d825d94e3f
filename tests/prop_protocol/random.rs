//! Random text, JSON and messages.

use super::*;

/// Characters that stress JSON strings: escapes, controls, separators, astral planes.
pub(crate) const TRICKY_CHARS: [char; 24] = [
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

pub(crate) fn random_char(rng: &mut Rng) -> char {
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
pub(crate) fn text_of_len(rng: &mut Rng, len: usize) -> String {
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
pub(crate) fn random_text(rng: &mut Rng, max: usize) -> String {
    let len = rng.small_size(max);
    text_of_len(rng, len)
}

/// A non-empty string of `len` bytes made of `unit` repeated, padded with ASCII.
pub(crate) fn repeated(unit: &str, len: usize) -> String {
    let mut text = unit.repeat(len / unit.len());
    while text.len() < len {
        text.push('x');
    }
    text
}

/// A string over the limit: `max + 1` bytes, or a little or a lot more, sometimes in multibyte
/// characters so byte and character counts differ.
pub(crate) fn over_limit(rng: &mut Rng, max: usize) -> String {
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

pub(crate) const PARTY_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(crate) fn gen_party_id(rng: &mut Rng) -> String {
    let len = if rng.ratio(1, 16) {
        MAX_PARTY_ID_BYTES
    } else {
        1 + rng.small_size(MAX_PARTY_ID_BYTES - 1)
    };
    (0..len)
        .map(|_| char::from(*rng.pick(PARTY_ALPHABET)))
        .collect()
}

pub(crate) fn gen_call_id(rng: &mut Rng) -> CallId {
    let mut id = [0u8; 16];
    rng.fill_bytes(&mut id);
    CallId(id)
}

pub(crate) fn gen_sdp(rng: &mut Rng) -> String {
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

pub(crate) fn gen_number(rng: &mut Rng) -> Value {
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

pub(crate) fn gen_key(rng: &mut Rng) -> String {
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
pub(crate) fn gen_value(rng: &mut Rng, max_depth: usize, budget: &mut usize) -> Value {
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

pub(crate) fn gen_metadata(rng: &mut Rng) -> Option<Value> {
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

pub(crate) fn gen_candidate(rng: &mut Rng) -> IceCandidate {
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

pub(crate) fn gen_seq(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => 0,
        1 => u32::MAX,
        2 => rng.next_u32(),
        _ => rng.below(100) as u32,
    }
}

/// A random valid message: every body variant, every field at and under its limits, every
/// optional boolean set and unset.
pub(crate) fn gen_message(rng: &mut Rng) -> Message {
    let body = match rng.below(13) {
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
            preconnect: rng.coin(),
        },
        1 => Body::Ringing {
            preconnect: rng.coin(),
        },
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
        8 => Body::Media {
            seq: gen_seq(rng),
            state: MediaState {
                audio_muted: rng.coin(),
                video_muted: rng.coin(),
                screen_sharing: rng.coin(),
                on_hold: rng.coin(),
                recording: rng.coin(),
            },
        },
        9 => Body::Preconnect,
        10 => Body::PreconnectAnswer { sdp: gen_sdp(rng) },
        11 => Body::Accept,
        _ => Body::Reoffer { sdp: gen_sdp(rng) },
    };
    let party_id = PartyId::new(&gen_party_id(rng)).expect("valid party id");
    // A third of messages name the receiving instance.
    let to_party_id = rng
        .ratio(1, 3)
        .then(|| PartyId::new(&gen_party_id(rng)).expect("valid party id"));
    Message {
        call_id: gen_call_id(rng),
        party_id,
        to_party_id,
        body,
    }
}
