// Property test of the working-set-aware selfballooning policy (pressure-v2): 100,000 seeded
// random input sequences (XENBALLOON_PROPERTY_SEQUENCES overrides the count) of guests whose
// readings jump, vanish, run backwards and lie. Every tick: a skip carries a reason, and a target
// is a whole page within [floor, min(memory/target, static-max)], or dom0's target when that is
// below the floor. Compiled -O2 (tests/unit/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "property_sequences.h"
#include "xenballoon/policy/floor.h"
#include "xenballoon/policy/policy.h"

using namespace xenballoon;
using std::chrono::milliseconds;

namespace {

constexpr std::uint64_t kMib = 1024;  // KiB per MiB
constexpr int kTicksPerSequence = 12;

class Inputs {
 public:
  explicit Inputs(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t between(std::uint64_t low, std::uint64_t high) {
    return std::uniform_int_distribution<std::uint64_t>(low, high)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // Mostly plausible, sometimes missing, sometimes absurd.
  std::optional<std::uint64_t> maybe(std::uint64_t plausible) {
    if (chance(0.03)) return std::nullopt;
    if (chance(0.01)) return ~std::uint64_t{0} - between(0, 3);
    return plausible;
  }

  // A cumulative counter that mostly rises, now and then restarts (a reboot, a wrap).
  std::optional<std::uint64_t> counter(std::uint64_t& value, std::uint64_t max_step) {
    if (chance(0.02)) value = between(0, 1000);
    value += chance(0.3) ? between(0, max_step) : 0;
    if (chance(0.03)) return std::nullopt;
    return value;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace

TEST_CASE("pressure-v2 keeps every target a page within the floor and the ceiling") {
  const int count = xenballoon::testing::property_sequences();
  std::uint64_t targets = 0;
  std::uint64_t skips = 0;
  std::uint64_t downs = 0;
  std::uint64_t ups = 0;
  for (int sequence = 0; sequence < count; ++sequence) {
    Inputs gen(0x5e1fba11ULL + static_cast<std::uint64_t>(sequence));
    PolicySettings settings;
    settings.kind = PolicyKind::kPressureV2;
    settings.minmem_mib = gen.chance(0.2) ? gen.between(16, 4096) : 0;
    settings.pressure.probe_percent =
        gen.chance(0.5) ? 1.0 : 0.1 + 20.0 * (gen.between(0, 99) / 100.0);
    settings.pressure.headroom_min_mib = gen.between(0, 256);
    settings.pressure.headroom_max_mib = settings.pressure.headroom_min_mib + gen.between(0, 4096);
    settings.pressure.backoff_cooldown_seconds = gen.between(0, 30);
    settings.pressure.stall_window_seconds = gen.between(1, 20);

    const std::uint64_t static_max = gen.between(64, 65536) * kMib;
    std::uint64_t dom0 = gen.chance(0.1) ? gen.between(0, static_max / kMib) * kMib
                                         : static_max - gen.between(0, static_max / 2);
    std::uint64_t balloon = dom0;
    std::uint64_t committed = gen.between(0, static_max);
    std::uint64_t psi_us = 0, activate = 0, refault = 0, pswpin = 0, majfault = 0, kills = 0;
    std::int64_t now_ms = static_cast<std::int64_t>(gen.between(0, 1'000'000));
    PolicyState state;

    for (int tick = 0; tick < kTicksPerSequence; ++tick) {
      now_ms += gen.chance(0.05) ? -static_cast<std::int64_t>(gen.between(0, 5000))
                                 : static_cast<std::int64_t>(gen.between(0, 3000));
      if (gen.chance(0.1)) dom0 = gen.between(0, static_max / kMib + 64) * kMib;
      if (gen.chance(0.3)) {
        committed = gen.chance(0.1) ? committed + gen.between(0, static_max)
                                    : gen.between(0, static_max + static_max / 4);
      }
      PolicyInputs in;
      in.now = milliseconds(now_ms);
      in.static_max_kib = gen.chance(0.01) ? std::nullopt : std::optional(static_max);
      in.dom0_target_kib = gen.maybe(dom0);
      in.balloon_target_kib = gen.maybe(balloon);
      in.balloon_current_kib = gen.maybe(gen.chance(0.7) ? balloon : gen.between(0, static_max));
      const std::uint64_t overhead = gen.between(0, 64 * kMib);
      in.memtotal_kib = gen.maybe(balloon > overhead ? balloon - overhead : balloon);
      in.committed_as_kib = gen.maybe(committed);
      in.psi_some_avg10 = gen.between(0, 10000) / 100.0;
      in.psi_some_total_us = gen.counter(psi_us, 2'000'000);
      in.workingset_activate_file = gen.counter(activate, 2000);
      in.workingset_refault_file = gen.counter(refault, 4000);
      in.pswpin = gen.counter(pswpin, 1000);
      in.pgmajfault = gen.counter(majfault, 5000);
      in.oom_kill = gen.counter(kills, 2);
      in.active_file_kib = gen.maybe(gen.between(0, static_max));
      in.inactive_file_kib = gen.maybe(gen.between(0, static_max));
      in.mem_free_kib = gen.maybe(gen.between(0, static_max));
      in.swap_free_kib = gen.maybe(gen.between(0, 2 * static_max));

      const Decision d = decide(in, state, settings);
      if (d.skipped()) {
        ++skips;
        if (d.skip_reason == SkipReason::kNone || d.skip_detail.empty()) {
          FAIL_CHECK("sequence " << sequence << " tick " << tick << ": a skip without a reason");
        }
        continue;
      }
      ++targets;
      const std::uint64_t target = *d.target_kib;
      const std::uint64_t ceiling = std::min(*in.dom0_target_kib, static_max);
      const std::uint64_t floor = floor_mib(settings.minmem_mib, static_max) * kMib;
      const bool in_bounds =
          floor <= ceiling ? (target >= floor && target <= ceiling) : target == ceiling / 4 * 4;
      if (target % 4 != 0 || !in_bounds || d.ceiling_kib != ceiling || d.floor_kib != floor) {
        std::ostringstream what;
        what << "sequence " << sequence << " tick " << tick << ": target " << target << " floor "
             << floor << " ceiling " << ceiling << " (" << describe(d) << ")";
        FAIL_CHECK(what.str());
      }
      if (d.direction == Direction::kDown) ++downs;
      if (d.direction == Direction::kUp) ++ups;
      // The balloon mostly follows, sometimes lags or is moved by someone else.
      if (gen.chance(0.8)) balloon = target;
      if (gen.chance(0.05)) balloon = gen.between(0, static_max);
    }
  }
  // The generator must have reached shrinks, growths and skips, or the property proves little.
  CHECK(targets > static_cast<std::uint64_t>(count) * 5);
  CHECK(skips > static_cast<std::uint64_t>(count) / 10);
  CHECK(downs > static_cast<std::uint64_t>(count) / 10);
  CHECK(ups > static_cast<std::uint64_t>(count) / 10);
}
