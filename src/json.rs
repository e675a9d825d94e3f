//! A small JSON reader and writer: just what the wire format needs, with its limits built in.
//!
//! The browser build cannot afford a general JSON library (serde_json and the float parsing and
//! formatting it brings cost more than the whole call machine), and peercall needs little of one:
//! it reads one object per message, checks a few fields, and carries the app's `metadata` through
//! unchanged. So:
//!
//! - [`parse`] reads RFC 8259 JSON text into a [`Value`], accepting and rejecting exactly what
//!   serde_json does (the property tests run serde_json beside it as the oracle), including its
//!   nesting limit ([`MAX_DEPTH`]) and its refusal of lone UTF-16 surrogates in `\u` escapes.
//! - Numbers are kept as the text they were written as ([`Number`]): nothing is converted to a
//!   float, so nothing is rounded, and a number reads back as exactly what the sender wrote. Only
//!   whole numbers are ever read as numbers ([`Value::as_u64`]).
//! - [`Value::write`] and [`Writer`] write compact JSON (no spaces), escaping the way serde_json
//!   and `JSON.stringify` do, so a value's written length is what the metadata limit measures.
//!
//! One deliberate difference from serde_json: a number whose exponent is too large for a double
//! (`1e400`) is accepted here (as `JSON.parse` accepts it), where serde_json refuses it.

use alloc::string::String;
use alloc::vec::Vec;

/// The deepest nesting of arrays and objects accepted: 127 containers parse, 128 do not (the
/// same as serde_json's recursion limit, so the two agree on every input).
pub const MAX_DEPTH: usize = 127;

/// A JSON number, kept as the text it was written as (always valid JSON number syntax).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Number(String);

impl Number {
    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value, when the number was written as a whole number from 0 to `u64::MAX` (no sign,
    /// fraction or exponent), as serde_json reads such numbers.
    pub fn as_u64(&self) -> Option<u64> {
        let mut value: u64 = 0;
        for byte in self.0.bytes() {
            if !byte.is_ascii_digit() {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
        }
        Some(value)
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Number {
        let mut text = String::new();
        push_u64(&mut text, value);
        Number(text)
    }
}

/// A JSON object: its members in the order written, each key once (a repeated key keeps the
/// last value written for it, as serde_json and `JSON.parse` do).
#[derive(Clone, Debug, Default)]
pub struct Map(Vec<(String, Value)>);

/// Objects are equal when they have the same members, in any order (as JSON means them).
impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(key, value)| other.get(key) == Some(value))
    }
}

impl Map {
    /// An empty object.
    pub fn new() -> Map {
        Map(Vec::new())
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an earlier value of the same key.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.into(), value)),
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(index).1)
    }

    /// The members, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A JSON value.
#[derive(Clone, PartialEq, Debug)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map),
}

impl Value {
    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is a whole number written without sign, fraction or exponent.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Appends the compact JSON text of this value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(&n.0),
            Value::String(text) => push_string(out, text),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Value::Object(map) => {
                let mut object = Writer::object(out);
                for (key, value) in map.iter() {
                    value.write(object.key(key));
                }
                object.end();
            }
        }
    }

    /// The compact JSON text of this value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.into())
    }
}

