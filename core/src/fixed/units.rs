//! The arithmetic units of the datapath, bit-exact: ln, the ratio exp, the leaf-stop term, max*,
//! saturation. Each is integer-only and reads its tables from [`Tables`]; `docs/datapath.md`
//! describes the same operations for the hardware.

use super::tables::{
    round_shift, LambdaTables, Tables, EXP_TABLE_FRAC, RATIO_CLAMP_NATS, RATIO_MAX_SHIFT,
};

/// The pipeline stages that can saturate; each saturation is counted, never silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// |Δη| beyond the angle table: the last entry is used.
    Angle,
    /// s_ij above the t format.
    Pair,
    /// A subset's t above the t format.
    SubsetT,
    /// A ratio term λ t / s above the score range.
    Ratio,
    /// ψ, a split score or a max* result outside the score range.
    Score,
    /// A tree count above the count format.
    Count,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 6] = [
        Stage::Angle,
        Stage::Pair,
        Stage::SubsetT,
        Stage::Ratio,
        Stage::Score,
        Stage::Count,
    ];

    /// Short name (a key of the accuracy summary's `overflows`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Angle => "angle",
            Stage::Pair => "pair",
            Stage::SubsetT => "subset_t",
            Stage::Ratio => "ratio",
            Stage::Score => "score",
            Stage::Count => "count",
        }
    }
}

/// Saturation events per stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overflows(pub [u32; 6]);

impl Overflows {
    /// Counts one event.
    #[inline(always)]
    pub fn hit(&mut self, s: Stage) {
        self.0[s as usize] = self.0[s as usize].saturating_add(1);
    }

    /// Events of one stage.
    pub fn get(&self, s: Stage) -> u32 {
        self.0[s as usize]
    }

    /// All events.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|&x| x as u64).sum()
    }

    /// Adds another set of counts.
    #[inline(always)]
    pub fn merge(&mut self, o: &Overflows) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a = a.saturating_add(b);
        }
    }
}

/// A log-domain value (log format): `None` is the −∞ flag.
pub type LogVal = Option<i64>;

impl Tables {
    /// Saturates a log-format value to the score range, counting the event in `stage`.
    #[inline(always)]
    pub fn sat_score(&self, x: i64, stage: Stage, ovf: &mut Overflows) -> i64 {
        if x > self.score_max {
            ovf.hit(stage);
            self.score_max
        } else if x < -self.score_max {
            ovf.hit(stage);
            -self.score_max
        } else {
            x
        }
    }

    /// `ln(x · 2^-frac)` in log format for `x > 0`; `None` (−∞) for `x = 0`.
    ///
    /// `p` = position of the leading one; the `ln_bits + ln_interp_bits` bits below it address
    /// the interpolated `ln(1 + m)` table; the result is
    /// `round_shift((p − frac) · ln2, LN2_FRAC − G) + table`.
    #[inline(always)]
    pub fn ln(&self, x: u64, frac: u32) -> LogVal {
        if x == 0 {
            return None;
        }
        let lz = x.leading_zeros();
        let p = 63 - lz as i64;
        let m_bits = self.ln.size.trailing_zeros() + self.ln.step_log2;
        // Drop the leading one, keep the next m_bits bits (zeros shifted in below bit 0).
        let m = ((x << lz) << 1) >> (64 - m_bits);
        Some(self.ln_exponent(p, frac) + self.ln.read(m))
    }

    /// The exponent part of [`Tables::ln`] for a leading one at bit `p`:
    /// `round_shift((p − frac) · ln2, LN2_FRAC − G)` (the hardware reads it from a ROM).
    #[inline(always)]
    pub fn ln_exponent(&self, p: i64, frac: u32) -> i64 {
        let g = self.design.internal.log_frac;
        round_shift((p - frac as i64) * self.ln2, super::tables::LN2_FRAC - g)
    }

