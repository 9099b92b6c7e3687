//! The tagger generator on the netlist evaluator against core's `nn` layers, layer type by
//! layer type, for reuse factors 1 to 4 (including R not dividing n_in): random rows and the
//! edge rows (all zero, all most negative, all largest).

use jettrellis_core::apfixed::Format;
use jettrellis_core::nn::{self, Dense, DenseFormats, Layer, Sigmoid, Softmax, SoftmaxFormats};
use jettrellis_hdl::tagger;
use jettrellis_sim::backend::EvalBackend;
use jettrellis_sim::tagger::stream;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fmt(s: &str) -> Format {
    Format::parse(s).unwrap()
}

/// Owned weights of a Dense layer (core's `Dense` borrows them).
struct DenseData {
    n_in: usize,
    n_out: usize,
    weights: Vec<i64>,
    bias: Vec<i64>,
    formats: DenseFormats,
}

impl DenseData {
    /// Random weights over the whole weight format, about one in four zero.
    fn random(rng: &mut ChaCha8Rng, n_in: usize, n_out: usize, formats: DenseFormats) -> Self {
        let w = formats.weight;
        let b = formats.bias;
        let weights = (0..n_in * n_out)
            .map(|_| {
                if rng.random_range(0..4) == 0 {
                    0
                } else {
                    rng.random_range(w.min_mant()..=w.max_mant()) as i64
                }
            })
            .collect();
        let bias = (0..n_out)
            .map(|_| rng.random_range(b.min_mant()..=b.max_mant()) as i64)
            .collect();
        DenseData {
            n_in,
            n_out,
            weights,
            bias,
            formats,
        }
    }

    fn layer(&self) -> Layer<'_> {
        Layer::Dense(Dense {
            n_in: self.n_in,
            n_out: self.n_out,
            weights: &self.weights,
            weights_i32: &[],
            bias: &self.bias,
            formats: self.formats,
        })
    }
}

/// Random rows over the input format's range, then the edge rows.
fn rows(rng: &mut ChaCha8Rng, f: &Format, n_in: usize, n: usize) -> Vec<Vec<i128>> {
    let mut out: Vec<Vec<i128>> = [0, f.min_mant(), f.max_mant()]
        .iter()
        .map(|&m| vec![m; n_in])
        .collect();
    out.push(
        (0..n_in)
            .map(|i| {
                if i % 2 == 0 {
                    f.min_mant()
                } else {
                    f.max_mant()
                }
            })
            .collect(),
    );
    out.extend((0..n).map(|_| {
        (0..n_in)
            .map(|_| rng.random_range(f.min_mant()..=f.max_mant()))
            .collect()
    }));
    out
}

fn reference(layers: &[Layer], row: &[i128]) -> Vec<i128> {
    let mut cur = row.to_vec();
    for l in layers {
        let mut out = vec![0; 256];
        let n = l.forward(&cur, &mut out);
        out.truncate(n);
        cur = out;
    }
    cur
}

/// Generates `layers` for each reuse factor and checks `rows` against core bit for bit.
fn check(input: Format, layers: &[Layer], n_in: usize, reuses: &[u32], rows: &[Vec<i128>]) {
    let want: Vec<Vec<i128>> = rows.iter().map(|r| reference(layers, r)).collect();
    for &r in reuses {
        let t = tagger::generate(input, layers, n_in, r, 200.0, "tagger").unwrap();
        assert_eq!(t.ii, r);
        let mut be = EvalBackend::new(&t.net);
        let s = stream(&t, &mut be, rows).unwrap();
        for (k, (got, want)) in s.results.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "R = {r}, row {k}: {:?}", rows[k]);
        }
        assert!(
            s.latencies.iter().all(|&l| l == t.latency as u64),
            "R = {r}: latencies differ from {}",
            t.latency
        );
    }
}

fn dense_formats(input: Format, accum: &str, result: &str) -> DenseFormats {
    DenseFormats {
        input,
        weight: fmt("ap_fixed<8,2>"),
        bias: fmt("ap_fixed<8,3>"),
        accum: fmt(accum),
        result: fmt(result),
    }
}

