//! The datapath's arithmetic units (docs/datapath.md §6: RATIO, LN, LEAF, max*) and the ψ unit
//! built from them (§5.1), each against its core function over dense sweeps of its input domain
//! — both range ends, every shift and saturation boundary, a stride through the rest — on the
//! netlist evaluator and on Verilator, for the default design and a narrow one (G = 12, 24-bit
//! scores, λ = 0.3, λ_root = 8).
//!
//! All units of a design sit side by side in one netlist (one Verilator build per design);
//! every unit reads its own input columns, so each row tests all of them at once.

mod common;

use common::narrow_design;
use jettrellis_core::fixed::model::psi;
use jettrellis_core::fixed::{Design, FxCell, Overflows, Stage, Tables};
use jettrellis_hdl::datapath::units::{Log, Terms, Units};
use jettrellis_hdl::ir::{sign_extend, Builder, Netlist, Ty};
use jettrellis_sim::backend::{Backend, EvalBackend};
use jettrellis_sim::verilator::{BuildOptions, VerilatorBackend};

/// Input columns: ratio u, ln x, leaf l and its −∞ flag, max* a, a's flag, c, c's flag; then
/// ψ's parent ln t and √t, child A's t, √t, ln t, child B's, and the two leaf flags.
const INPUTS: usize = 8 + PSI_INPUTS;
const PSI_INPUTS: usize = 10;

/// The units of `tab` side by side; returns the netlist, its latency and its output types.
/// Outputs: ratio (inner) value, overflow; ratio (root) value, overflow; ln value, −∞; leaf
/// (inner); leaf (root); max* value, −∞, overflow; ψ (inner) value, −∞, ratio and score
/// overflow; ψ (root) the same.
fn units_net(tab: &Tables) -> (Netlist, u32, Vec<Ty>) {
    let g = tab.design.internal.log_frac;
    let score = Ty::s(tab.design.internal.score_bits);
    let (t, sqrt, ln) = psi_types(tab);
    // No depth budget: only the ROMs and the ports are registered.
    let mut b = Builder::new(10_000);
    let tys = [
        Ty::s(g + 9),
        Ty::u(tab.design.internal.t_bits),
        Ty::s(g + 7),
        Ty::u(1),
        score,
        Ty::u(1),
        score,
        Ty::u(1),
        ln,
        sqrt,
        t,
        sqrt,
        ln,
        t,
        sqrt,
        ln,
        Ty::u(1),
        Ty::u(1),
    ];
    let x: Vec<_> = tys
        .iter()
        .enumerate()
        .map(|(k, &t)| b.input(format!("i{k}"), t))
        .collect();
    let u = Units::new(&mut b, tab);
    let (ri, oi) = u.ratio(&mut b, &u.inner, x[0]);
    let (rr, or) = u.ratio(&mut b, &u.root, x[0]);
    let l = u.ln(&mut b, x[1], tab.design.internal.t_frac);
    let leaf_in = Log {
        v: x[2],
        ninf: x[3],
    };
    let li = u.leaf(&mut b, &u.inner, leaf_in);
    let lr = u.leaf(&mut b, &u.root, leaf_in);
    let (m, om) = u.max_star(
        &mut b,
        Log {
            v: x[4],
            ninf: x[5],
        },
        Log {
            v: x[6],
            ninf: x[7],
        },
    );
    let child = |k: usize| Terms {
        t: x[k],
        sqrt: x[k + 1],
        ln: x[k + 2],
    };
    let mut outs = vec![ri, oi, rr, or, l.v, l.ninf, li, lr, m.v, m.ninf, om];
    for lam in [u.inner, u.root] {
        let p = u.psi(
            &mut b,
            &lam,
            (x[8], x[9]),
            child(10),
            child(13),
            (x[16], x[17]),
        );
        outs.extend([p.psi.v, p.psi.ninf, p.ratio_ovf, p.score_ovf]);
    }
    let sh = tab.sqrt_shift;
    let shifted = b.shl(x[1], sh, Ty::u(x[1].ty.width + sh));
    outs.push(u.isqrt(&mut b, shifted));
    let at = outs.iter().map(|v| v.cycle).max().unwrap();
    let mut lat = 0;
    for (k, &v) in outs.iter().enumerate() {
        let v = b.delay_to(v, at);
        lat = b.output(format!("o{k}"), v);
    }
    (b.finish(), lat, outs.iter().map(|v| v.ty).collect())
}

