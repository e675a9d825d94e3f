//! The per-sender rate limit on incoming invites: a token bucket for each sender.

use std::collections::HashMap;

use crate::protocol::UserId;

use super::Millis;

/// Senders remembered at once; beyond this the least recently seen are forgotten.
const MAX_SENDERS: usize = 256;

/// Token buckets of invites, one per sender.
#[derive(Clone, Debug)]
pub struct InviteRateLimiter {
    burst: u32,
    refill_ms: Millis,
    buckets: HashMap<UserId, Bucket>,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: u32,
    refilled_at: Millis,
}

impl InviteRateLimiter {
    /// `burst` invites at once, then one per `refill_ms`.
    pub fn new(burst: u32, refill_ms: Millis) -> InviteRateLimiter {
        InviteRateLimiter {
            burst: burst.max(1),
            refill_ms: refill_ms.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for an invite from `from`; false when the sender is over the limit.
    pub fn allow(&mut self, now: Millis, from: &UserId) -> bool {
        if !self.buckets.contains_key(from) && self.buckets.len() >= MAX_SENDERS {
            self.forget_oldest();
        }
        let (burst, refill_ms) = (self.burst, self.refill_ms);
        let bucket = self.buckets.entry(from.clone()).or_insert(Bucket {
            tokens: burst,
            refilled_at: now,
        });
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
            .min_by_key(|(_, bucket)| bucket.refilled_at)
            .map(|(user, _)| user.clone())
        {
            self.buckets.remove(&oldest);
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
            assert!(limiter.allow(i as Millis, &user));
        }
        assert!(limiter.buckets.len() <= MAX_SENDERS);
    }
}
