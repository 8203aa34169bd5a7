#include "hub/ring.hpp"
#include "tests/cpp/io_uring_allowed.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace std::chrono_literals;
using tf::hub::Completion;
using tf::hub::Ring;
using tf::hub::WaitResult;

namespace {

std::unique_ptr<Ring> make_ring(unsigned entries) {
  int error = 0;
  std::unique_ptr<Ring> ring = Ring::make(entries, &error);
  EXPECT_NE(ring, nullptr) << "io_uring refused: errno " << error;
  return ring;
}

}  // namespace

TEST(Ring, UsesSingleIssuerDeferTaskrunWhereTheKernelHasThem) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  auto owned = make_ring(8);
  Ring& ring = *owned;
  // This machine kind's kernel (6.x) accepts them; older ones fall back.
  EXPECT_TRUE(ring.setup_flags() & IORING_SETUP_SINGLE_ISSUER);
  EXPECT_TRUE(ring.uses_deferred_taskrun());
}

TEST(Ring, TimesOutWithNothingInFlight) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  auto owned = make_ring(8);
  Ring& ring = *owned;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ring.submit_and_wait(20ms), WaitResult::kTimedOut);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 19ms);
}

TEST(Ring, FullSubmissionQueueIsSubmittedNotAnError) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  auto owned = make_ring(4);
  Ring& ring = *owned;
  // Four times the SQ size of NOPs: get_sqe must flush, never fail.
  for (int i = 0; i < 16; ++i) {
    io_uring_sqe* sqe = ring.get_sqe();
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, 100 + i);
  }
  int seen = 0;
  while (seen < 16) {
    ASSERT_NE(ring.submit_and_wait(1s), WaitResult::kTimedOut);
    seen += ring.drain([](const Completion& c) { EXPECT_GE(c.user_data, 100u); });
  }
  EXPECT_EQ(seen, 16);
}

TEST(Ring, CompletionQueueOverflowParksCompletions) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  auto owned = make_ring(4);  // CQ = 16 entries
  Ring& ring = *owned;
  for (int i = 0; i < 200; ++i) {
    io_uring_sqe* sqe = ring.get_sqe();
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, i + 1);
  }
  int seen = 0;
  for (int round = 0; round < 100 && seen < 200; ++round) {
    ring.submit_and_wait(100ms);
    seen += ring.drain([](const Completion&) {});
  }
  EXPECT_EQ(seen, 200);
}

namespace {
void on_alarm(int) {}
}  // namespace

TEST(Ring, SignalInterruptsTheWait) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  struct sigaction sa {};
  sa.sa_handler = on_alarm;  // no SA_RESTART, like CPython's handlers
  sigaction(SIGALRM, &sa, nullptr);
  auto owned = make_ring(8);
  Ring& ring = *owned;
  pthread_t self = pthread_self();
  std::thread t([self] {
    std::this_thread::sleep_for(50ms);
    pthread_kill(self, SIGALRM);
  });
  EXPECT_EQ(ring.submit_and_wait(std::chrono::nanoseconds(-1)), WaitResult::kInterrupted);
  t.join();
  signal(SIGALRM, SIG_DFL);
}

TEST(Ring, PollCompletesWhenSocketBecomesReadable) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto owned = make_ring(8);
  Ring& ring = *owned;
  io_uring_sqe* sqe = ring.get_sqe();
  io_uring_prep_poll_add(sqe, sv[0], POLLIN);
  io_uring_sqe_set_data64(sqe, 42);
  EXPECT_EQ(ring.submit_and_wait(10ms), WaitResult::kTimedOut);
  ASSERT_EQ(write(sv[1], "x", 1), 1);
  ASSERT_EQ(ring.submit_and_wait(1s), WaitResult::kReady);
  int n = ring.drain([](const Completion& c) {
    EXPECT_EQ(c.user_data, 42u);
    EXPECT_TRUE(c.res & POLLIN);
  });
  EXPECT_EQ(n, 1);
  close(sv[0]);
  close(sv[1]);
}
