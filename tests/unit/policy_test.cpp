#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "xenballoon/policy/floor.h"
#include "xenballoon/policy/policy.h"

using namespace xenballoon;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr std::uint64_t kMib = 1024;  // KiB per MiB
// MemTotal is this much below the balloon's current_kb on the captured Xen 4.17 guest.
constexpr std::uint64_t kFixtureOverheadKib = 262144 - 204924;

PolicySettings settings_for(PolicyKind kind, std::uint64_t up = 1, std::uint64_t down = 10) {
  PolicySettings settings;
  settings.kind = kind;
  settings.uphysteresis = up;
  settings.downhysteresis = down;
  return settings;
}

// A guest whose balloon has reached its target: current_kb = target_kb = MemTotal + overhead.
PolicyInputs settled_guest(std::uint64_t static_max, std::uint64_t dom0_target,
                           std::uint64_t balloon_kib, std::uint64_t committed_as) {
  PolicyInputs in;
  in.static_max_kib = static_max;
  in.dom0_target_kib = dom0_target;
  in.balloon_target_kib = balloon_kib;
  in.balloon_current_kib = balloon_kib;
  in.memtotal_kib = balloon_kib - kFixtureOverheadKib;
  in.committed_as_kib = committed_as;
  in.psi_some_avg10 = 0.0;
  in.pswpin = 1000;
  in.pgmajfault = 50000;
  return in;
}

// The captured guest: memory=256, maxmem=512, idle (tests/fixtures/real-xen-4.17).
PolicyInputs fixture_guest() {
  PolicyInputs in = settled_guest(524288, 262144, 262144, 5136);
  CHECK(*in.memtotal_kib == 204924);
  return in;
}

// Drives one policy tick by tick; the balloon follows every target at once.
struct Run {
  PolicySettings settings;
  PolicyInputs in;
  PolicyState state;

  Decision at(seconds when) {
    in.now = when;
    Decision decision = decide(in, state, settings);
    if (decision.target_kib) follow(*decision.target_kib);
    return decision;
  }

  void follow(std::uint64_t target) {
    in.balloon_target_kib = target;
    in.balloon_current_kib = target;
    in.memtotal_kib = target - kFixtureOverheadKib;
  }

  // Quiet ticks, one per second, so that the vmstat history covers the burst window.
  void warm_up(int first_second, int last_second) {
    for (int s = first_second; s <= last_second; ++s) at(seconds(s));
  }
};

}  // namespace

TEST_CASE("minimum_target floor in each band") {
  CHECK(balloon_minimum_target_mib(65536) == 40);     // 64 MiB: 8 + 16384/512
  CHECK(balloon_minimum_target_mib(131072) == 72);    // 128 MiB: 40 + 32768/1024
  CHECK(balloon_minimum_target_mib(262144) == 104);   // 256 MiB: 40 + 65536/1024
  CHECK(balloon_minimum_target_mib(524288) == 168);   // 512 MiB: 104 + 131072/2048
  CHECK(balloon_minimum_target_mib(1048576) == 232);  // 1 GiB: 104 + 262144/2048
  CHECK(balloon_minimum_target_mib(2097152) == 360);  // 2 GiB: 296 + 524288/8192
  CHECK(balloon_minimum_target_mib(4194304) == 424);  // 4 GiB
  CHECK(balloon_minimum_target_mib(8388608) == 552);  // 8 GiB
}

TEST_CASE("minimum_target floor at the band edges") {
  CHECK(balloon_minimum_target_mib(0) == 8);
  CHECK(balloon_minimum_target_mib(1023) == 8);
  CHECK(balloon_minimum_target_mib(127999) == 70);    // 124 MiB: 8 + 31999/512
  CHECK(balloon_minimum_target_mib(128000) == 71);    // 125 MiB: 40 + 32000/1024
  CHECK(balloon_minimum_target_mib(511999) == 164);   // 499 MiB: 40 + 127999/1024
  CHECK(balloon_minimum_target_mib(512000) == 166);   // 500 MiB: 104 + 128000/2048
  CHECK(balloon_minimum_target_mib(2047999) == 353);  // 1999 MiB: 104 + 511999/2048
  CHECK(balloon_minimum_target_mib(2048000) == 358);  // 2000 MiB: 296 + 512000/8192
}

TEST_CASE("a configured minmem replaces the derived floor") {
  CHECK(floor_mib(0, 524288) == 168);
  CHECK(floor_mib(300, 524288) == 300);
  CHECK(floor_mib(16, 8388608) == 16);
}

