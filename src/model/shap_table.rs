//! TreeSHAP for one output as one pass over a table of leaves, for the
//! explanation on every result page.
//!
//! The walk in [`super::treeshap`] visits every node of every tree and works
//! out each leaf as it reaches it. On a 100-tree forest that is 36 k nodes,
//! and about half its time goes to the walk itself: which node is a leaf,
//! which child `x` takes and whether a feature is new on the path are all
//! branches no predictor can learn, so the processor keeps starting over.
//!
//! Nothing a leaf needs from its path depends on `x` except, per distinct
//! feature, whether `x` follows every split on it. So the table keeps, per
//! leaf and per distinct feature on its path, the cover share (`zero`, as in
//! the walk) and the range of values that follow the path: above the
//! largest threshold the path goes right at, up to the smallest it goes
//! left at, and whether a missing value follows. An explanation then reads
//! `x` once per slot and does the same Beta-integral arithmetic as the walk,
//! without a branch, four leaves at a time.
//!
//! Leaves are sorted by output and by path length, so a block of four
//! leaves pads few slots; a padded slot always follows (a factor of 1 that
//! adds nothing). Leaves of one output whose values are zero for the same
//! outputs sit together, so a forest's pure leaves fill blocks that an
//! explanation of the other class skips whole.
//!
//! A block of `n` slots per leaf can only meet `x` in `2ⁿ` ways (which
//! slots `x` follows), so for blocks of 4 to 6 or so slots every answer is
//! worked out once, by the same arithmetic, and an explanation reads the
//! four shares it needs (`answers`). The numbers are the same to the bit;
//! a 100-tree boosted model explains in 29 µs instead of 36.
//!
//! Only for numeric splits and paths of at most [`MOST_FEATURES`] distinct
//! features; other ensembles keep the walk. Built on the first explanation
//! (3 ms for a 100-tree scikit-learn forest of 18 k leaves), 28 bytes per
//! slot: 3 MB for that forest, and at most 4 MB of answers (1.5 MB for
//! the built-in boosted model).

use super::trees::{Split, TreeEnsemble};
use super::treeshap::{Rule, child_fractions};

/// Leaves worked out side by side.
const LANES: usize = 4;
/// The longest path, in distinct features, the table takes.
pub(crate) const MOST_FEATURES: usize = 8;
/// The most slots (leaf × distinct feature on its path) the table takes,
/// about 30 MB: past that the walk explains, rather than a page view making
/// a large model's server grow by twice the model's size.
const MOST_SLOTS: usize = 1 << 20;
/// The most numbers the answer tables (`LeafTable::answers`) take, 4 MB:
/// all of a 100-tree boosted model's longer blocks, a forest's shortest.
const MOST_ANSWERS: usize = 1 << 19;
/// Blocks of fewer slots work their shares out: with a rule of one or two
/// points that is as quick as reading an answer, and a forest's many short
/// blocks would only crowd the cache.
const FEWEST_ANSWERED: usize = 4;
/// In `Block::answers`: the block has no answer table.
const NO_ANSWERS: u32 = u32::MAX;
/// In `feature`: a missing value follows every split on this feature.
const NAN_FOLLOWS: u32 = 1 << 31;
const FEATURE: u32 = NAN_FOLLOWS - 1;
/// In `Block::values`: a padded lane, whose value is zero.
const NO_LEAF: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct LeafTable {
    blocks: Vec<Block>,
    /// Per slot, block by block, then slot by slot, then lane by lane: the
    /// feature (with the flags above), its cover share, and the range that
    /// follows the path, `above < x ≤ up_to`. `above` is NaN when the path
    /// never goes right on the feature, so that it holds no value back.
    feature: Vec<u32>,
    zero: Vec<f64>,
    above: Vec<f64>,
    up_to: Vec<f64>,
    /// Gauss–Legendre rules with 1 to `MOST_FEATURES / 2` points.
    rules: Vec<Rule>,
    /// Per block of `n` slots that has one, `LANES × 2ⁿ × n` answers: for
    /// each lane, each set of slots `x` may follow (bit s: slot s) and each
    /// slot, the share `d · ∫` the arithmetic gives, before the leaf value.
    /// `x` only decides which slots it follows, so a block with few slots
    /// can have every answer worked out once, and an explanation then
    /// reads its share instead of working it out again (a third of the
    /// time for a boosted model, whose paths are short).
    answers: Vec<f64>,
}

