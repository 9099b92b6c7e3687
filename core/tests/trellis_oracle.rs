//! The trellis against brute-force enumeration of every tree, its two evaluations against each
//! other, and the posterior sampler against exact tree probabilities.

use jettrellis_core::brute;
use jettrellis_core::mask::{self, Mask};
use jettrellis_core::sample::sample_tree;
use jettrellis_core::trellis::{
    Cell, GinkgoTrellis, JetLaneCell, JetLanes, Mode, JET_LANES, JET_LANES_MAX_LEAVES,
};
use jettrellis_core::{tree, GinkgoParams, Momentum};
use proptest::prelude::*;
use rand::SeedableRng;

/// A massive leaf with energy fraction, direction offsets and mass² drawn by proptest.
fn leaf(p: f64, dtheta: f64, dphi: f64, m2: f64) -> Momentum {
    let theta = 0.9553 + dtheta;
    let phi = std::f64::consts::FRAC_PI_4 + dphi;
    [
        (p * p + m2).sqrt(),
        p * theta.sin() * phi.cos(),
        p * theta.sin() * phi.sin(),
        p * theta.cos(),
    ]
}

fn jet_strategy(max_n: usize) -> impl Strategy<Value = Vec<Momentum>> {
    prop::collection::vec(
        (1.0f64..200.0, -0.3f64..0.3, -0.3f64..0.3, 0.0f64..16.0),
        1..=max_n,
    )
    .prop_map(|v| v.into_iter().map(|(p, a, b, m)| leaf(p, a, b, m)).collect())
}

fn solve(leaves: &[Momentum], params: GinkgoParams, mode: Option<Mode>) -> (f64, f64, u128, Mask) {
    let mut cells = vec![Cell::default(); 1 << leaves.len()];
    let mut tr = GinkgoTrellis::new(leaves, params, &mut cells).unwrap();
    match mode {
        Some(m) => assert!(tr.solve_in(m), "{m:?} evaluation out of range"),
        None => tr.solve(),
    }
    let r = tr.result();
    let root = mask::full(leaves.len());
    (r.log_z, r.map_llh, r.n_trees, tr.best_split(root))
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn trellis_equals_brute_force(
        leaves in jet_strategy(7),
        t_cut in prop_oneof![Just(16.0), Just(1e-3), 0.0f64..400.0],
        lambda in 0.5f64..3.0,
        lambda_root in 0.5f64..3.0,
    ) {
        let params = GinkgoParams { lambda, lambda_root, t_cut };
        let (bf, _) = brute::solve(&leaves, &params);
        for mode in [None, Some(Mode::Log)] {
            let (log_z, map, count, _) = solve(&leaves, params, mode);
            prop_assert_eq!(count, bf.n_trees);
            prop_assert!(close(log_z, bf.log_z, 1e-11), "log Z {} vs brute {}", log_z, bf.log_z);
            prop_assert!(close(map, bf.map_llh, 1e-11), "MAP {} vs brute {}", map, bf.map_llh);
        }
    }

    #[test]
    fn map_tree_scores_its_map_value(leaves in jet_strategy(8)) {
        let params = GinkgoParams::default();
        let n = leaves.len();
        let mut cells = vec![Cell::default(); 1 << n];
        let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).unwrap();
        tr.solve();
        let mut nodes = vec![(0, 0); n.saturating_sub(1)];
        match tr.map_tree(&mut nodes) {
            Some(k) => {
                prop_assert_eq!(k, n - 1);
                prop_assert_eq!(tree::validate(n, &nodes), Ok(()));
                let l = tree::llh(&leaves, &params, &nodes);
                prop_assert!(close(l, tr.result().map_llh, 1e-11));
            }
            None => prop_assert_eq!(tr.result().n_trees, 0),
        }
    }
}

