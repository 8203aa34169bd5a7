#include "hub/loop.hpp"
#include "tests/cpp/io_uring_allowed.hpp"
#include "tests/cpp/loopback.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using tf::hub::Backend;
using tf::hub::Clock;
using tf::hub::Loop;
using tf::test::Listener;
using tf::test::SocketPair;
using tf::hub::WakeupItem;

// Every test runs on both engines: the layer above must not be able to
// tell them apart.
class LoopTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kIoUring) SKIP_WHERE_IO_URING_IS_REFUSED();
  }

  // A loop on this test's engine, made ready for operations.
  std::unique_ptr<Loop> make_loop(unsigned entries = 256) {
    auto loop = std::make_unique<Loop>(entries, GetParam());
    EXPECT_EQ(loop->prepare(), 0);
    EXPECT_STREQ(loop->engine_name(), tf::hub::backend_name(GetParam()));
    return loop;
  }
};

INSTANTIATE_TEST_SUITE_P(Engines, LoopTest, ::testing::Values(Backend::kIoUring, Backend::kEpoll),
                         [](const auto& info) { return std::string(info.param == Backend::kIoUring ? "IoUring" : "Epoll"); });

namespace {

struct Recorder : Loop::Events {
  std::map<uint64_t, int32_t> done;
  std::vector<uint64_t> timers;
  int wakeups = 0;
  int interrupted = 0;
  int blocked = 0;
  std::vector<int32_t> orphans;
  void on_op_done(uint64_t owner, int32_t res, uint32_t, const tf::hub::Operation&) override { done[owner] = res; }
  void on_orphan(int32_t res, const tf::hub::Operation&) override { orphans.push_back(res); }
  void on_timer(uint64_t token) override { timers.push_back(token); }
  void on_wakeup(const WakeupItem& item) override {
    ++wakeups;
    if (item.run) item.run(item.arg);
  }
  void on_interrupted() override { ++interrupted; }
  void before_blocking() override { ++blocked; }
};

}  // namespace

TEST_P(LoopTest, PollReportsItsOwner) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  SocketPair sp;
  loop.start_poll(sp.fd[0], POLLIN, 7);
  EXPECT_EQ(loop.ops_in_flight(), 1u);
  ASSERT_EQ(write(sp.fd[1], "x", 1), 1);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.count(7), 1u);
  EXPECT_TRUE(rec.done[7] & POLLIN);
  EXPECT_EQ(loop.ops_in_flight(), 0u);  // freed on its only CQE
}

TEST_P(LoopTest, AbandonCancelsAndFreesOnlyOnTheFinalCqe) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  SocketPair sp;
  uint64_t op = loop.start_poll(sp.fd[0], POLLIN, 9);
  loop.run_once(false, rec);  // submitted, nothing ready
  loop.abandon(op);
  // The ring's kernel still owns the poll until its CQE; epoll's wait lives
  // only in the engine, which lets it go at once.
  EXPECT_EQ(loop.ops_in_flight(), GetParam() == Backend::kIoUring ? 1u : 0u);
  for (int i = 0; i < 10 && loop.ops_in_flight(); ++i) loop.run_once(true, rec);
  EXPECT_EQ(loop.ops_in_flight(), 0u);
  EXPECT_TRUE(rec.done.empty());  // an abandoned op wakes nobody
  // Data arriving later reaches nobody and breaks nothing.
  ASSERT_EQ(write(sp.fd[1], "x", 1), 1);
  loop.run_once(false, rec);
  EXPECT_TRUE(rec.done.empty());
}

TEST_P(LoopTest, AbandonAfterCompletionIsHarmless) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  SocketPair sp;
  ASSERT_EQ(write(sp.fd[1], "x", 1), 1);
  uint64_t op = loop.start_poll(sp.fd[0], POLLIN, 5);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.size(), 1u);
  loop.abandon(op);  // stale name: ignored
  EXPECT_EQ(loop.ops_in_flight(), 0u);
  // A new op reusing the slot gets a new generation.
  uint64_t op2 = loop.start_poll(sp.fd[0], POLLIN, 6);
  EXPECT_NE(op, op2);
  loop.abandon(op);  // still stale: must not cancel op2
  for (int i = 0; i < 10 && !rec.done.count(6); ++i) loop.run_once(true, rec);
  EXPECT_EQ(rec.done.count(6), 1u);
}