/// The ψ unit's operand types as the generator's subset stage makes them: t, √t, ln t.
fn psi_types(tab: &Tables) -> (Ty, Ty, Ty) {
    let tb = tab.design.internal.t_bits;
    let shifted = tb + tab.sqrt_shift;
    let g = tab.design.internal.log_frac;
    (Ty::u(tb), Ty::u(shifted.div_ceil(2)), Ty::s(g + 7))
}

/// A subset's t, √t and ln t as core computes them (ln t = 0 stands for −∞ at t = 0).
fn terms(tab: &Tables, t: u64) -> [i64; 3] {
    let sqrt = (t << tab.sqrt_shift).isqrt();
    let ln = tab.ln(t, tab.design.internal.t_frac).unwrap_or(0);
    [t as i64, sqrt as i64, ln]
}

/// ψ rows: parent ln t, √t; A's t, √t, ln t; B's; the leaf flags. A parent holds at least its
/// children's t (saturated); a leaf's terms are noise the unit must ignore; an inner child
/// has t > 0 (otherwise it has no finite tree and the recursion drops the split).
fn psi_rows(tab: &Tables, r: &mut Xorshift) -> Vec<[i64; PSI_INPUTS]> {
    let t_max = tab.t_max;
    // Log-uniform over the t range, with the ends.
    let any_t = |r: &mut Xorshift| match r.next() % 16 {
        0 => 1,
        1 => t_max,
        _ => 1 + (r.next() >> (r.next() % 64)) % t_max,
    };
    let mut out = Vec::new();
    let mut push = |p: u64, a: (u64, bool), b: (u64, bool), r: &mut Xorshift| {
        let [_, ps, pl] = terms(tab, p);
        let child = |(t, leaf): (u64, bool), r: &mut Xorshift| {
            if leaf {
                [
                    r.next() as i64 & 0xffff,
                    r.next() as i64 & 0xffff,
                    r.signed(1 << 20),
                ]
            } else {
                terms(tab, t)
            }
        };
        let (ca, cb) = (child(a, r), child(b, r));
        out.push([
            pl, ps, ca[0], ca[1], ca[2], cb[0], cb[1], cb[2], a.1 as i64, b.1 as i64,
        ]);
    };
    // The split that once made ψ wrap: a saturated parent, the heavier child just below it (t_P2
    // tiny), a lighter child far above t_P2, so its ratio saturates.
    for dt in [0, 1, 1 << 20, 469_458_189, 1 << 33] {
        push(t_max, (t_max - dt, false), (27_677_111_332, false), r);
        push(t_max, (27_677_111_332, false), (t_max - dt, false), r);
    }
    for k in 0..40_000u32 {
        let (al, bl) = (k % 4 == 1, k % 4 == 2 || k % 8 == 3);
        let (ta, tb) = (any_t(r), any_t(r));
        let (ta, tb) = match k % 5 {
            0 => (ta, ta),
            _ => (ta, tb),
        };
        let inner_sum = [(ta, al), (tb, bl)]
            .iter()
            .filter(|c| !c.1)
            .map(|c| c.0)
            .fold(0u64, |s, t| s.saturating_add(t));
        let p = match k % 7 {
            // t_P2 = 0 or nearly: the parent no heavier than its heavier child.
            0 => inner_sum.min(t_max).max(1),
            1 => ta.max(tb),
            2 => any_t(r),
            _ => inner_sum.saturating_add(any_t(r)).min(t_max),
        };
        push(p, (ta, al), (tb, bl), r);
    }
    out
}

/// `lo ..= hi` with step `stride`, plus `±radius` around each of `centres`.
fn sweep(lo: i64, hi: i64, stride: usize, centres: &[i64], radius: i64) -> Vec<i64> {
    let mut v: Vec<i64> = (lo..=hi).step_by(stride).collect();
    v.push(hi);
    for &c in centres {
        v.extend((c - radius..=c + radius).filter(|x| (lo..=hi).contains(x)));
    }
    v
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `-span ..= span`.
    fn signed(&mut self, span: i64) -> i64 {
        (self.next() % (2 * span as u64 + 1)) as i64 - span
    }
}

