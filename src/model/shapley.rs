//! Baseline Shapley values (Sundararajan & Najmi, "The many Shapley values for
//! model explanation", ICML 2020): how much each input moved the answer away
//! from the answer for one fixed baseline input.
//!
//! The players are schema fields (each owns one or more feature columns). The
//! value of a coalition S is the model's output on a hybrid input: the row's
//! own values for the fields in S, the baseline's for the rest. The values
//! φ_i add up exactly to `f(row) − f(baseline)`.
//!
//! This explains any model that can score a batch of rows (ONNX graphs, whose
//! insides we do not look at). Up to [`EXACT_MAX_PLAYERS`] fields every
//! coalition is evaluated (2^F rows in one batch) and the values are exact.
//! Above that, [`SAMPLED_PERMUTATIONS`] random orders (antithetic pairs, fixed
//! seed, so the same row always gets the same explanation) estimate them; each
//! order's contributions telescope to `f(row) − f(baseline)`, so the estimate
//! still adds up exactly. Its error is measured in the tests below.

/// Up to this many fields, every coalition is evaluated (4096 rows at most).
pub const EXACT_MAX_PLAYERS: usize = 12;
/// Field orders sampled above [`EXACT_MAX_PLAYERS`] (half of them the reverses
/// of the other half).
pub const SAMPLED_PERMUTATIONS: usize = 128;
const SEED: u64 = 0x5eed_5a91_e5ba_5e11;

/// Contributions per player, with the two end points they connect.
#[derive(Debug, Clone, PartialEq)]
pub struct Shapley {
    /// One value per player, in the order given.
    pub phi: Vec<f64>,
    /// The output for the baseline input.
    pub base: f64,
    /// The output for the row itself: `base + Σ phi`.
    pub score: f64,
}

/// Computes baseline Shapley values.
///
/// `players[i]` lists the feature columns player `i` owns; `x` and `baseline`
/// are feature vectors; `eval` scores `n` rows laid out one after another and
/// returns the explained output of each.
pub fn values(
    players: &[Vec<usize>],
    x: &[f64],
    baseline: &[f64],
    eval: impl FnMut(&[f64], usize) -> Result<Vec<f64>, String>,
) -> Result<Shapley, String> {
    if players.len() <= EXACT_MAX_PLAYERS {
        exact(players, x, baseline, eval)
    } else {
        sampled(players, x, baseline, SAMPLED_PERMUTATIONS, eval)
    }
}

/// A hybrid row: the baseline, with the features of the chosen players from `x`.
fn hybrid(
    players: &[Vec<usize>],
    x: &[f64],
    baseline: &[f64],
    chosen: impl Fn(usize) -> bool,
) -> Vec<f64> {
    let mut row = baseline.to_vec();
    for (p, features) in players.iter().enumerate() {
        if chosen(p) {
            for &j in features {
                row[j] = x[j];
            }
        }
    }
    row
}

fn checked(values: Vec<f64>, rows: usize) -> Result<Vec<f64>, String> {
    if values.len() == rows {
        Ok(values)
    } else {
        Err(format!("the model scored {} of {rows} rows", values.len()))
    }
}

/// Every coalition, as a bit mask over players: φ_i = Σ_S |S|!(F−|S|−1)!/F! (v(S∪i) − v(S)).
pub fn exact(
    players: &[Vec<usize>],
    x: &[f64],
    baseline: &[f64],
    mut eval: impl FnMut(&[f64], usize) -> Result<Vec<f64>, String>,
) -> Result<Shapley, String> {
    let f = players.len();
    let coalitions = 1usize << f;
    let mut rows = Vec::with_capacity(coalitions * x.len());
    for mask in 0..coalitions {
        rows.extend(hybrid(players, x, baseline, |p| mask & (1 << p) != 0));
    }
    let v = checked(eval(&rows, coalitions)?, coalitions)?;
    // weight[s] = s! (F − s − 1)! / F!, the share of orders in which a coalition
    // of size s comes just before the player.
    let factorial = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let weight: Vec<f64> = (0..f)
        .map(|s| factorial(s) * factorial(f - s - 1) / factorial(f))
        .collect();
    let mut phi = vec![0.0; f];
    for (i, slot) in phi.iter_mut().enumerate() {
        let bit = 1 << i;
        *slot = (0..coalitions)
            .filter(|m| m & bit == 0)
            .map(|m| weight[m.count_ones() as usize] * (v[m | bit] - v[m]))
            .sum();
    }
    Ok(Shapley {
        phi,
        base: v[0],
        score: v[coalitions - 1],
    })
}