TEST_P(LoopTest, TimersWakeTheWaitAtTheirDeadline) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  auto t0 = Clock::now();
  loop.add_timer(t0 + 30ms, 1);
  loop.add_timer(t0 + 10ms, 2);
  while (rec.timers.size() < 2) loop.run_once(true, rec);
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(rec.timers, (std::vector<uint64_t>{2, 1}));
  EXPECT_GE(elapsed, 30ms);
  EXPECT_LT(elapsed, 500ms);
}

TEST_P(LoopTest, CancelledTimerNeverFires) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  auto id = loop.add_timer(Clock::now() + 5ms, 1);
  loop.add_timer(Clock::now() + 20ms, 2);
  EXPECT_TRUE(loop.cancel_timer(id));
  while (rec.timers.empty()) loop.run_once(true, rec);
  EXPECT_EQ(rec.timers, std::vector<uint64_t>{2});
}

namespace {
std::atomic<int> g_posted{0};
void bump(void*) { ++g_posted; }
}  // namespace

TEST_P(LoopTest, WakeupsFromManyThreadsWakeABlockedLoopAndNoneIsLost) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  g_posted = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&loop] {
      for (int i = 0; i < 125; ++i) loop.post({bump, nullptr});
    });
  }
  auto t0 = Clock::now();
  while (g_posted.load() < 1000 && Clock::now() - t0 < 5s) loop.run_once(true, rec);
  for (auto& t : threads) t.join();
  while (g_posted.load() < 1000 && Clock::now() - t0 < 5s) loop.run_once(true, rec);
  EXPECT_EQ(g_posted.load(), 1000);
}

TEST_P(LoopTest, ManyOpsBeyondTheSubmissionQueue) {
  auto owned = make_loop(8);
  Loop& loop = *owned;
  Recorder rec;
  std::vector<SocketPair> pairs(100);
  for (size_t i = 0; i < pairs.size(); ++i) loop.start_poll(pairs[i].fd[0], POLLIN, i + 1);
  for (auto& p : pairs) ASSERT_EQ(write(p.fd[1], "x", 1), 1);
  for (int i = 0; i < 100 && rec.done.size() < pairs.size(); ++i) loop.run_once(true, rec);
  EXPECT_EQ(rec.done.size(), pairs.size());
}

TEST_P(LoopTest, AcceptDeliversThePeerAddressInTheSlot) {
  auto owned = make_loop();
  Loop& loop = *owned;
  struct Rec : Recorder {
    sockaddr_in peer{};
    void on_op_done(uint64_t owner, int32_t res, uint32_t f, const tf::hub::Operation& op) override {
      Recorder::on_op_done(owner, res, f, op);
      if (op.accepted) std::memcpy(&peer, &op.accepted->address, sizeof peer);
    }
  } rec;
  Listener listener;
  int lfd = listener.fd;
  sockaddr_in a = listener.address;
  loop.start_accept(lfd, SOCK_CLOEXEC, 3);
  loop.run_once(false, rec);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.count(3), 1u);
  EXPECT_GE(rec.done[3], 0);
  EXPECT_EQ(rec.peer.sin_family, AF_INET);
  EXPECT_EQ(rec.peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  close(rec.done[3]);
  close(c);
}

