// What the files of GreenHub share and nothing else needs.
#pragma once

#include <Python.h>

#include <chrono>
#include <cstdint>
#include <ctime>

#include "core/task/task.hpp"
#include "hub/timer_heap.hpp"

namespace tf::core {

// The clock of the switch interval: read at every switch and every lock
// acquire, so the coarse one (a few ms of resolution, a third of the cost);
// the interval only decides when a greenlet that never waits lets others in.
inline int64_t switch_clock_ns() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Timer tokens with bit 63 set name a TimerCallback, others a Waiter
// (SlotPool keeps generations below 2^31, so names never use bit 63).
constexpr uint64_t kCallbackTag = uint64_t{1} << 63;

// A deadline `seconds` from now.
inline hub::Clock::time_point deadline_after(double seconds) {
  // Far enough to mean "never" without overflowing the clock.
  constexpr double kMaxSeconds = 1e9;
  if (!(seconds < kMaxSeconds)) seconds = kMaxSeconds;
  return hub::Clock::now() +
         std::chrono::duration_cast<hub::Clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace tf::core
