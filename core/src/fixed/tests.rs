//! Error bounds of every table-based unit over its whole input domain, and robustness of the
//! pipeline on any input in the declared format. The bounds asserted here are the ones
//! documented in `docs/datapath.md`.

extern crate std;

use super::model::to_f64;
use super::*;
use crate::math;
use proptest::prelude::*;
use std::boxed::Box;
use std::sync::OnceLock;
use std::vec;

fn tables() -> &'static Tables {
    static T: OnceLock<Box<Tables>> = OnceLock::new();
    T.get_or_init(|| Box::new(Tables::new(&Design::default()).unwrap()))
}

/// One LSB of the log format of the default design.
fn lsb() -> f64 {
    libm::ldexp(1.0, -(Design::default().internal.log_frac as i32))
}

fn nats(x: i64) -> f64 {
    x as f64 * lsb()
}

/// Documented bound of the ln unit: 2 LSB.
const LN_BOUND_LSB: f64 = 2.0;
/// Documented bound of the ratio unit: 1 LSB + 2^-14 relative.
const RATIO_REL: f64 = 1.0 / 16384.0;
/// Documented bound of the leaf term: 2 LSB.
const LEAF_BOUND_LSB: f64 = 2.0;
/// Documented bound of the max* correction: 2 LSB.
const CORR_BOUND_LSB: f64 = 2.0;

fn ln_err(x: u64) -> f64 {
    let t = tables();
    let tf = t.design.internal.t_frac;
    let got = nats(t.ln(x, tf).unwrap());
    let want = math::ln(x as f64) - tf as f64 * core::f64::consts::LN_2;
    (got - want).abs()
}

#[test]
fn ln_bound_on_mantissa_grid_and_extremes() {
    // Every table cell boundary and midpoint of one octave, and the ends of the t format.
    let t = tables();
    let m_bits = t.ln.size.trailing_zeros() + t.ln.step_log2;
    for k in 0..(1u64 << 12) {
        let x = (1u64 << 40) | (k << (40 - 12));
        assert!(ln_err(x) <= LN_BOUND_LSB * lsb(), "x={x}");
    }
    for x in [1u64, 2, 3, (1 << m_bits) - 1, (1 << 32) - 1, (1 << 48) - 1] {
        assert!(ln_err(x) <= LN_BOUND_LSB * lsb(), "x={x}");
    }
    assert_eq!(t.ln(0, 8), None);
}

#[test]
fn angle_tables_are_half_lsb_exact() {
    let t = tables();
    let f = libm::ldexp(1.0, t.design.internal.angle_frac as i32);
    for k in 0..t.cosh_m1.size {
        let x = k as f64 * core::f64::consts::PI / 720.0;
        assert!((t.cosh_m1.vals[k] as f64 - (libm::cosh(x) - 1.0) * f).abs() <= 0.5 + 1e-3);
        assert!((t.one_m_cos.vals[k] as f64 - (1.0 - libm::cos(x)) * f).abs() <= 0.5 + 1e-3);
    }
}

#[test]
fn corr_bound_over_whole_domain() {
    let t = tables();
    let g = t.design.internal.log_frac;
    // Every input from 0 to 20 nats, exhaustively (1.3 M values).
    for d in 0..(20i64 << g) {
        let want = libm::log1p(math::exp(-nats(d)));
        assert!(
            (nats(t.corr(d)) - want).abs() <= CORR_BOUND_LSB * lsb(),
            "d={d}"
        );
    }
}

#[test]
fn ratio_saturates_and_counts_above_the_score_range() {
    let t = tables();
    let mut o = Overflows::default();
    // λ e^u passes 2^15 nats at u ≈ 10.0 nats.
    assert_eq!(t.ratio(&t.inner, 11 << 16, &mut o), t.score_max);
    assert_eq!(t.ratio(&t.inner, 1 << 40, &mut o), t.score_max);
    assert_eq!(o.get(Stage::Ratio), 2);
    assert_eq!(t.ratio(&t.inner, -(1 << 40), &mut o), 0);
}

