#include "hub/loop.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using tf::hub::Clock;
using tf::hub::Loop;
using tf::hub::WakeupItem;

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

struct SocketPair {
  int fd[2];
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0); }
  ~SocketPair() {
    close(fd[0]);
    close(fd[1]);
  }
};

// A TCP listener on 127.0.0.1, any port.
struct Listener {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  Listener() {
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof address;
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(listen(fd, 8), 0);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &len);
  }
  ~Listener() { close(fd); }
};

}  // namespace

TEST(Loop, PollReportsItsOwner) {
  Loop loop;
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

TEST(Loop, AbandonCancelsAndFreesOnlyOnTheFinalCqe) {
  Loop loop;
  Recorder rec;
  SocketPair sp;
  uint64_t op = loop.start_poll(sp.fd[0], POLLIN, 9);
  loop.run_once(false, rec);  // submitted, nothing ready
  loop.abandon(op);
  EXPECT_EQ(loop.ops_in_flight(), 1u);  // the kernel still owns it
  for (int i = 0; i < 10 && loop.ops_in_flight(); ++i) loop.run_once(true, rec);
  EXPECT_EQ(loop.ops_in_flight(), 0u);
  EXPECT_TRUE(rec.done.empty());  // an abandoned op wakes nobody
  // Data arriving later reaches nobody and breaks nothing.
  ASSERT_EQ(write(sp.fd[1], "x", 1), 1);
  loop.run_once(false, rec);
  EXPECT_TRUE(rec.done.empty());
}

TEST(Loop, AbandonAfterCompletionIsHarmless) {
  Loop loop;
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

TEST(Loop, TimersWakeTheWaitAtTheirDeadline) {
  Loop loop;
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

TEST(Loop, CancelledTimerNeverFires) {
  Loop loop;
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

TEST(Loop, WakeupsFromManyThreadsWakeABlockedLoopAndNoneIsLost) {
  Loop loop;
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

TEST(Loop, ManyOpsBeyondTheSubmissionQueue) {
  Loop loop(8);
  Recorder rec;
  std::vector<SocketPair> pairs(100);
  for (size_t i = 0; i < pairs.size(); ++i) loop.start_poll(pairs[i].fd[0], POLLIN, i + 1);
  for (auto& p : pairs) ASSERT_EQ(write(p.fd[1], "x", 1), 1);
  for (int i = 0; i < 100 && rec.done.size() < pairs.size(); ++i) loop.run_once(true, rec);
  EXPECT_EQ(rec.done.size(), pairs.size());
}

TEST(Loop, AcceptDeliversThePeerAddressInTheSlot) {
  Loop loop;
  struct Rec : Recorder {
    sockaddr_in peer{};
    void on_op_done(uint64_t owner, int32_t res, uint32_t f, const tf::hub::Operation& op) override {
      Recorder::on_op_done(owner, res, f, op);
      std::memcpy(&peer, &op.kernel.address, sizeof peer);
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

TEST(Loop, AbandonedAcceptThatCompletesAnywayIsAnOrphanNotALostConnection) {
  Loop loop;
  Recorder rec;
  Listener listener;
  int lfd = listener.fd;
  sockaddr_in a = listener.address;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  // The connection is already queued: the accept completes in the same
  // submission that carries its cancel, so the cancel comes too late.
  uint64_t op = loop.start_accept(lfd, SOCK_CLOEXEC, 4);
  loop.abandon(op);
  for (int i = 0; i < 10 && loop.ops_in_flight(); ++i) loop.run_once(true, rec);
  EXPECT_TRUE(rec.done.empty());
  ASSERT_EQ(rec.orphans.size(), 1u);
  EXPECT_GE(rec.orphans[0], 0);
  close(rec.orphans[0]);
  close(c);
}

TEST(Loop, TheRingIsMadeOnFirstUseOnly) {
  // A program that never waits opens no fd of ours: expired timers fire
  // without a ring; a post before the ring exists is seen once it does.
  Loop loop;
  Recorder rec;
  loop.add_timer(Clock::now(), 7);
  loop.run_once(false, rec);
  EXPECT_EQ(rec.timers, std::vector<uint64_t>{7});
  EXPECT_FALSE(loop.has_ring());
  std::thread poster([&] { loop.post({nullptr, nullptr}); });
  poster.join();
  EXPECT_FALSE(loop.has_ring());
  loop.run_once(true, rec);  // nothing else to wait for: the post wakes it
  EXPECT_TRUE(loop.has_ring());
  EXPECT_EQ(rec.wakeups, 1);
}
