"""selectors: DefaultSelector stays python3's EpollSelector, over the
cooperative select.epoll (registrations made by other threads while one
waits wake it, as with a real epoll); SelectSelector and PollSelector use
the cooperative select() and poll(); the classes for other systems are
removed."""
from theframework import monkey


def patches(selectors):
    select = monkey.get_patched("select")
    return {
        "SelectSelector._select": select.select,  # a C callable: it does not bind, as python3's
        "PollSelector._selector_cls": select.poll,
        "DevpollSelector": monkey.REMOVE,
        "KqueueSelector": monkey.REMOVE,
    }