#[test]
fn max_star_is_symmetric_and_has_identity() {
    let t = tables();
    let mut o = Overflows::default();
    assert_eq!(t.max_star(None, Some(5), &mut o), Some(5));
    assert_eq!(t.max_star(Some(5), None, &mut o), Some(5));
    assert_eq!(t.max_star(None, None, &mut o), None);
    assert_eq!(
        t.max_star(Some(123), Some(-77_000), &mut o),
        t.max_star(Some(-77_000), Some(123), &mut o)
    );
    let top = t.score_max;
    assert_eq!(t.max_star(Some(top), Some(top), &mut o), Some(top));
    assert_eq!(o.get(Stage::Score), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn ln_bound(x in 1u64..(1u64 << 48)) {
        prop_assert!(ln_err(x) <= LN_BOUND_LSB * lsb());
    }

    #[test]
    fn ratio_bound(u in -(70i64 << 16)..(8i64 << 16), root in any::<bool>()) {
        let t = tables();
        let lt = if root { &t.root } else { &t.inner };
        let mut o = Overflows::default();
        let got = nats(t.ratio(lt, u, &mut o));
        let want = lt.lambda * math::exp(nats(u));
        prop_assert_eq!(o.total(), 0);
        prop_assert!((got - want).abs() <= lsb() + RATIO_REL * want, "u={} got={} want={}", u, got, want);
    }

    #[test]
    fn leaf_bound(l in -(40i64 << 16)..(40i64 << 16), root in any::<bool>()) {
        let t = tables();
        let lt = if root { &t.root } else { &t.inner };
        let d = &t.design;
        let lam = lt.lambda;
        let x = lam * d.t_cut * math::exp(-nats(l));
        let want = -math::ln(-math::exp_m1(-lam)) + math::ln(-math::exp_m1(-x));
        let got = nats(t.leaf(lt, Some(l)));
        prop_assert!((got - want).abs() <= LEAF_BOUND_LSB * lsb(), "l={} got={} want={}", l, got, want);
    }

    #[test]
    fn sqrt_is_floor(t in 0u64..(1u64 << 32)) {
        let tb = tables();
        let s = (t << tb.sqrt_shift).isqrt();
        let x = (t as u128) << tb.sqrt_shift;
        prop_assert!((s as u128) * (s as u128) <= x && (s as u128 + 1) * (s as u128 + 1) > x);
    }
}

fn solve(jet: &FixedJet) -> FixedResult {
    let t = tables();
    let mut cells = vec![FxCell::default(); 1 << t.design.max_leaves];
    let mut m = FixedTrellis::new(t, &mut cells).unwrap();
    m.solve(jet)
}

fn jet_of(pt: &[u32], eta: &[i32], phi: &[i32]) -> FixedJet {
    let n = pt.len();
    let mut j = FixedJet {
        valid: crate::mask::full(n),
        ..FixedJet::default()
    };
    j.pt[..n].copy_from_slice(pt);
    j.eta[..n].copy_from_slice(&eta[..n]);
    j.phi[..n].copy_from_slice(&phi[..n]);
    j
}

#[test]
fn edge_inputs_do_not_panic_and_give_defined_results() {
    let d = Design::default();
    let n = d.max_leaves as usize;
    // All zero: every t is 0, nothing passes the cut.
    let zero = FixedJet {
        valid: 0xff,
        ..FixedJet::default()
    };
    let r = solve(&zero);
    assert_eq!((r.n, r.map, r.log_z, r.count), (8, None, None, 0));
    // All max, identical: again t = 0 for every pair.
    let pmax = (1u32 << d.input.pt_bits) - 1;
    let emax = (1i32 << (d.input.eta_bits - 1)) - 1;
    let r = solve(&jet_of(&vec![pmax; n], &vec![emax; n], &vec![719; n]));
    assert_eq!((r.map, r.count), (None, 0));
    // Max pT spread over extreme angles: saturation is counted, never silent.
    let etas: vec::Vec<i32> = (0..n as i32)
        .map(|k| if k % 2 == 0 { emax } else { -emax - 1 })
        .collect();
    let phis: vec::Vec<i32> = (0..n as i32)
        .map(|k| if k % 2 == 0 { -1024 } else { 1023 })
        .collect();
    let r = solve(&jet_of(&vec![pmax; n], &etas, &phis));
    assert!(r.overflows.get(Stage::Angle) > 0);
    assert!(r.overflows.get(Stage::Pair) > 0 || r.overflows.get(Stage::SubsetT) > 0);
    // One valid leaf: the leaf itself (log Z = MAP = 0, one tree).
    let mut one = jet_of(&[100], &[0], &[0]);
    one.valid = 1;
    let r = solve(&one);
    assert_eq!((r.n, r.map, r.log_z, r.count), (1, Some(0), Some(0), 1));
    // No valid leaf.
    let r = solve(&FixedJet::default());
    assert_eq!((r.n, r.map, r.count), (0, None, 0));
    // Two valid leaves: ψ of the one split, both leaf terms at t_P.
    let r = solve(&jet_of(&[400, 400], &[0, 20], &[0, 0]));
    assert_eq!(r.count, 1);
    assert_eq!(r.map, r.log_z);
    let t = tables();
    let d_eta = 20.0 * core::f64::consts::PI / 720.0;
    let tp = 2.0 * 100.0 * 100.0 * (libm::cosh(d_eta) - 1.0);
    let want = crate::ginkgo::split_llh(0.0, 0.0, tp, 1.5, 16.0);
    assert!((to_f64(r.map, t.design.internal.log_frac) - want).abs() < 1e-3);
}

#[test]
fn invalid_slots_are_ignored_and_compacted() {
    let a = jet_of(&[400, 300, 200, 100], &[0, 10, -12, 30], &[0, 15, -20, 5]);
    let r = solve(&a);
    // Spread the same constituents over slots 1, 3, 4, 6 with garbage in the others.
    let mut b = FixedJet::default();
    for (k, s) in [1usize, 3, 4, 6].iter().enumerate() {
        b.pt[*s] = a.pt[k];
        b.eta[*s] = a.eta[k];
        b.phi[*s] = a.phi[k];
        b.valid |= 1 << s;
    }
    for s in [0usize, 2, 5, 7] {
        b.pt[s] = 9999;
        b.eta[s] = 77;
        b.phi[s] = -300;
    }
    assert_eq!(solve(&b), r);
    assert!(r.count > 0 && r.map.is_some());
}

/// The default design with 24-bit t (max 4,096 GeV²): subsets of hard, wide constituents
/// saturate.
fn narrow_t_tables() -> &'static Tables {
    static T: OnceLock<Box<Tables>> = OnceLock::new();
    T.get_or_init(|| {
        let mut d = Design::default();
        d.internal.t_bits = 24;
        Box::new(Tables::new(&d).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Stage 2 against its definition: every subset's t is the exact sum of its pairs'
    /// (stage 1's) s_ij clamped to the format, and each clamp is one `subset_t` event. Few
    /// distinct angles and pTs: saturated subsets next to pairs of zero mass, where a sum
    /// built from saturated parts would miss an event.
    #[test]
    fn subset_t_is_the_clamped_sum_of_its_pairs(
        pt in proptest::collection::vec(proptest::sample::select(vec![0u32, 1, 40, 900, 65535]), 8),
        eta in proptest::collection::vec(proptest::sample::select(vec![-600i32, 0, 1, 600]), 8),
        phi in proptest::collection::vec(proptest::sample::select(vec![-1024i32, 0, 3, 512]), 8),
        valid in 0u32..256,
    ) {
        let t = narrow_t_tables();
        let mut j = jet_of(&pt, &eta, &phi);
        j.valid = valid;
        let mut cells = vec![FxCell::default(); 256];
        let mut m = FixedTrellis::new(t, &mut cells).unwrap();
        let r = m.solve(&j);
        let n = r.n;
        let mut clamped = 0;
        for s in 1..=crate::mask::full(n) {
            let exact: u64 = crate::mask::leaves(s)
                .flat_map(|a| crate::mask::leaves(s).filter(move |&b| b > a).map(move |b| (a, b)))
                .map(|(a, b)| m.cell(1 << a | 1 << b).t)
                .sum();
            clamped += (exact > t.t_max && s.count_ones() > 2) as u32;
            prop_assert_eq!(m.cell(s).t, exact.min(t.t_max), "subset {:#b}", s);
        }
        prop_assert_eq!(r.overflows.get(Stage::SubsetT), clamped);
    }

    /// Any input in the declared format: no panic (overflow checks are on in tests), counts
    /// within the tree total, MAP ≤ log Z up to rounding.
    #[test]
    fn any_declared_input_is_safe(
        pt in proptest::collection::vec(0u32..(1 << 16), 8),
        eta in proptest::collection::vec(-2048i32..2048, 8),
        phi in proptest::collection::vec(-1024i32..1024, 8),
        valid in 0u32..256,
    ) {
        let mut j = jet_of(&pt, &eta, &phi);
        j.valid = valid;
        let r = solve(&j);
        prop_assert_eq!(r.n, valid.count_ones() as usize);
        prop_assert!(r.count as u128 <= crate::tree::count(r.n));
        if let (Some(m), Some(z)) = (r.map, r.log_z) {
            prop_assert!(m <= z + 64);
        }
        prop_assert_eq!(r.map.is_some(), r.count > 0);
    }

    /// The MAP tree is a valid hierarchy whose ψ sum is the MAP value, and no other split of
    /// the root scores higher with the children's MAP values.
    #[test]
    fn map_tree_is_consistent(
        n in 2usize..=8,
        pt in proptest::collection::vec(8u32..1600, 8),
        eta in proptest::collection::vec(-40i32..40, 8),
        phi in proptest::collection::vec(-40i32..40, 8),
    ) {
        let t = tables();
        let j = jet_of(&pt[..n], &eta[..n], &phi[..n]);
        let mut cells = vec![FxCell::default(); 256];
        let mut m = FixedTrellis::new(t, &mut cells).unwrap();
        let r = m.solve(&j);
        let mut nodes = [(0, 0); 7];
        match m.map_tree(&mut nodes) {
            None => prop_assert_eq!(r.count, 0),
            Some(k) => {
                prop_assert_eq!(k, n - 1);
                prop_assert!(crate::tree::validate(n, &nodes[..k]).is_ok());
                let sum: i64 = nodes[..k].iter().map(|&(s, a)| m.split_psi(a, s ^ a).0.unwrap()).sum();
                prop_assert_eq!(Some(sum), r.map);
                let root = crate::mask::full(n);
                for (idx, a) in crate::mask::splits(root).enumerate() {
                    let b = root ^ a;
                    if let (Some(p), Some(ma), Some(mb)) = (m.split_psi(a, b).0, m.cell(a).map, m.cell(b).map) {
                        let v = p + ma + mb;
                        prop_assert!(v <= r.map.unwrap());
                        let best_idx = crate::mask::splits(root).position(|x| x == m.cell(root).best).unwrap();
                        prop_assert!(v < r.map.unwrap() || idx >= best_idx, "tie must go to the lower index");
                    }
                }
            }
        }
    }

    /// A jet-like input (collimated constituents): the fixed model matches the float trellis on
    /// the same massless leaves.
    #[test]
    fn collimated_jets_match_float(
        n in 2usize..=8,
        pt in proptest::collection::vec(8u32..1600, 8),
        eta in proptest::collection::vec(-40i32..40, 8),
        phi in proptest::collection::vec(-40i32..40, 8),
    ) {
        let j = jet_of(&pt[..n], &eta[..n], &phi[..n]);
        let r = solve(&j);
        let d = Design::default();
        let leaves: vec::Vec<crate::Momentum> = (0..n).map(|k| j.momentum(k, &d)).collect();
        let mut cells = vec![crate::Cell::default(); 1 << n];
        let mut tr = crate::GinkgoTrellis::new(&leaves, crate::GinkgoParams::default(), &mut cells).unwrap();
        tr.solve();
        let f = tr.result();
        // Away from the cut boundary the counts agree and the values are close.
        if r.count as u128 == f.n_trees && f.n_trees > 0 {
            let g = d.internal.log_frac;
            prop_assert!((to_f64(r.log_z, g) - f.log_z).abs() < 0.02, "{:?} {:?}", r, f);
            prop_assert!((to_f64(r.map, g) - f.map_llh).abs() < 0.02, "{:?} {:?}", r, f);
            let mut fc = vec![FxCell::default(); 256];
            let mut m = FixedTrellis::new(tables(), &mut fc).unwrap();
            let r = m.solve(&j);
            let root = crate::mask::full(n);
            if m.cell(root).best == tr.best_split(root) {
                let fx = features::features(&m, &r);
                let fl = features::features_f64(&tr);
                for k in 0..features::FEATURES {
                    prop_assert!((nats(fx[k]) - fl[k]).abs() < 0.02, "feature {}: {:?} {:?}", k, fx, fl);
                }
            }
        }
    }
}

#[test]
fn features_follow_the_map_root_split() {
    let t = tables();
    let g = t.design.internal.log_frac;
    let floor = features::floor_raw(g);
    let mut cells = vec![FxCell::default(); 256];
    let mut m = FixedTrellis::new(t, &mut cells).unwrap();
    let r = m.solve(&jet_of(&[], &[], &[]));
    assert_eq!(features::features(&m, &r), [floor; 4]);
    let r = m.solve(&jet_of(&[400], &[3], &[-7]));
    assert_eq!(features::features(&m, &r), [floor, floor, floor, 0]);
    let j = jet_of(&[400, 300, 90, 60], &[0, 12, -9, 30], &[0, 5, 17, -20]);
    let r = m.solve(&j);
    let f = features::features(&m, &r);
    let mut nodes = [(0, 0); 3];
    assert_eq!(m.map_tree(&mut nodes), Some(3));
    let (s, a) = nodes[0];
    let jet = m.cell(s).ln_t.unwrap();
    let rel = |x| m.cell(x).ln_t.map_or(floor, |l: i64| (l - jet).max(floor));
    let (la, lb) = (rel(a), rel(s ^ a));
    assert_eq!(f[0], jet);
    assert_eq!([f[1], f[2]], [la.max(lb), la.min(lb)]);
    assert_eq!(f[3], r.map.unwrap() - r.log_z.unwrap());
    assert!(
        f[1] <= 0 && floor <= f[2] && f[2] <= f[1] && f[3] < 0,
        "{f:?}"
    );
}

/// The ratio unit stays in `[0, score_max]` and never decreases, for every λ the design
/// accepts and the narrowest score format, over its whole input domain (an earlier version
/// overflowed 64 bits for λ ≥ 2 and passed the score range for narrow formats).
#[test]
fn ratio_is_bounded_and_monotone_for_every_lambda() {
    for lambda in [0.01, 0.3, 1.5, 3.0, 8.0, 40.0, 63.9] {
        for narrow in [false, true] {
            let mut d = Design {
                lambda,
                ..Design::default()
            };
            if narrow {
                d.internal.score_bits = d.internal.log_frac + 8;
            }
            let t = Tables::new(&d).unwrap();
            let lim = 64i64 << d.internal.log_frac;
            let mut prev = 0;
            let mut o = Overflows::default();
            for u in (-lim - 2..=lim + 2).step_by(13) {
                let r = t.ratio(&t.inner, u, &mut o);
                assert!((0..=t.score_max).contains(&r), "λ {lambda} u {u}: {r}");
                assert!(r >= prev, "λ {lambda} u {u}: {r} < {prev}");
                prev = r;
            }
            assert_eq!(prev, t.score_max);
            assert!(o.get(Stage::Ratio) > 0);
        }
    }
}
