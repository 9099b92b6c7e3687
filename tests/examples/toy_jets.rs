//! Writes Ginkgo-like toy jets as JSONL: `toy_jets COUNT SEED MIN MAX OUT.jsonl`.

use jettrellis_tests::toy;

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(a.len() == 5, "usage: toy_jets COUNT SEED MIN MAX OUT.jsonl");
    let jets = toy::jets(
        a[0].parse()?,
        a[1].parse()?,
        a[2].parse()?,
        a[3].parse()?,
        &toy::ToyParams::default(),
    );
    jettrellis::io::write_atomic(std::path::Path::new(&a[4]), |w| {
        for j in &jets {
            serde_json::to_writer(&mut *w, j)?;
            writeln!(w)?;
        }
        Ok(())
    })
}