#[test]
fn count_is_double_factorial_as_cut_vanishes_and_zero_at_zero_cut() {
    // ψ's leaf term is ln(1 − e^{−λ t_cut / s}): finite for any t_cut > 0, ln 0 = −∞ at t_cut = 0,
    // where every tree (each has a split with a leaf child) is −∞.
    let leaves: Vec<Momentum> = (0..7)
        .map(|i| {
            leaf(
                20.0 + 13.0 * i as f64,
                0.05 * i as f64 - 0.15,
                0.1 - 0.03 * i as f64,
                2.0,
            )
        })
        .collect();
    for n in 2..=7usize {
        let tiny = GinkgoParams {
            t_cut: 1e-9,
            ..GinkgoParams::default()
        };
        let want: u128 = (1..n as u128).map(|i| 2 * i - 1).product();
        assert_eq!(solve(&leaves[..n], tiny, None).2, want, "n = {n}");
        let zero = GinkgoParams {
            t_cut: 0.0,
            ..GinkgoParams::default()
        };
        let (log_z, map, count, _) = solve(&leaves[..n], zero, None);
        assert_eq!(
            (count, log_z, map),
            (0, f64::NEG_INFINITY, f64::NEG_INFINITY)
        );
    }
}

/// Seven leaves of absurd (10^15 GeV) momenta: with λ = 3, e^ψ underflows the linear range.
fn extreme_jet() -> Vec<Momentum> {
    (0..7)
        .map(|i| {
            leaf(
                1e15 * (1.0 + i as f64),
                0.2 - 0.06 * i as f64,
                0.04 * i as f64 - 0.1,
                4.0,
            )
        })
        .collect()
}

/// Two very hard leaves and `soft` soft massive ones: the soft leaves are lost in the rounding
/// of the hard momenta, so every subset holding the hard pair has the pair's t, and a split
/// {hard pair and some soft leaves | the other soft leaves} has t_P2 = 0.
fn hard_pair_and_soft_leaves(soft: usize) -> Vec<Momentum> {
    let mut leaves = vec![leaf(1e17, 0.0, 0.0, 4.0), leaf(1.3e17, 0.07, -0.05, 9.0)];
    for i in 0..soft {
        let a = i as f64 * 0.7;
        leaves.push(leaf(
            2.0 + 0.1 * i as f64,
            0.2 * a.cos(),
            0.2 * a.sin(),
            16.0,
        ));
    }
    leaves
}

#[test]
fn extreme_jets_fall_back_to_the_log_evaluation_and_stay_exact() {
    // Absurd (10^15 GeV) momenta make e^ψ underflow the linear range: the result must still be exact.
    let leaves = extreme_jet();
    let params = GinkgoParams {
        lambda: 3.0,
        lambda_root: 3.0,
        t_cut: 16.0,
    };
    let mut cells = vec![Cell::default(); 1 << 7];
    let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).unwrap();
    assert!(
        !tr.solve_in(Mode::Linear),
        "this jet should leave the linear range"
    );
    tr.solve();
    assert_eq!(tr.mode(), Mode::Log);
    let r = tr.result();
    let (bf, _) = brute::solve(&leaves, &params);
    assert_eq!(r.n_trees, bf.n_trees);
    assert!(r.log_z.is_finite() && close(r.log_z, bf.log_z, 1e-11));
    assert!(close(r.map_llh, bf.map_llh, 1e-11));
}

#[test]
fn posterior_samples_follow_exact_tree_probabilities() {
    let leaves = [
        leaf(40.0, 0.0, 0.0, 3.0),
        leaf(70.0, 0.08, -0.05, 9.0),
        leaf(25.0, -0.1, 0.12, 1.0),
        leaf(90.0, 0.03, 0.1, 5.0),
    ];
    let params = GinkgoParams::default();
    let mut cells = vec![Cell::default(); 16];
    let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).unwrap();
    tr.solve();
    let log_z = tr.result().log_z;
    // Exact probabilities of the 15 trees, keyed by their sorted inner-node lists.
    let mut trees: Vec<(Vec<(Mask, Mask)>, f64)> = Vec::new();
    brute::for_each_tree(4, |nodes| {
        let mut key = nodes.to_vec();
        key.sort();
        trees.push((key, (tree::llh(&leaves, &params, nodes) - log_z).exp()));
    });
    let total: f64 = trees.iter().map(|t| t.1).sum();
    assert!((total - 1.0).abs() < 1e-12, "probabilities sum to {total}");
    let draws = 30_000;
    let mut counts = vec![0u64; trees.len()];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut out = [(0, 0); 3];
    for _ in 0..draws {
        sample_tree(&tr, &mut rng, &mut out).unwrap();
        let mut key = out.to_vec();
        key.sort();
        let k = trees.iter().position(|t| t.0 == key).expect("a valid tree");
        counts[k] += 1;
    }
    let chi2: f64 = trees
        .iter()
        .zip(&counts)
        .map(|((_, p), &c)| {
            let e = p * draws as f64;
            (c as f64 - e).powi(2) / e
        })
        .sum();
    // 14 degrees of freedom: P(χ² > 36.12) = 0.001.
    assert!(
        chi2 < 36.12,
        "chi-square {chi2:.1} over 14 dof; counts {counts:?}"
    );
}