TEST_CASE("classic reproduces the 2008 script's arithmetic") {
  struct Case {
    std::uint64_t static_max;
    std::uint64_t minmem_mib;
    std::uint64_t committed_as;
    std::uint64_t memtotal;
    std::uint64_t up;
    std::uint64_t down;
    std::uint64_t expected;
  };
  // Worked in bytes as the script does: tgt = max(C*1024, floor MiB*2^20), cur = M*1024,
  // shrink cur - (cur - tgt)/down, grow cur + (tgt - cur)/up, then /1024.
  const Case cases[] = {
      // static-max 100 MiB: floor 8 + 25600/512 = 58 MiB = 60817408 bytes
      {102400, 0, 20000, 90000, 1, 10, 86939},   // 92160000 - 31342592/10 = 89025741 B
      {102400, 0, 20000, 90000, 1, 0, 59392},    // down 0: jump to the floor
      {102400, 0, 20000, 90000, 1, 1, 59392},    // down 1: jump too
      {102400, 0, 20000, 90000, 1, 8, 86174},    // 92160000 - 31342592/8 = 88242176 B
      {102400, 0, 95000, 70000, 1, 10, 95000},   // up 1: jump to Committed_AS
      {102400, 0, 95000, 70000, 8, 10, 73125},   // 71680000 + 25600000/8 = 74880000 B
      {102400, 0, 95000, 70000, 10, 10, 72500},  // 71680000 + 25600000/10 = 74240000 B
      {102400, 0, 95000, 70000, 0, 10, 95000},   // up 0: jump
      // static-max 256 MiB: floor 40 + 65536/1024 = 104 MiB = 109051904 bytes
      {262144, 0, 150000, 240000, 1, 10, 231000},  // 245760000 - 92160000/10
      {262144, 0, 50000, 200000, 1, 10, 190649},   // 204800000 - 95748096/10 = 195225191 B
      {262144, 0, 50000, 200000, 1, 8, 188312},    // 204800000 - 95748096/8 = 192831488 B
      {262144, 0, 250000, 180000, 1, 10, 250000},  // up 1
      {262144, 0, 250000, 180000, 8, 10, 188750},  // 184320000 + 71680000/8 = 193280000 B
      {262144, 0, 200000, 200000, 8, 8, 200000},   // equal: no step
      // static-max 1 GiB: floor 104 + 262144/2048 = 232 MiB = 243269632 bytes
      {1048576, 0, 400000, 1000000, 1, 10, 940000},  // 1024000000 - 614400000/10
      {1048576, 0, 400000, 1000000, 1, 0, 400000},   // down 0
      {1048576, 0, 100000, 900000, 1, 10, 833756},   // 921600000 - 678330368/10 = 853766964 B
      {1048576, 0, 900000, 500000, 10, 10, 540000},  // 512000000 + 409600000/10
      {1048576, 0, 1000001, 500000, 1, 10, 1000001},
      {1048576, 0, 1000001, 999999, 8, 10, 999999},  // + 2048/8 = 256 B: less than a KiB
      // static-max 4 GiB: floor 296 + 1048576/8192 = 424 MiB = 444596224 bytes
      {4194304, 0, 1500000, 4000000, 1, 10, 3750000},   // 4096000000 - 2560000000/10
      {4194304, 0, 200000, 3000000, 1, 8, 2679272},     // 3072000000 - 2627403776/8
      {4194304, 0, 3500000, 1000000, 10, 10, 1250000},  // 1024000000 + 2560000000/10
      {4194304, 0, 3500000, 1000000, 0, 10, 3500000},   // up 0
      // minmem 300 MiB = 314572800 bytes instead of the derived 232
      {1048576, 300, 100000, 1000000, 1, 10, 930720},  // 1024000000 - 709427200/10
  };
  for (const Case& c : cases) {
    INFO("static-max " << c.static_max << " minmem " << c.minmem_mib << " Committed_AS "
                       << c.committed_as << " MemTotal " << c.memtotal << " up " << c.up << " down "
                       << c.down);
    CHECK(classic_step_kib(c.committed_as, c.memtotal, floor_mib(c.minmem_mib, c.static_max), c.up,
                           c.down) == c.expected);

    PolicySettings settings = settings_for(PolicyKind::kClassic, c.up, c.down);
    settings.minmem_mib = c.minmem_mib;
    PolicyInputs in;
    in.static_max_kib = c.static_max;
    in.dom0_target_kib = c.static_max;
    in.memtotal_kib = c.memtotal;
    in.committed_as_kib = c.committed_as;
    PolicyState state;
    const Decision decision = decide(in, state, settings);
    REQUIRE(decision.target_kib);
    // What reaches the driver is the script's value rounded down to a page, as the kernel did.
    const std::uint64_t written = c.expected / 4 * 4;
    CHECK(*decision.target_kib == written);
    const Direction expected_direction = written > c.memtotal   ? Direction::kUp
                                         : written < c.memtotal ? Direction::kDown
                                                                : Direction::kNone;
    CHECK(decision.direction == expected_direction);
  }
}

TEST_CASE("classic: growth below the floor is stepped by the script, then raised by the clamp") {
  // static-max 4 GiB, floor 424 MiB: 102400000 + (444596224 - 102400000)/8 = 145174528 B.
  CHECK(classic_step_kib(100, 100000, 424, 8, 10) == 141772);
  PolicyInputs in;
  in.static_max_kib = 4194304;
  in.dom0_target_kib = 4194304;
  in.memtotal_kib = 100000;
  in.committed_as_kib = 100;
  PolicyState state;
  const Decision decision = decide(in, state, settings_for(PolicyKind::kClassic, 8, 10));
  CHECK(decision.target_kib == 434176u);
  CHECK(decision.floor_kib == 434176);
  CHECK(decision.goal_kib == 434176);
}

TEST_CASE("classic on the captured guest ratchets down to the floor") {
  // The script compares MemTotal with Committed_AS but writes the result as the balloon target,
  // which also holds the 57220 KiB MemTotal never shows; each tick loses that much.
  Run run{settings_for(PolicyKind::kClassic), fixture_guest(), {}};
  // floor 168 MiB = 176160768 B; cur 209842176 B; - 33681408/10 = 206474036 B = 201634 KiB,
  // 201632 KiB in whole pages
  Decision first = run.at(seconds(0));
  CHECK(first.target_kib == 201632u);
  CHECK(first.direction == Direction::kDown);
  CHECK(*run.in.memtotal_kib == 144412);
  // Now MemTotal is below the floor: "grow" to the floor, which the balloon already holds less of.
  Decision second = run.at(seconds(1));
  CHECK(second.target_kib == 172032u);
  Decision third = run.at(seconds(2));
  CHECK(third.target_kib == 172032u);
  CHECK(third.direction == Direction::kNone);
}

TEST_CASE("pressure holds until the vmstat history covers the window, then shrinks by 1/10") {
  // static-max 2 GiB: floor 360 MiB. goal = 500000 + 128 MiB + 57220 = 688292 KiB.
  Run run{PolicySettings{}, settled_guest(2097152, 2097152, 2097152, 500000), {}};
  for (int s = 0; s < 10; ++s) {
    const Decision decision = run.at(seconds(s));
    INFO("second " << s);
    CHECK(decision.target_kib == 2097152u);
    CHECK(decision.direction == Direction::kNone);
    CHECK(decision.hold == ShrinkHold::kHistoryTooShort);
    CHECK(decision.goal_kib == 688292);
  }
  Decision shrink = run.at(seconds(10));
  CHECK(shrink.hold == ShrinkHold::kNone);
  CHECK(shrink.target_kib == 1956264u);  // 2097152 - 1408860/10 = 1956266, in whole pages
  CHECK(shrink.direction == Direction::kDown);
  CHECK(run.at(seconds(11)).target_kib == 1829464u);  // 1956264 - 1267972/10 = 1829467
  CHECK(shrink.floor_kib == 368640);
  CHECK(shrink.ceiling_kib == 2097152);
}