TEST_P(LoopTest, AnAbandonedAcceptNeverLosesTheConnection) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  Listener listener;
  int lfd = listener.fd;
  sockaddr_in a = listener.address;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // The connection is already queued. The ring accepts it in the same
  // submission that carries the cancel, so the cancel comes too late and
  // the connection is an orphan; epoll accepts only for a waiter, so the
  // connection stays in the listener's queue. Either way it is not lost.
  uint64_t op = loop.start_accept(lfd, SOCK_CLOEXEC, 4);
  loop.abandon(op);
  for (int i = 0; i < 10 && loop.ops_in_flight(); ++i) loop.run_once(true, rec);
  EXPECT_TRUE(rec.done.empty());
  int accepted;
  if (GetParam() == Backend::kIoUring) {
    ASSERT_EQ(rec.orphans.size(), 1u);
    accepted = rec.orphans[0];
  } else {
    EXPECT_TRUE(rec.orphans.empty());
    accepted = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
  }
  EXPECT_GE(accepted, 0);
  close(accepted);
  close(c);
}

TEST_P(LoopTest, TheEngineIsMadeOnFirstUseOnly) {
  // A program that never waits opens no fd of ours: expired timers fire
  // without an engine; a post before the engine exists is seen once it does.
  Loop loop(256, GetParam());
  Recorder rec;
  loop.add_timer(Clock::now(), 7);
  loop.run_once(false, rec);
  EXPECT_EQ(rec.timers, std::vector<uint64_t>{7});
  EXPECT_FALSE(loop.has_engine());
  std::thread poster([&] { loop.post({nullptr, nullptr}); });
  poster.join();
  EXPECT_FALSE(loop.has_engine());
  loop.run_once(true, rec);  // nothing else to wait for: the post wakes it
  EXPECT_TRUE(loop.has_engine());
  EXPECT_EQ(rec.wakeups, 1);
}

TEST_P(LoopTest, ASignalCutsTheWaitShort) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  struct sigaction sa {};
  sa.sa_handler = [](int) {};  // no SA_RESTART, like CPython's handlers
  sigaction(SIGALRM, &sa, nullptr);
  pthread_t self = pthread_self();
  std::thread t([self] {
    std::this_thread::sleep_for(50ms);
    pthread_kill(self, SIGALRM);
  });
  auto t0 = Clock::now();
  loop.add_timer(t0 + 5s, 1);
  EXPECT_EQ(loop.run_once(true, rec), 0);
  t.join();
  signal(SIGALRM, SIG_DFL);
  EXPECT_EQ(rec.interrupted, 1);
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_P(LoopTest, ATimerFiresNoEarlierThanItsDeadline) {
  // epoll_wait counts whole milliseconds: a deadline 300 us away must not
  // come back early (and spin) nor be missed.
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  auto t0 = Clock::now();
  loop.add_timer(t0 + 300us, 1);
  int turns = 0;
  while (rec.timers.empty() && turns < 100) {
    loop.run_once(true, rec);
    ++turns;
  }
  EXPECT_GE(Clock::now() - t0, 300us);
  EXPECT_LE(turns, 2);
}

TEST_P(LoopTest, PollOnAPipeReportsHangUpWhenTheWriterCloses) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
  loop.start_poll(p[0], POLLIN, 8);
  loop.run_once(false, rec);
  EXPECT_TRUE(rec.done.empty());
  close(p[1]);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.count(8), 1u);
  EXPECT_TRUE(rec.done[8] & POLLHUP);
  close(p[0]);
}

TEST_P(LoopTest, PollOnAClosedFdCompletesWithAnError) {
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  close(p[1]);
  loop.start_poll(p[0], POLLIN, 9);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.count(9), 1u);
  EXPECT_EQ(rec.done[9], -EBADF);
}

TEST_P(LoopTest, PollOnARegularFileIsReadyAtOnce) {
  // As poll(2) says of a file it cannot wait for.
  auto owned = make_loop();
  Loop& loop = *owned;
  Recorder rec;
  FILE* f = tmpfile();
  ASSERT_NE(f, nullptr);
  loop.start_poll(fileno(f), POLLIN | POLLOUT, 10);
  for (int i = 0; i < 10 && rec.done.empty(); ++i) loop.run_once(true, rec);
  ASSERT_EQ(rec.done.count(10), 1u);
  EXPECT_EQ(rec.done[10] & (POLLIN | POLLOUT), POLLIN | POLLOUT);
  fclose(f);
}
