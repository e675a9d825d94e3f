//! The per-sender rate limit on incoming invites: a token bucket for each sender.

use crate::prelude::*;
use crate::protocol::UserId;

use super::{Instant, Millis};

/// Senders remembered at once; beyond this the least recently seen are forgotten.
const MAX_SENDERS: usize = 256;

/// Token buckets of invites, one per sender.
#[derive(Clone, Debug)]
pub struct InviteRateLimiter {
    burst: u32,
    refill_ms: Millis,
    /// A short list (at most [`MAX_SENDERS`]): a linear scan is cheap and keeps the wasm small.
    buckets: Vec<(UserId, Bucket)>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: u32,
    refilled_at: Instant,
}

impl InviteRateLimiter {
    /// `burst` invites at once, then one per `refill_ms` (both at least 1: see
    /// [`Config::validate`](super::Config::validate)).
    pub fn new(burst: u32, refill_ms: Millis) -> InviteRateLimiter {
        debug_assert!(burst >= 1 && refill_ms >= 1, "checked by Config::validate");
        InviteRateLimiter {
            burst,
            refill_ms,
            buckets: Vec::new(),
        }
    }

    /// Takes a token for an invite from `from`; false when the sender is over the limit.
    pub fn allow(&mut self, now: Instant, from: &UserId) -> bool {
        let (burst, refill_ms) = (self.burst, self.refill_ms);
        let index = match self.buckets.iter().position(|(user, _)| user == from) {
            Some(index) => index,
            None => {
                if self.buckets.len() >= MAX_SENDERS {
                    self.forget_oldest();
                }
                let bucket = Bucket {
                    tokens: burst,
                    refilled_at: now,
                };
                self.buckets.push((from.clone(), bucket));
                self.buckets.len() - 1
            }
        };
        let bucket = &mut self.buckets[index].1;
        let gained = now.saturating_sub(bucket.refilled_at) / refill_ms;
        if gained > 0 {
            bucket.tokens = (u64::from(bucket.tokens) + gained).min(u64::from(burst)) as u32;
            bucket.refilled_at += gained * refill_ms;
        }
        if bucket.tokens == burst {
            bucket.refilled_at = now;
        }
        if bucket.tokens == 0 {
            return false;
        }
        bucket.tokens -= 1;
        true
    }

    fn forget_oldest(&mut self) {
        if let Some(oldest) = self
            .buckets
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, bucket))| bucket.refilled_at)
            .map(|(index, _)| index)
        {
            self.buckets.swap_remove(oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_sender() {
        let alice = UserId::new("alice").unwrap();
        let bob = UserId::new("bob").unwrap();
        let mut limiter = InviteRateLimiter::new(3, 1_000);
        assert!((0..3).all(|_| limiter.allow(0, &alice)));
        assert!(!limiter.allow(10, &alice));
        assert!(limiter.allow(10, &bob), "another sender has its own bucket");
        assert!(
            limiter.allow(1_000, &alice),
            "one token back after refill_ms"
        );
        assert!(!limiter.allow(1_500, &alice));
        assert!((0..3).all(|_| limiter.allow(100_000, &alice)), "full again");
        assert!(!limiter.allow(100_000, &alice));
    }

    #[test]
    fn remembers_a_bounded_number_of_senders() {
        let mut limiter = InviteRateLimiter::new(1, 1_000);
        for i in 0..(MAX_SENDERS * 2) {
            let user = UserId::new(&format!("user{i}")).unwrap();
            assert!(limiter.allow(i as Instant, &user));
        }
        assert!(limiter.buckets.len() <= MAX_SENDERS);
    }
}
