"""Every per-thread thing a fiber-thread must own, printed; run by
test_thread_state.py under python3.11 and tfpython, whose outputs must be
equal. Under tfpython it first checks that threads are fibers in the hub."""
import threading, weakref, gc, sys, asyncio, decimal

try:
    import _framework_core
except ImportError:
    _framework_core = None
if _framework_core is not None and "--tfpython" in sys.argv:
    assert _framework_core.hub_is_running()
    kinds = []
    t = threading.Thread(target=lambda: kinds.append(type(_framework_core.thread_greenlet()).__name__))
    t.start(); t.join()
    assert kinds == ["ThreadFiber"], kinds

def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start(); t.join()
    return out[0]

def attempt(fn):
    try:
        return fn()
    except Exception as e:
        return f"{type(e).__name__}: {e}"

class A(threading.local):
    x = None
    y = [1]
print("class attrs", A().x, in_thread(lambda: (A().x, A().y)))

class S(threading.local):
    __slots__ = ("a", "__dict__")
s = S(); s.a = 1; s.b = 2
print("slots", in_thread(lambda: (s.a, attempt(lambda: s.b))))

class I(threading.local):
    calls = 0
    def __init__(self, v, *, k=0):
        I.calls += 1
        self.v = v + k
i = I(3, k=4)
print("init", i.v, in_thread(lambda: i.v), I.calls)

class P(threading.local):
    def __init__(self):
        self._p = 5
    @property
    def p(self):
        return self._p * 2
    @p.setter
    def p(self, value):
        self._p = value
pp = P()
print("property", pp.p, in_thread(lambda: (pp.p, setattr(pp, "p", 7), pp.p)), pp.p)

print("args refused", attempt(lambda: threading.local(1)))
l = threading.local()
print("dict ro", attempt(lambda: setattr(l, "__dict__", {})), attempt(lambda: delattr(l, "nope")))
print("repr type", type(l).__module__, type(l).__name__, type(l).__qualname__)
print("dict", l.__dict__, in_thread(lambda: (setattr(l, "q", 1), l.__dict__)[1]), l.__dict__)

class Bad(threading.local):
    n = 0
    def __init__(self):
        Bad.n += 1
        if Bad.n == 2:
            raise ValueError("second")
        self.ok = Bad.n
b = Bad()
print("init failure", in_thread(lambda: (attempt(lambda: b.ok), attempt(lambda: b.ok))))

class Obj: pass
loc = threading.local()
refs = []
def keep():
    o = Obj(); loc.o = o; refs.append(weakref.ref(o))
t = threading.Thread(target=keep); t.start(); t.join()
print("freed at thread end", refs[0]() is None)

# a local dropped while a thread that used it is parked
ev, go = threading.Event(), threading.Event()
l2 = threading.local()
def parked():
    l2.o = Obj(); refs.append(weakref.ref(l2.o)); ev.set(); go.wait()
t = threading.Thread(target=parked); t.start(); ev.wait()
del l2; gc.collect()
print("freed with the local", refs[1]() is None)
go.set(); t.join()

# asyncio: loops in several threads
async def work(n):
    await asyncio.sleep(0.01)
    return n, asyncio.get_running_loop() is not None
res = []
ts = [threading.Thread(target=lambda n=n: res.append(asyncio.run(work(n)))) for n in range(3)]
[t.start() for t in ts]; [t.join() for t in ts]
print("asyncio threads", sorted(res))
async def main():
    r = in_thread(lambda: attempt(asyncio.get_running_loop))
    return r
print("no loop in thread", asyncio.run(main()))

# decimal contexts
decimal.getcontext().prec = 5
print("decimal", in_thread(lambda: decimal.getcontext().prec), decimal.getcontext().prec)

# tracing per thread
seen = []
def tracer(frame, event, arg):
    seen.append((threading.current_thread().name, event))
    return None
def traced(): return 1
def t_body():
    sys.settrace(tracer); traced(); sys.settrace(None)
t = threading.Thread(target=t_body, name="T"); t.start(); t.join()
traced()
print("settrace", seen)
print("gettrace main", sys.gettrace())
seen.clear()
threading.settrace(tracer)
t = threading.Thread(target=traced, name="U"); t.start(); t.join()
threading.settrace(None)
print("threading.settrace", sorted(set(seen)), sys.gettrace())
print("asyncgen hooks", in_thread(lambda: (sys.set_asyncgen_hooks(firstiter=print), sys.get_asyncgen_hooks().firstiter)[1] is print), sys.get_asyncgen_hooks())
print("origin depth", in_thread(lambda: (sys.set_coroutine_origin_tracking_depth(3), sys.get_coroutine_origin_tracking_depth())[1]), sys.get_coroutine_origin_tracking_depth())