TEST_CASE("pressure on the captured guest") {
  Run run{PolicySettings{}, fixture_guest(), {}};
  run.warm_up(0, 9);
  // goal = 5136 + 131072 + 57220 = 193428 (floor 172032); 262144 - 68716/10 = 255273, in
  // whole pages 255272
  const Decision decision = run.at(seconds(10));
  CHECK(decision.goal_kib == 193428);
  CHECK(decision.target_kib == 255272u);
  CHECK(describe(decision) == "target 255272 KiB (down)");
}

TEST_CASE("pressure: a PSI spike grows to goal + headroom in the same tick, then the cooldown") {
  // goal = 500000 + 131072 + 57220 = 688292: the guest starts exactly there.
  Run run{PolicySettings{}, settled_guest(4194304, 4194304, 688292, 500000), {}};
  run.warm_up(0, 10);
  CHECK(*run.in.balloon_target_kib == 688292);

  run.in.psi_some_avg10 = 5.0;
  const Decision spike = run.at(seconds(11));
  CHECK(spike.signals.psi_high);
  CHECK(spike.target_kib == 819364u);  // 688292 + 128 MiB
  CHECK(spike.direction == Direction::kUp);

  run.in.psi_some_avg10 = 4.0;  // avg10 lingers: still pressure, but PSI alone does not stack
  const Decision lingering = run.at(seconds(12));
  CHECK(lingering.target_kib == 819364u);
  CHECK(lingering.hold == ShrinkHold::kPressure);

  run.in.psi_some_avg10 = 0.5;
  for (int s = 13; s <= 71; ++s) {
    const Decision decision = run.at(seconds(s));
    INFO("second " << s);
    CHECK(decision.target_kib == 819364u);
    CHECK(decision.hold == ShrinkHold::kCooldown);
  }
  const Decision after_cooldown = run.at(seconds(72));  // 60 s after the last pressure tick
  CHECK(after_cooldown.hold == ShrinkHold::kNone);
  CHECK(after_cooldown.target_kib == 806256u);  // 819364 - 131072/10 = 806257, in whole pages
}

TEST_CASE("pressure: vmstat bursts add headroom on top, at most once per burst window") {
  // Committed_AS 711708 puts the goal exactly at 900000 while warming up.
  Run run{PolicySettings{}, settled_guest(4194304, 4194304, 900000, 711708), {}};
  run.warm_up(0, 10);
  CHECK(*run.in.balloon_target_kib == 900000);

  // Committed_AS falls (goal 688292) while major faults jump: page cache thrash.
  run.in.committed_as_kib = 500000;
  *run.in.pgmajfault += 5000;
  const Decision first = run.at(seconds(11));
  CHECK(first.signals.majfault_burst);
  CHECK(first.signals.majfaults_in_window == 5000);
  CHECK(first.target_kib == 1031072u);  // 900000 + 128 MiB, above goal + headroom (819364)

  const Decision next = run.at(seconds(12));  // the burst is still in the window
  CHECK(next.signals.majfault_burst);
  CHECK(next.target_kib == 1031072u);
  CHECK(next.hold == ShrinkHold::kPressure);

  *run.in.pgmajfault += 2000;
  CHECK(run.at(seconds(15)).target_kib == 1031072u);  // 4 s after the growth: no stacking
  for (int s = 16; s <= 20; ++s) CHECK(run.at(seconds(s)).target_kib == 1031072u);
  const Decision again = run.at(seconds(21));  // 10 s after the growth, 2000 faults since 11
  CHECK(again.signals.majfaults_in_window == 2000);
  CHECK(again.target_kib == 1162144u);
}

TEST_CASE("pressure without PSI (old kernel) relies on vmstat alone") {
  PolicyInputs in = settled_guest(2097152, 2097152, 2097152, 500000);
  in.psi_some_avg10.reset();
  Run run{PolicySettings{}, in, {}};
  run.warm_up(0, 9);
  const Decision shrink = run.at(seconds(10));
  CHECK_FALSE(shrink.signals.psi_available);
  CHECK(shrink.target_kib == 1956264u);

  *run.in.pswpin += 256;  // exactly the default burst
  const Decision burst = run.at(seconds(11));
  CHECK(burst.signals.swapin_burst);
  CHECK(burst.signals.swapin_pages_in_window == 256);
  CHECK(burst.target_kib == 1956264u + 128 * kMib);
  CHECK(burst.direction == Direction::kUp);
}

TEST_CASE("pressure does not shrink when it cannot read the vmstat counters") {
  Run run{PolicySettings{}, settled_guest(2097152, 2097152, 2097152, 500000), {}};
  run.warm_up(0, 10);
  run.in.pgmajfault.reset();
  const Decision decision = run.at(seconds(11));
  CHECK(decision.hold == ShrinkHold::kSignalsUnavailable);
  CHECK(decision.target_kib == *run.in.balloon_target_kib);
  CHECK(decision.direction == Direction::kNone);
  CHECK(describe(decision) == "target " + std::to_string(*run.in.balloon_target_kib) +
                                  " KiB (none), shrink held: signals-unavailable");
}

TEST_CASE("pressure grows to the goal without pressure using up-hysteresis") {
  PolicySettings settings;
  settings.uphysteresis = 4;
  Run run{settings, settled_guest(4194304, 4194304, 600000, 500000), {}};
  const Decision decision = run.at(seconds(0));  // goal 688292: 600000 + 88292/4 = 622073
  CHECK(decision.target_kib == 622072u);
  CHECK(decision.direction == Direction::kUp);
  CHECK(decision.hold == ShrinkHold::kNone);
}

TEST_CASE("targets reach the driver in whole 4 KiB pages") {
  PolicySettings directed;
  directed.selfballoon = false;
  PolicyInputs in = settled_guest(524288, 262147, 262144, 5136);
  PolicyState state;
  Decision decision = decide(in, state, directed);
  CHECK(decision.ceiling_kib == 262147);
  CHECK(decision.target_kib == 262144u);  // an odd memory/target, rounded down to a page
  CHECK(decision.direction == Direction::kNone);

  in.balloon_target_kib.reset();  // without a balloon target only the rounding applies
  in.balloon_current_kib.reset();
  CHECK(decide(in, state, directed).target_kib == 262144u);
  CHECK(finish_target_kib(1001, std::nullopt, 4000, 0, 8000) == 1000);
  CHECK(finish_target_kib(1003, 1003, 4000, 0, 8000) == 1000);  // a hold: rounded only
}

