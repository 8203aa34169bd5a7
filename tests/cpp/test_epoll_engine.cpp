// What only the epoll engine does: registrations kept across waits for fds
// whose owner is named, a readiness cache, fresh registrations for fds of
// unknown owners, and accepts that never block. The behaviour both engines
// share is in test_loop.cpp.
#include "hub/epoll_engine.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>

#include "hub/loop.hpp"
#include "tests/cpp/loopback.hpp"

using namespace std::chrono_literals;
using tf::hub::Backend;
using tf::hub::Clock;
using tf::hub::EpollEngine;
using tf::hub::Loop;
using tf::test::Listener;
using tf::test::SocketPair;

namespace {

struct Recorder : Loop::Events {
  std::map<uint64_t, int32_t> done;
  void on_op_done(uint64_t owner, int32_t res, uint32_t, const tf::hub::Operation&) override { done[owner] = res; }
  void on_timer(uint64_t) override {}
};

struct EpollLoop {
  Loop loop{256, Backend::kEpoll};
  Recorder rec;
  EpollLoop() { EXPECT_EQ(loop.prepare(), 0); }
  unsigned long registrations() { return static_cast<EpollEngine*>(loop.engine())->registrations(); }
  // Turns the loop until `owner` completes (or ~1 s); its result.
  int32_t run_until_done(uint64_t owner) {
    for (int i = 0; i < 100 && !rec.done.count(owner); ++i) {
      loop.add_timer(Clock::now() + 10ms, 0);
      loop.run_once(true, rec);
    }
    EXPECT_EQ(rec.done.count(owner), 1u) << "operation " << owner << " never completed";
    return rec.done.count(owner) ? rec.done[owner] : 0;
  }
};


constexpr uint64_t kOwner = 77;

}  // namespace

TEST(EpollEngine, AnOwnedFdIsRegisteredOnceAcrossWaits) {
  EpollLoop e;
  SocketPair sp;
  for (uint64_t round = 1; round <= 5; ++round) {
    e.loop.start_poll(sp.fd[0], POLLIN, round, kOwner);
    sp.send_byte();
    EXPECT_TRUE(e.run_until_done(round) & POLLIN);
    sp.drain();
  }
  EXPECT_EQ(e.registrations(), 1u);
}

TEST(EpollEngine, AnEdgeIsKnownUntilTheOwnerFindsTheFdNotReady) {
  EpollLoop e;
  SocketPair sp;
  tf::hub::Engine& engine = *e.loop.engine();
  e.loop.start_poll(sp.fd[0], POLLIN, 1, kOwner);
  sp.send_byte();
  e.run_until_done(1);
  EXPECT_FALSE(engine.known_not_ready(sp.fd[0], POLLIN, kOwner));  // woken, not yet read
  sp.drain();
  e.loop.note_not_ready(sp.fd[0], POLLIN, kOwner);  // what a recv that got less than it asked tells
  EXPECT_TRUE(engine.known_not_ready(sp.fd[0], POLLIN, kOwner));
  EXPECT_FALSE(engine.known_not_ready(sp.fd[0], POLLIN, kOwner + 1));  // only for its owner
  // An edge with nobody waiting: the loop sees it and keeps it.
  sp.send_byte();
  e.loop.run_once(false, e.rec);
  EXPECT_FALSE(engine.known_not_ready(sp.fd[0], POLLIN, kOwner));
  sp.drain();
  // The owner found nothing (EAGAIN) and waits: the next edge wakes it.
  e.loop.start_poll(sp.fd[0], POLLIN, 2, kOwner);
  e.loop.run_once(false, e.rec);
  EXPECT_FALSE(e.rec.done.count(2));
  sp.send_byte();
  EXPECT_TRUE(e.run_until_done(2) & POLLIN);
  EXPECT_EQ(e.registrations(), 1u);
}

TEST(EpollEngine, AnEndOfStreamBehindTheLastBytesIsStillKnown) {
  // The last bytes and the peer's shutdown in one edge: a recv that gets
  // less than it asked has not read the EOF yet, which must stay known.
  EpollLoop e;
  SocketPair sp;
  e.loop.start_poll(sp.fd[0], POLLIN, 1, kOwner);
  sp.send_byte();
  shutdown(sp.fd[1], SHUT_WR);
  e.run_until_done(1);
  char buf[16];
  ASSERT_EQ(read(sp.fd[0], buf, sizeof buf), 1);
  e.loop.note_not_ready(sp.fd[0], POLLIN, kOwner);
  EXPECT_FALSE(e.loop.engine()->known_not_ready(sp.fd[0], POLLIN, kOwner));
  EXPECT_EQ(read(sp.fd[0], buf, sizeof buf), 0);
}