impl From<u64> for Value {
    fn from(value: u64) -> Value {
        Value::Number(value.into())
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

// Natively (tests, logs) a value displays as its JSON text; the browser build never formats.
#[cfg(not(target_arch = "wasm32"))]
impl core::fmt::Display for Value {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// Writes one JSON object member by member, straight into a `String` (no value tree).
pub struct Writer<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Writer<'a> {
    /// Starts an object in `out`.
    pub fn object(out: &'a mut String) -> Writer<'a> {
        out.push('{');
        Writer { out, first: true }
    }

    /// Writes `"key":` and returns the text to write the member's value into.
    pub fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_string(self.out, key);
        self.out.push(':');
        self.out
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) {
        push_string(self.key(key), value);
    }

    /// A whole-number member.
    pub fn u64(&mut self, key: &str, value: u64) {
        push_u64(self.key(key), value);
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key).push_str(if value { "true" } else { "false" });
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push('}');
    }
}

/// Appends the decimal digits of `value` (the one number formatter the browser build has).
pub fn push_u64(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// Appends `text` as a JSON string: `"` and `\` escaped, control characters as `\n`-style or
/// `\u00XX` escapes, everything else as is (what serde_json and `JSON.stringify` write).
pub fn push_string(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let bytes = text.as_bytes();
    let mut run = 0; // Start of the bytes not yet written, which need no escape.
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Every byte that ends a run is ASCII, so runs start and end on character boundaries.
        out.push_str(text.get(run..i).unwrap_or_default());
        run = i + 1;
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(text.get(run..).unwrap_or_default());
    out.push('"');
}

/// Reads JSON text. `None` when it is not JSON (or nests deeper than [`MAX_DEPTH`]).
pub fn parse(text: &str) -> Option<Value> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let value = reader.value(MAX_DEPTH)?;
    reader.skip_whitespace();
    (reader.pos == reader.bytes.len()).then_some(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` if it is next (after whitespace).
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word.as_bytes()).then(|| {
            self.pos = end;
            value
        })
    }

    /// One value; `depth` is how many more containers may open.
    fn value(&mut self, depth: usize) -> Option<Value> {
        self.skip_whitespace();
        match self.peek()? {
            b'n' => self.literal("null", Value::Null),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'[' => {
                let depth = depth.checked_sub(1)?;
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Array(items))
            }
            b'{' => {
                let depth = depth.checked_sub(1)?;
                self.pos += 1;
                let mut members: Vec<(String, Value)> = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.skip_whitespace();
                        if self.peek() != Some(b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Object(Map(last_of_each_key(members))))
            }
            _ => self.number(),
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = self.text.get(start..self.pos)?;
        Some(Value::Number(Number(text.into())))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }

    /// A string, the opening `"` next.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character in one go; those
            // are ASCII, so the run ends on a character boundary.
            let start = self.pos;
            let rest = self.bytes.get(start..).unwrap_or_default();
            self.pos += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            out.push_str(self.text.get(start..self.pos)?);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    out.push(match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    });
                }
                _ => return None, // A raw control character.
            }
        }
    }

    /// The character of a `\u` escape (the `\u` read), joining a surrogate pair; a lone
    /// surrogate is not a character, and serde_json refuses it too.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2)? != b"\\u" {
                    return None;
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return None;
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return None,
            code => code,
        };
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = char::from(self.peek()?).to_digit(16)?;
            value = value * 16 + digit;
            self.pos += 1;
        }
        Some(value)
    }
}

/// An object's members with each repeated key reduced to its last value (kept at the place of its
/// first appearance). For more than a few members, a hash of each key indexes an open-addressed
/// table of positions, so an object of thousands of distinct keys (a 64 KiB message can hold
/// ~10,000) costs no more than reading it.
fn last_of_each_key(mut members: Vec<(String, Value)>) -> Vec<(String, Value)> {
    // A message's objects have a handful of members: comparing each key with the ones before it
    // is quicker there than building a table.
    if members.len() <= 8 {
        let mut i = 1;
        while i < members.len() {
            match members[..i].iter().position(|(k, _)| *k == members[i].0) {
                Some(first) => {
                    let (_, value) = members.remove(i);
                    members[first].1 = value;
                }
                None => i += 1,
            }
        }
        return members;
    }
    let mask = (members.len() * 2).next_power_of_two() - 1;
    // Each slot holds a position in `out`, plus one; 0 is an empty slot.
    let mut slots = alloc::vec![0usize; mask + 1];
    let mut out: Vec<(String, Value)> = Vec::with_capacity(members.len());
    for (key, value) in members {
        // FNV-1a over the key's bytes.
        let mut hash: u32 = 0x811c_9dc5;
        for &byte in key.as_bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
        let mut slot = hash as usize & mask;
        loop {
            match slots[slot] {
                0 => {
                    out.push((key, value));
                    slots[slot] = out.len();
                    break;
                }
                j if out[j - 1].0 == key => {
                    out[j - 1].1 = value;
                    break;
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }
    out
}
