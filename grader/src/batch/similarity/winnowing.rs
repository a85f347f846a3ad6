//! Winnowing: a document's fingerprints, after Schleimer, Wilkerson and Aiken, "Winnowing:
//! Local Algorithms for Document Fingerprinting", SIGMOD 2003 (the algorithm behind MOSS).
//!
//! Every run of [`K`] tokens (a k-gram) is hashed; in every window of [`WINDOW`] consecutive
//! hashes the smallest is kept (the rightmost on a tie), once. Two documents that share a run
//! of at least `K + WINDOW - 1` tokens then share a fingerprint, and shared runs shorter than
//! `K` never make one: small idioms are noise, long runs are evidence. The choice is local, so
//! the fingerprints of a function do not depend on what comes before or after it: moving
//! functions around keeps them.

/// Tokens in a k-gram: the noise threshold. A shorter shared run is never evidence.
pub const K: usize = 15;
/// Hashes in a window. Any shared run of `K + WINDOW - 1` = 20 tokens is found.
pub const WINDOW: usize = 6;

/// A kept hash and the token its k-gram starts at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub hash: u64,
    pub start: usize,
}

/// The hash of every k-gram of `ids`, in order, by Karp–Rabin's rolling hash (as in the
/// paper): each next hash from the last in constant time. Empty when there are fewer than
/// `k` tokens.
pub fn kgram_hashes(ids: &[u64], k: usize) -> Vec<u64> {
    const BASE: u64 = 1_000_003;
    if k == 0 || ids.len() < k {
        return Vec::new();
    }
    let dropped_weight = (1..k).fold(1u64, |weight, _| weight.wrapping_mul(BASE));
    let mut hash = ids[..k].iter().fold(0u64, |hash, id| hash.wrapping_mul(BASE).wrapping_add(*id));
    let mut hashes = Vec::with_capacity(ids.len() - k + 1);
    hashes.push(hash);
    for next in k..ids.len() {
        let dropped = ids[next - k].wrapping_mul(dropped_weight);
        hash = hash.wrapping_sub(dropped).wrapping_mul(BASE).wrapping_add(ids[next]);
        hashes.push(hash);
    }
    hashes
}

/// The fingerprints of a document whose k-gram hashes are `hashes`: in each window of
/// `window` hashes the rightmost minimum, each kept once. A document shorter than one window
/// keeps its minimum.
pub fn winnow(hashes: &[u64], window: usize) -> Vec<Fingerprint> {
    let window = window.max(1).min(hashes.len());
    let mut kept: Vec<Fingerprint> = Vec::new();
    if window == 0 {
        return kept;
    }
    for start in 0..=hashes.len() - window {
        let (offset, hash) = hashes[start..start + window]
            .iter()
            .enumerate()
            .rev()
            .min_by_key(|(_, hash)| **hash)
            .expect("a window is never empty");
        let fingerprint = Fingerprint { hash: *hash, start: start + offset };
        if kept.last() != Some(&fingerprint) {
            kept.push(fingerprint);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rolling_hash_equals_hashing_each_kgram_afresh() {
        let ids: Vec<u64> = (0..40).map(|i| i * 7919 + 13).collect();
        let rolled = kgram_hashes(&ids, 5);
        let afresh: Vec<u64> = ids.windows(5).map(|kgram| kgram_hashes(kgram, 5)[0]).collect();
        assert_eq!(rolled, afresh);
        assert!(kgram_hashes(&ids[..4], 5).is_empty());
    }

    #[test]
    fn each_window_keeps_its_rightmost_minimum_once() {
        // The paper's own example of hashes, with a window of 4.
        let hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98];
        let kept: Vec<u64> = winnow(&hashes, 4).iter().map(|f| f.hash).collect();
        assert_eq!(kept, [17, 17, 8, 39, 17]);
        assert_eq!(winnow(&[5, 3], 4), [Fingerprint { hash: 3, start: 1 }]);
        assert!(winnow(&[], 4).is_empty());
    }

    #[test]
    fn a_shared_run_of_the_guaranteed_length_shares_a_fingerprint() {
        let shared: Vec<u64> = (0..(K + WINDOW - 1) as u64).map(|i| i * 104_729 + 1).collect();
        let one: Vec<u64> = [vec![900, 901, 902], shared.clone(), vec![903]].concat();
        let other: Vec<u64> = [vec![904], shared, vec![905, 906]].concat();
        let of = |ids: &[u64]| -> Vec<u64> {
            winnow(&kgram_hashes(ids, K), WINDOW).iter().map(|f| f.hash).collect()
        };
        let (one, other) = (of(&one), of(&other));
        assert!(one.iter().any(|hash| other.contains(hash)));
    }
}
