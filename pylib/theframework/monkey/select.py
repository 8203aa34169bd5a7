"""select: select() and poll() cooperative; epoll kept, its poll() waiting
on the hub for the epoll fd (replaced in the type, so select.epoll stays
python3's class); kqueue and devpoll (not on Linux) removed; the originals
stay reachable through get_original."""
from theframework import monkey


def patches(select):
    from theframework import cooperative_select
    from theframework._core import core
    return {
        "epoll.poll": core.cooperative_epoll_poll(),
        "select": cooperative_select.make_select(select.select),
        "poll": cooperative_select.make_poll(select.poll),
        "kqueue": monkey.REMOVE,
        "devpoll": monkey.REMOVE,
    }
