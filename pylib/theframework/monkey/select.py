"""select: select() and poll() cooperative; epoll, kqueue and devpoll
removed (deleted, not set to None), since they would block the hub; the
originals stay reachable through get_original."""
from theframework import monkey


def patches(select):
    from theframework import cooperative_select
    return {
        "select": cooperative_select.make_select(select.select),
        "poll": cooperative_select.make_poll(select.poll),
        "epoll": monkey.REMOVE,
        "kqueue": monkey.REMOVE,
        "devpoll": monkey.REMOVE,
    }
