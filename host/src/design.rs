//! Design files (TOML, DESIGN §5): parsing into the core [`Design`], with errors that name the
//! file and the key. Every key is optional and defaults to `Design::default()` (which equals
//! `configs/default.toml`); unknown keys and wrong types are errors.

use anyhow::{anyhow, bail, Context, Result};
use jettrellis_core::fixed::Design;
use std::path::Path;

/// A settable design value.
enum Slot<'a> {
    Int(&'a mut u32),
    Real(&'a mut f64),
    Flag(&'a mut bool),
}

/// Every key of a design file and the field it sets.
fn slots(d: &mut Design) -> Vec<(&'static str, Slot<'_>)> {
    let Design {
        max_leaves,
        lambda,
        lambda_root,
        t_cut,
        fold,
        clock_mhz,
        outputs,
        input,
        internal,
        luts,
    } = d;
    vec![
        ("max_leaves", Slot::Int(max_leaves)),
        ("lambda", Slot::Real(lambda)),
        ("lambda_root", Slot::Real(lambda_root)),
        ("t_cut", Slot::Real(t_cut)),
        ("fold", Slot::Int(fold)),
        ("clock_mhz", Slot::Real(clock_mhz)),
        ("outputs.map", Slot::Flag(&mut outputs.map)),
        ("outputs.log_z", Slot::Flag(&mut outputs.log_z)),
        ("outputs.count", Slot::Flag(&mut outputs.count)),
        ("input.pt_bits", Slot::Int(&mut input.pt_bits)),
        ("input.pt_frac", Slot::Int(&mut input.pt_frac)),
        ("input.eta_bits", Slot::Int(&mut input.eta_bits)),
        ("input.phi_bits", Slot::Int(&mut input.phi_bits)),
        (
            "input.angle_steps_per_pi",
            Slot::Int(&mut input.angle_steps_per_pi),
        ),
        ("internal.angle_frac", Slot::Int(&mut internal.angle_frac)),
        ("internal.t_bits", Slot::Int(&mut internal.t_bits)),
        ("internal.t_frac", Slot::Int(&mut internal.t_frac)),
        ("internal.sqrt_frac", Slot::Int(&mut internal.sqrt_frac)),
        ("internal.log_frac", Slot::Int(&mut internal.log_frac)),
        ("internal.score_bits", Slot::Int(&mut internal.score_bits)),
        ("internal.count_bits", Slot::Int(&mut internal.count_bits)),
        ("luts.angle", Slot::Int(&mut luts.angle)),
        ("luts.ln", Slot::Int(&mut luts.ln)),
        ("luts.ln_interp_bits", Slot::Int(&mut luts.ln_interp_bits)),
        ("luts.exp", Slot::Int(&mut luts.exp)),
        ("luts.leaf", Slot::Int(&mut luts.leaf)),
        ("luts.corr", Slot::Int(&mut luts.corr)),
    ]
}

/// Every key a design file may hold.
pub fn keys() -> Vec<&'static str> {
    slots(&mut Design::default())
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The design as canonical TOML: every key, top-level keys first, then one table per section
/// in a fixed order (what the manifest stores and hashes).
pub fn to_toml(d: &Design) -> String {
    let mut d = *d;
    let mut top = String::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for (key, slot) in slots(&mut d) {
        let v = match slot {
            Slot::Int(x) => x.to_string(),
            Slot::Real(x) => format!("{x:?}"),
            Slot::Flag(x) => x.to_string(),
        };
        match key.split_once('.') {
            None => top.push_str(&format!("{key} = {v}\n")),
            Some((sec, k)) => match sections.iter_mut().find(|(s, _)| s == sec) {
                Some((_, body)) => body.push_str(&format!("{k} = {v}\n")),
                None => sections.push((sec.to_string(), format!("{k} = {v}\n"))),
            },
        }
    }
    for (sec, body) in sections {
        top.push_str(&format!("\n[{sec}]\n{body}"));
    }
    top
}

/// Sets one key (dotted path) to a TOML value, checking its type.
pub fn set_key(d: &mut Design, key: &str, v: &toml::Value) -> Result<()> {
    let mut all = slots(d);
    let Some((_, slot)) = all.iter_mut().find(|(k, _)| *k == key) else {
        bail!("unknown key `{key}`");
    };
    match (slot, v) {
        (Slot::Int(x), toml::Value::Integer(i)) => {
            **x = u32::try_from(*i)
                .map_err(|_| anyhow!("key `{key}`: {i} is not a non-negative 32-bit integer"))?;
        }
        (Slot::Real(x), toml::Value::Float(f)) => **x = *f,
        (Slot::Real(x), toml::Value::Integer(i)) => **x = *i as f64,
        (Slot::Flag(x), toml::Value::Boolean(b)) => **x = *b,
        (Slot::Int(_), _) => bail!("key `{key}`: expected an integer, found {v}"),
        (Slot::Real(_), _) => bail!("key `{key}`: expected a number, found {v}"),
        (Slot::Flag(_), _) => bail!("key `{key}`: expected true or false, found {v}"),
    }
    Ok(())
}

fn apply(d: &mut Design, prefix: &str, t: &toml::Table) -> Result<()> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(sub) => apply(d, &key, sub)?,
            _ => set_key(d, &key, v)?,
        }
    }
    Ok(())
}

/// Parses a design from TOML text and validates it; errors name the key.
pub fn parse(text: &str) -> Result<Design> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| anyhow!("{e}"))?;
    let mut d = Design::default();
    apply(&mut d, "", &table)?;
    d.validate().map_err(|e| anyhow!("{e}"))?;
    Ok(d)
}

/// Reads and validates a design file; errors name the file and the key.
pub fn read(path: &Path) -> Result<Design> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).map_err(|e| anyhow!("{}: {e:#}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn shipped_default_equals_core_default() {
        let text = include_str!("../../configs/default.toml");
        assert_eq!(parse(text).unwrap(), Design::default());
    }

    #[test]
    fn canonical_toml_parses_back_to_the_same_design() {
        let mut d = Design {
            max_leaves: 6,
            lambda_root: 2.25,
            ..Design::default()
        };
        d.outputs.log_z = false;
        assert_eq!(parse(&to_toml(&d)).unwrap(), d);
    }

    #[test]
    fn errors_name_the_key() {
        assert!(err("[luts]\nfoo = 3").contains("unknown key `luts.foo`"));
        assert!(err("bogus = 1").contains("unknown key `bogus`"));
        let e = err("[internal]\nt_bits = 0");
        assert!(
            e.contains("internal.t_bits") && e.contains("width of 0"),
            "{e}"
        );
        let e = err("[luts]\nln = 1000");
        assert!(e.contains("luts.ln") && e.contains("power of two"), "{e}");
        let e = err("max_leaves = 13");
        assert!(e.contains("max_leaves") && e.contains("1..=12"), "{e}");
        let e = err("[input]\npt_bits = -1");
        assert!(e.contains("input.pt_bits"), "{e}");
        let e = err("[outputs]\nmap = 1");
        assert!(
            e.contains("outputs.map") && e.contains("true or false"),
            "{e}"
        );
        let e = err("lambda = 0.0");
        assert!(e.contains("`lambda`"), "{e}");
    }

    #[test]
    fn partial_files_keep_defaults() {
        let d = parse("[internal]\nlog_frac = 12").unwrap();
        assert_eq!(d.internal.log_frac, 12);
        assert_eq!(d.max_leaves, Design::default().max_leaves);
        assert_eq!(keys().len(), 27);
    }
}
