"""ssl: TLS sockets wait cooperatively (handshake, read, write, shutdown).
Only SSLContext.sslsocket_class is replaced: ssl.SSLSocket stays the
standard class (its _create relies on it), and ours derives from it."""


def patches(ssl):
    from theframework import cooperative_ssl
    return {"SSLContext.sslsocket_class": cooperative_ssl.make_sslsocket_class(ssl)}