/// Uses the trellis through the default, split-by-split `fold_splits` of the recurrence.
struct SplitBySplit<'t, 'a>(&'t mut GinkgoTrellis<'a>);

impl jettrellis_core::recurrence::Recurrence for SplitBySplit<'_, '_> {
    type Acc = <GinkgoTrellis<'static> as jettrellis_core::recurrence::Recurrence>::Acc;
    fn begin(&self, s: Mask) -> Self::Acc {
        self.0.begin(s)
    }
    fn skip(&self, acc: &Self::Acc) -> bool {
        self.0.skip(acc)
    }
    fn split(&self, acc: &mut Self::Acc, s: Mask, a: Mask, b: Mask, index: u32) {
        self.0.split(acc, s, a, b, index)
    }
    fn store(&mut self, s: Mask, acc: Self::Acc) {
        self.0.store(s, acc)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// The batched (and vectorized) fold must be bit-identical to folding split by split.
    #[test]
    fn batched_fold_equals_split_by_split(leaves in jet_strategy(9)) {
        use jettrellis_core::recurrence::run;
        let n = leaves.len();
        let params = GinkgoParams::default();
        let mut c1 = vec![Cell::default(); 1 << n];
        let mut c2 = vec![Cell::default(); 1 << n];
        let mut batched = GinkgoTrellis::new(&leaves, params, &mut c1).unwrap();
        batched.solve_in(Mode::Linear);
        let mut single = GinkgoTrellis::new(&leaves, params, &mut c2).unwrap();
        single.reset(Mode::Linear);
        run(&mut SplitBySplit(&mut single), n);
        for s in 1..=mask::full(n) {
            prop_assert_eq!(batched.log_z(s).to_bits(), single.log_z(s).to_bits());
            prop_assert_eq!(batched.map(s).to_bits(), single.map(s).to_bits());
            prop_assert_eq!(batched.count(s), single.count(s));
            prop_assert_eq!(batched.best_split(s), single.best_split(s));
        }
    }
}

/// The vector-instruction variants this CPU can run, besides the baseline.
fn simd_variants() -> Vec<jettrellis_core::trellis::Simd> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use jettrellis_core::trellis::Simd;
        if std::arch::is_x86_feature_detected!("avx2") {
            v.push(Simd::Avx2);
        }
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            v.push(Simd::Avx512);
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Every SIMD variant must give the baseline's bits, for every subset.
    #[test]
    fn simd_variants_equal_baseline(
        leaves in jet_strategy(11),
        t_cut in prop_oneof![Just(16.0), 0.0f64..400.0],
    ) {
        let n = leaves.len();
        let params = GinkgoParams { t_cut, ..GinkgoParams::default() };
        let mut c1 = vec![Cell::default(); 1 << n];
        let mut base = GinkgoTrellis::new(&leaves, params, &mut c1).unwrap();
        base.solve();
        for simd in simd_variants() {
            let mut c2 = vec![Cell::default(); 1 << n];
            let mut tr = GinkgoTrellis::new(&leaves, params, &mut c2).unwrap();
            // SAFETY: `simd_variants` lists only what this CPU supports.
            unsafe { tr.set_simd(simd) };
            tr.solve();
            prop_assert_eq!(tr.mode(), base.mode());
            for s in 1..=mask::full(n) {
                prop_assert_eq!(tr.log_z(s).to_bits(), base.log_z(s).to_bits(), "{:?} s={}", simd, s);
                prop_assert_eq!(tr.map(s).to_bits(), base.map(s).to_bits(), "{:?} s={}", simd, s);
                prop_assert_eq!(tr.count(s), base.count(s));
                prop_assert_eq!(tr.best_split(s), base.best_split(s));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// `solve`, which evaluates small subsets a whole size at a time, must give the bits of the
    /// subset-by-subset recurrence, with every SIMD variant.
    #[test]
    fn size_at_a_time_equals_subset_by_subset(
        leaves in jet_strategy(11),
        t_cut in prop_oneof![Just(16.0), 0.0f64..400.0],
    ) {
        let n = leaves.len();
        let params = GinkgoParams { t_cut, ..GinkgoParams::default() };
        let mut c1 = vec![Cell::default(); 1 << n];
        let mut one = GinkgoTrellis::new(&leaves, params, &mut c1).unwrap();
        if one.solve_in(Mode::Linear) {
            for simd in [None].into_iter().chain(simd_variants().into_iter().map(Some)) {
                let mut c2 = vec![Cell::default(); 1 << n];
                let mut tr = GinkgoTrellis::new(&leaves, params, &mut c2).unwrap();
                if let Some(simd) = simd {
                    // SAFETY: `simd_variants` lists only what this CPU supports.
                    unsafe { tr.set_simd(simd) };
                }
                tr.solve();
                prop_assert_eq!(tr.mode(), Mode::Linear);
                for s in 1..=mask::full(n) {
                    prop_assert_eq!(tr.log_z(s).to_bits(), one.log_z(s).to_bits(), "{:?} s={}", simd, s);
                    prop_assert_eq!(tr.map(s).to_bits(), one.map(s).to_bits(), "{:?} s={}", simd, s);
                    prop_assert_eq!(tr.count(s), one.count(s));
                    prop_assert_eq!(tr.best_split(s), one.best_split(s));
                }
            }
        }
    }
}

/// As below, with eight soft leaves: every subset holding the hard pair has the pair's t, so
/// a split {hard pair and some soft leaves | the other soft leaves} has t_P2 = 0, in subsets of
/// every size up to the root of ten leaves. The subset-by-subset linear evaluation (every
/// subset through the per-subset loop of each SIMD variant) must count its trees as the log
/// evaluation does, which never counts a split of ψ = −∞.
#[test]
fn splits_with_a_child_as_heavy_as_its_parent_drop_out_of_the_counts_in_every_simd_variant() {
    let leaves = hard_pair_and_soft_leaves(8);
    let n = leaves.len();
    let full = mask::full(n);
    let params = GinkgoParams::default();
    let mut c0 = vec![Cell::default(); 1 << n];
    let mut log = GinkgoTrellis::new(&leaves, params, &mut c0).unwrap();
    assert!(log.solve_in(Mode::Log));
    assert_eq!(log.t(full), log.t(0b11));
    assert!(log.count(full) > 0);
    for simd in [None]
        .into_iter()
        .chain(simd_variants().into_iter().map(Some))
    {
        let mut c = vec![Cell::default(); 1 << n];
        let mut tr = GinkgoTrellis::new(&leaves, params, &mut c).unwrap();
        if let Some(simd) = simd {
            // SAFETY: `simd_variants` lists only what this CPU supports.
            unsafe { tr.set_simd(simd) };
        }
        tr.solve_in(Mode::Linear);
        for s in 1..=full {
            assert_eq!(tr.count(s), log.count(s), "{simd:?} s={s:#b}");
        }
    }
}

#[test]
fn a_child_as_heavy_as_its_parent_makes_the_split_infinite_in_the_linear_evaluation() {
    // Two very hard leaves and two soft massive ones: the soft pair (t ≥ t_cut) is lost in the
    // rounding of the hard momenta, so t(all) = t(hard pair) exactly and t_P2 = 0 for the split
    // {hard pair | soft pair}, whose ψ is −∞ although both children have finite trees.
    let leaves = [
        leaf(1e17, 0.0, 0.0, 4.0),
        leaf(1.3e17, 0.07, -0.05, 9.0),
        leaf(3.0, 0.2, 0.15, 16.0),
        leaf(2.0, -0.15, 0.2, 16.0),
    ];
    let params = GinkgoParams::default();
    let mut cells = vec![Cell::default(); 16];
    let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).unwrap();
    assert_eq!(tr.t(0b1111), tr.t(0b0011));
    assert!(tr.t(0b1100) >= params.t_cut);
    tr.solve();
    assert_eq!(tr.mode(), Mode::Linear);
    let r = tr.result();
    let (bf, _) = brute::solve(&leaves, &params);
    assert_eq!(r.n_trees, bf.n_trees);
    assert!(
        close(r.log_z, bf.log_z, 1e-11),
        "{} vs {}",
        r.log_z,
        bf.log_z
    );
    assert!(close(r.map_llh, bf.map_llh, 1e-11));
}

/// Thirteen leaves of 5 to 75 GeV times `scale` (masses too) in a cone of 0.25.
fn thirteen_leaves(scale: f64) -> Vec<Momentum> {
    (0..13)
        .map(|i| {
            let a = i as f64 * 2.4;
            leaf(
                scale * (5.0 + 7.0 * ((i * 5) % 11) as f64),
                0.25 * a.cos(),
                0.25 * a.sin(),
                scale * scale * (i % 4) as f64,
            )
        })
        .collect()
}

/// A subset of at least `PARTS_FROM` leaves adds its splits up in parts (so that threads can
/// share it): the batched fold of every SIMD variant, the split-by-split fold and the parts
/// evaluated one by one and joined must all leave the same bits in every cell of 13 leaves
/// (compared as the cells' `Debug` text, which shows every bit of their values: log Z alone
/// would hide the last bits of Z), and agree with the log evaluation.
#[test]
fn large_subsets_add_up_their_parts_alike_in_every_evaluation() {
    use jettrellis_core::recurrence::{run, Recurrence};
    use jettrellis_core::trellis::{PARTS, PARTS_FROM};
    let leaves = thirteen_leaves(1.0);
    let n = leaves.len();
    assert!(n as u32 > PARTS_FROM);
    let params = GinkgoParams::default();
    let full = mask::full(n);
    let cells = |solve: &dyn Fn(&mut GinkgoTrellis<'_>)| {
        let mut c = vec![Cell::default(); 1 << n];
        solve(&mut GinkgoTrellis::new(&leaves, params, &mut c).unwrap());
        c.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>()
    };
    let base = cells(&|tr| assert!(tr.solve_in(Mode::Linear)));
    let single = cells(&|tr| {
        tr.reset(Mode::Linear);
        run(&mut SplitBySplit(tr), n);
    });
    assert_eq!(single, base, "split by split");
    for simd in simd_variants() {
        let with = cells(&|tr| {
            // SAFETY: `simd_variants` lists only what this CPU supports.
            unsafe { tr.set_simd(simd) };
            tr.solve();
        });
        assert_eq!(with, base, "{simd:?}");
    }
    let mut c0 = vec![Cell::default(); 1 << n];
    let mut tr = GinkgoTrellis::new(&leaves, params, &mut c0).unwrap();
    assert!(tr.solve_in(Mode::Linear));
    let mut in_parts = 0;
    for s in 1..=full {
        let parts = tr.parts(s);
        assert_eq!(parts > 1, mask::size(s) >= PARTS_FROM && tr.count(s) > 0);
        if parts > 1 {
            assert_eq!(parts, PARTS);
            in_parts += 1;
            let accs: Vec<_> = (0..parts).map(|p| tr.eval_part(s, p)).collect();
            let joined = tr.join_parts(s, &accs);
            let one = cells(&|one| {
                one.reset(Mode::Linear);
                one.store(s, joined);
            });
            assert_eq!(one[s as usize], base[s as usize], "parts joined, s={s:#b}");
        }
    }
    assert_eq!(in_parts, 14);
    let mut c1 = vec![Cell::default(); 1 << n];
    let mut log = GinkgoTrellis::new(&leaves, params, &mut c1).unwrap();
    assert!(log.solve_in(Mode::Log));
    for s in 1..=full {
        assert!(close(log.log_z(s), tr.log_z(s), 1e-12), "s={s:#b}");
        assert!(close(log.map(s), tr.map(s), 1e-12), "s={s:#b}");
        assert_eq!(log.count(s), tr.count(s));
    }
}

/// The linear evaluation holds values up to 1e290 (beyond, the products of two children could
/// overflow): a subset evaluated in parts is checked on its whole Z, not on its last part's.
/// Scaling the jet and t_cut down scales every weight up; Z of the root crosses 1e290
/// (ln = 667.75) between these two scales.
#[test]
fn the_linear_range_check_sees_the_whole_of_a_subset_in_parts() {
    for (scale, mode) in [(1.15e-15, Mode::Linear), (1.10e-15, Mode::Log)] {
        let leaves = thirteen_leaves(scale);
        let params = GinkgoParams {
            t_cut: 16.0 * scale * scale,
            ..GinkgoParams::default()
        };
        let (log_z, ..) = solve(&leaves, params, Some(Mode::Log));
        let mut cells = vec![Cell::default(); 1 << leaves.len()];
        let mut tr = GinkgoTrellis::new(&leaves, params, &mut cells).unwrap();
        tr.solve();
        assert_eq!(tr.mode(), mode, "scale {scale:e}, log Z {log_z}");
        assert!(close(tr.result().log_z, log_z, 1e-12));
        assert_eq!(log_z > 1e290f64.ln(), mode == Mode::Log);
    }
}

/// Asking for a part a subset does not have is a caller's error, not a silent wrong run.
#[test]
#[should_panic(expected = "part 4 of a subset evaluated in 4")]
fn a_part_beyond_the_parts_of_a_subset_panics() {
    let leaves = thirteen_leaves(1.0);
    let mut cells = vec![Cell::default(); 1 << leaves.len()];
    let mut tr = GinkgoTrellis::new(&leaves, GinkgoParams::default(), &mut cells).unwrap();
    tr.solve();
    tr.eval_part(mask::full(leaves.len()), 4);
}

/// The cells, results and MAP trees of eight jets solved side by side (`JetLanes`, with every
/// SIMD variant) against each jet's own linear evaluation: every lane holding a jet must have
/// its bits in every cell, or report that it left the linear range exactly when the jet's own
/// evaluation did.
fn check_side_by_side(jets: &[(Vec<Momentum>, GinkgoParams)]) -> Result<(), TestCaseError> {
    let n = jets[0].0.len();
    let lanes: Vec<(&[Momentum], GinkgoParams)> =
        jets.iter().map(|(l, p)| (l.as_slice(), *p)).collect();
    for simd in [None]
        .into_iter()
        .chain(simd_variants().into_iter().map(Some))
    {
        let mut lc = vec![JetLaneCell::default(); JetLanes::cells_needed(n)];
        let mut side = JetLanes::new(&lanes, &mut lc).unwrap();
        if let Some(simd) = simd {
            // SAFETY: `simd_variants` lists only what this CPU supports.
            unsafe { side.set_simd(simd) };
        }
        side.solve();
        prop_assert_eq!(side.jets(), jets.len());
        for (l, (leaves, params)) in jets.iter().enumerate() {
            let mut c = vec![Cell::default(); 1 << n];
            let mut own = GinkgoTrellis::new(leaves, *params, &mut c).unwrap();
            let linear = own.solve_in(Mode::Linear);
            let r = side.result(l);
            prop_assert_eq!(r.is_some(), linear, "{:?} lane {}", simd, l);
            if !linear {
                let mut ec = vec![Cell::default(); 1 << n];
                prop_assert!(side.export(l, &mut ec).is_none());
                continue;
            }
            prop_assert_eq!(r, Some(own.result()));
            // The exported lane is a whole trellis of that jet: the same MAP tree, and solving
            // it again in place (with its own λ, λ_root, t_cut) changes no bit.
            let mut ec = vec![Cell::default(); 1 << n];
            let mut exported = side.export(l, &mut ec).unwrap();
            prop_assert_eq!(exported.result(), own.result());
            let (mut t1, mut t2) = (vec![(0, 0); n], vec![(0, 0); n]);
            prop_assert_eq!(exported.map_tree(&mut t1), own.map_tree(&mut t2));
            prop_assert_eq!(&t1, &t2);
            exported.solve();
            prop_assert_eq!(exported.mode(), Mode::Linear);
            let again: Vec<String> = ec.iter().map(|c| format!("{c:?}")).collect();
            prop_assert_eq!(
                again,
                c.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>()
            );
            for s in 1..=mask::full(n) {
                prop_assert_eq!(
                    format!("{:?}", side.cell(l, s)),
                    format!("{:?}", c[s as usize]),
                    "{:?} lane {} s={:#b}",
                    simd,
                    l,
                    s
                );
            }
        }
    }
    Ok(())
}

fn params_strategy() -> impl Strategy<Value = GinkgoParams> {
    (
        0.5f64..3.0,
        0.5f64..3.0,
        prop_oneof![Just(16.0), Just(0.0), Just(1e-3), 0.0f64..400.0],
    )
        .prop_map(|(lambda, lambda_root, t_cut)| GinkgoParams {
            lambda,
            lambda_root,
            t_cut,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// One to eight random jets of one to eleven leaves, each with its own λ, λ_root and t_cut.
    #[test]
    fn eight_jets_side_by_side_have_each_jets_own_bits(
        jets in (1usize..=JET_LANES_MAX_LEAVES, 1usize..=JET_LANES).prop_flat_map(|(n, k)| {
            prop::collection::vec((jet_strategy(n).prop_filter("n leaves", move |j| j.len() == n), params_strategy()), k)
        })
    ) {
        check_side_by_side(&jets)?;
    }
}

/// The edge cases beside ordinary jets: a jet that leaves the linear range (its lane must say
/// so and the others keep their bits), splits with t_P2 = 0 (a child as heavy as its parent),
/// massless collinear leaves (subsets of t = 0), t_cut = 0 (no finite tree) and a cut above
/// every subset.
#[test]
fn eight_jets_side_by_side_keep_each_jets_bits_in_edge_cases() {
    let ordinary = |i: usize| -> Vec<Momentum> {
        (0..7)
            .map(|k| {
                let a = (i * 7 + k) as f64 * 0.9;
                leaf(
                    10.0 + 9.0 * k as f64,
                    0.2 * a.cos(),
                    0.2 * a.sin(),
                    (k % 3) as f64,
                )
            })
            .collect()
    };
    let extreme = extreme_jet();
    let heavy = hard_pair_and_soft_leaves(5);
    let mut c = vec![Cell::default(); 1 << 7];
    let tr = GinkgoTrellis::new(&heavy, GinkgoParams::default(), &mut c).unwrap();
    assert_eq!(
        tr.t(mask::full(7)),
        tr.t(0b11),
        "the soft leaves must vanish in t"
    );
    // Identical leaves: splits of exactly equal value, so MAP ties go to the lower split.
    let twins: Vec<Momentum> = (0..7)
        .map(|k| leaf(20.0 + (k / 3) as f64, 0.01 * (k / 3) as f64, 0.0, 2.0))
        .collect();
    let mut collinear = ordinary(3);
    collinear[1] = leaf(30.0, 0.0, 0.0, 0.0);
    collinear[2] = leaf(45.0, 0.0, 0.0, 0.0);
    let d = GinkgoParams::default();
    let strong = GinkgoParams {
        lambda: 3.0,
        lambda_root: 3.0,
        t_cut: 16.0,
    };
    let jets = vec![
        (ordinary(0), d),
        (extreme, strong),
        (heavy, d),
        (collinear, d),
        (ordinary(1), GinkgoParams { t_cut: 0.0, ..d }),
        (ordinary(2), GinkgoParams { t_cut: 1e9, ..d }),
        (twins, strong),
    ];
    check_side_by_side(&jets).unwrap();
    let mut c = vec![JetLaneCell::default(); 1 << 7];
    let lanes: Vec<(&[Momentum], GinkgoParams)> =
        jets.iter().map(|(l, p)| (l.as_slice(), *p)).collect();
    let mut side = JetLanes::new(&lanes, &mut c).unwrap();
    side.solve();
    assert_eq!(side.result(1), None, "the extreme jet must leave the range");
    let r2 = side.result(2).unwrap();
    assert!(r2.n_trees > 0 && r2.log_z.is_finite());
    assert_eq!(side.result(4).unwrap().n_trees, 0);
    assert_eq!(side.result(5).unwrap().n_trees, 0);
}

#[test]
#[should_panic(expected = "one number of leaves")]
fn jets_side_by_side_need_one_number_of_leaves() {
    let a = thirteen_leaves(1.0);
    let p = GinkgoParams::default();
    let mut c = vec![JetLaneCell::default(); 1 << 5];
    let _ = JetLanes::new(&[(&a[..5], p), (&a[..4], p)], &mut c);
}

#[test]
#[should_panic(expected = "9 jets for 8 lanes")]
fn at_most_eight_jets_go_side_by_side() {
    let a = thirteen_leaves(1.0);
    let p = GinkgoParams::default();
    let mut c = vec![JetLaneCell::default(); 1 << 4];
    let _ = JetLanes::new(&vec![(&a[..4], p); 9], &mut c);
}
