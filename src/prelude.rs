//! What the standard prelude would give, from `alloc`: the browser build is `no_std` (see
//! `lib.rs`), so each module takes its `String`, `Vec` and friends from here.
//! `ToString` is left out on purpose: its blanket `Display` impl is `core::fmt`.

pub use alloc::borrow::ToOwned;
pub use alloc::string::String;
pub use alloc::vec;
pub use alloc::vec::Vec;