TEST(EpollEngine, AnEdgeForOneEventDoesNotWakeAWaitForAnother) {
  EpollLoop e;
  SocketPair sp;
  // Writable from the start: the reader's wait must not be woken by that.
  e.loop.start_poll(sp.fd[0], POLLIN, 1, kOwner);
  e.loop.run_once(false, e.rec);
  EXPECT_TRUE(e.rec.done.empty());
  EXPECT_FALSE(e.loop.engine()->known_not_ready(sp.fd[0], POLLOUT, kOwner));
  sp.send_byte();
  EXPECT_TRUE(e.run_until_done(1) & POLLIN);
}

TEST(EpollEngine, AnFdWithoutAnOwnerIsRegisteredAfreshAtEveryWait) {
  EpollLoop e;
  SocketPair sp;
  for (uint64_t round = 1; round <= 3; ++round) {
    e.loop.start_poll(sp.fd[0], POLLIN, round, 0);
    sp.send_byte();
    e.run_until_done(round);
    sp.drain();
  }
  EXPECT_EQ(e.registrations(), 3u);
}

TEST(EpollEngine, AReusedFdNumberIsWatchedForItsNewFile) {
  // The first file is closed behind the engine's back (its registration
  // dropped silently by the kernel) and the number given to another file.
  EpollLoop e;
  auto first = std::make_unique<SocketPair>();
  int number = first->fd[0];
  e.loop.start_poll(number, POLLIN, 1, kOwner);
  first->send_byte();
  e.run_until_done(1);
  SocketPair second;
  ASSERT_EQ(dup2(second.fd[0], number), number);  // `number` now names the second pair's reader
  first->fd[0] = -1;
  // A new owner: registered afresh.
  e.loop.start_poll(number, POLLIN, 2, kOwner + 1);
  second.send_byte();
  EXPECT_TRUE(e.run_until_done(2) & POLLIN);
  // No owner named: registered afresh too.
  char c;
  ASSERT_EQ(read(number, &c, 1), 1);
  e.loop.start_poll(number, POLLIN, 3, 0);
  second.send_byte();
  EXPECT_TRUE(e.run_until_done(3) & POLLIN);
  close(number);
}

TEST(EpollEngine, AForgottenFdReportsNothingUnderItsNumberAfterItsClose) {
  EpollLoop e;
  SocketPair old_pair;
  int number = old_pair.fd[0];
  e.loop.start_poll(number, POLLIN, 1, kOwner);
  old_pair.send_byte();
  e.run_until_done(1);
  int kept = dup(number);  // the old file stays open elsewhere
  e.loop.forget_fd(number);
  int p[2];
  ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
  ASSERT_EQ(dup2(p[0], number), number);  // the number now names a quiet pipe
  e.loop.start_poll(number, POLLIN, 2, 0);
  old_pair.send_byte();  // activity on the old file only
  e.loop.add_timer(Clock::now() + 30ms, 0);
  e.loop.run_once(true, e.rec);
  e.loop.run_once(false, e.rec);
  EXPECT_FALSE(e.rec.done.count(2));
  close(kept);
  close(p[0]);
  close(p[1]);
}

TEST(EpollEngine, AnAcceptOnABlockingListenerNeverBlocksTheLoop) {
  EpollLoop e;
  Listener listener;
  e.loop.start_accept(listener.fd, SOCK_CLOEXEC, 1, kOwner);
  e.loop.start_accept(listener.fd, SOCK_CLOEXEC, 2, kOwner);
  int c = listener.connect_client();
  auto t0 = Clock::now();
  for (int i = 0; i < 20 && e.rec.done.empty(); ++i) {
    e.loop.add_timer(Clock::now() + 10ms, 0);
    e.loop.run_once(true, e.rec);
  }
  e.loop.run_once(false, e.rec);  // the other accept finds no connection: it must not block
  EXPECT_LT(Clock::now() - t0, 1s);
  ASSERT_EQ(e.rec.done.size(), 1u);
  int accepted = e.rec.done.begin()->second;
  EXPECT_GE(accepted, 0);
  EXPECT_FALSE(fcntl(listener.fd, F_GETFL) & O_NONBLOCK);  // its owner's mode is back
  EXPECT_EQ(e.loop.ops_in_flight(), 1u);
  close(accepted);
  close(c);
}

TEST(EpollEngine, ConnectionsQueuedBehindAnAcceptAreNotLeftWaiting) {
  // Two connections, one readiness edge: after the first accept the
  // listener must still count as readable for the second.
  EpollLoop e;
  Listener listener;
  int c1 = listener.connect_client();
  int c2 = listener.connect_client();
  e.loop.start_accept(listener.fd, SOCK_CLOEXEC, 1, kOwner);
  int a1 = e.run_until_done(1);
  e.loop.start_accept(listener.fd, SOCK_CLOEXEC, 2, kOwner);
  int a2 = e.run_until_done(2);
  EXPECT_GE(a1, 0);
  EXPECT_GE(a2, 0);
  close(a1);
  close(a2);
  close(c1);
  close(c2);
}
