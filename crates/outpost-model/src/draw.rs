//! Drawing assessment questions from the bank.
//!
//! The draw is a pure function of the bank and a seed taken from the
//! attempt's id, so an attempt can be reproduced anywhere (the device that
//! started it, the hub, a support engineer). The generator is written out
//! here rather than taken from a crate so that its output can never change
//! under a dependency upgrade.

use uuid::Uuid;

/// SplitMix64: small, fast, and fully specified.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0), by rejection so that no index is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next();
            if x < zone {
                return x % n;
            }
        }
    }
}

pub fn seed_from_attempt(attempt: Uuid) -> u64 {
    let b = attempt.as_u128();
    (b as u64) ^ ((b >> 64) as u64)
}

/// Draw `n` distinct questions from `bank` (all of them if the bank is
/// smaller), in the order they will be asked.
pub fn draw_questions(bank: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut pool: Vec<&String> = bank.iter().collect();
    let mut rng = SplitMix64(seed);
    let n = n.min(pool.len());
    // Partial Fisher–Yates: the first n slots end up a uniform sample.
    for i in 0..n {
        let j = i + rng.below((pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.into_iter().take(n).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("q{i}")).collect()
    }

    #[test]
    fn same_seed_same_draw_and_distinct() {
        let b = bank(60);
        let a = draw_questions(&b, 20, 42);
        assert_eq!(a, draw_questions(&b, 20, 42));
        assert_eq!(a.len(), 20);
        let mut sorted = a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 20);
        assert_ne!(a, draw_questions(&b, 20, 43));
    }

    #[test]
    fn frozen_output() {
        // The draw must never change between releases: an attempt started on
        // an old app is regraded by a new hub with the same questions.
        assert_eq!(draw_questions(&bank(10), 3, 7), vec!["q7", "q0", "q4"]);
    }

    #[test]
    fn small_bank_gives_everything() {
        let mut d = draw_questions(&bank(3), 10, 1);
        d.sort();
        assert_eq!(d, bank(3));
    }

    #[test]
    fn roughly_uniform() {
        let b = bank(10);
        let mut counts = [0u32; 10];
        for seed in 0..5000u64 {
            for q in draw_questions(&b, 3, seed) {
                counts[q[1..].parse::<usize>().unwrap()] += 1;
            }
        }
        // Expected 1500 each; allow generous slack.
        assert!(
            counts.iter().all(|&c| (1300..1700).contains(&c)),
            "{counts:?}"
        );
    }
}
