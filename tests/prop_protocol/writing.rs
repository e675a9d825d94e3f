//! Writing JSON text in many equivalent ways (and some broken ones).

use super::*;

/// How to write JSON: the same value in another encoding parses to the same message.
pub(crate) struct Style {
    /// Chance of whitespace around each token.
    pub(crate) space: f64,
    /// Chance of writing a character as a `\u` escape it does not need.
    pub(crate) escape: f64,
    /// Write object keys in a random order.
    pub(crate) shuffle: bool,
    /// Chance of writing a junk token instead of a value (the text may stop being JSON).
    pub(crate) chaos: f64,
}

impl Style {
    pub(crate) const CANONICAL: Style = Style {
        space: 0.0,
        escape: 0.0,
        shuffle: false,
        chaos: 0.0,
    };

    pub(crate) fn random(rng: &mut Rng) -> Style {
        Style {
            space: *rng.pick(&[0.0, 0.0, 0.1, 0.6]),
            escape: *rng.pick(&[0.0, 0.0, 0.05, 0.5, 1.0]),
            shuffle: rng.coin(),
            chaos: 0.0,
        }
    }
}

/// Tokens that are not JSON, or are JSON serde_json may not accept, or are odd but valid.
pub(crate) const CHAOS_TOKENS: [&str; 34] = [
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

pub(crate) fn write_space(rng: &mut Rng, style: &Style, out: &mut String) {
    if style.space > 0.0 && rng.chance(style.space) {
        for _ in 0..rng.range(1, 3) {
            out.push(*rng.pick(&[' ', '\t', '\n', '\r']));
        }
    }
}

pub(crate) fn write_escape(rng: &mut Rng, unit: u32, out: &mut String) {
    if rng.coin() {
        write!(out, "\\u{unit:04x}").unwrap();
    } else {
        write!(out, "\\u{unit:04X}").unwrap();
    }
}

pub(crate) fn write_str(rng: &mut Rng, text: &str, style: &Style, out: &mut String) {
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

pub(crate) fn write_json(rng: &mut Rng, value: &Value, style: &Style, out: &mut String) {
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
pub(crate) fn encode(rng: &mut Rng, value: &Value) -> String {
    if rng.ratio(2, 3) {
        value.to_string()
    } else {
        let style = Style::random(rng);
        let mut out = String::new();
        write_json(rng, value, &style, &mut out);
        out
    }
}
