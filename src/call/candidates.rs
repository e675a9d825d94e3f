//! ICE candidates: outgoing ones gathered into batches, incoming ones held until the remote
//! description is set (adding a candidate before it fails in the browser).

use crate::prelude::*;
use crate::protocol::{IceCandidate, PartyId, MAX_CANDIDATES};

use super::{Instant, Millis};

/// Most remote candidates held for one call before the remote description is set.
pub const MAX_BUFFERED_CANDIDATES: usize = 256;

/// The candidate queues of one call.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    outgoing: Vec<IceCandidate>,
    outgoing_end: bool,
    flush_at: Option<Instant>,
    incoming: Vec<(PartyId, IceCandidate)>,
    incoming_end: Vec<PartyId>,
    remote_ready: bool,
}

/// What to do with remote candidates that just arrived.
#[derive(Clone, PartialEq, Debug)]
pub enum Received {
    /// Add them now.
    Apply(Vec<IceCandidate>, bool),
    /// They wait for the remote description.
    Held,
    /// The buffer was full; some were dropped.
    Overflow,
}

impl Candidates {
    /// Queues a gathered local candidate; the batch goes out `batch_ms` after the first one.
    pub fn push_local(&mut self, now: Instant, batch_ms: Millis, candidate: IceCandidate) {
        self.outgoing.push(candidate);
        self.flush_at.get_or_insert(now + batch_ms);
    }

    /// Gathering finished: the batch goes out at once with end-of-candidates.
    pub fn local_complete(&mut self, now: Instant) {
        self.outgoing_end = true;
        self.flush_at = Some(now);
    }

    /// When the pending batch is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.flush_at
    }

    /// Takes the due batches (at most [`MAX_CANDIDATES`] each), if sending is allowed yet.
    pub fn take_due(&mut self, now: Instant, may_send: bool) -> Vec<(Vec<IceCandidate>, bool)> {
        if !may_send || self.flush_at.is_none_or(|at| now < at) {
            return Vec::new();
        }
        self.flush_at = None;
        let end = core::mem::take(&mut self.outgoing_end);
        let all = core::mem::take(&mut self.outgoing);
        if all.is_empty() {
            return if end {
                vec![(Vec::new(), true)]
            } else {
                Vec::new()
            };
        }
        let count = all.len().div_ceil(MAX_CANDIDATES);
        all.chunks(MAX_CANDIDATES)
            .enumerate()
            .map(|(i, chunk)| (chunk.to_vec(), end && i + 1 == count))
            .collect()
    }

    /// Remote candidates from `party` arrived.
    pub fn receive(
        &mut self,
        from: &PartyId,
        candidates: Vec<IceCandidate>,
        end: bool,
    ) -> Received {
        if self.remote_ready {
            return Received::Apply(candidates, end);
        }
        let room = MAX_BUFFERED_CANDIDATES.saturating_sub(self.incoming.len());
        let overflow = candidates.len() > room;
        self.incoming
            .extend(candidates.into_iter().take(room).map(|c| (from.clone(), c)));
        if end && !self.incoming_end.contains(from) {
            self.incoming_end.push(from.clone());
        }
        if overflow {
            Received::Overflow
        } else {
            Received::Held
        }
    }

    /// The remote description from `party` is (about to be) set: releases that party's held
    /// candidates and lets later ones through at once. Others' are dropped.
    pub fn remote_ready(&mut self, party: &PartyId) -> Option<(Vec<IceCandidate>, bool)> {
        self.remote_ready = true;
        let held = core::mem::take(&mut self.incoming);
        let end = core::mem::take(&mut self.incoming_end).contains(party);
        let mine: Vec<IceCandidate> = held
            .into_iter()
            .filter(|(from, _)| from == party)
            .map(|(_, c)| c)
            .collect();
        (!mine.is_empty() || end).then_some((mine, end))
    }

    /// Forgets everything (the peer connection is being replaced).
    pub fn reset(&mut self) {
        *self = Candidates::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(n: usize) -> IceCandidate {
        IceCandidate {
            candidate: format!("candidate:{n}"),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        }
    }

    #[test]
    fn local_candidates_are_batched_and_wait_for_permission() {
        let mut c = Candidates::default();
        c.push_local(100, 10, candidate(1));
        c.push_local(105, 10, candidate(2));
        assert_eq!(c.deadline(), Some(110));
        assert!(c.take_due(109, true).is_empty());
        assert!(
            c.take_due(110, false).is_empty(),
            "not before the invite/answer is out"
        );
        let batches = c.take_due(110, true);
        assert_eq!(batches, vec![(vec![candidate(1), candidate(2)], false)]);
        assert_eq!(c.deadline(), None);
    }

    #[test]
    fn completion_flushes_at_once_and_splits_large_batches() {
        let mut c = Candidates::default();
        for n in 0..(MAX_CANDIDATES + 3) {
            c.push_local(0, 50, candidate(n));
        }
        c.local_complete(5);
        let batches = c.take_due(5, true);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].0.len(), MAX_CANDIDATES);
        assert!(!batches[0].1 && batches[1].1, "end rides on the last batch");
        let mut empty = Candidates::default();
        empty.local_complete(0);
        assert_eq!(empty.take_due(0, true), vec![(vec![], true)]);
    }

    #[test]
    fn remote_candidates_wait_for_the_description_of_their_party() {
        let a = PartyId::new("a").unwrap();
        let b = PartyId::new("b").unwrap();
        let mut c = Candidates::default();
        assert_eq!(c.receive(&a, vec![candidate(1)], false), Received::Held);
        assert_eq!(c.receive(&b, vec![candidate(2)], true), Received::Held);
        assert_eq!(c.receive(&a, vec![candidate(3)], true), Received::Held);
        assert_eq!(
            c.remote_ready(&a),
            Some((vec![candidate(1), candidate(3)], true))
        );
        assert_eq!(
            c.receive(&a, vec![candidate(4)], false),
            Received::Apply(vec![candidate(4)], false)
        );
    }

    #[test]
    fn the_remote_buffer_is_bounded() {
        let a = PartyId::new("a").unwrap();
        let mut c = Candidates::default();
        for n in 0..(MAX_BUFFERED_CANDIDATES / MAX_CANDIDATES) {
            let batch = (0..MAX_CANDIDATES)
                .map(|i| candidate(n * 100 + i))
                .collect();
            assert_eq!(c.receive(&a, batch, false), Received::Held);
        }
        assert_eq!(c.receive(&a, vec![candidate(0)], false), Received::Overflow);
        let (released, _) = c.remote_ready(&a).unwrap();
        assert_eq!(released.len(), MAX_BUFFERED_CANDIDATES);
    }
}