    /// The ratio term `λ · e^u` (log-format input `u`, log-format output), by
    /// `v = round_shift(u · log2e, LOG2E_FRAC)`, `k = floor(v / 2^G)`, `f = v − k·2^G`,
    /// `y = exp_table(f)` (`λ · 2^f`, [`EXP_TABLE_FRAC`] bits), result `y · 2^k` rounded to G bits.
    /// `u ≤ −64 nats` gives 0; a result above the score range saturates (stage Ratio), whichever
    /// way `y` was shifted.
    #[inline(always)]
    pub fn ratio(&self, lt: &LambdaTables, u: i64, ovf: &mut Overflows) -> i64 {
        let g = self.design.internal.log_frac;
        let lim = RATIO_CLAMP_NATS << g;
        if u <= -lim {
            return 0;
        }
        if u >= lim {
            ovf.hit(Stage::Ratio);
            return self.score_max;
        }
        let v = round_shift(u * self.log2e, super::tables::LOG2E_FRAC);
        let k = v >> g;
        let f = (v - (k << g)) as u64;
        let y = lt.exp.read(f);
        let sh = EXP_TABLE_FRAC as i64 - g as i64 - k;
        if sh >= RATIO_MAX_SHIFT {
            0
        } else if sh >= 0 {
            // Above the score range only with a narrow score format and a t_P2 far below the
            // lighter child's t (a saturated parent t).
            let r = round_shift(y, sh as u32);
            if r > self.score_max {
                ovf.hit(Stage::Ratio);
                self.score_max
            } else {
                r
            }
        } else if -sh >= RATIO_MAX_SHIFT - EXP_TABLE_FRAC as i64 {
            ovf.hit(Stage::Ratio);
            self.score_max
        } else if y > self.score_max >> -sh {
            // y << −sh would exceed the range (compared before shifting: for λ ≥ 2 the shift
            // itself could leave 64 bits).
            ovf.hit(Stage::Ratio);
            self.score_max
        } else {
            y << -sh
        }
    }

    /// The leaf-stop term `−ln(1 − e^−λ) + ln(1 − e^{−λ t_cut / s})` at `l = ln s` (log format):
    /// `k_norm` for `l = −∞` or below the window, the table inside it,
    /// `k_norm + c_leaf − l` above it.
    #[inline(always)]
    pub fn leaf(&self, lt: &LambdaTables, l: LogVal) -> i64 {
        let Some(l) = l else { return lt.k_norm };
        let d = l - lt.leaf_lo;
        if d < 0 {
            lt.k_norm
        } else if (d as u64) >= lt.leaf.span() {
            lt.k_norm + lt.c_leaf - l
        } else {
            lt.leaf.read(d as u64)
        }
    }

    /// The inner-child density term `k_inner − ln s − λ e^{ln t − ln s}`.
    #[inline(always)]
    pub fn density(&self, lt: &LambdaTables, ln_t: i64, ln_s: i64, ovf: &mut Overflows) -> i64 {
        lt.k_inner - ln_s - self.ratio(lt, ln_t - ln_s, ovf)
    }

    /// The max* correction `ln(1 + e^{−d})` for `d ≥ 0` (log format); 0 from d = 16 nats on.
    #[inline(always)]
    pub fn corr(&self, d: i64) -> i64 {
        debug_assert!(d >= 0);
        if (d as u64) >= self.corr.span() {
            0
        } else {
            self.corr.read(d as u64)
        }
    }

    /// `max*(a, b) = max(a, b) + ln(1 + e^{−|a−b|})`, with −∞ as the identity; the sum saturates
    /// (stage Score). Symmetric in `a` and `b`, bit for bit.
    #[inline(always)]
    pub fn max_star(&self, a: LogVal, b: LogVal, ovf: &mut Overflows) -> LogVal {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => {
                let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
                Some(self.sat_score(hi + self.corr(hi - lo), Stage::Score, ovf))
            }
        }
    }
}
