//! Trees as JSON (nested two-element arrays of leaf indices) and as core's inner-node lists.

use anyhow::{bail, Result};
use jettrellis_core::{mask, tree, Mask};
use serde_json::Value;

/// Nested JSON of the tree whose inner nodes are `nodes` (any order), over `n` leaves. Children
/// are written as `[A, S ∖ A]`: the part holding the lowest leaf first.
pub fn to_nested(nodes: &[(Mask, Mask)], n: usize) -> Value {
    fn build(s: Mask, nodes: &[(Mask, Mask)]) -> Value {
        if s.count_ones() == 1 {
            return Value::from(s.trailing_zeros());
        }
        let a = nodes
            .iter()
            .find(|x| x.0 == s)
            .map(|x| x.1)
            .expect("a valid tree has a node for every cluster");
        Value::Array(vec![build(a, nodes), build(s ^ a, nodes)])
    }
    build(mask::full(n), nodes)
}

/// Inner nodes of a nested JSON tree over `n` leaves, checked to use every leaf exactly once.
pub fn from_nested(v: &Value, n: usize) -> Result<Vec<(Mask, Mask)>> {
    fn walk(v: &Value, n: usize, nodes: &mut Vec<(Mask, Mask)>) -> Result<Mask> {
        match v {
            Value::Number(x) => match x.as_u64() {
                Some(i) if (i as usize) < n => Ok(1 << i),
                _ => bail!("leaf index {x} is not in 0..{n}"),
            },
            Value::Array(c) if c.len() == 2 => {
                let l = walk(&c[0], n, nodes)?;
                let r = walk(&c[1], n, nodes)?;
                if l & r != 0 {
                    bail!("a leaf appears twice in the tree");
                }
                let s = l | r;
                let a = if l & mask::lowest(s) != 0 { l } else { r };
                nodes.push((s, a));
                Ok(s)
            }
            _ => bail!("a tree node must be a leaf index or a two-element array, found {v}"),
        }
    }
    let mut nodes = Vec::with_capacity(n.saturating_sub(1));
    let all = walk(v, n, &mut nodes)?;
    if all != mask::full(n) {
        bail!("the tree does not contain all {n} leaves");
    }
    tree::validate(n, &nodes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_round_trip() {
        let t = json!([[[0, 1], 2], 3]);
        let nodes = from_nested(&t, 4).unwrap();
        assert_eq!(to_nested(&nodes, 4), t);
        let swapped = json!([3, [2, [1, 0]]]);
        assert_eq!(to_nested(&from_nested(&swapped, 4).unwrap(), 4), t);
    }

    #[test]
    fn rejects_bad_trees() {
        assert!(from_nested(&json!([[0, 1], 1]), 3).is_err());
        assert!(from_nested(&json!([[0, 1], 5]), 3).is_err());
        assert!(from_nested(&json!([0, 1]), 3).is_err());
        assert!(from_nested(&json!([0, 1, 2]), 3).is_err());
    }
}
