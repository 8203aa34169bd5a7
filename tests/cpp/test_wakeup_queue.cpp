#include "hub/wakeup_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

using tf::hub::WakeupItem;
using tf::hub::WakeupQueue;

namespace {
std::atomic<int> g_ran{0};
void count(void*) { ++g_ran; }
}  // namespace

TEST(WakeupQueue, ItemsFromManyThreadsAllArrive) {
  WakeupQueue q;
  g_ran = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) q.post({count, nullptr});
    });
  }
  for (auto& t : threads) t.join();
  for (auto& item : q.take_all()) item.run(item.arg);
  EXPECT_EQ(g_ran.load(), 8000);
  EXPECT_TRUE(q.empty());
}
