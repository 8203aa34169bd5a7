/*
 * loadgen: echo ping-pong load generator (single thread, epoll).
 *
 *   loadgen [--tls] HOST PORT CONNS MSGSIZE DURATION [WARMUP]
 *
 * Opens CONNS TCP connections to HOST:PORT (TCP_NODELAY); with --tls, each
 * is a TLS client (OpenSSL, the library's default protocol and ciphers, the
 * server's certificate not checked), its handshake done before any timing
 * starts. Each connection
 * sends one MSGSIZE-byte message, waits until the whole echo is back
 * (checking its bytes), and sends the next: CONNS messages in flight at once.
 * After WARMUP seconds (default: a quarter of DURATION, at most 1 s) it
 * prints "measuring" and counts the round trips completed in the next
 * DURATION seconds, then prints
 *
 *   done messages=N seconds=S rate=R errors=E
 *
 * (R = messages/s) before closing anything, so that whoever samples the
 * server's CPU time on those two lines sees only the measurement window.
 * Both lines are flushed at once. Raises its open-file soft limit to the
 * hard one when CONNS needs it. Exits 2 when no echo came back in the
 * window, 1 on set-up errors. Pinning to a CPU is left to `taskset`.
 * Build: gcc -O2 loadgen.c -lssl -lcrypto.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_EVENTS 256
#define CONNECT_TIMEOUT_MS 5000

struct conn {
  int fd;
  int alive;
  size_t sent;     /* bytes of the current message written so far */
  size_t got;      /* bytes of its echo read so far */
  unsigned seq;    /* message number: varies the payload */
  int want_out;    /* EPOLLOUT registered (a short write is pending) */
  SSL *ssl;        /* --tls: the connection's TLS state; NULL otherwise */
  unsigned char *out;
  unsigned char *in;
};

static size_t g_msgsize;
static int g_epfd;
static SSL_CTX *g_tls; /* --tls */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fill_message(struct conn *c) {
  for (size_t i = 0; i < g_msgsize; i++) c->out[i] = (unsigned char)('a' + (c->seq + i) % 26);
  c->sent = 0;
  c->got = 0;
}

static void set_out_interest(struct conn *c, int want) {
  if (c->want_out == want) return;
  struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
  c->want_out = want;
}

static void kill_conn(struct conn *c, int *alive, long *errors, const char *why) {
  if (!c->alive) return;
  fprintf(stderr, "loadgen: connection closed: %s\n", why);
  c->alive = 0;
  (*alive)--;
  (*errors)++;
  epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

/* SSL_read / SSL_write's outcome as a plain socket call's: n > 0 bytes;
 * -1 with errno EAGAIN when TLS waits for the socket (readable, or
 * writable: *want_out); 0 at a clean close; -1 with another errno on an
 * error. */
static ssize_t tls_result(struct conn *c, int r, int *want_out) {
  if (r > 0) return r;
  switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_WRITE:
      *want_out = 1;
      /* fall through */
    case SSL_ERROR_WANT_READ:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default:
      ERR_clear_error();
      if (errno == 0 || errno == EAGAIN) errno = EPROTO;
      return -1;
  }
}

static ssize_t conn_send(struct conn *c, const void *buf, size_t n, int *want_out) {
  *want_out = 0;
  if (!c->ssl) {
    ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
    *want_out = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    return r;
  }
  errno = 0;
  return tls_result(c, SSL_write(c->ssl, buf, (int)n), want_out);
}

static ssize_t conn_recv(struct conn *c, void *buf, size_t n, int *want_out) {
  *want_out = 0;
  if (!c->ssl) return recv(c->fd, buf, n, 0);
  errno = 0;
  return tls_result(c, SSL_read(c->ssl, buf, (int)n), want_out);
}

/* Writes what is left of the current message; 0 ok, -1 connection error. */
static int flush_out(struct conn *c) {
  while (c->sent < g_msgsize) {
    int want_out;
    /* (TLS: a write that must be retried is retried with the same bytes.) */
    ssize_t n = conn_send(c, c->out + c->sent, g_msgsize - c->sent, &want_out);
    if (n > 0) {
      c->sent += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_out_interest(c, want_out);
      return 0;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return -1;
    }
  }
  set_out_interest(c, 0);
  return 0;
}

static int connect_one(const struct addrinfo *ai) {
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    if (errno != EINPROGRESS) die("connect");
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int r = poll(&p, 1, CONNECT_TIMEOUT_MS);
    if (r == 0) {
      fprintf(stderr, "loadgen: connect timed out\n");
      exit(1);
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      errno = err;
      die("connect");
    }
  }
  return fd;
}