#[derive(Debug)]
struct Block {
    /// Slots per lane: the longest path among its leaves.
    features: usize,
    /// The output its trees add to, `None` for trees that add to all.
    output: Option<u32>,
    /// Its first slot.
    start: usize,
    /// Where each lane's leaf values start in `leaf_values`.
    values: [u32; LANES],
    /// Bit k set: every leaf in the block has value zero for output k
    /// (outputs past 63 are never skipped).
    zero_for: u64,
    /// Where its answers start in `answers`, or [`NO_ANSWERS`].
    answers: u32,
}

/// One distinct feature on the path to a leaf.
#[derive(Debug, Clone, Copy)]
struct Slot {
    feature: u32,
    zero: f64,
    above: f64,
    up_to: f64,
    nan_follows: bool,
}

/// A leaf while the table is built: its slots are `slots[first..][..len]`
/// of one shared list (one allocation rather than one per leaf).
struct Leaf {
    output: Option<u32>,
    value: u32,
    zero_for: u64,
    first: u32,
    len: u32,
}

impl LeafTable {
    /// The table of a sound ensemble (one [`TreeEnsemble::check`] accepted),
    /// or `None` where it does not apply.
    pub(crate) fn build(e: &TreeEnsemble) -> Option<LeafTable> {
        Self::build_within(e, MOST_SLOTS, MOST_ANSWERS)
    }

    fn build_within(e: &TreeEnsemble, most_slots: usize, most_answers: usize) -> Option<LeafTable> {
        let categorical = e
            .nodes
            .iter()
            .any(|n| matches!(n.split, Split::Categorical { .. }));
        if categorical {
            return None;
        }
        let n_leaves = e.nodes.iter().filter(|n| n.is_leaf()).count();
        let mut leaves = Vec::with_capacity(n_leaves);
        let mut slots = Vec::with_capacity((n_leaves * 4).min(most_slots));
        let mut path = Vec::with_capacity(MOST_FEATURES);
        for tree in &e.trees {
            let found = Found {
                most_slots,
                output: tree.output,
                width: if tree.output.is_some() {
                    1
                } else {
                    e.n_outputs as usize
                },
            };
            found.collect(e, tree.root as usize, &mut path, &mut leaves, &mut slots)?;
        }
        // A leaf with no split above it adds nothing to any feature.
        leaves.retain(|l| l.len > 0);
        leaves.sort_unstable_by_key(|l| {
            (
                l.output.map_or(0, |k| k as u64 + 1),
                std::cmp::Reverse(l.len),
                l.zero_for,
                l.value,
            )
        });
        let blocks = blocks_of(&leaves);
        // Every block has as many slots per lane as its first (longest) leaf.
        let size = blocks.iter().map(|b| b[0].len as usize * LANES).sum();
        let mut table = LeafTable {
            blocks: Vec::with_capacity(blocks.len()),
            feature: Vec::with_capacity(size),
            zero: Vec::with_capacity(size),
            above: Vec::with_capacity(size),
            up_to: Vec::with_capacity(size),
            rules: (1..=MOST_FEATURES / 2).map(Rule::gauss_legendre).collect(),
            answers: Vec::new(),
        };
        for block in blocks {
            table.push_block(block, &slots);
        }
        table.work_out_answers(most_answers);
        Some(table)
    }

    /// The table with at most `most_answers` answers: 0 for none, so that
    /// tests can hold the arithmetic and the answers side by side.
    #[cfg(test)]
    pub(crate) fn build_with_answers(e: &TreeEnsemble, most_answers: usize) -> Option<LeafTable> {
        Self::build_within(e, MOST_SLOTS, most_answers)
    }

