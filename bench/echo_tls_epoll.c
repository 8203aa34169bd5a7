/*
 * echo_tls_epoll: the C reference TLS echo server (benchmark 1b).
 *
 *   echo_tls_epoll CERTFILE KEYFILE [PORT]     (PORT 0 or absent: any free port)
 *
 * What echo_tls_threads.py does, without an interpreter: one thread, epoll
 * (level-triggered), non-blocking sockets, OpenSSL with the library's
 * defaults (a socket BIO, no read-ahead: two recv() per record, as for the
 * Python servers). A readable connection is read with SSL_read (64 bytes,
 * as the Python servers' recv(64)) while OpenSSL has data buffered, each
 * piece written back with SSL_write; then epoll says when there is more
 * (no read that would fail, as tfpython's recv heuristic avoids). Listens
 * on 127.0.0.1, prints "listening PORT", runs until killed; pinning is
 * left to `taskset`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536

struct conn {
  SSL *ssl;
  int handshaken;
  size_t pending;  /* bytes of buf not yet written back (SSL_write wanted to wait) */
  uint32_t watching; /* the epoll events asked for now */
  char buf[16384];
};

static struct conn *g_conns[MAX_FDS];
static int g_epoll;

static void watch(int fd, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(g_epoll, op, fd, &ev) < 0) {
    perror("echo_tls_epoll: epoll_ctl");
    exit(1);
  }
}

/* Asks for `events` on a connection, with a syscall only when they change. */
static void want(int fd, struct conn *c, uint32_t events) {
  if (c->watching == events) return;
  watch(fd, events, EPOLL_CTL_MOD);
  c->watching = events;
}

static void drop(int fd) {
  struct conn *c = g_conns[fd];
  SSL_free(c->ssl);
  free(c);
  g_conns[fd] = NULL;
  close(fd); /* also leaves the epoll set */
}

/* After an OpenSSL call returned ret <= 0: 1 to wait for `*events`, 0 to drop. */
static int would_wait(SSL *ssl, int ret, uint32_t *events) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
      *events = EPOLLIN;
      return 1;
    case SSL_ERROR_WANT_WRITE:
      *events = EPOLLOUT;
      return 1;
    default:
      ERR_clear_error();
      return 0;
  }
}

/* Writes back what is pending; 1 when all of it went, 0 when it waits, -1 to drop. */
static int flush(int fd, struct conn *c) {
  while (c->pending) {
    int n = SSL_write(c->ssl, c->buf, (int)c->pending);
    if (n > 0) {
      c->pending = 0; /* SSL_write without partial writes: all of it */
      continue;
    }
    uint32_t events;
    if (!would_wait(c->ssl, n, &events)) return -1;
    want(fd, c, events);
    return 0;
  }
  return 1;
}

static void serve(int fd) {
  struct conn *c = g_conns[fd];
  uint32_t events = EPOLLIN;
  if (!c->handshaken) {
    int r = SSL_accept(c->ssl);
    if (r <= 0) {
      if (!would_wait(c->ssl, r, &events)) drop(fd);
      else want(fd, c, events);
      return;
    }
    c->handshaken = 1;
  }
  int f = flush(fd, c);
  if (f < 0) {
    drop(fd);
    return;
  }
  if (f == 0) return;
  for (;;) {
    int n = SSL_read(c->ssl, c->buf, 64); /* recv(64), as the Python servers */
    if (n <= 0) {
      if (!would_wait(c->ssl, n, &events)) {
        drop(fd);
        return;
      }
      break;
    }
    c->pending = (size_t)n;
    f = flush(fd, c);
    if (f < 0) {
      drop(fd);
      return;
    }
    if (f == 0) return;
    /* Nothing buffered in OpenSSL: the next read would most likely fail
     * (one message in flight); level-triggered epoll says when to read. */
    if (!SSL_has_pending(c->ssl)) break;
  }
  want(fd, c, events);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: echo_tls_epoll CERTFILE KEYFILE [PORT]\n");
    return 2;
  }
  int port = argc > 3 ? atoi(argv[3]) : 0;
  signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write is an error return, as in python3 */
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[1]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
    perror("echo_tls_epoll: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  g_epoll = epoll_create1(0);
  watch(lfd, EPOLLIN, EPOLL_CTL_ADD);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(g_epoll, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo_tls_epoll: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd != lfd) {
        if (g_conns[fd]) serve(fd);
        continue;
      }
      int cfd;
      while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        if (cfd >= MAX_FDS) {
          close(cfd);
          continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, cfd);
        g_conns[cfd] = c;
        watch(cfd, EPOLLIN, EPOLL_CTL_ADD);
        c->watching = EPOLLIN;
        serve(cfd);
      }
    }
  }
}
