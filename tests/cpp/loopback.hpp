// Real sockets on loopback for the hub's tests: a connected pair and a TCP
// listener, closed when they go.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tf::test {

// A connected AF_UNIX stream pair, non-blocking; fd[0] is the one waited on.
struct SocketPair {
  int fd[2];
  SocketPair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd), 0); }
  ~SocketPair() {
    close(fd[0]);
    close(fd[1]);
  }
  void send_byte() { ASSERT_EQ(write(fd[1], "x", 1), 1); }
  void drain() {
    char buf[64];
    while (read(fd[0], buf, sizeof buf) > 0) {
    }
  }
};

// A TCP listener on 127.0.0.1, any port, in blocking mode (as a python3
// socket without a timeout).
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
  // A client connected to it (the caller closes it).
  int connect_client() {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(connect(c, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    return c;
  }
};

}  // namespace tf::test