    /// How many blocks read their shares from answers.
    #[cfg(test)]
    pub(crate) fn answered_blocks(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| b.answers != NO_ANSWERS)
            .count()
    }

    /// Answer tables for the blocks of [`FEWEST_ANSWERED`] slots and up, up
    /// to as many slots as fit in `most_answers` numbers when every such
    /// block has one.
    fn work_out_answers(&mut self, most_answers: usize) {
        let size = |n: usize| (LANES << n) * n;
        let answered = |n: usize, longest: usize| (FEWEST_ANSWERED..=longest).contains(&n);
        let mut longest = 0;
        for n in FEWEST_ANSWERED..=MOST_FEATURES {
            let total: usize = (self.blocks.iter())
                .filter(|b| answered(b.features, n))
                .map(|b| size(b.features))
                .sum();
            if total > most_answers {
                break;
            }
            longest = n;
        }
        let total = (self.blocks.iter())
            .filter(|b| answered(b.features, longest))
            .map(|b| size(b.features))
            .sum();
        self.answers.reserve_exact(total);
        let mut scratch = Scratch::new();
        for k in 0..self.blocks.len() {
            let Block {
                features, start, ..
            } = self.blocks[k];
            if !answered(features, longest) {
                continue;
            }
            self.blocks[k].answers = self.answers.len() as u32;
            self.answers
                .resize(self.answers.len() + size(features), 0.0);
            match features {
                1 => self.answer_block::<1, 1>(k, start, &mut scratch),
                2 => self.answer_block::<2, 1>(k, start, &mut scratch),
                3 => self.answer_block::<3, 2>(k, start, &mut scratch),
                4 => self.answer_block::<4, 2>(k, start, &mut scratch),
                5 => self.answer_block::<5, 3>(k, start, &mut scratch),
                6 => self.answer_block::<6, 3>(k, start, &mut scratch),
                7 => self.answer_block::<7, 4>(k, start, &mut scratch),
                _ => self.answer_block::<8, 4>(k, start, &mut scratch),
            }
        }
    }

    /// Fills block `k`'s answers: the arithmetic of [`Self::block`] with
    /// `one` taken from each set of slots in turn, so that an answer is
    /// the very number an explanation would work out.
    fn answer_block<const N: usize, const P: usize>(
        &mut self,
        k: usize,
        start: usize,
        scratch: &mut Scratch,
    ) {
        let at = self.blocks[k].answers as usize;
        for set in 0..1usize << N {
            for s in 0..N {
                let one = f64::from(u8::from(set & (1 << s) != 0));
                for lane in 0..LANES {
                    let zero = self.zero[start + s * LANES + lane];
                    scratch.z[s][lane] = zero;
                    scratch.d[s][lane] = one - zero;
                }
            }
            let answers = &mut self.answers;
            unit_shares::<N, P>(&self.rules[P - 1], scratch, |s, unit| {
                for lane in 0..LANES {
                    answers[at + ((lane << N) | set) * N + s] = unit[lane];
                }
            });
        }
    }

    fn push_block(&mut self, leaves: &[Leaf], slots: &[Slot]) {
        let features = leaves[0].len as usize;
        // Feature 0 with no bound: every value follows, missing or not.
        let padding = Slot {
            feature: 0,
            zero: 1.0,
            above: f64::NAN,
            up_to: f64::INFINITY,
            nan_follows: true,
        };
        let start = self.feature.len();
        for s in 0..features {
            for lane in 0..LANES {
                let slot = match leaves.get(lane) {
                    Some(l) if s < l.len as usize => &slots[l.first as usize + s],
                    _ => &padding,
                };
                let flag = if slot.nan_follows { NAN_FOLLOWS } else { 0 };
                self.feature.push(slot.feature | flag);
                self.zero.push(slot.zero);
                self.above.push(slot.above);
                self.up_to.push(slot.up_to);
            }
        }
        self.blocks.push(Block {
            features,
            output: leaves[0].output,
            start,
            values: std::array::from_fn(|lane| leaves.get(lane).map_or(NO_LEAF, |l| l.value)),
            zero_for: leaves.iter().fold(u64::MAX, |acc, l| acc & l.zero_for),
            answers: NO_ANSWERS,
        });
    }

    /// Adds each feature's SHAP value for `output` to `phi`, before the
    /// ensemble's combination (a forest's mean). `x` is already prepared.
    pub(crate) fn add_shap_values(
        &self,
        e: &TreeEnsemble,
        x: &[f64],
        output: usize,
        phi: &mut [f64],
    ) {
        let skip_bit = if output < 64 { 1u64 << output } else { 0 };
        let mut sums = vec![[0.0; LANES]; phi.len()];
        // Zeroed once per explanation rather than once per block.
        let mut scratch = Scratch::new();
        for block in &self.blocks {
            let offset = match block.output {
                Some(k) if k as usize != output => continue,
                Some(_) => 0,
                None => output,
            };
            if block.zero_for & skip_bit != 0 {
                continue;
            }
            let values = block.values.map(|v| {
                if v == NO_LEAF {
                    0.0
                } else {
                    e.leaf_values[v as usize + offset]
                }
            });
            if block.answers != NO_ANSWERS {
                match block.features {
                    1 => self.answered::<1>(block, values, x, &mut sums),
                    2 => self.answered::<2>(block, values, x, &mut sums),
                    3 => self.answered::<3>(block, values, x, &mut sums),
                    4 => self.answered::<4>(block, values, x, &mut sums),
                    5 => self.answered::<5>(block, values, x, &mut sums),
                    6 => self.answered::<6>(block, values, x, &mut sums),
                    7 => self.answered::<7>(block, values, x, &mut sums),
                    _ => self.answered::<8>(block, values, x, &mut sums),
                }
                continue;
            }
            // A path of n features takes a rule of ⌈n/2⌉ points; the same
            // arms as the walk's, so the compiler unrolls every loop.
            match block.features {
                1 => self.block::<1, 1>(block.start, values, x, &mut sums, &mut scratch),
                2 => self.block::<2, 1>(block.start, values, x, &mut sums, &mut scratch),
                3 => self.block::<3, 2>(block.start, values, x, &mut sums, &mut scratch),
                4 => self.block::<4, 2>(block.start, values, x, &mut sums, &mut scratch),
                5 => self.block::<5, 3>(block.start, values, x, &mut sums, &mut scratch),
                6 => self.block::<6, 3>(block.start, values, x, &mut sums, &mut scratch),
                7 => self.block::<7, 4>(block.start, values, x, &mut sums, &mut scratch),
                _ => self.block::<8, 4>(block.start, values, x, &mut sums, &mut scratch),
            }
        }
        for (p, lanes) in phi.iter_mut().zip(&sums) {
            *p += lanes.iter().sum::<f64>();
        }
    }

    /// Four leaves of up to `N` features each, with a rule of `P` points.
    /// The arithmetic is the walk's (`Walk::leaf`), written on whole lanes
    /// ([`V`]) so that the compiler can use vector instructions.
    #[inline(always)]
    fn block<const N: usize, const P: usize>(
        &self,
        start: usize,
        values: V,
        x: &[f64],
        phi: &mut [[f64; LANES]],
        scratch: &mut Scratch,
    ) {
        let rule = &self.rules[P - 1];
        let t: [V; P] = std::array::from_fn(|q| [rule.nodes[q]; LANES]);
        let slots = start..start + N * LANES;
        let (feature, zero) = (&self.feature[slots.clone()], &self.zero[slots.clone()]);
        let (above, up_to) = (&self.above[slots.clone()], &self.up_to[slots]);
        // Per slot: its cover share z and `one − z`, where `one` is 1 when x
        // follows the path there.
        let Scratch { z, d, prefix } = scratch;
        for s in 0..N {
            for lane in 0..LANES {
                let i = s * LANES + lane;
                let word = feature[i];
                let v = x[(word & FEATURE) as usize];
                // Not `v > above`: with `above` NaN (no bound) this passes
                // every value, −∞ too. A missing `v` fails `v <= up_to`.
                #[allow(clippy::neg_cmp_op_on_partial_ord)]
                let in_range = !(v <= above[i]) & (v <= up_to[i]);
                let follows = in_range | (v.is_nan() & (word & NAN_FOLLOWS != 0));
                z[s][lane] = zero[i];
                d[s][lane] = f64::from(u8::from(follows)) - zero[i];
            }
        }
        // factor[s][q] = z + d·t at point q; prefix[s] = weight × the
        // factors of the slots before s.
        let factor: [[V; P]; N] =
            std::array::from_fn(|s| std::array::from_fn(|q| add(z[s], mul(d[s], t[q]))));
        let mut running: [V; P] = std::array::from_fn(|q| [rule.weights[q]; LANES]);
        for s in 0..N {
            prefix[s][..P].copy_from_slice(&running);
            running = std::array::from_fn(|q| mul(running[q], factor[s][q]));
        }
        let mut suffix = [[1.0; LANES]; P];
        for s in (0..N).rev() {
            let mut integral = [0.0; LANES];
            for q in 0..P {
                integral = add(integral, mul(prefix[s][q], suffix[q]));
            }
            let share = mul(mul(d[s], integral), values);
            // One row of sums per lane: four lanes adding to one feature
            // would wait on each other through memory.
            for lane in 0..LANES {
                phi[(feature[s * LANES + lane] & FEATURE) as usize][lane] += share[lane];
            }
            suffix = std::array::from_fn(|q| mul(suffix[q], factor[s][q]));
        }
    }

    /// The same four leaves' shares read from the block's answers.
    #[inline(always)]
    fn answered<const N: usize>(
        &self,
        block: &Block,
        values: V,
        x: &[f64],
        phi: &mut [[f64; LANES]],
    ) {
        let slots = self.slots(block.start, N);
        let mut set = [0usize; LANES];
        for s in 0..N {
            for (lane, set) in set.iter_mut().enumerate() {
                *set |= usize::from(slots.follows(s * LANES + lane, x)) << s;
            }
        }
        let answers = &self.answers[block.answers as usize..][..(LANES << N) * N];
        for lane in 0..LANES {
            let row = &answers[((lane << N) | set[lane]) * N..][..N];
            for s in (0..N).rev() {
                let feature = slots.feature[s * LANES + lane] & FEATURE;
                phi[feature as usize][lane] += row[s] * values[lane];
            }
        }
    }

    /// The `n` slots per lane of the block starting at `start`.
    #[inline(always)]
    fn slots(&self, start: usize, n: usize) -> BlockSlots<'_> {
        let range = start..start + n * LANES;
        BlockSlots {
            feature: &self.feature[range.clone()],
            above: &self.above[range.clone()],
            up_to: &self.up_to[range],
        }
    }
}

