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
  std::vector<bool> cancelled;
  for (int i = 0; i < 20000; ++i) {
    ids.push_back(heap.add(t0 + std::chrono::microseconds(rng() % 100000), i));
    cancelled.push_back(false);
  }
  for (int i = 0; i < 20000; i += 3) cancelled[i] = heap.cancel(ids[i]);
  Clock::time_point last{};
  size_t fired = 0;
  std::vector<bool> seen(20000, false);
  heap.pop_expired(t0 + 1s, [&](uint64_t t) {
    EXPECT_FALSE(cancelled[t]);
    seen[t] = true;
    ++fired;
  });
  (void)last;
  size_t expected = 0;
  for (bool c : cancelled) expected += !c;
  EXPECT_EQ(fired, expected);
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
