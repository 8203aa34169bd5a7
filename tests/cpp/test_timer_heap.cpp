#include "hub/timer_heap.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace std::chrono_literals;
using tf::hub::Clock;
using tf::hub::TimerHeap;

TEST(TimerHeap, ExpiresInDeadlineOrderThenInsertionOrder) {
  TimerHeap heap;
  auto t0 = Clock::now();
  heap.add(t0 + 3ms, 3);
  heap.add(t0 + 1ms, 1);
  heap.add(t0 + 2ms, 2);
  heap.add(t0 + 1ms, 11);
  std::vector<uint64_t> order;
  heap.pop_expired(t0 + 10ms, [&](uint64_t t) { order.push_back(t); });
  EXPECT_EQ(order, (std::vector<uint64_t>{1, 11, 2, 3}));
  EXPECT_EQ(heap.size(), 0u);
}

TEST(TimerHeap, OnlyExpiredOnesFire) {
  TimerHeap heap;
  auto t0 = Clock::now();
  heap.add(t0 + 1ms, 1);
  heap.add(t0 + 50ms, 2);
  std::vector<uint64_t> order;
  heap.pop_expired(t0 + 5ms, [&](uint64_t t) { order.push_back(t); });
  EXPECT_EQ(order, std::vector<uint64_t>{1});
  ASSERT_TRUE(heap.next_deadline());
  EXPECT_EQ(*heap.next_deadline(), t0 + 50ms);
}

TEST(TimerHeap, CancelRemovesAndStaleCancelIsRefused) {
  TimerHeap heap;
  auto t0 = Clock::now();
  auto a = heap.add(t0 + 1ms, 1);
  auto b = heap.add(t0 + 2ms, 2);
  EXPECT_TRUE(heap.cancel(a));
  EXPECT_FALSE(heap.cancel(a));
  std::vector<uint64_t> order;
  heap.pop_expired(t0 + 10ms, [&](uint64_t t) { order.push_back(t); });
  EXPECT_EQ(order, std::vector<uint64_t>{2});
  EXPECT_FALSE(heap.cancel(b));  // already fired
  EXPECT_FALSE(heap.cancel(tf::hub::TimerId{}));
}

TEST(TimerHeap, RandomAddCancelKeepsHeapOrder) {
  TimerHeap heap;
  std::mt19937 rng(42);
  auto t0 = Clock::now();
  std::vector<tf::hub::TimerId> ids;
  std::vector<Clock::time_point> deadlines;
  std::vector<bool> cancelled, fired;
  auto add = [&] {
    auto deadline = t0 + std::chrono::microseconds(rng() % 1000);  // many ties
    ids.push_back(heap.add(deadline, ids.size()));
    deadlines.push_back(deadline);
    cancelled.push_back(false);
    fired.push_back(false);
  };
  for (int i = 0; i < 20000; ++i) add();
  for (size_t i = 0; i < ids.size(); i += 3) cancelled[i] = heap.cancel(ids[i]);
  // Pop in steps, adding and cancelling in between: each step fires exactly
  // the live timers due by then, in (deadline, insertion) order.
  for (int step = 1; step <= 10; ++step) {
    auto now = t0 + std::chrono::microseconds(100 * step);
    std::vector<uint64_t> order;
    heap.pop_expired(now, [&](uint64_t t) { order.push_back(t); });
    for (size_t k = 0; k < order.size(); ++k) {
      uint64_t t = order[k];
      EXPECT_FALSE(cancelled[t]);
      EXPECT_FALSE(fired[t]);
      EXPECT_LE(deadlines[t], now);
      fired[t] = true;
      if (k > 0) {
        uint64_t p = order[k - 1];
        EXPECT_TRUE(deadlines[p] < deadlines[t] || (deadlines[p] == deadlines[t] && p < t));
      }
    }
    for (size_t t = 0; t < ids.size(); ++t) {
      if (!cancelled[t] && !fired[t]) {
        EXPECT_GT(deadlines[t], now) << t;
      }
    }
    for (int i = 0; i < 500; ++i) add();
    for (int i = 0; i < 200; ++i) {
      size_t t = rng() % ids.size();
      bool was_live = !cancelled[t] && !fired[t];
      EXPECT_EQ(heap.cancel(ids[t]), was_live);
      if (was_live) cancelled[t] = true;
    }
  }
  size_t live = 0;
  for (size_t t = 0; t < ids.size(); ++t) live += !cancelled[t] && !fired[t];
  EXPECT_EQ(heap.size(), live);
}

TEST(TimerHeap, CallbackAddingExpiredTimerDoesNotLoopForever) {
  TimerHeap heap;
  auto t0 = Clock::now();
  heap.add(t0, 1);
  int calls = 0;
  heap.pop_expired(t0 + 1ms, [&](uint64_t) {
    ++calls;
    heap.add(t0, 2);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(heap.size(), 1u);
}
