"""selectors: DefaultSelector waits through the cooperative select.poll (no
1024-fd limit) and behaves like python3's default (epoll) selector once
closed; the classes that would block the hub are removed; SelectSelector
and PollSelector use the cooperative functions."""
from theframework import monkey


def patches(selectors):
    select = monkey.get_patched("select")
    selectors.SelectSelector._select = staticmethod(select.select)
    selectors.PollSelector._selector_cls = select.poll

    class CooperativeSelector(selectors.PollSelector):
        """The default selector: poll-based, cooperative inside the hub."""

        _closed = False

        def _check_open(self):
            if self._closed:
                raise ValueError("I/O operation on closed epoll object")

        def register(self, fileobj, events, data=None):
            self._check_open()
            return super().register(fileobj, events, data)

        def select(self, timeout=None):
            self._check_open()
            return super().select(timeout)

        def close(self):
            self._closed = True
            super().close()

    CooperativeSelector.__module__ = "selectors"
    return {
        "DefaultSelector": CooperativeSelector,
        "EpollSelector": monkey.REMOVE,
        "DevpollSelector": monkey.REMOVE,
        "KqueueSelector": monkey.REMOVE,
    }