TEST_CASE("a step of less than 1 MiB towards the goal is finished in one go") {
  // goal 688292; the balloon 5 MiB above it: a tenth of the way is 0.5 MiB, so all of it.
  Run shrink{PolicySettings{}, settled_guest(2097152, 2097152, 688292 + 5 * kMib, 500000), {}};
  shrink.warm_up(0, 9);
  const Decision down = shrink.at(seconds(10));
  CHECK(down.goal_kib == 688292);
  CHECK(down.target_kib == 688292u);
  CHECK(down.direction == Direction::kDown);

  // Up-hysteresis 4 and 2 MiB below the goal: a 0.5 MiB step, finished too.
  PolicySettings up_settings;
  up_settings.uphysteresis = 4;
  Run grow{up_settings, settled_guest(4194304, 4194304, 688292 - 2 * kMib, 500000), {}};
  const Decision up = grow.at(seconds(0));
  CHECK(up.target_kib == 688292u);
  CHECK(up.direction == Direction::kUp);

  // A step of exactly 1 MiB is not finished.
  CHECK(finish_target_kib(1000000 + kMib, 1000000, 2000000, 0, 4000000) == 1000000 + kMib);
  CHECK(finish_target_kib(1000000 + kMib - 4, 1000000, 2000000, 0, 4000000) == 2000000);
  CHECK(finish_target_kib(1000000 - kMib + 4, 1000000, 500000, 0, 4000000) == 500000);
}

TEST_CASE("growth on pressure within 1 MiB above the balloon is not finished into a shrink") {
  // Pressure asks for goal + headroom, just above the balloon target; the goal is far below.
  CHECK(finish_target_kib(1000500, 1000000, 869428, 368640, 2097152) == 1000500);
  CHECK(finish_target_kib(1000502, 1000000, 869428, 368640, 2097152) == 1000500);
}

TEST_CASE("a clock going backwards restarts the history") {
  Run run{PolicySettings{}, settled_guest(2097152, 2097152, 2097152, 500000), {}};
  run.warm_up(100, 110);
  CHECK(*run.in.balloon_target_kib < 2097152);
  const Decision decision = run.at(seconds(50));
  CHECK(decision.hold == ShrinkHold::kHistoryTooShort);
  CHECK(run.state.vmstat.size() == 1);
}

TEST_CASE("the kernel policy follows xen-selfballoon.c") {
  // MemTotal 1000000 KiB = 250000 pages; reserve PAGES2MB(25000) = 97 MiB = 24832 pages;
  // goal 75000 + 24832 = 99832; 250000 - 150168/8 = 231229; + 57220/4 = 14305 -> 245534 pages.
  PolicyInputs in = settled_guest(2097152, 2097152, 1000000 + kFixtureOverheadKib, 300000);
  PolicyState state;
  const Decision decision = decide(in, state, settings_for(PolicyKind::kKernel));
  CHECK(decision.target_kib == 982136u);
  CHECK(decision.goal_kib == (99832 + 14305) * 4);
  CHECK(decision.direction == Direction::kDown);
  CHECK(state.kernel_reserved_kib == 97 * kMib);

  // The reserve is fixed at the first tick, like the driver's at init.
  in.memtotal_kib = 500000;
  in.balloon_current_kib = 500000 + kFixtureOverheadKib;
  in.committed_as_kib = 450000;
  // 125000 pages; goal 112500 + 24832 = 137332; grow all the way (up 1); + 14305
  const Decision grown = decide(in, state, settings_for(PolicyKind::kKernel));
  CHECK(grown.target_kib == (137332u + 14305u) * 4);
}

TEST_CASE("the none policy and directed mode sit at the ceiling") {
  PolicyInputs in = settled_guest(524288, 262144, 200000, 5136);
  PolicyState state;
  const Decision none = decide(in, state, settings_for(PolicyKind::kNone));
  CHECK(none.target_kib == 262144u);
  CHECK(none.direction == Direction::kUp);
  CHECK_FALSE(none.directed);

  PolicySettings directed = settings_for(PolicyKind::kPressure);
  directed.selfballoon = false;
  in.memtotal_kib.reset();  // directed mode reads nothing from the guest
  in.committed_as_kib.reset();
  const Decision decision = decide(in, state, directed);
  CHECK(decision.directed);
  CHECK(decision.target_kib == 262144u);
  CHECK(describe(decision) == "target 262144 KiB (up), directed by dom0");

  in.dom0_target_kib = 1048576;  // above static-max: static-max caps it
  CHECK(decide(in, state, directed).target_kib == 524288u);
}

TEST_CASE("dom0's live overrides") {
  PolicyInputs in = settled_guest(2097152, 2097152, 2097152, 500000);
  PolicyState state;

  SECTION("memory/selfballoon 0 switches to directed mode, 1 back") {
    in.overrides.selfballoon = 0;
    CHECK(decide(in, state, PolicySettings{}).directed);
    PolicySettings off;
    off.selfballoon = false;
    in.overrides.selfballoon = 1;
    CHECK_FALSE(decide(in, state, off).directed);
    in.overrides.selfballoon = 2;
    const Decision rejected = decide(in, state, off);
    CHECK(rejected.directed);
    CHECK(rejected.effective.override_rejected);
  }
  SECTION("memory/downhysteresis and memory/minmem") {
    in.overrides.downhysteresis = 0;  // jump
    in.overrides.minmem_mib = 1000;
    Run run{settings_for(PolicyKind::kClassic), in, {}};
    const Decision decision = run.at(seconds(0));
    CHECK(decision.floor_kib == 1000 * kMib);
    CHECK(decision.target_kib == 1000u * kMib);  // Committed_AS 500000 raised to the floor
    CHECK(decision.effective.downhysteresis == 0);
    CHECK_FALSE(decision.effective.override_rejected);
  }
  SECTION("out-of-range overrides are ignored and flagged") {
    in.overrides.uphysteresis = 1001;
    in.overrides.minmem_mib = 4;
    const EffectiveSettings effective = apply_overrides(PolicySettings{}, in.overrides);
    CHECK(effective.uphysteresis == 1);
    CHECK(effective.minmem_mib == 0);
    CHECK(effective.override_rejected);
  }
  SECTION("memory/interval") {
    CHECK(effective_interval_seconds(5, {}) == 5);
    Dom0Overrides overrides;
    overrides.interval_seconds = 30;
    CHECK(effective_interval_seconds(5, overrides) == 30);
    overrides.interval_seconds = 0;
    CHECK(effective_interval_seconds(5, overrides) == 5);
    CHECK(apply_overrides(PolicySettings{}, overrides).override_rejected);
    overrides.interval_seconds = 3601;
    CHECK(effective_interval_seconds(5, overrides) == 5);
  }
}