/// A block's slots, cut out once, so that reading one needs no check.
struct BlockSlots<'a> {
    feature: &'a [u32],
    above: &'a [f64],
    up_to: &'a [f64],
}

impl BlockSlots<'_> {
    /// Whether `x` follows the path at slot `i`.
    #[inline(always)]
    fn follows(&self, i: usize, x: &[f64]) -> bool {
        let word = self.feature[i];
        let v = x[(word & FEATURE) as usize];
        // Not `v > above`: with `above` NaN (no bound) this passes every
        // value, −∞ too. A missing `v` fails `v <= up_to`.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let in_range = !(v <= self.above[i]) & (v <= self.up_to[i]);
        in_range | (v.is_nan() & (word & NAN_FOLLOWS != 0))
    }
}

/// Per slot and lane, the leaf's share for the slot's feature before the
/// leaf's value: `d` times the integral over the rule `P` points of the
/// other slots' factors, from the `z` and `d` of `N` slots in `scratch`.
/// Given to `share(slot, shares)`, last slot first.
///
/// The same operations in the same order as [`LeafTable::block`], which
/// keeps its own copy: calling this from there made the forest's
/// explanations 3 to 7 % slower. The test
/// `answered_blocks_give_the_very_numbers_the_arithmetic_does` holds the
/// two equal to the bit.
#[inline(always)]
fn unit_shares<const N: usize, const P: usize>(
    rule: &Rule,
    scratch: &mut Scratch,
    mut share: impl FnMut(usize, V),
) {
    let Scratch { z, d, prefix } = scratch;
    let t: [V; P] = std::array::from_fn(|q| [rule.nodes[q]; LANES]);
    // factor[s][q] = z + d·t at point q; prefix[s] = weight × the factors
    // of the slots before s.
    let factor: [[V; P]; N] =
        std::array::from_fn(|s| std::array::from_fn(|q| add(z[s], mul(d[s], t[q]))));
    let mut running: [V; P] = std::array::from_fn(|q| [rule.weights[q]; LANES]);
    for s in 0..N {
        prefix[s][..P].copy_from_slice(&running);
        running = std::array::from_fn(|q| mul(running[q], factor[s][q]));
    }
    let mut suffix = [[1.0; LANES]; P];
    for s in (0..N).rev() {
        let mut integral = [0.0; LANES];
        for q in 0..P {
            integral = add(integral, mul(prefix[s][q], suffix[q]));
        }
        share(s, mul(d[s], integral));
        suffix = std::array::from_fn(|q| mul(suffix[q], factor[s][q]));
    }
}

