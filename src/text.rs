//! Building messages without `core::fmt`.
//!
//! `format!` and `write!` pull the whole formatting machinery (padding, `Debug`, integer and float
//! formatting, Unicode tables) into the browser build, several kilobytes for a few error texts.
//! Messages here are plain concatenation, and numbers go through one tiny decimal writer. Natively
//! the error types still implement `Display`, by writing the same [`message`] text.

use alloc::string::String;

/// The parts, joined.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `value` in decimal.
pub fn number(value: u64) -> String {
    let mut out = String::new();
    crate::json::push_u64(&mut out, value);
    out
}