TEST_CASE("every policy obeys the ceiling and lets dom0 win below the floor") {
  for (PolicyKind kind : {PolicyKind::kPressure, PolicyKind::kPressureV2, PolicyKind::kClassic,
                          PolicyKind::kKernel, PolicyKind::kNone}) {
    INFO("policy " << to_string(kind));
    // static-max 512 MiB: floor 168 MiB = 172032 KiB; dom0 asks for 128 MiB.
    PolicyInputs in = settled_guest(524288, 131072, 200000, 400000);
    PolicyState state;
    const Decision below = decide(in, state, settings_for(kind));
    CHECK(below.target_kib == 131072u);
    CHECK(below.ceiling_kib == 131072);
    CHECK(below.floor_kib == 172032);

    // Committed_AS far above everything: capped at dom0's target.
    in.dom0_target_kib = 262144;
    in.committed_as_kib = 4000000;
    CHECK(decide(in, state, settings_for(kind)).target_kib == 262144u);
  }
}

TEST_CASE("implausible or missing inputs skip the tick with a reason") {
  const PolicyInputs good = settled_guest(524288, 262144, 262144, 5136);
  struct Case {
    const char* what;
    void (*spoil)(PolicyInputs&);
    SkipReason reason;
    const char* text;
  };
  const Case cases[] = {
      {"no static-max", [](PolicyInputs& in) { in.static_max_kib.reset(); },
       SkipReason::kMissingStaticMax, "skip, because memory/static-max is missing or 0"},
      {"static-max 0", [](PolicyInputs& in) { in.static_max_kib = 0; },
       SkipReason::kMissingStaticMax, "skip, because memory/static-max is missing or 0"},
      {"static-max 2 PiB", [](PolicyInputs& in) { in.static_max_kib = std::uint64_t{1} << 41; },
       SkipReason::kImplausibleInput,
       "skip, because memory/static-max 2199023255552 KiB is beyond 1 PiB"},
      {"no memory/target", [](PolicyInputs& in) { in.dom0_target_kib.reset(); },
       SkipReason::kMissingDom0Target, "skip, because memory/target is missing or 0"},
      {"memory/target 0", [](PolicyInputs& in) { in.dom0_target_kib = 0; },
       SkipReason::kMissingDom0Target, "skip, because memory/target is missing or 0"},
      {"memory/target absurd", [](PolicyInputs& in) { in.dom0_target_kib = 524288ull * 257; },
       SkipReason::kImplausibleInput,
       "skip, because memory/target 134742016 KiB is over 256 times static-max"},
      {"no MemTotal", [](PolicyInputs& in) { in.memtotal_kib.reset(); },
       SkipReason::kMissingMemTotal, "skip, because MemTotal is missing or 0"},
      {"MemTotal 0", [](PolicyInputs& in) { in.memtotal_kib = 0; }, SkipReason::kMissingMemTotal,
       "skip, because MemTotal is missing or 0"},
      {"MemTotal absurd", [](PolicyInputs& in) { in.memtotal_kib = 524288 * 2 + 1; },
       SkipReason::kImplausibleInput,
       "skip, because MemTotal 1048577 KiB is over 2 times static-max"},
      {"no Committed_AS", [](PolicyInputs& in) { in.committed_as_kib.reset(); },
       SkipReason::kMissingCommittedAs, "skip, because Committed_AS is missing"},
      {"Committed_AS absurd", [](PolicyInputs& in) { in.committed_as_kib = 524288ull * 256 + 1; },
       SkipReason::kImplausibleInput,
       "skip, because Committed_AS 134217729 KiB is over 256 times static-max"},
      {"current_kb absurd", [](PolicyInputs& in) { in.balloon_current_kib = 524288ull * 3; },
       SkipReason::kImplausibleInput,
       "skip, because balloon current_kb 1572864 KiB is over 2 times static-max"},
      {"target_kb absurd", [](PolicyInputs& in) { in.balloon_target_kib = ~std::uint64_t{0}; },
       SkipReason::kImplausibleInput,
       "skip, because balloon target_kb 18446744073709551615 KiB is over 2 times static-max"},
  };
  for (PolicyKind kind : {PolicyKind::kPressure, PolicyKind::kPressureV2, PolicyKind::kClassic,
                          PolicyKind::kKernel}) {
    for (const Case& c : cases) {
      INFO(to_string(kind) << ": " << c.what);
      PolicyInputs in = good;
      c.spoil(in);
      PolicyState state;
      const Decision decision = decide(in, state, settings_for(kind));
      CHECK(decision.skipped());
      CHECK(decision.skip_reason == c.reason);
      CHECK(describe(decision) == c.text);
      CHECK(decision.direction == Direction::kNone);
    }
  }
  // Committed_AS exactly at the limit is still a (capped) target.
  PolicyInputs at_limit = good;
  at_limit.committed_as_kib = 524288ull * 256;
  PolicyState state;
  CHECK(decide(at_limit, state, PolicySettings{}).target_kib == 262144u);
}