/// One number per lane.
type V = [f64; LANES];

/// Per block, per slot: the cover shares, `one − z`, and the prefix
/// products at each point of the rule, for the longest block.
struct Scratch {
    z: [V; MOST_FEATURES],
    d: [V; MOST_FEATURES],
    prefix: [[V; MOST_FEATURES / 2]; MOST_FEATURES],
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            z: [[0.0; LANES]; MOST_FEATURES],
            d: [[0.0; LANES]; MOST_FEATURES],
            prefix: [[[0.0; LANES]; MOST_FEATURES / 2]; MOST_FEATURES],
        }
    }
}

#[inline(always)]
fn add(a: V, b: V) -> V {
    std::array::from_fn(|i| a[i] + b[i])
}

#[inline(always)]
fn mul(a: V, b: V) -> V {
    std::array::from_fn(|i| a[i] * b[i])
}

/// Blocks of up to [`LANES`] sorted leaves, never two outputs in one.
fn blocks_of(leaves: &[Leaf]) -> Vec<&[Leaf]> {
    let mut blocks = Vec::with_capacity(leaves.len().div_ceil(LANES));
    let mut rest = leaves;
    while let Some(first) = rest.first() {
        let same = rest
            .iter()
            .take(LANES)
            .take_while(|l| l.output == first.output)
            .count();
        let (block, after) = rest.split_at(same);
        blocks.push(block);
        rest = after;
    }
    blocks
}

