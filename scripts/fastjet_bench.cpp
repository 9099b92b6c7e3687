// Times FastJet C++ (N2Plain via the Best strategy) on one jet read from stdin as lines of
// "E px py pz", for kt, C/A and anti-kt at R = 0.4 and 1000: the reference figure of
// host/benches/kt.rs. Built and run by scripts/fastjet_bench.sh.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>
#include "fastjet/ClusterSequence.hh"

int main() {
  std::vector<fastjet::PseudoJet> parts;
  double e, px, py, pz;
  while (std::cin >> e >> px >> py >> pz) parts.emplace_back(px, py, pz, e);
  fastjet::ClusterSequence::set_fastjet_banner_stream(nullptr);
  const struct { const char* name; fastjet::JetAlgorithm algo; } algos[] = {
      {"kt", fastjet::kt_algorithm}, {"ca", fastjet::cambridge_algorithm}, {"antikt", fastjet::antikt_algorithm}};
  for (const auto& a : algos) {
    for (double r : {0.4, 1000.0}) {
      fastjet::JetDefinition def(a.algo, r);
      // Best of 5 rounds of 20000 clusterings each.
      double best = 1e30;
      std::size_t sink = 0;
      for (int round = 0; round < 5; ++round) {
        auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < 20000; ++k) {
          fastjet::ClusterSequence cs(parts, def);
          sink += cs.history().size();
        }
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 20000;
        if (us < best) best = us;
      }
      std::printf("fastjet %-6s N=%zu R=%-6g %.3f us/jet (%s)\n", a.name, parts.size(), r, best,
                  sink ? "ok" : "?");
    }
  }
}
