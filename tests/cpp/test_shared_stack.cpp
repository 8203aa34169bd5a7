// SharedStack: coroutines taking turns on one region of the stack.
#include "hub/shared_stack.hpp"

#include <gtest/gtest.h>

#include <cfenv>
#include <cstring>
#include <string>
#include <vector>

namespace tf::hub {
namespace {

// Coroutines run this far below the test's own frames.
constexpr size_t kGap = 64 * 1024;

struct Coroutine {
  SharedStack* stack;
  SavedStack saved;
  int id;
  std::vector<std::string>* log;
  int rounds;
  bool done = false;
};

void take_turns(void* arg) {
  auto* co = static_cast<Coroutine*>(arg);
  char pattern[1500];  // frames the copy must bring back intact
  std::memset(pattern, 'a' + co->id, sizeof pattern);
  volatile double value = co->id * 1.5;
  for (int round = 0; round < co->rounds; ++round) {
    co->log->push_back(std::to_string(co->id) + ":" + std::to_string(round));
    co->stack->suspend(co->saved);
    for (char c : pattern) ASSERT_EQ(c, 'a' + co->id);
    ASSERT_EQ(value, co->id * 1.5);
  }
  co->done = true;
  co->stack->exit();
}

TEST(SharedStack, CoroutinesInterleaveAndKeepTheirFrames) {
  SharedStack stack(SharedStack::stack_pointer() - kGap);
  std::vector<std::string> log;
  std::vector<Coroutine> cos;
  for (int i = 0; i < 3; ++i) cos.push_back(Coroutine{&stack, {}, i, &log, 3});
  for (auto& co : cos) stack.start(take_turns, &co);
  for (int pass = 0; pass < 3; ++pass)
    for (auto& co : cos)
      if (!co.done) stack.resume(co.saved);
  EXPECT_EQ(log, (std::vector<std::string>{"0:0", "1:0", "2:0", "0:1", "1:1", "2:1", "0:2", "1:2", "2:2"}));
  for (auto& co : cos) {
    EXPECT_TRUE(co.done);
    // What was copied is what the coroutine had in use: its frame, the
    // pattern and the switch's saved registers, not the gap above.
    EXPECT_GT(co.saved.size, 1500u);
    EXPECT_LT(co.saved.size, 4096u);
    co.saved.release();
  }
  EXPECT_FALSE(stack.running());
}

struct Deep {
  SharedStack* stack;
  SavedStack saved;
  int depth_reached = 0;
  long sum = 0;
};

[[gnu::noinline]] long descend(Deep* d, int depth) {
  volatile long here[2] = {depth, 0};
  if (depth == 200) {
    d->depth_reached = depth;
    d->stack->suspend(d->saved);
    return here[0];
  }
  here[1] = descend(d, depth + 1);  // a frame per level: no loop made of it
  return here[0] + here[1];
}

void deep_body(void* arg) {
  auto* d = static_cast<Deep*>(arg);
  d->sum = descend(d, 0);
  d->stack->exit();
}

TEST(SharedStack, ADeepCoroutineComesBackWhole) {
  SharedStack stack(SharedStack::stack_pointer() - kGap);
  Deep d{&stack, {}};
  stack.start(deep_body, &d);
  EXPECT_EQ(d.depth_reached, 200);
  size_t parked = d.saved.size;
  EXPECT_GT(parked, 200u * 16);
  // Something else runs in the same region meanwhile.
  Coroutine other{&stack, {}, 7, new std::vector<std::string>, 1};
  stack.start(take_turns, &other);
  stack.resume(other.saved);
  EXPECT_TRUE(other.done);
  delete other.log;
  other.saved.release();
  stack.resume(d.saved);
  EXPECT_EQ(d.sum, 200L * 201 / 2);
  d.saved.release();
}

void round_mode_body(void* arg) {
  auto* co = static_cast<Coroutine*>(arg);
  std::fesetround(FE_UPWARD);
  co->stack->suspend(co->saved);
  co->done = std::fegetround() == FE_UPWARD;
  co->stack->exit();
}

TEST(SharedStack, FloatingPointControlIsPerCoroutine) {
  SharedStack stack(SharedStack::stack_pointer() - kGap);
  int before = std::fegetround();
  Coroutine co{&stack, {}, 0, nullptr, 0};
  stack.start(round_mode_body, &co);
  EXPECT_EQ(std::fegetround(), before);  // the resumer's mode came back
  stack.resume(co.saved);
  EXPECT_TRUE(co.done);
  EXPECT_EQ(std::fegetround(), before);
  co.saved.release();
}

}  // namespace
}  // namespace tf::hub
