#include "core/ssl/tls_bio.hpp"

#include <dlfcn.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace tf::core::tls_bio {
namespace {

// OpenSSL 3's functions, from the libssl _ssl loaded (and, through it,
// libcrypto).
struct Api {
  const BIO_METHOD* (*BIO_s_socket)();
  BIO_METHOD* (*BIO_meth_new)(int, const char*);
  int (*(*BIO_meth_get_read)(const BIO_METHOD*))(BIO*, char*, int);
  int (*(*BIO_meth_get_write)(const BIO_METHOD*))(BIO*, const char*, int);
  int (*(*BIO_meth_get_puts)(const BIO_METHOD*))(BIO*, const char*);
  long (*(*BIO_meth_get_ctrl)(const BIO_METHOD*))(BIO*, int, long, void*);
  int (*(*BIO_meth_get_create)(const BIO_METHOD*))(BIO*);
  int (*(*BIO_meth_get_destroy)(const BIO_METHOD*))(BIO*);
  int (*BIO_meth_set_read)(BIO_METHOD*, int (*)(BIO*, char*, int));
  int (*BIO_meth_set_write)(BIO_METHOD*, int (*)(BIO*, const char*, int));
  int (*BIO_meth_set_puts)(BIO_METHOD*, int (*)(BIO*, const char*));
  int (*BIO_meth_set_ctrl)(BIO_METHOD*, long (*)(BIO*, int, long, void*));
  int (*BIO_meth_set_create)(BIO_METHOD*, int (*)(BIO*));
  int (*BIO_meth_set_destroy)(BIO_METHOD*, int (*)(BIO*));
  BIO* (*BIO_new)(const BIO_METHOD*);
  long (*BIO_ctrl)(BIO*, int, long, void*);
  int (*BIO_method_type)(const BIO*);
  void (*BIO_set_flags)(BIO*, int);
  void (*BIO_clear_flags)(BIO*, int);
  void (*BIO_set_data)(BIO*, void*);
  void* (*BIO_get_data)(BIO*);
  int (*BIO_sock_should_retry)(int);
  BIO* (*SSL_get_rbio)(const SSL*);
  BIO* (*SSL_get_wbio)(const SSL*);
  void (*SSL_set_bio)(SSL*, BIO*, BIO*);
  uint64_t (*SSL_get_options)(const SSL*);
  int (*SSL_is_init_finished)(const SSL*);
  int (*SSL_has_pending)(const SSL*);
  int (*SSL_get_shutdown)(const SSL*);
  int (*SSL_want)(const SSL*);
};

Api g_api;
BIO_METHOD* g_method = nullptr;  // ours; never freed
int (*g_socket_read)(BIO*, char*, int) = nullptr;
int (*g_socket_write)(BIO*, const char*, int) = nullptr;
enum class State { kUnknown, kReady, kUnavailable } g_state = State::kUnknown;

// A DontWait scope marks its BIO with this in the BIO's data pointer,
// which the socket BIO leaves unused. A mark on the BIO, not on the OS
// thread: a Python callback inside an SSL call (SNI, msg_callback) may
// switch greenlets, and another connection's scope must not unmark it.
char g_dont_wait_mark;

bool dont_wait(BIO* b) { return g_api.BIO_get_data(b) == &g_dont_wait_mark; }

int fd_of(BIO* b) {
  int fd = -1;
  g_api.BIO_ctrl(b, BIO_C_GET_FD, 0, &fd);
  return fd;
}

// The socket BIO's read (crypto/bio/bss_sock.c, without kernel TLS) with
// recv(MSG_DONTWAIT) for read(2).
int read_dont_wait(BIO* b, char* out, int outl) {
  if (out == nullptr || !dont_wait(b)) return g_socket_read(b, out, outl);
  int fd = fd_of(b);
  errno = 0;
  int ret = static_cast<int>(::recv(fd, out, static_cast<size_t>(outl), MSG_DONTWAIT));
  g_api.BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  if (ret <= 0) {
    if (g_api.BIO_sock_should_retry(ret))
      g_api.BIO_set_flags(b, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
    else if (ret == 0)
      g_api.BIO_set_flags(b, BIO_FLAGS_IN_EOF);  // what SSL reports as an unexpected EOF
  }
  return ret;
}

// The socket BIO's write with send(MSG_DONTWAIT) for write(2) (no
// MSG_NOSIGNAL: write(2) raises SIGPIPE too, which python3 ignores).
int write_dont_wait(BIO* b, const char* in, int inl) {
  if (!dont_wait(b)) return g_socket_write(b, in, inl);
  int fd = fd_of(b);
  errno = 0;
  int ret = static_cast<int>(::send(fd, in, static_cast<size_t>(inl), MSG_DONTWAIT));
  g_api.BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  if (ret <= 0 && g_api.BIO_sock_should_retry(ret)) g_api.BIO_set_flags(b, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
  return ret;
}

template <typename T>
bool find(void* lib, const char* name, T* out) {
  *out = reinterpret_cast<T>(dlsym(lib, name));
  return *out != nullptr;
}

bool load() {
  if (g_state != State::kUnknown) return g_state == State::kReady;
  g_state = State::kUnavailable;
  // Only an already loaded libssl (_ssl's): never load one of our own.
  void* lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return false;
  Api& a = g_api;
  bool ok = find(lib, "BIO_s_socket", &a.BIO_s_socket) && find(lib, "BIO_meth_new", &a.BIO_meth_new) &&
            find(lib, "BIO_meth_get_read", &a.BIO_meth_get_read) &&
            find(lib, "BIO_meth_get_write", &a.BIO_meth_get_write) &&
            find(lib, "BIO_meth_get_puts", &a.BIO_meth_get_puts) &&
            find(lib, "BIO_meth_get_ctrl", &a.BIO_meth_get_ctrl) &&
            find(lib, "BIO_meth_get_create", &a.BIO_meth_get_create) &&
            find(lib, "BIO_meth_get_destroy", &a.BIO_meth_get_destroy) &&
            find(lib, "BIO_meth_set_read", &a.BIO_meth_set_read) &&
            find(lib, "BIO_meth_set_write", &a.BIO_meth_set_write) &&
            find(lib, "BIO_meth_set_puts", &a.BIO_meth_set_puts) &&
            find(lib, "BIO_meth_set_ctrl", &a.BIO_meth_set_ctrl) &&
            find(lib, "BIO_meth_set_create", &a.BIO_meth_set_create) &&
            find(lib, "BIO_meth_set_destroy", &a.BIO_meth_set_destroy) && find(lib, "BIO_new", &a.BIO_new) &&
            find(lib, "BIO_ctrl", &a.BIO_ctrl) && find(lib, "BIO_method_type", &a.BIO_method_type) &&
            find(lib, "BIO_set_flags", &a.BIO_set_flags) && find(lib, "BIO_clear_flags", &a.BIO_clear_flags) &&
            find(lib, "BIO_set_data", &a.BIO_set_data) && find(lib, "BIO_get_data", &a.BIO_get_data) &&
            find(lib, "BIO_sock_should_retry", &a.BIO_sock_should_retry) &&
            find(lib, "SSL_get_rbio", &a.SSL_get_rbio) && find(lib, "SSL_get_wbio", &a.SSL_get_wbio) &&
            find(lib, "SSL_set_bio", &a.SSL_set_bio) && find(lib, "SSL_get_options", &a.SSL_get_options) &&
            find(lib, "SSL_is_init_finished", &a.SSL_is_init_finished) &&
            find(lib, "SSL_has_pending", &a.SSL_has_pending) &&
            find(lib, "SSL_get_shutdown", &a.SSL_get_shutdown) && find(lib, "SSL_want", &a.SSL_want);
  // (The handle is kept: _ssl keeps the library loaded for the process.)
  if (!ok) return false;
  const BIO_METHOD* socket = a.BIO_s_socket();
  g_socket_read = a.BIO_meth_get_read(socket);
  g_socket_write = a.BIO_meth_get_write(socket);
  if (!g_socket_read || !g_socket_write) return false;
  BIO_METHOD* m = a.BIO_meth_new(BIO_TYPE_SOCKET, "socket");
  if (!m || !a.BIO_meth_set_read(m, read_dont_wait) || !a.BIO_meth_set_write(m, write_dont_wait) ||
      !a.BIO_meth_set_puts(m, a.BIO_meth_get_puts(socket)) || !a.BIO_meth_set_ctrl(m, a.BIO_meth_get_ctrl(socket)) ||
      !a.BIO_meth_set_create(m, a.BIO_meth_get_create(socket)) ||
      !a.BIO_meth_set_destroy(m, a.BIO_meth_get_destroy(socket)))
    return false;
  g_method = m;
  g_state = State::kReady;
  return true;
}

}  // namespace

bool adopt(SSL* ssl, int fd) {
  if (!ssl || fd < 0 || !load()) return false;
  Api& a = g_api;
  BIO* old = a.SSL_get_rbio(ssl);
  if (!old || old != a.SSL_get_wbio(ssl) || a.BIO_method_type(old) != BIO_TYPE_SOCKET || fd_of(old) != fd)
    return false;
  if (a.SSL_get_options(ssl) & SSL_OP_ENABLE_KTLS) return false;
  BIO* bio = a.BIO_new(g_method);
  if (!bio) return false;
  a.BIO_ctrl(bio, BIO_C_SET_FD, BIO_NOCLOSE, &fd);  // BIO_set_fd, as SSL_set_fd does
  a.SSL_set_bio(ssl, bio, bio);                     // frees the old one, as a second SSL_set_fd would
  return true;
}

DontWait::DontWait(SSL* ssl) : bio_(g_api.SSL_get_rbio(ssl)), saved_(g_api.BIO_get_data(bio_)) {
  g_api.BIO_set_data(bio_, &g_dont_wait_mark);
}

DontWait::~DontWait() { g_api.BIO_set_data(bio_, saved_); }

bool read_needs_socket(SSL* ssl) {
  const Api& a = g_api;
  return a.SSL_is_init_finished(ssl) && !a.SSL_has_pending(ssl) && a.SSL_get_shutdown(ssl) == 0 &&
         a.SSL_want(ssl) != SSL_WRITING;
}

}  // namespace tf::core::tls_bio