/// The input rows: each unit's column, repeated to the length of the longest.
fn rows(tab: &Tables) -> Vec<[i64; INPUTS]> {
    let d = &tab.design;
    let g = d.internal.log_frac;
    let one = (1u64 << g) as f64;
    let lim = 64i64 << g;
    // Ratio: where u·log2 e crosses a multiple of 2^G (the shift changes), where either λ's
    // ratio reaches the score maximum, the range ends.
    let mut centres: Vec<i64> = (-70..=70)
        .map(|k| (k as f64 * std::f64::consts::LN_2 * one) as i64)
        .collect();
    for lt in [&tab.inner, &tab.root] {
        centres.push(((tab.score_max as f64 / one / lt.lambda).ln() * one) as i64);
    }
    centres.extend([-lim, lim]);
    let ratio: Vec<[i64; 1]> = sweep(-lim - 8, lim + 8, 97, &centres, 64)
        .into_iter()
        .map(|u| [u])
        .collect();
    // Ln and √: around every power of two, every small value, random values of every
    // magnitude, both sides of t << sqrt_shift = k² for k of every magnitude.
    let wx = d.internal.t_bits;
    let top = (1u64 << wx) - 1;
    let mut r = Xorshift(0x2545_F491_4F6C_DD1D);
    let half = (wx + tab.sqrt_shift) / 2;
    let squares: Vec<i64> = (0..2_000)
        .flat_map(|_| {
            let k = r.next() & ((1u64 << half) - 1) >> (r.next() % half as u64);
            let t = ((k * k) >> tab.sqrt_shift) as i64;
            [t - 1, t, t + 1]
        })
        .filter(|&t| (0..=top as i64).contains(&t))
        .collect();
    let mut ln: Vec<[i64; 1]> = (0..wx as i64)
        .flat_map(|p| [(1 << p) - 1, 1 << p, (1 << p) + 1])
        .chain(0..1 << 14)
        .chain((0..20_000).map(|_| {
            let x = r.next();
            (x & top >> (x % wx as u64)) as i64
        }))
        .chain(squares)
        .chain([top as i64])
        .map(|x| [x])
        .collect();
    ln.sort_unstable();
    // Leaf: both window edges of either λ and a stride over the ln range, plus −∞.
    let (lo, hi) = (-(1i64 << (g + 6)), (1i64 << (g + 6)) - 1);
    let edges: Vec<i64> = [&tab.inner, &tab.root]
        .iter()
        .flat_map(|lt| [lt.leaf_lo, lt.leaf_lo + lt.leaf.span() as i64])
        .collect();
    let mut leaf: Vec<[i64; 2]> = sweep(lo, hi, 89, &edges, 300)
        .into_iter()
        .map(|l| [l, 0])
        .collect();
    leaf.push([12345, 1]);
    // max*: the score extremes with −∞ on either side, close pairs (inside the correction
    // window) and far ones.
    let m = tab.score_max;
    let mut max_star = Vec::new();
    for x in [-m, -m + 1, -1, 0, 1, m - 1, m] {
        for dlt in [-1, 0, 1, 2, 1 << (g + 4)] {
            let y = (x - dlt).clamp(-m, m);
            for (fa, fc) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                max_star.push([x, fa, y, fc]);
            }
        }
    }
    for k in 0..30_000 {
        let x = r.signed(m);
        let y = if k % 2 == 0 {
            (x + r.signed(20 << g)).clamp(-m, m)
        } else {
            r.signed(m)
        };
        max_star.push([x, (k % 7 == 0) as i64, y, (k % 11 == 0) as i64]);
    }
    let psi = psi_rows(tab, &mut r);
    let n = ratio
        .len()
        .max(ln.len())
        .max(leaf.len())
        .max(max_star.len())
        .max(psi.len());
    (0..n)
        .map(|i| {
            let (a, b, c, e) = (
                ratio[i % ratio.len()],
                ln[i % ln.len()],
                leaf[i % leaf.len()],
                max_star[i % max_star.len()],
            );
            let mut row = [0; INPUTS];
            row[..8].copy_from_slice(&[a[0], b[0], c[0], c[1], e[0], e[1], e[2], e[3]]);
            row[8..].copy_from_slice(&psi[i % psi.len()]);
            row
        })
        .collect()
}

