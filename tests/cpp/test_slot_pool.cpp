#include "hub/slot_pool.hpp"

#include <gtest/gtest.h>

#include <set>

using tf::hub::SlotPool;

TEST(SlotPool, NamesAreNeverZeroAndUnique) {
  SlotPool<int> pool;
  std::set<uint64_t> names;
  for (int i = 0; i < 1000; ++i) {
    auto& s = pool.acquire();
    EXPECT_NE(s.name(), 0u);
    EXPECT_TRUE(names.insert(s.name()).second);
  }
  EXPECT_EQ(pool.live(), 1000u);
}

TEST(SlotPool, StaleNameFindsNothingAfterRelease) {
  SlotPool<int> pool;
  auto& s = pool.acquire();
  uint64_t old = s.name();
  s.value = 7;
  pool.release(s);
  EXPECT_EQ(pool.find(old), nullptr);
  auto& again = pool.acquire();  // same index, new generation
  EXPECT_NE(again.name(), old);
  EXPECT_EQ(again.value, 0);
  EXPECT_EQ(pool.find(old), nullptr);
  EXPECT_EQ(pool.find(again.name()), &again);
}

TEST(SlotPool, AddressesStayPutWhileGrowing) {
  SlotPool<int> pool;
  auto& first = pool.acquire();
  int* addr = &first.value;
  for (int i = 0; i < 5000; ++i) pool.acquire();
  EXPECT_EQ(&pool.find(first.name())->value, addr);
}

TEST(SlotPool, ForeignNamesFindNothing) {
  SlotPool<int> pool;
  pool.acquire();
  EXPECT_EQ(pool.find(0), nullptr);
  EXPECT_EQ(pool.find(uint64_t{1} << 32), nullptr);  // low half zero: a reserved tag
  EXPECT_EQ(pool.find((uint64_t{1} << 32) | 999999), nullptr);
}

TEST(SlotPool, GenerationsLeaveBit63Free) {
  SlotPool<int> pool;
  for (int i = 0; i < 100000; ++i) {
    auto& s = pool.acquire();
    EXPECT_EQ(s.name() >> 63, 0u);
    pool.release(s);
  }
}
