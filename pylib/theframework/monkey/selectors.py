"""selectors: DefaultSelector is the poll selector over the cooperative
select.poll (no 1024-fd limit); the classes that would block the hub are
removed; SelectSelector and PollSelector use the cooperative functions."""
from theframework import monkey


def patches(selectors):
    select = monkey.get_patched("select")
    selectors.SelectSelector._select = staticmethod(select.select)
    selectors.PollSelector._selector_cls = select.poll
    return {
        "DefaultSelector": selectors.PollSelector,
        "EpollSelector": monkey.REMOVE,
        "DevpollSelector": monkey.REMOVE,
        "KqueueSelector": monkey.REMOVE,
    }
