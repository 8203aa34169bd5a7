#include "core/os/system.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/task/green_hub.hpp"

extern char** environ;

namespace tf::core {
namespace {

// SIGINT and SIGQUIT ignored while at least one command runs (system(3)).
class InterruptsIgnored {
 public:
  InterruptsIgnored() {
    if (count_++ > 0) return;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &saved_int_);
    sigaction(SIGQUIT, &ignore, &saved_quit_);
  }
  ~InterruptsIgnored() {
    if (--count_ > 0) return;
    sigaction(SIGINT, &saved_int_, nullptr);
    sigaction(SIGQUIT, &saved_quit_, nullptr);
  }
  InterruptsIgnored(const InterruptsIgnored&) = delete;
  InterruptsIgnored& operator=(const InterruptsIgnored&) = delete;

 private:
  static inline int count_ = 0;  // the hub's thread only (GIL held)
  static inline struct sigaction saved_int_ {};
  static inline struct sigaction saved_quit_ {};
};

// /bin/sh -c command; the child's pid, or -errno.
pid_t spawn_shell(const char* command) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, mask;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGQUIT);
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
  pid_t pid = -1;
  int error = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  return error ? -error : pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

PyObject* run_shell(PyObject*, PyObject* command) {
  if (!PyBytes_Check(command)) {
    PyErr_SetString(PyExc_TypeError, "run_shell() expects bytes");
    return nullptr;
  }
  if (!GreenHub::cooperative_here()) {
    PyErr_SetString(PyExc_RuntimeError, "run_shell() needs a running hub in this thread");
    return nullptr;
  }
  InterruptsIgnored ignored;
  pid_t pid = spawn_shell(PyBytes_AS_STRING(command));
  if (pid < 0) return PyLong_FromLong(W_EXITCODE(127, 0));  // what system(3) reports
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    int32_t revents = 0;
    WaitStatus waited = GreenHub::current()->wait_fd(pidfd, POLLIN, -1, &revents, /*file_key=*/0);
    ::close(pidfd);
    if (waited == WaitStatus::kFailed) {
      // Given up (an exception was thrown in): as system(3) on
      // cancellation, the shell goes too, and leaves no zombie.
      ::kill(pid, SIGKILL);
      reap(pid);
      return nullptr;
    }
  }
  return PyLong_FromLong(reap(pid));  // without a pidfd (kernel < 5.3): a blocking wait
}

PyMethodDef g_methods[] = {
    {"run_shell", run_shell, METH_O, "run_shell(command: bytes) -> the wait status of /bin/sh -c command."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_os_system(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
