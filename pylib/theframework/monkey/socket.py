"""socket: cooperative sockets and resolver (getfqdn, create_connection,
socketpair, fromfd and accept follow, as they use these module globals)."""


def patches(socket):
    from theframework import cooperative_socket, dns
    return {"socket": cooperative_socket.make_socket_class(socket.socket), **dns.install(socket)}