TEST_CASE("the vmstat history keeps one sample per second in a fixed ring") {
  VmstatHistory history;
  CHECK(history.increase_over(seconds(10)).pswpin == 0);
  CHECK_FALSE(history.increase_over(seconds(10)).covers_window);

  history.record(milliseconds(500), 10, 100);
  history.record(milliseconds(700), 11, 103);  // the first sample stays: it is the only baseline
  CHECK(history.size() == 2);
  CHECK(history.increase_over(seconds(10)).pswpin == 1);
  CHECK(history.increase_over(seconds(10)).pgmajfault == 3);
  history.record(milliseconds(900), 12, 105);  // same second again: replaces the newest
  CHECK(history.size() == 2);
  CHECK(history.increase_over(seconds(10)).pswpin == 2);
  for (int s = 1; s <= 10; ++s) history.record(seconds(s), 12 + s, 105 + 10 * s);
  auto increase = history.increase_over(seconds(10));
  CHECK(increase.covers_window);
  CHECK(increase.pswpin == 10);  // from the newest sample of second 0 (12 at 0.9 s) to 22
  CHECK(increase.pgmajfault == 100);
  increase = history.increase_over(seconds(9));
  CHECK(increase.pswpin == 9);  // second 1 (13) to second 10 (22)
  increase = history.increase_over(seconds(3));
  CHECK(increase.pswpin == 3);

  for (int s = 11; s < 200; ++s) history.record(seconds(s), 12 + s, 105 + 10 * s);
  CHECK(history.size() == VmstatHistory::kCapacity);
  increase = history.increase_over(seconds(60));
  CHECK(increase.covers_window);
  CHECK(increase.pswpin == 60);
  increase = history.increase_over(seconds(600));  // clamped to 60 s
  CHECK(increase.pswpin == 60);

  history.record(seconds(200), 0, 0);  // a counter went backwards
  CHECK(history.size() == 1);
  history.record(seconds(201), 5, 5);
  history.record(seconds(150), 6, 6);  // time went backwards
  CHECK(history.size() == 1);
}

// ---------------------------------------------------------------------------------------------
// pressure-v2: the working-set-aware policy

namespace {

// A settled guest as pressure-v2 reads it: PSI total, refault counters, the file LRU,
// MemFree and SwapFree, all quiet.
PolicyInputs quiet_guest(std::uint64_t static_max, std::uint64_t balloon_kib,
                         std::uint64_t committed_as) {
  PolicyInputs in = settled_guest(static_max, static_max, balloon_kib, committed_as);
  in.psi_some_total_us = 5'000'000;
  in.workingset_refault_file = 7000;
  in.workingset_activate_file = 3000;
  in.active_file_kib = 100 * kMib;
  in.inactive_file_kib = 300 * kMib;
  in.mem_free_kib = 10 * kMib;
  in.swap_free_kib = 0;
  return in;
}

// Ticks once a second from `first` to `last`, adding `stall_us` of PSI some stall each second.
void quiet_ticks(Run& run, int first, int last, std::uint64_t stall_us = 0) {
  for (int s = first; s <= last; ++s) {
    *run.in.psi_some_total_us += stall_us;
    run.at(seconds(s));
  }
}

}  // namespace

TEST_CASE(
    "pressure-v2: the goal is Committed_AS, the overhead, the spike headroom and Active(file)") {
  Run run{settings_for(PolicyKind::kPressureV2), quiet_guest(4194304, 4194304, 1000000), {}};
  const Decision first = run.at(seconds(0));
  // 1000000 + 57220 + 64 MiB + 100 MiB
  CHECK(first.goal_kib == 1000000 + kFixtureOverheadKib + 64 * kMib + 100 * kMib);
  CHECK(first.headroom_kib == 64 * kMib);
  CHECK(first.file_working_set_kib == 100 * kMib);
  // Nothing to compare the counters with yet: hold.
  CHECK(first.hold == ShrinkHold::kHistoryTooShort);
  CHECK(first.target_kib == 4194304u);
}

TEST_CASE("pressure-v2 shrinks only by probes of 1 % per tick while the stall stays below target") {
  Run run{settings_for(PolicyKind::kPressureV2), quiet_guest(4194304, 4194304, 1000000), {}};
  quiet_ticks(run, 0, 9);
  std::uint64_t level = *run.in.balloon_target_kib;
  for (int s = 10; s < 20; ++s) {
    const Decision probe = run.at(seconds(s));
    INFO("second " << s);
    CHECK(probe.hold == ShrinkHold::kNone);
    CHECK(probe.direction == Direction::kDown);
    CHECK(*probe.target_kib == (level - level / 100) / kKibPerPage * kKibPerPage);
    level = *probe.target_kib;
  }
  // 0.06 % of each second stalled (600 us) is above the target of 0.05 %: the probes stop, and
  // below the back-off level of 0.15 % nothing grows.
  quiet_ticks(run, 20, 40, 600);
  const Decision held = run.at(seconds(41));
  CHECK(held.hold == ShrinkHold::kStall);
  CHECK(held.target_kib == run.in.balloon_target_kib);
  // Within 1 % of the goal the probe ends at the goal.
  Run low{settings_for(PolicyKind::kPressureV2), quiet_guest(4194304, 1230000, 1000000), {}};
  quiet_ticks(low, 0, 9);
  const Decision at_goal = low.at(seconds(10));
  CHECK(at_goal.target_kib == at_goal.goal_kib / kKibPerPage * kKibPerPage);
}

TEST_CASE("pressure-v2 reads the stall from PSI total=, not from avg10") {
  Run run{settings_for(PolicyKind::kPressureV2), quiet_guest(4194304, 3000000, 1000000), {}};
  run.in.psi_some_avg10 = 40.0;  // avg10 is ignored
  quiet_ticks(run, 0, 9);
  CHECK(run.at(seconds(10)).direction == Direction::kDown);

  // 2 ms of each second stalled (0.2 %) with avg10 at 0: above the back-off level of 0.15 %.
  run.in.psi_some_avg10 = 0.0;
  const std::uint64_t before = *run.in.balloon_target_kib;
  *run.in.psi_some_total_us += 20'000;  // the whole window's worth at once
  const Decision backoff = run.at(seconds(11));
  CHECK(backoff.signals.psi_high);
  CHECK(backoff.signals.stall_percent == Approx(0.2));
  CHECK(backoff.direction == Direction::kUp);
  CHECK(*backoff.target_kib == before + 128 * kMib);
}

