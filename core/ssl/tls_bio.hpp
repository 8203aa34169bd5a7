// The socket BIO of a TLS connection, made able to be tried without
// blocking while its fd stays in blocking mode.
//
// CPython's _ssl reads and writes through OpenSSL's socket BIO, i.e.
// read(2)/write(2) on the fd: on a blocking-mode socket the only way to
// make OpenSSL report WANT_READ instead of blocking the hub is to set
// O_NONBLOCK on the fd around each call (F_GETFL + two F_SETFL), and the
// flag belongs to the open file description, which other threads, dups
// and child processes share. adopt() instead gives the connection a BIO
// of the same type ("socket", BIO_TYPE_SOCKET) whose read and write are the
// socket BIO's own, except while a DontWait scope names it: then they are
// recv/send with MSG_DONTWAIT, with the socket BIO's retry and EOF flags.
// Outside such a scope nothing differs from python3 (the original
// functions run), and the fd's flags are never touched.
//
// OpenSSL is not linked: its functions are looked up in the libssl and
// libcrypto that _ssl has loaded (dlopen with RTLD_NOLOAD), once, when the
// first connection is adopted. Nothing here touches CPython.
#pragma once

#include <openssl/ssl.h>

namespace tf::core::tls_bio {

// Gives `ssl` (whose read and write BIO is one socket BIO on `fd`, as
// SSL_set_fd makes it) the BIO described above. False, leaving `ssl` as it
// was, when OpenSSL's functions cannot be found, the BIO is not that, or
// the connection may use kernel TLS (SSL_OP_ENABLE_KTLS: its socket BIO
// reads records its own way). Call before the connection's first I/O.
bool adopt(SSL* ssl, int fd);

// While one lives, the adopted BIO of `ssl` does not block (a mark on
// the BIO itself; nests).
class DontWait {
 public:
  explicit DontWait(SSL* ssl);
  ~DontWait();
  DontWait(const DontWait&) = delete;
  DontWait& operator=(const DontWait&) = delete;

 private:
  BIO* bio_;
  void* saved_;
};

// Whether an SSL_read on an adopted connection would need the socket to
// be readable before it can return anything: the handshake is done, no
// record data is buffered, no shutdown was seen or sent, and no write is
// pending. (A false answer only means "try first".)
bool read_needs_socket(SSL* ssl);

}  // namespace tf::core::tls_bio