/* The TLS handshake on a connected non-blocking socket, waiting with poll. */
static SSL *tls_connect(int fd) {
  SSL *ssl = SSL_new(g_tls);
  if (!ssl || !SSL_set_fd(ssl, fd)) {
    fprintf(stderr, "loadgen: SSL_new failed\n");
    exit(1);
  }
  for (;;) {
    int r = SSL_connect(ssl);
    if (r == 1) return ssl;
    int err = SSL_get_error(ssl, r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      unsigned long e = ERR_get_error();
      fprintf(stderr, "loadgen: TLS handshake failed: %s\n",
              e ? ERR_error_string(e, NULL) : r == 0 ? "the server closed the connection" : strerror(errno));
      exit(1);
    }
    struct pollfd p = {.fd = fd, .events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
    if (poll(&p, 1, CONNECT_TIMEOUT_MS) == 0) {
      fprintf(stderr, "loadgen: TLS handshake timed out\n");
      exit(1);
    }
  }
}

int main(int argc, char **argv) {
  int tls = argc > 1 && strcmp(argv[1], "--tls") == 0;
  if (tls) {
    argv++;
    argc--;
  }
  if (argc < 6 || argc > 7) {
    fprintf(stderr, "usage: %s [--tls] HOST PORT CONNS MSGSIZE DURATION [WARMUP]\n", argv[0]);
    return 1;
  }
  if (tls) {
    g_tls = SSL_CTX_new(TLS_client_method());
    if (!g_tls) {
      fprintf(stderr, "loadgen: SSL_CTX_new failed\n");
      return 1;
    }
    SSL_CTX_set_verify(g_tls, SSL_VERIFY_NONE, NULL);
  }
  const char *host = argv[1];
  const char *port = argv[2];
  int nconns = atoi(argv[3]);
  g_msgsize = (size_t)atol(argv[4]);
  double duration = atof(argv[5]);
  double warmup = argc == 7 ? atof(argv[6]) : duration / 4;
  if (argc < 7 && warmup > 1.0) warmup = 1.0;
  if (nconns <= 0 || g_msgsize == 0 || duration <= 0 || warmup < 0) {
    fprintf(stderr, "loadgen: bad arguments\n");
    return 1;
  }

  /* Many connections: the open-file soft limit up to the hard one. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY &&
      nofile.rlim_cur < (rlim_t)nconns + 16) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < (rlim_t)nconns + 16) {
      fprintf(stderr, "loadgen: %d connections need more open files than the limit %llu\n", nconns,
              (unsigned long long)nofile.rlim_cur);
      return 1;
    }
  }

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *ai;
  int gai = getaddrinfo(host, port, &hints, &ai);
  if (gai != 0) {
    fprintf(stderr, "loadgen: %s:%s: %s\n", host, port, gai_strerror(gai));
    return 1;
  }

  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g_epfd < 0) die("epoll_create1");
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  unsigned char *bufs = malloc((size_t)nconns * g_msgsize * 2);
  if (!conns || !bufs) die("malloc");
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->fd = connect_one(ai);
    if (tls) c->ssl = tls_connect(c->fd);
    c->alive = 1;
    c->seq = (unsigned)i;
    c->out = bufs + (size_t)i * g_msgsize * 2;
    c->in = c->out + g_msgsize;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  }
  freeaddrinfo(ai);

  int alive = nconns;
  long errors = 0;
  long count = 0;
  for (int i = 0; i < nconns; i++) {
    fill_message(&conns[i]);
    if (flush_out(&conns[i]) < 0) kill_conn(&conns[i], &alive, &errors, "send failed");
  }

  double start = now_s();
  double measure_from = start + warmup;
  double end = measure_from + duration;
  int measuring = 0;
  struct epoll_event events[MAX_EVENTS];

  for (;;) {
    double t = now_s();
    if (!measuring && t >= measure_from) {
      measuring = 1;
      count = 0;
      measure_from = t;
      end = t + duration;
      printf("measuring\n");
      fflush(stdout);
    }
    if (measuring && t >= end) break;
    if (alive == 0) break;
    double until = measuring ? end : measure_from;
    int timeout_ms = (int)((until - t) * 1000.0) + 1;
    int n = epoll_wait(g_epfd, events, MAX_EVENTS, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int e = 0; e < n; e++) {
      struct conn *c = events[e].data.ptr;
      if (!c->alive) continue;
      if (events[e].events & EPOLLOUT) {
        if (flush_out(c) < 0) {
          kill_conn(c, &alive, &errors, "send failed");
          continue;
        }
      }
      if (!(events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      if (c->sent < g_msgsize && c->ssl && flush_out(c) < 0) {  /* a TLS write waiting to read */
        kill_conn(c, &alive, &errors, "send failed");
        continue;
      }
      int want_out;
      ssize_t r = conn_recv(c, c->in + c->got, g_msgsize - c->got, &want_out);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        if (want_out) set_out_interest(c, 1);
        continue;
      }
      if (r <= 0) {
        kill_conn(c, &alive, &errors, r == 0 ? "server closed the connection" : strerror(errno));
        continue;
      }
      c->got += (size_t)r;
      /* TLS: a record may hold more than one read took. */
      while (c->ssl && c->got < g_msgsize && SSL_pending(c->ssl) > 0) {
        r = conn_recv(c, c->in + c->got, g_msgsize - c->got, &want_out);
        if (r <= 0) break;
        c->got += (size_t)r;
      }
      if (c->got > c->sent) {
        kill_conn(c, &alive, &errors, "echo arrived before the message was sent");
        continue;
      }
      if (c->got < g_msgsize) continue;
      if (memcmp(c->in, c->out, g_msgsize) != 0) {
        kill_conn(c, &alive, &errors, "echo differs from the message");
        continue;
      }
      count++;
      c->seq++;
      fill_message(c);
      if (flush_out(c) < 0) kill_conn(c, &alive, &errors, "send failed");
    }
  }

  double elapsed = now_s() - measure_from;
  if (!measuring) elapsed = 0;
  double rate = elapsed > 0 ? (double)count / elapsed : 0.0;
  printf("done messages=%ld seconds=%.6f rate=%.1f errors=%ld\n", measuring ? count : 0L,
         elapsed, rate, errors);
  fflush(stdout);
  for (int i = 0; i < nconns; i++)
    if (conns[i].alive) close(conns[i].fd);
  if (!measuring || count == 0) {
    fprintf(stderr, "loadgen: no echo came back in the measurement window\n");
    return 2;
  }
  return 0;
}