TEST_CASE("pressure-v2 does not back off on a stall with no refault and no swap traffic") {
  // Reclaim work (kswapd, the balloon's own reclaim, a stream making room): more memory would
  // not end it. It only holds the probes, as any stall above the target does.
  PolicyInputs in = quiet_guest(4194304, 3000000, 1000000);
  in.pswpout = 2000;
  Run run{settings_for(PolicyKind::kPressureV2), in, {}};
  quiet_ticks(run, 0, 10);
  const std::uint64_t level = *run.in.balloon_target_kib;
  *run.in.psi_some_total_us += 20'000;  // 0.2 % of the window
  const Decision reclaim = run.at(seconds(11));
  CHECK(reclaim.signals.psi_high);
  CHECK(reclaim.signals.reclaim_stall);
  CHECK(reclaim.hold == ShrinkHold::kStall);
  CHECK(*reclaim.target_kib == level);
  // The same stall with one page going to swap is a shortage: one step up.
  *run.in.pswpout += 1;
  *run.in.psi_some_total_us += 1'000;
  const Decision shortage = run.at(seconds(12));
  CHECK_FALSE(shortage.signals.reclaim_stall);
  CHECK(*shortage.target_kib == level + 128 * kMib);
}

TEST_CASE("pressure-v2 backs off on a stall as before when a swap or refault counter is unread") {
  PolicyInputs in = quiet_guest(4194304, 3000000, 1000000);  // pswpout unread
  Run run{settings_for(PolicyKind::kPressureV2), in, {}};
  quiet_ticks(run, 0, 10);
  const std::uint64_t level = *run.in.balloon_target_kib;
  *run.in.psi_some_total_us += 20'000;
  const Decision backoff = run.at(seconds(11));
  CHECK_FALSE(backoff.signals.reclaim_stall);
  CHECK(*backoff.target_kib == level + 128 * kMib);
}

TEST_CASE("pressure-v2 grows at once on refaults, one step beyond the level, then cools down") {
  Run run{settings_for(PolicyKind::kPressureV2), quiet_guest(4194304, 3000000, 1000000), {}};
  quiet_ticks(run, 0, 10);
  const std::uint64_t level = *run.in.balloon_target_kib;
  *run.in.workingset_activate_file += 300;  // above 256 pages in the window
  const Decision backoff = run.at(seconds(11));
  CHECK(backoff.signals.refault_burst);
  CHECK(*backoff.target_kib == level + 128 * kMib);
  // The file working set now holds the cache the guest had when the refaults came, plus a step.
  CHECK(backoff.goal_kib == level + 128 * kMib);

  // The refaults stay in the window for 10 s, but the step was not used (MemFree is above it):
  // no second step.
  run.in.mem_free_kib = 200 * kMib;
  quiet_ticks(run, 12, 30);
  CHECK(*run.in.balloon_target_kib == level + 128 * kMib);
  // Then the cool-down: no probe for 300 s after the last back-off (second 20).
  const Decision cooling = run.at(seconds(300));
  CHECK(cooling.hold == ShrinkHold::kCooldown);
  // After it, the goal still holds the learned working set, which decays by half in 4 h: the
  // probes follow it down slowly.
  quiet_ticks(run, 321, 400);
  CHECK(*run.in.balloon_target_kib >= (level + 128 * kMib) * 97 / 100);
  CHECK(*run.in.balloon_target_kib < level + 128 * kMib);
}

TEST_CASE("pressure-v2 learns spike headroom from Committed_AS rises, within its bounds") {
  PolicySettings settings = settings_for(PolicyKind::kPressureV2);
  settings.pressure.swap_absorb_percent = 50;
  Run run{settings, quiet_guest(8388608, 8388608, 1000000), {}};
  quiet_ticks(run, 0, 9);
  // 1.5 GiB within 2 s: the balloon (256 MiB/s) delivers 256 MiB of it after the first tick:
  // 1280 MiB must already be there, capped at 1 GiB.
  *run.in.committed_as_kib += 768 * kMib;
  run.at(seconds(10));
  *run.in.committed_as_kib += 768 * kMib;
  const Decision spike = run.at(seconds(11));
  CHECK(spike.headroom_kib == 1024 * kMib);
  // Swap takes half of what it has room for (the learned 1280 MiB has decayed by a second of a
  // day's half-life, about 10 KiB).
  run.in.swap_free_kib = 1024 * kMib;
  const std::uint64_t with_swap = run.at(seconds(12)).headroom_kib;
  CHECK(with_swap <= 1280 * kMib - 512 * kMib);
  CHECK(with_swap > 1280 * kMib - 512 * kMib - 64);
  // With swap_absorb_percent 0, swap absorbs nothing: the whole spike is held (as before, capped).
  run.settings.pressure.swap_absorb_percent = 0;
  CHECK(run.at(seconds(13)).headroom_kib == 1024 * kMib);
  run.settings.pressure.swap_absorb_percent = 50;
  // The spike is remembered after Committed_AS has fallen back.
  *run.in.committed_as_kib -= 1536 * kMib;
  run.in.swap_free_kib = 0;
  quiet_ticks(run, 13, 60);
  CHECK(run.at(seconds(61)).headroom_kib == 1024 * kMib);
}

TEST_CASE("pressure-v2 holds as spike headroom only what outruns the balloon") {
  PolicySettings settings = settings_for(PolicyKind::kPressureV2);
  Run run{settings, quiet_guest(8388608, 8388608, 1000000), {}};
  quiet_ticks(run, 0, 9);
  // 1 GiB over 5 s, 200 MiB a second, slower than the balloon's 256 MiB/s: only what comes
  // within the tick before the balloon reacts must be there already, not the whole gigabyte.
  for (int t = 10; t < 15; ++t) {
    *run.in.committed_as_kib += 200 * kMib;
    run.at(seconds(t));
  }
  const std::uint64_t slow = run.at(seconds(15)).headroom_kib;
  CHECK(slow <= 200 * kMib);
  CHECK(slow > 199 * kMib);
  // The same gigabyte within one tick outruns it by all of it.
  *run.in.committed_as_kib += 1024 * kMib;
  CHECK(run.at(seconds(16)).headroom_kib == 1024 * kMib);
}