/// Dense with every accumulator overflow mode and several rounding modes, followed by ReLU and
/// Linear casts, for R = 1 … 4 on 7 inputs.
#[test]
fn dense_relu_linear_match_core() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let input = fmt("ap_fixed<10,4>");
    for (accum, result) in [
        ("ap_fixed<16,6>", "ap_fixed<16,6>"),
        (
            "ap_fixed<10,4,AP_RND,AP_SAT>",
            "ap_fixed<8,3,AP_RND,AP_SAT>",
        ),
        (
            "ap_fixed<10,3,AP_RND_CONV,AP_SAT_SYM>",
            "ap_fixed<9,3,AP_RND_ZERO,AP_WRAP>",
        ),
        (
            "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_ZERO>",
            "ap_ufixed<8,3,AP_RND_INF,AP_SAT>",
        ),
        (
            "ap_fixed<7,4,AP_RND_MIN_INF,AP_WRAP>",
            "ap_fixed<6,2,AP_TRN,AP_SAT_SYM>",
        ),
        ("ap_fixed<24,12>", "ap_fixed<12,5>"),
    ] {
        let f = dense_formats(input, accum, result);
        let d = DenseData::random(&mut rng, 7, 5, f);
        let relu_out = fmt("ap_fixed<7,3,AP_RND,AP_SAT>");
        let lin_out = fmt("ap_fixed<6,1,AP_RND_CONV,AP_SAT_ZERO>");
        let layers = [
            d.layer(),
            Layer::Relu {
                input: f.result,
                result: relu_out,
            },
            Layer::Linear {
                input: relu_out,
                result: lin_out,
            },
        ];
        let rows = rows(&mut rng, &input, 7, 150);
        check(input, &layers, 7, &[1, 2, 3, 4], &rows);
    }
}

/// Two Dense layers in a row (the second fed by held outputs of the first when R > 1).
#[test]
fn stacked_dense_match_core() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let input = fmt("ap_fixed<16,6>");
    let f1 = DenseFormats {
        input,
        weight: fmt("ap_fixed<16,6>"),
        bias: fmt("ap_fixed<16,6>"),
        accum: fmt("ap_fixed<16,6,AP_RND,AP_SAT>"),
        result: fmt("ap_fixed<16,6,AP_RND,AP_SAT>"),
    };
    let d1 = DenseData::random(&mut rng, 6, 9, f1);
    let f2 = DenseFormats {
        input: f1.result,
        ..f1
    };
    let d2 = DenseData::random(&mut rng, 9, 4, f2);
    let layers = [d1.layer(), d2.layer()];
    let rows = rows(&mut rng, &input, 6, 120);
    check(input, &layers, 6, &[1, 2, 4, 5], &rows);
}

/// Sigmoid on input formats whose index saturates, truncates toward zero, and (ap_fixed<32,32>)
/// overflows the C++ `int`, with tables of 64 and 1024 entries built by core.
#[test]
fn sigmoid_matches_core() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (input, n, table_fmt, result) in [
        ("ap_fixed<16,6>", 1024, "ap_fixed<18,8>", "ap_fixed<16,6>"),
        (
            "ap_fixed<32,32>",
            1024,
            "ap_fixed<16,4>",
            "ap_fixed<16,2,AP_RND,AP_SAT>",
        ),
        (
            "ap_ufixed<8,3>",
            64,
            "ap_fixed<18,8>",
            "ap_ufixed<8,0,AP_RND,AP_SAT>",
        ),
        ("ap_fixed<12,-2>", 2048, "ap_fixed<18,8>", "ap_fixed<10,1>"),
        ("ap_fixed<6,6>", 16, "ap_fixed<18,8>", "ap_fixed<10,1>"),
    ] {
        let input = fmt(input);
        let table_fmt = fmt(table_fmt);
        let mut table = vec![0; n];
        nn::sigmoid_table(&table_fmt, nn::libm_expf, &mut table);
        let layers = [Layer::Sigmoid(Sigmoid {
            input,
            table_fmt,
            result: fmt(result),
            table: &table,
        })];
        let rows = rows(&mut rng, &input, 3, 300);
        check(input, &layers, 3, &[1, 3], &rows);
    }
}

