/*
 * echo_uring: the C reference echo server for the ping-pong benchmark.
 *
 *   echo_uring [PORT]        (PORT 0 or absent: any free port)
 *
 * One thread, one io_uring (liburing >= 2.3). Listens on 127.0.0.1, prints
 * "listening PORT" and serves every connection with accept -> recv -> send
 * -> recv ... operations, one in flight per connection; a connection's
 * buffer is reused only after its send has completed. The ring is set up
 * with IORING_SETUP_SINGLE_ISSUER|IORING_SETUP_DEFER_TASKRUN (kernel 6.1+),
 * falling back to IORING_SETUP_COOP_TASKRUN (5.19+) and then to no flags;
 * the flags in use are printed on stderr. Pinning to a CPU is left to
 * `taskset`. Runs until killed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE_DEPTH 1024
#define BUF_SIZE 4096
#define MAX_FDS 65536

enum op { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };

struct conn {
  int fd;
  size_t len;   /* bytes received, being echoed */
  size_t sent;  /* of those, bytes sent so far */
  char buf[BUF_SIZE];
};

static struct io_uring g_ring;
static struct conn *g_conns[MAX_FDS];

/* user_data: the op in the low byte, the connection's fd above it. */
static uint64_t tag(enum op op, int fd) { return ((uint64_t)(uint32_t)fd << 8) | (uint64_t)op; }

static struct io_uring_sqe *get_sqe(void) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(&g_ring);
  if (!sqe) {
    io_uring_submit(&g_ring);
    sqe = io_uring_get_sqe(&g_ring);
  }
  if (!sqe) {
    fprintf(stderr, "echo_uring: submission queue full\n");
    exit(1);
  }
  return sqe;
}

static void queue_accept(int lfd) {
  struct io_uring_sqe *sqe = get_sqe();
  io_uring_prep_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, lfd));
}

static void queue_recv(struct conn *c) {
  struct io_uring_sqe *sqe = get_sqe();
  io_uring_prep_recv(sqe, c->fd, c->buf, BUF_SIZE, 0);
  io_uring_sqe_set_data64(sqe, tag(OP_RECV, c->fd));
}

static void queue_send(struct conn *c) {
  struct io_uring_sqe *sqe = get_sqe();
  io_uring_prep_send(sqe, c->fd, c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, tag(OP_SEND, c->fd));
}

static void close_conn(struct conn *c) {
  g_conns[c->fd] = NULL;
  close(c->fd);
  free(c);
}

static const char *setup_ring(void) {
  static const struct {
    unsigned flags;
    const char *name;
  } tries[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN"},
      {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},
      {0, "none"},
  };
  int ret = -EINVAL;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = tries[i].flags;
    ret = io_uring_queue_init_params(QUEUE_DEPTH, &g_ring, &p);
    if (ret == 0) return tries[i].name;
  }
  fprintf(stderr, "echo_uring: io_uring_queue_init: %s\n", strerror(-ret));
  exit(1);
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("echo_uring: socket");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1024) < 0) {
    perror("echo_uring: bind/listen");
    exit(1);
  }
  return fd;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int lfd = listen_on(port);
  struct sockaddr_in bound;
  socklen_t blen = sizeof bound;
  getsockname(lfd, (struct sockaddr *)&bound, &blen);

  const char *flags = setup_ring();
  fprintf(stderr, "echo_uring: ring flags %s\n", flags);
  printf("listening %d\n", ntohs(bound.sin_port));
  fflush(stdout);

  queue_accept(lfd);
  for (;;) {
    int ret = io_uring_submit_and_wait(&g_ring, 1);
    if (ret < 0 && ret != -EINTR) {
      fprintf(stderr, "echo_uring: io_uring_submit_and_wait: %s\n", strerror(-ret));
      return 1;
    }
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&g_ring, head, cqe) {
      seen++;
      uint64_t data = io_uring_cqe_get_data64(cqe);
      enum op op = (enum op)(data & 0xff);
      int fd = (int)(data >> 8);
      int res = cqe->res;
      if (op == OP_ACCEPT) {
        if (res >= 0 && res < MAX_FDS) {
          struct conn *c = malloc(sizeof *c);
          if (!c) {
            close(res);
          } else {
            int one = 1;
            setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = res;
            g_conns[res] = c;
            queue_recv(c);
          }
        } else if (res >= 0) {
          close(res);
        }
        queue_accept(lfd);
        continue;
      }
      struct conn *c = g_conns[fd];
      if (!c) continue;
      if (res <= 0) {
        /* EOF, or an error: the peer is gone. */
        close_conn(c);
      } else if (op == OP_RECV) {
        c->len = (size_t)res;
        c->sent = 0;
        queue_send(c);
      } else {
        c->sent += (size_t)res;
        if (c->sent < c->len)
          queue_send(c);
        else
          queue_recv(c);
      }
    }
    io_uring_cq_advance(&g_ring, seen);
  }
}