TEST_CASE("pressure-v2 holds its largest headroom after an OOM kill until a rise is seen whole") {
  PolicySettings settings = settings_for(PolicyKind::kPressureV2);
  PolicyInputs in = quiet_guest(8388608, 8388608, 1000000);
  in.oom_kill = 0;
  Run run{settings, in, {}};
  quiet_ticks(run, 0, 20);
  CHECK(run.at(seconds(21)).headroom_kib == 64 * kMib);
  // A kill: the process never showed in Committed_AS, so nothing says how big it was.
  run.in.oom_kill = 1;
  CHECK(run.at(seconds(22)).headroom_kib == 1024 * kMib);
  quiet_ticks(run, 23, 600);
  CHECK(run.at(seconds(601)).headroom_kib == 1024 * kMib);
  // The next rise comes whole: 768 MiB in one tick. Once it has left the spike window the
  // headroom is that rise plus the least headroom, and neither decays nor counts swap for a day.
  *run.in.committed_as_kib += 768 * kMib;
  quiet_ticks(run, 602, 620);
  CHECK(run.at(seconds(621)).headroom_kib == (768 + 64) * kMib);
  *run.in.committed_as_kib -= 768 * kMib;
  run.in.swap_free_kib = 2048 * kMib;
  quiet_ticks(run, 622, 20 * 3600);
  CHECK(run.at(seconds(20 * 3600 + 1)).headroom_kib == (768 + 64) * kMib);
  // A day after the kill the ordinary estimate is back: decayed, less half of SwapFree.
  quiet_ticks(run, 20 * 3600 + 2, 24 * 3600 + 30);
  CHECK(run.at(seconds(24 * 3600 + 31)).headroom_kib == 64 * kMib);
}

TEST_CASE("pressure-v2 takes a first oom_kill reading, or a counter that went back, as no kill") {
  PolicySettings settings = settings_for(PolicyKind::kPressureV2);
  PolicyInputs in = quiet_guest(8388608, 8388608, 1000000);
  Run run{settings, in, {}};
  quiet_ticks(run, 0, 20);
  run.in.oom_kill = 5;  // appears with kills from before the agent started
  CHECK(run.at(seconds(21)).headroom_kib == 64 * kMib);
  run.in.oom_kill = 2;  // went back
  CHECK(run.at(seconds(22)).headroom_kib == 64 * kMib);
  run.in.oom_kill.reset();
  CHECK(run.at(seconds(23)).headroom_kib == 64 * kMib);
  run.in.oom_kill = 3;  // one more than the last reading
  CHECK(run.at(seconds(24)).headroom_kib == 1024 * kMib);
}

TEST_CASE("pressure-v2: a stall while memory is free beyond one step neither backs off nor holds") {
  PolicySettings settings = settings_for(PolicyKind::kPressureV2);
  // 2 GiB free: the aftermath of a spike, whose evicted pages are refaulting.
  PolicyInputs in = quiet_guest(4194304, 4194304, 1000000);
  in.mem_free_kib = 2048 * kMib;
  Run run{settings, in, {}};
  quiet_ticks(run, 0, 20);
  // 0.5 % stall: above the back-off threshold.
  *run.in.psi_some_total_us += 50000;
  const Decision aftermath = run.at(seconds(21));
  CHECK(aftermath.hold == ShrinkHold::kNone);
  CHECK(aftermath.target_kib < 4194304u);
  CHECK_FALSE(run.state.working_set.last_backoff.has_value());
  // The same stall with only one step free is a shortage: back off and hold.
  run.in.mem_free_kib = 100 * kMib;
  *run.in.psi_some_total_us += 50000;
  const Decision short_of_memory = run.at(seconds(22));
  CHECK(short_of_memory.target_kib >= aftermath.target_kib);
  CHECK(run.state.working_set.last_backoff == seconds(22));
}

TEST_CASE("pressure-v2 never shrinks without PSI total nor the refault counters") {
  PolicyInputs in = quiet_guest(4194304, 4194304, 1000000);
  in.psi_some_total_us.reset();
  in.workingset_activate_file.reset();
  in.workingset_refault_file.reset();
  Run run{settings_for(PolicyKind::kPressureV2), in, {}};
  quiet_ticks(run, 0, 20);
  const Decision decision = run.at(seconds(21));
  CHECK(decision.hold == ShrinkHold::kSignalsUnavailable);
  CHECK(decision.target_kib == 4194304u);
  CHECK(describe(decision) == "target 4194304 KiB (none), shrink held: signals-unavailable");
}

TEST_CASE("pressure-v2: a counter that appears or goes backwards restarts its history") {
  PolicyInputs in = quiet_guest(4194304, 4194304, 1000000);
  in.psi_some_total_us.reset();
  Run run{settings_for(PolicyKind::kPressureV2), in, {}};
  quiet_ticks(run, 0, 10);
  CHECK(run.state.working_set.counters.size() == 11);
  run.in.psi_some_total_us = 1;
  run.at(seconds(11));
  CHECK(run.state.working_set.counters.size() == 1);
  *run.in.workingset_activate_file -= 1;
  run.at(seconds(12));
  CHECK(run.state.working_set.counters.size() == 1);
}

TEST_CASE("policy settings come from the agent configuration") {
  AgentConfig config;
  config.policy = PolicyKind::kClassic;
  config.selfballoon = false;
  config.minmem_mib = 512;
  config.uphysteresis = 3;
  config.downhysteresis = 7;
  config.pressure.reserve_mib = 1;
  const PolicySettings settings = policy_settings(config);
  CHECK(settings.kind == PolicyKind::kClassic);
  CHECK_FALSE(settings.selfballoon);
  CHECK(settings.minmem_mib == 512);
  CHECK(settings.uphysteresis == 3);
  CHECK(settings.downhysteresis == 7);
  CHECK(settings.pressure.reserve_mib == 1);
  CHECK(settings.kernel == KernelPolicyTuning{});
}

TEST_CASE("settings built in code beyond the configuration's limits cannot overflow") {
  PolicySettings settings;
  settings.minmem_mib = ~std::uint64_t{0};
  settings.pressure.reserve_mib = ~std::uint64_t{0};
  settings.pressure.growth_headroom_mib = ~std::uint64_t{0};
  PolicyInputs in = settled_guest(4194304, 4194304, 2097152, 500000);
  for (PolicyKind kind : {PolicyKind::kPressure, PolicyKind::kPressureV2, PolicyKind::kClassic}) {
    settings.kind = kind;
    PolicyState state;
    const Decision decision = decide(in, state, settings);
    CHECK(decision.floor_kib == kMaxSizeMib * kMib);
    CHECK(decision.target_kib == 4194304u);  // the floor (1 TiB) is above dom0's target: dom0 wins
  }
}