/// Random orders of the players (each followed by its reverse); a player's
/// value is the mean change it makes when it joins in each order.
pub fn sampled(
    players: &[Vec<usize>],
    x: &[f64],
    baseline: &[f64],
    permutations: usize,
    mut eval: impl FnMut(&[f64], usize) -> Result<Vec<f64>, String>,
) -> Result<Shapley, String> {
    let f = players.len();
    let permutations = permutations.max(2) & !1;
    let mut state = SEED;
    let mut orders = Vec::with_capacity(permutations);
    while orders.len() < permutations {
        let mut order: Vec<usize> = (0..f).collect();
        // Fisher–Yates with SplitMix64: the orders are part of what an
        // explanation means, so they are fixed here, not by a dependency.
        for i in (1..f).rev() {
            let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let reverse: Vec<usize> = order.iter().rev().copied().collect();
        orders.push(order);
        orders.push(reverse);
    }
    // Per order: the baseline, then one more player's features at a time.
    let per_order = f + 1;
    let mut rows = Vec::with_capacity(permutations * per_order * x.len());
    for order in &orders {
        let mut row = baseline.to_vec();
        rows.extend_from_slice(&row);
        for &p in order {
            for &j in &players[p] {
                row[j] = x[j];
            }
            rows.extend_from_slice(&row);
        }
    }
    let n = permutations * per_order;
    let v = checked(eval(&rows, n)?, n)?;
    let mut phi = vec![0.0; f];
    let (mut base, mut score) = (0.0, 0.0);
    for (k, order) in orders.iter().enumerate() {
        let v = &v[k * per_order..(k + 1) * per_order];
        for (step, &p) in order.iter().enumerate() {
            phi[p] += v[step + 1] - v[step];
        }
        base += v[0];
        score += v[f];
    }
    let m = permutations as f64;
    Ok(Shapley {
        phi: phi.into_iter().map(|s| s / m).collect(),
        base: base / m,
        score: score / m,
    })
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores rows of `width` features with `f`.
    fn scorer(
        width: usize,
        f: impl Fn(&[f64]) -> f64,
    ) -> impl FnMut(&[f64], usize) -> Result<Vec<f64>, String> {
        move |rows, n| Ok(rows.chunks(width).take(n).map(&f).collect())
    }

    fn singletons(n: usize) -> Vec<Vec<usize>> {
        (0..n).map(|i| vec![i]).collect()
    }

    #[test]
    fn linear_models_get_weight_times_distance() {
        let w = [2.0, -1.0, 0.5, 3.0];
        let f = |r: &[f64]| 1.0 + r.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
        let x = [1.0, 2.0, 3.0, 4.0];
        let b = [0.0, 1.0, 1.0, 5.0];
        let s = values(&singletons(4), &x, &b, scorer(4, f)).unwrap();
        for i in 0..4 {
            assert!(
                (s.phi[i] - w[i] * (x[i] - b[i])).abs() < 1e-12,
                "{i}: {:?}",
                s.phi
            );
        }
        assert_eq!(s.base, f(&b));
        assert_eq!(s.score, f(&x));
    }

    #[test]
    fn an_interaction_is_split_evenly() {
        // f = x0 * x1: from (0, 0) to (1, 1) both players share the one unit.
        let s = values(
            &singletons(2),
            &[1.0, 1.0],
            &[0.0, 0.0],
            scorer(2, |r| r[0] * r[1]),
        )
        .unwrap();
        assert_eq!(s.phi, vec![0.5, 0.5]);
        // A player that does not change from the baseline gets nothing.
        let s = values(
            &singletons(3),
            &[1.0, 1.0, 7.0],
            &[0.0, 0.0, 7.0],
            scorer(3, |r| r[0] * r[1] * r[2]),
        )
        .unwrap();
        assert_eq!(s.phi[2], 0.0);
        assert!((s.phi[0] - 3.5).abs() < 1e-12);
    }

    #[test]
    fn a_player_owns_all_its_features() {
        // Two features of one field (as a one-hot pair) move together.
        let players = vec![vec![0, 2], vec![1]];
        let f = |r: &[f64]| r[0] * r[2] + r[1];
        let s = values(&players, &[1.0, 1.0, 1.0], &[0.0, 0.0, 0.0], scorer(3, f)).unwrap();
        assert_eq!(s.phi, vec![1.0, 1.0]);
    }

    /// A probability with interactions of every order, so sampling has
    /// something to get wrong.
    fn wiggly(r: &[f64]) -> f64 {
        let mut z = -0.5;
        for (i, v) in r.iter().enumerate() {
            z += (0.6 - 0.09 * i as f64) * v;
        }
        let pairs: f64 = r.windows(2).map(|w| w[0] * w[1]).sum();
        let all: f64 = r.iter().map(|v| 1.0 + 0.1 * v).product();
        1.0 / (1.0 + (-(z + 0.3 * pairs)).exp()) * 0.8 + 0.2 * (all - 1.0).tanh()
    }

    /// The error of sampling, measured against exact values on 14 fields
    /// (16384 coalitions); the figure is quoted in ARCHITECTURE.md.
    #[test]
    fn sampling_adds_up_exactly_and_is_close() {
        let n = 14;
        let x: Vec<f64> = (0..n).map(|i| ((i * 7 % 5) as f64) * 0.5 - 1.0).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i % 3) as f64) * 0.25).collect();
        let exact = exact(&singletons(n), &x, &b, scorer(n, wiggly)).unwrap();
        let sampled = values(&singletons(n), &x, &b, scorer(n, wiggly)).unwrap();
        let total: f64 = sampled.phi.iter().sum();
        assert!((sampled.base + total - sampled.score).abs() < 1e-12);
        assert!((sampled.score - wiggly(&x)).abs() < 1e-12);
        let max_err = exact
            .phi
            .iter()
            .zip(&sampled.phi)
            .map(|(e, s)| (e - s).abs())
            .fold(0.0, f64::max);
        let largest = exact.phi.iter().map(|p| p.abs()).fold(0.0, f64::max);
        eprintln!(
            "sampled Shapley, 14 fields: max error {max_err:.2e}, largest value {largest:.3e}, change {:.3}",
            exact.score - exact.base
        );
        assert!(
            max_err < 0.05 * largest,
            "{max_err} for values up to {largest}"
        );
        // The same row always gets the same explanation.
        assert_eq!(
            sampled,
            values(&singletons(n), &x, &b, scorer(n, wiggly)).unwrap()
        );
    }

    #[test]
    fn a_short_answer_is_an_error() {
        let e = values(&singletons(2), &[1.0, 1.0], &[0.0, 0.0], |_, _| {
            Ok(vec![1.0])
        })
        .unwrap_err();
        assert!(e.contains("1 of 4 rows"), "{e}");
    }
}