/// Streams `rows` through `be` at one row per cycle and checks every output against core.
fn check(be: &mut dyn Backend, tab: &Tables, lat: u32, tys: &[Ty], rows: &[[i64; INPUTS]]) {
    let tf = tab.design.internal.t_frac;
    let opt = |v: i128, ninf: i128| (ninf == 0).then_some(v as i64);
    // The row set before tick i + 1 is at the outputs after tick i + lat.
    for i in 0..rows.len() + lat as usize - 1 {
        if let Some(row) = rows.get(i) {
            for (k, &x) in row.iter().enumerate() {
                be.set(k, x as u128);
            }
        }
        be.tick();
        let Some(j) = (i + 1).checked_sub(lat as usize) else {
            continue;
        };
        let row = rows[j];
        let got: Vec<i128> = tys
            .iter()
            .enumerate()
            .map(|(k, &t)| sign_extend(be.get(k), t))
            .collect();
        let name = be.name();
        for (k, lt) in [(0, &tab.inner), (2, &tab.root)] {
            let mut o = Overflows::default();
            let want = tab.ratio(lt, row[0], &mut o);
            assert_eq!(
                (got[k] as i64, got[k + 1] != 0),
                (want, o.get(Stage::Ratio) == 1),
                "{name}: ratio (λ {}) of u = {}",
                lt.lambda,
                row[0]
            );
        }
        assert_eq!(
            opt(got[4], got[5]),
            tab.ln(row[1] as u64, tf),
            "{name}: ln of {}",
            row[1]
        );
        let l = (row[3] == 0).then_some(row[2]);
        for (k, lt) in [(6, &tab.inner), (7, &tab.root)] {
            assert_eq!(
                got[k] as i64,
                tab.leaf(lt, l),
                "{name}: leaf (λ {}) of {l:?}",
                lt.lambda
            );
        }
        let (a, c) = (
            (row[5] == 0).then_some(row[4]),
            (row[7] == 0).then_some(row[6]),
        );
        let mut o = Overflows::default();
        let want = tab.max_star(a, c, &mut o);
        assert_eq!(
            (opt(got[8], got[9]), got[10] != 0),
            (want, o.get(Stage::Score) == 1),
            "{name}: max*({a:?}, {c:?})"
        );
        assert_eq!(
            got[19] as u64,
            ((row[1] as u64) << tab.sqrt_shift).isqrt(),
            "{name}: isqrt of {} << {}",
            row[1],
            tab.sqrt_shift
        );
        let p = &row[8..];
        let cell = |k: usize| FxCell {
            t: p[k] as u64,
            sqrt_t: p[k + 1] as u64,
            ln_t: Some(p[k + 2]),
            ..FxCell::default()
        };
        for (k, lt) in [(11, &tab.inner), (15, &tab.root)] {
            let mut o = Overflows::default();
            let leaves = (p[8] != 0, p[9] != 0);
            let want = psi(
                tab,
                lt,
                (p[0], p[1] as u64),
                (&cell(2), &cell(5)),
                leaves,
                &mut o,
            );
            assert_eq!(
                (opt(got[k], got[k + 1]), got[k + 2] != 0, got[k + 3] != 0),
                (want, o.get(Stage::Ratio) > 0, o.get(Stage::Score) > 0),
                "{name}: ψ (λ {}) of {p:?}",
                lt.lambda
            );
        }
    }
}

fn designs() -> Vec<Design> {
    vec![Design::default(), narrow_design(4, 1)]
}

#[test]
fn units_equal_core_on_the_evaluator() {
    for d in designs() {
        let tab = Tables::new(&d).unwrap();
        let (net, lat, tys) = units_net(&tab);
        check(&mut EvalBackend::new(&net), &tab, lat, &tys, &rows(&tab));
    }
}

#[test]
fn units_equal_core_on_verilator() {
    if !jettrellis_sim::tools::present_for_test("verilator") {
        return;
    }
    for (k, d) in designs().iter().enumerate() {
        let tab = Tables::new(d).unwrap();
        let (net, lat, tys) = units_net(&tab);
        let (mut be, _) =
            VerilatorBackend::from_netlist(&net, &format!("units_{k}"), &BuildOptions::default())
                .unwrap_or_else(|e| panic!("{e}"));
        check(&mut be, &tab, lat, &tys, &rows(&tab));
    }
}
