//! The harness every native test of the call core shares: the transitions (`tests/transitions/`),
//! the simulation (`tests/sim.rs`), the machine fuzzer (`tests/fuzz_machine.rs`) and the
//! benchmark (`benches/core_throughput.rs`, which includes it by `#[path]`). Like str0m's
//! `tests/common.rs`: each target keeps its own way of scheduling inputs (the transitions step by
//! hand, the simulation runs a network with delays and faults, the fuzzer feeds random inputs,
//! the benchmark runs calls back to back), and takes from here what they have in common:
//!
//! - [`rng`]: the seeded generator, and [`env_u64`] for the knobs (`PEERCALL_SIM_SEED`, ...);
//! - [`config`], [`machine`] and [`call_id_from`]: clients and call ids made the same way;
//! - [`drain`] and [`wire`]: outputs taken off a machine, messages through their JSON text;
//! - [`Promises`]: what the machine promises about its outputs whatever the inputs (no effect for
//!   a call after its `Release`, one `Release` and one `Ended` per call, an ended call released
//!   and a live one not, every message it sends valid on the wire, no data event after a call's
//!   `Release` and each file transfer finished once, and by its call's end), checked in one
//!   place.
//!
//! Each target uses a different part of it.
#![allow(dead_code)]

pub mod rng;

use std::collections::{HashMap, HashSet};

use peercall::call::{CallHandle, CallId, CallMachine, Config, Effect, Event, Output};
use peercall::protocol::{Message, PartyId, UserId};

/// A knob from the environment: decimal or `0x` hex, `_` allowed as a separator. A value that is
/// not a number panics: a typo must not silently run the default.
pub fn env_u64(name: &str) -> Option<u64> {
    let raw = std::env::var(name).ok()?;
    let text = raw.trim().replace('_', "");
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={raw:?} is not a number")))
}

/// The default settings of `user`'s client instance `party`.
pub fn config(user: &str, party: &str) -> Config {
    Config::new(UserId::new(user).unwrap(), PartyId::new(party).unwrap())
}

/// A machine with these settings (which must be valid).
pub fn machine(config: Config) -> CallMachine {
    CallMachine::new(config).unwrap_or_else(|e| panic!("invalid test config: {e}"))
}

/// A call id from 64 random bits (repeated to make the 128).
pub fn call_id_from(bits: u64) -> CallId {
    let half = bits.to_le_bytes();
    let mut id = [0; 16];
    id[..8].copy_from_slice(&half);
    id[8..].copy_from_slice(&half);
    CallId(id)
}

/// Every pending output of a machine, in order.
pub fn drain(machine: &mut CallMachine) -> Vec<Output> {
    std::iter::from_fn(|| machine.poll_output()).collect()
}

/// `message` as the transport carries it, checked to read back as the same message on the other
/// side.
pub fn wire(message: &Message) -> Result<String, String> {
    let text = message.to_json();
    match Message::parse(&text) {
        Ok(back) if &back == message => Ok(text),
        Ok(back) => Err(format!(
            "a sent message reads back changed: {message:?} became {back:?}"
        )),
        Err(error) => Err(format!("sent an invalid message ({error}): {message:?}")),
    }
}

/// What a machine promises about its outputs, whatever its inputs: check every output of one
/// machine with [`observe`](Self::observe), and at the end [`settled`](Self::settled).
#[derive(Clone, Debug, Default)]
pub struct Promises {
    released: HashSet<CallHandle>,
    ended: HashSet<CallHandle>,
    /// File transfers seen under way (offered to this side, or with progress), by call and id.
    transfers: HashSet<(CallHandle, u64)>,
    /// File transfers finished: sent, received or ended.
    finished: HashSet<(CallHandle, u64)>,
}

impl Promises {
    /// Checks one output: no effect for a call after its `Release`, a call released once and
    /// reported ended once, messages valid on the wire; no data event for a call after its
    /// `Release` (its transfers end before it), a transfer offered under an id not used before,
    /// and no progress or second end for a finished transfer.
    pub fn observe(&mut self, output: &Output) -> Result<(), String> {
        if let Output::Event(event) = output {
            self.observe_transfer(event)?;
        }
        match output {
            Output::Effect { call, effect } => {
                if self.released.contains(call) {
                    return Err(format!("{effect:?} for {call:?} after its Release"));
                }
                if *effect == Effect::Release {
                    self.released.insert(*call);
                }
            }
            Output::Event(Event::Ended { call, .. }) => {
                if !self.ended.insert(*call) {
                    return Err(format!("{call:?} ended twice"));
                }
            }
            Output::Event(Event::Error { error, .. }) => {
                if error.to_string().is_empty() {
                    return Err(format!("an error without a message: {error:?}"));
                }
            }
            Output::Send { message, .. } => {
                wire(message)?;
            }
            Output::Event(_) => {}
        }
        Ok(())
    }

    fn observe_transfer(&mut self, event: &Event) -> Result<(), String> {
        let (call, id, finishes) = match event {
            Event::FileIncoming { call, id, .. } => {
                let key = (*call, *id);
                if self.transfers.contains(&key) || self.finished.contains(&key) {
                    return Err(format!("{call:?} offered transfer {id} twice"));
                }
                (*call, *id, false)
            }
            Event::Progress { call, id, .. } => (*call, *id, false),
            Event::FileSent { call, id }
            | Event::FileReceived { call, id }
            | Event::TransferEnded { call, id, .. } => (*call, *id, true),
            _ => return Ok(()),
        };
        if self.released.contains(&call) {
            return Err(format!("{event:?} after the Release of {call:?}"));
        }
        let key = (call, id);
        if self.finished.contains(&key) {
            return Err(format!(
                "{event:?} after transfer {id} of {call:?} finished"
            ));
        }
        if finishes {
            self.transfers.remove(&key);
            self.finished.insert(key);
        } else {
            self.transfers.insert(key);
        }
        Ok(())
    }

    /// [`observe`](Self::observe) for each output.
    pub fn observe_all<'a>(
        &mut self,
        outputs: impl IntoIterator<Item = &'a Output>,
    ) -> Result<(), String> {
        outputs.into_iter().try_for_each(|o| self.observe(o))
    }

    /// Checks the machine whose outputs were observed: every call it remembers is ended exactly
    /// when it was released and reported ended, and an ended call has no transfer under way.
    pub fn settled(&self, machine: &CallMachine) -> Result<(), String> {
        if let Some((call, id)) = self
            .transfers
            .iter()
            .find(|(c, _)| self.released.contains(c))
        {
            return Err(format!(
                "transfer {id} of {call:?} never finished, yet its call ended"
            ));
        }
        for handle in machine.calls() {
            let ended = machine
                .call_info(handle)
                .is_some_and(|i| i.state.is_ended());
            let released = self.released.contains(&handle);
            let reported = self.ended.contains(&handle);
            if ended != released || ended != reported {
                return Err(format!(
                    "{handle:?}: ended {ended}, released {released}, reported ended {reported}"
                ));
            }
        }
        Ok(())
    }

    /// How many calls were released.
    pub fn releases(&self) -> usize {
        self.released.len()
    }
}

/// Outputs counted per call handle, for targets that keep their own books.
pub type PerCall<T> = HashMap<CallHandle, T>;