/// Softmax with hls4ml's default and per-layer formats and an unsigned input, on random rows,
/// rows whose differences wrap in `inp_norm_t`, and equal rows.
#[test]
fn softmax_matches_core() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let t = fmt("ap_fixed<18,8,AP_RND,AP_SAT>");
    for (input, accum, result, n_tab, width) in [
        (
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            1024,
            5,
        ),
        (
            "ap_fixed<12,5>",
            "ap_fixed<18,8,AP_RND,AP_SAT>",
            "ap_fixed<16,2,AP_RND,AP_SAT>",
            2048,
            5,
        ),
        (
            "ap_ufixed<10,4>",
            "ap_fixed<16,6>",
            "ap_ufixed<12,1,AP_RND,AP_SAT>",
            256,
            3,
        ),
        (
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            1024,
            2,
        ),
    ] {
        let input = fmt(input);
        let formats = SoftmaxFormats {
            input,
            exp_table: t,
            inv_table: t,
            inv_input: t,
            accum: fmt(accum),
            result: fmt(result),
        };
        let (mut e, mut inv) = (vec![0; n_tab], vec![0; n_tab]);
        nn::softmax_exp_table(&formats, nn::libm_expf, &mut e);
        nn::softmax_inv_table(&formats, &mut inv);
        let layers = [Layer::Softmax(Softmax {
            formats,
            exp_table: &e,
            inv_table: &inv,
        })];
        let mut rows = rows(&mut rng, &input, width, 300);
        // Differences that wrap: the maximum far above the others.
        let mut wrap = vec![input.min_mant(); width];
        wrap[0] = input.max_mant();
        rows.push(wrap);
        check(input, &layers, width, &[1, 2], &rows);
    }
}

/// A bad network is refused with the layer named.
#[test]
fn mismatched_layers_are_refused() {
    let f = dense_formats(fmt("ap_fixed<10,4>"), "ap_fixed<16,6>", "ap_fixed<16,6>");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let d = DenseData::random(&mut rng, 7, 5, f);
    let e = tagger::generate(fmt("ap_fixed<10,4>"), &[d.layer()], 6, 1, 200.0, "t").unwrap_err();
    assert_eq!(e.layer, Some(0));
    assert!(e.to_string().contains("7 inputs"), "{e}");
    let e = tagger::generate(fmt("ap_fixed<12,4>"), &[d.layer()], 7, 1, 200.0, "t").unwrap_err();
    assert!(e.to_string().contains("differs"), "{e}");
    let e = tagger::generate(fmt("ap_fixed<10,4>"), &[d.layer()], 7, 0, 200.0, "t").unwrap_err();
    assert!(e.to_string().contains("reuse"), "{e}");
}

/// `build` inside another design: inputs arriving at different cycles (one behind extra
/// registers), held by registers loaded with the strobe when R > 1; the outputs and the
/// strobe come out together at `Built::cycle`.
#[test]
fn build_composes_in_an_existing_builder() {
    use jettrellis_hdl::eval::Sim;
    use jettrellis_hdl::ir::{mask, sign_extend, Builder, Ty};
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let input = fmt("ap_fixed<10,4>");
    let f = dense_formats(input, "ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<8,3>");
    let d = DenseData::random(&mut rng, 5, 3, f);
    let layers = [d.layer()];
    let rows = rows(&mut rng, &input, 5, 60);
    for reuse in [1u32, 2] {
        let mut b = Builder::new(8);
        let go = b.raw_input("go", Ty::u(1));
        let raw: Vec<_> = (0..5)
            .map(|i| b.raw_input(format!("a{i}"), Ty::s(10)))
            .collect();
        let mut x: Vec<_> = raw
            .iter()
            .map(|&v| if reuse == 1 { b.reg(v) } else { b.hold(v, go) })
            .collect();
        // Input 0 comes two cycles late.
        x[0] = b.delay_to(x[0], x[0].cycle + 2);
        let strobe = b.reg(go);
        let built = tagger::build(&mut b, input, &layers, reuse, &x, strobe).unwrap();
        assert!(built.cycle >= 3);
        b.output("done", built.strobe);
        for (j, &y) in built.y.iter().enumerate() {
            assert_eq!(y.cycle, built.cycle);
            b.output(format!("y{j}"), y);
        }
        let net = b.finish();
        let mut sim = Sim::new(&net);
        let mut seen = Vec::new();
        let mut next = 0;
        for cycle in 0..(rows.len() as u32 * reuse + built.cycle + 4) {
            let send = cycle % reuse == 0 && next < rows.len();
            sim.set(0, send as u128);
            if send {
                for (i, &m) in rows[next].iter().enumerate() {
                    sim.set(1 + i, (m as u128) & mask(10));
                }
                next += 1;
            }
            sim.tick();
            if sim.get(0) == 1 {
                let ys: Vec<i128> = (0..3)
                    .map(|j| sign_extend(sim.get(1 + j), Ty::s(8)))
                    .collect();
                seen.push(ys);
            }
        }
        assert_eq!(seen.len(), rows.len(), "R = {reuse}");
        for (k, got) in seen.iter().enumerate() {
            assert_eq!(got, &reference(&layers, &rows[k]), "R = {reuse}, row {k}");
        }
    }
}