/// What the leaves of one tree share: the output its leaves add to, and how
/// many values each leaf has.
struct Found {
    most_slots: usize,
    output: Option<u32>,
    width: usize,
}

impl Found {
    /// Adds the leaves below `node` to `leaves` (their slots to `slots`),
    /// `path` holding the distinct features above it. `None` if a path is
    /// longer than the table takes, a split is categorical, or the slots
    /// would pass `most_slots`.
    fn collect(
        &self,
        e: &TreeEnsemble,
        node: usize,
        path: &mut Vec<Slot>,
        leaves: &mut Vec<Leaf>,
        slots: &mut Vec<Slot>,
    ) -> Option<()> {
        let n = &e.nodes[node];
        let (feature, threshold) = match n.split {
            Split::Leaf { value } => {
                if slots.len() + path.len() > self.most_slots {
                    return None;
                }
                let values = &e.leaf_values[value as usize..value as usize + self.width];
                let zero_for = match self.output {
                    Some(_) if values[0] == 0.0 => u64::MAX,
                    Some(_) => 0,
                    None => values
                        .iter()
                        .take(64)
                        .enumerate()
                        .filter(|(_, v)| **v == 0.0)
                        .fold(0, |acc, (k, _)| acc | 1 << k),
                };
                leaves.push(Leaf {
                    output: self.output,
                    value,
                    zero_for,
                    first: u32::try_from(slots.len()).ok()?,
                    len: path.len() as u32,
                });
                slots.extend_from_slice(path);
                return Some(());
            }
            Split::Numeric { feature, threshold } => (feature, threshold),
            Split::Categorical { .. } => return None,
        };
        let (left, right) = (n.left as usize, n.right as usize);
        let (fl, fr) = child_fractions(n.cover, e.nodes[left].cover, e.nodes[right].cover);
        let known = path.iter().position(|s| s.feature == feature);
        let at = match known {
            Some(k) => k,
            None if path.len() == MOST_FEATURES => return None,
            None => {
                path.push(Slot {
                    feature,
                    zero: 1.0,
                    above: f64::NAN,
                    up_to: f64::INFINITY,
                    nan_follows: true,
                });
                path.len() - 1
            }
        };
        let before = path[at];
        path[at] = Slot {
            zero: before.zero * fl,
            up_to: before.up_to.min(threshold),
            nan_follows: before.nan_follows && n.missing_left,
            ..before
        };
        self.collect(e, left, path, leaves, slots)?;
        path[at] = Slot {
            zero: before.zero * fr,
            above: before.above.max(threshold),
            nan_follows: before.nan_follows && !n.missing_left,
            ..before
        };
        self.collect(e, right, path, leaves, slots)?;
        if known.is_some() {
            path[at] = before;
        } else {
            path.pop();
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trees::tests::small_forest;

    #[test]
    fn a_table_past_its_size_limit_is_not_built() {
        let forest = small_forest();
        let table = LeafTable::build(&forest).expect("a small forest has a table");
        let slots: usize = table.blocks.iter().map(|b| b.features * LANES).sum();
        assert_eq!(slots, table.feature.len());
        // The limit counts the leaves' own slots, before padding.
        let own = 2 + 2 + 1;
        assert!(LeafTable::build_within(&forest, own, 0).is_some());
        assert!(LeafTable::build_within(&forest, own - 1, 0).is_none());
    }
}
