//! Registered ROM filled from one of core's lookup tables (`Tables::roms()`), so the hardware
//! and the golden model read the same words.

use crate::harness::{from_raw, signed_from_raw, signed_raw, to_raw, Dut, Port};
use jettrellis_core::fixed::tables::Lut;
use rust_hdl::prelude::*;
use std::collections::BTreeMap;

/// `data` = `table[address]` of the previous cycle (latency 1): a rust-hdl `ROM` (a Verilog
/// `case`) followed by a register. Addresses past the table read 0 (rust-hdl's ROM default).
#[derive(LogicBlock)]
pub struct TableRom<const A: usize, const V: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Entry index.
    pub address: Signal<In, Bits<A>>,
    /// The entry at the previous cycle's address.
    pub data: Signal<Out, Signed<V>>,
    entries: ROM<Signed<V>, A>,
    word: DFF<Signed<V>>,
}

impl<const A: usize, const V: usize> TableRom<A, V> {
    /// A ROM holding every used entry of `lut` (`Lut::entries`: `size + 1` entries when it is
    /// interpolated). Panics when the entries need more than `A` address bits or do not fit
    /// `V`-bit two's complement.
    pub fn new(lut: &Lut) -> Self {
        let e = lut.entries();
        assert!(
            e.len() <= 1 << A,
            "{} entries need more than {A} address bits",
            e.len()
        );
        let mut map = BTreeMap::new();
        for (j, &v) in e.iter().enumerate() {
            let v = v as i64;
            assert_eq!(
                from_raw(to_raw(v, V), V),
                v,
                "entry {j} = {v} does not fit {V} bits"
            );
            map.insert(
                Bits::<A>::from(j as u64),
                signed_from_raw::<V>(to_raw(v, V)),
            );
        }
        TableRom {
            clock: Default::default(),
            address: Default::default(),
            data: Default::default(),
            entries: ROM::new(map),
            word: Default::default(),
        }
    }
}

impl<const A: usize, const V: usize> Logic for TableRom<A, V> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, word);
        self.entries.address.next = self.address.val();
        self.word.d.next = self.entries.data.val();
        self.data.next = self.word.q.val();
    }
}

impl<const A: usize, const V: usize> Dut for TableRom<A, V> {
    fn inputs(&self) -> Vec<Port> {
        vec![Port::new("address", A)]
    }
    fn outputs(&self) -> Vec<Port> {
        vec![Port::new("data", V)]
    }
    fn set_inputs(&mut self, v: &[u64]) {
        self.address.next = Bits::<A>::from(v[0]);
    }
    fn get_outputs(&self) -> Vec<u64> {
        vec![signed_raw(self.data.val())]
    }
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
}
