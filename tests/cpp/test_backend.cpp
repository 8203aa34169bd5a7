// The choice of engine: io_uring where the kernel gives a ring, epoll where
// io_uring_setup is refused, as under the container seccomp profiles that
// deny it. Each refusal is made real with a seccomp filter in a child.
#include "hub/backend.hpp"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>

#include "hub/loop.hpp"
#include "tests/cpp/io_uring_allowed.hpp"

using tf::hub::Backend;
using tf::hub::Loop;

namespace {

// From here on io_uring_setup fails with `error` in this process, as under
// Docker's and podman's default profiles (and kernel.io_uring_disabled).
bool refuse_io_uring(int error) {
  if (error == 0) return true;  // a control: nothing refused
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(error) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Runs `body` in a child where io_uring_setup fails with `error`; the
// child's exit status (0: every check held; otherwise the failing check).
int in_child_refusing_io_uring(int error, const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!refuse_io_uring(error)) _exit(100);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

struct NoEvents : Loop::Events {
  int32_t result = 0;
  bool done = false;
  void on_op_done(uint64_t, int32_t res, uint32_t, const tf::hub::Operation&) override {
    result = res;
    done = true;
  }
  void on_timer(uint64_t) override {}
};

// A loop of the process's choice serves a poll: the engine it chose works.
int a_default_loop_runs_on(const char* expected) {
  Loop loop;
  if (loop.prepare() != 0) return 1;
  if (std::strcmp(loop.engine_name(), expected) != 0) return 2;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 3;
  NoEvents events;
  loop.start_poll(sv[0], POLLIN, 1);
  if (write(sv[1], "x", 1) != 1) return 4;
  for (int i = 0; i < 10 && !events.done; ++i) loop.run_once(true, events);
  return events.done && (events.result & POLLIN) ? 0 : 5;
}

}  // namespace

TEST(Backend, NamesAndPreferences) {
  Backend b;
  EXPECT_TRUE(tf::hub::parse_backend("io_uring", &b));
  EXPECT_EQ(b, Backend::kIoUring);
  EXPECT_TRUE(tf::hub::parse_backend("epoll", &b));
  EXPECT_EQ(b, Backend::kEpoll);
  EXPECT_TRUE(tf::hub::parse_backend("", &b));
  EXPECT_EQ(b, Backend::kAuto);
  EXPECT_TRUE(tf::hub::parse_backend(nullptr, &b));
  EXPECT_EQ(b, Backend::kAuto);
  EXPECT_TRUE(tf::hub::parse_backend("auto", &b));
  EXPECT_FALSE(tf::hub::parse_backend("uring", &b));
  EXPECT_FALSE(tf::hub::parse_backend("EPOLL", &b));
  EXPECT_STREQ(tf::hub::backend_name(Backend::kIoUring), "io_uring");
  EXPECT_STREQ(tf::hub::backend_name(Backend::kEpoll), "epoll");
}

TEST(Backend, IoUringWhereTheKernelGivesARing) {
  SKIP_WHERE_IO_URING_IS_REFUSED();
  EXPECT_EQ(in_child_refusing_io_uring(0, [] {
              Backend b;
              if (tf::hub::resolve_backend(&b) != 0 || b != Backend::kIoUring) return 10;
              return a_default_loop_runs_on("io_uring");
            }),
            0);
}

TEST(Backend, EpollWhenIoUringIsRefused) {
  for (int error : {EPERM, ENOSYS, EACCES, ENOMEM, EINVAL}) {
    SCOPED_TRACE(std::strerror(error));
    EXPECT_EQ(in_child_refusing_io_uring(error, [] {
                if (int rc = a_default_loop_runs_on("epoll"); rc != 0) return rc;
                Backend b;
                if (tf::hub::resolve_backend(&b) != 0 || b != Backend::kEpoll) return 10;
                return 0;
              }),
              0);
  }
}

TEST(Backend, AForcedIoUringThatIsRefusedIsAnErrorNotAFallback) {
  EXPECT_EQ(in_child_refusing_io_uring(EPERM, [] {
              tf::hub::set_backend_preference(Backend::kIoUring);
              Backend b;
              if (tf::hub::resolve_backend(&b) != EPERM) return 10;
              Loop loop;
              if (loop.prepare() != -EPERM) return 11;
              if (loop.has_engine()) return 12;
              return 0;
            }),
            0);
}

TEST(Backend, AForcedEpollNeverTriesARing) {
  EXPECT_EQ(in_child_refusing_io_uring(0, [] {
              tf::hub::set_backend_preference(Backend::kEpoll);
              return a_default_loop_runs_on("epoll");
            }),
            0);
}
