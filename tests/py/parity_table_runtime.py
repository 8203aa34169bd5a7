"""Parity cases: the run-time underneath a program (threads, recursion,
time, signals, processes, sockets, select, name resolution, closed standard
fds, stdio, encodings), where the patches must stay invisible."""
from parity_harness import C, SHOW_ENCODINGS

RUNTIME_CASES = [
    # threads
    C("c-thread-state", "-c",
      "import threading\nprint(threading.current_thread().name, threading.active_count(),\n"
      "      threading.main_thread() is threading.current_thread(),\n"
      "      [t.name for t in threading.enumerate()])"),
    C("c-thread-sys-exit", "-c",
      "import sys, threading\ndef f():\n    sys.exit(3)\n"
      "t = threading.Thread(target=f)\nt.start()\nt.join()\nprint('main still running')"),
    # the run-time underneath the program: recursion, time, signals, processes
    C("c-recursion-depth-user-greenlet", "-c",
      "import greenlet\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\nprint(greenlet.greenlet(d).switch())"),
    C("c-recursion-depth-atexit", "-c",
      "import atexit\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\natexit.register(lambda: print('atexit', d()))"),
    C("c-recursion-depth-thread", "-c",
      "import threading\ndef d(n=0):\n    try:\n        return d(n + 1)\n    except RecursionError:\n"
      "        return n\nt = threading.Thread(target=lambda: print('thread', d()))\nt.start()\nt.join()"),
    C("c-sleep-introspection", "-c",
      "import time, inspect\ns = time.sleep\nprint(s, s.__name__, s.__qualname__, s.__module__, type(s).__name__)\n"
      "print(s.__doc__)\nprint(callable(s), inspect.isbuiltin(s))"),
    C("c-sleep-zero", "-c", "import time; time.sleep(0); time.sleep(0.01); print('slept')"),
    C("c-sleep-negative", "-c", "import time; time.sleep(-1)"),
    C("c-sleep-nan", "-c", "import time; time.sleep(float('nan'))"),
    C("c-sleep-huge", "-c", "import time; time.sleep(1e300)"),
    C("c-sleep-bad-type", "-c", "import time; time.sleep('1')"),
    C("c-sleep-no-args", "-c", "import time; time.sleep()"),
    C("c-sleep-resumes-after-handler", "-c",
      "import signal, time\nsignal.signal(signal.SIGALRM, lambda *a: print('handler ran'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nt = time.monotonic()\ntime.sleep(0.3)\n"
      "print('slept fully', time.monotonic() - t >= 0.29)"),
    C("c-sleep-handler-raises", "-c",
      "import signal, time\ndef h(*a):\n    raise RuntimeError('from the handler')\n"
      "signal.signal(signal.SIGALRM, h)\nsignal.setitimer(signal.ITIMER_REAL, 0.1)\ntime.sleep(5)"),
    C("c-interrupt-main-during-sleep", "-c",
      "import signal, threading, time\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(5)\nexcept KeyboardInterrupt:\n"
      "    print('interrupted early', time.monotonic() - t < 2)"),
    C("c-threads-sleep-order", "-c",
      "import threading, time\ndef w(name, delay):\n    time.sleep(delay)\n    print(name)\n"
      "ts = [threading.Thread(target=w, args=(n, d)) for n, d in (('slow', 0.3), ('fast', 0.1))]\n"
      "[t.start() for t in ts]\nprint('started')\n[t.join() for t in ts]\nprint('joined')"),
    C("c-event-copy-pickle-attrs", "-c",
      "import copy, pickle, threading\ne = threading.Event()\ne.owner = 'me'\nc = copy.copy(e)\n"
      "print(type(c).__name__, c.owner, c.is_set(), c._cond is e._cond, repr(e)[:17])\n"
      "for f in (copy.deepcopy, pickle.dumps):\n    try:\n        f(e)\n"
      "    except Exception as x:\n        print(f.__name__, type(x).__name__, x)\n"
      "e.set(); print(e.is_set(), e.wait(0), repr(e)[-5:])"),
    C("c-wakeup-fd", "-c", "import signal; print(signal.set_wakeup_fd(-1))"),
    C("c-faulthandler-dump", "-c", "import faulthandler\nfaulthandler.dump_traceback(all_threads=False)"),
    C("c-exc-info-top-level", "-c", "import sys; print(sys.exc_info())"),
    C("c-asyncio", "-c",
      "import asyncio\nasync def main():\n    await asyncio.sleep(0.05)\n    return 'async done'\n"
      "print(asyncio.run(main()))"),
    C("c-subprocess", "-c",
      "import subprocess, sys\nr = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True,"
      " text=True, timeout=20)\nprint(r.returncode, r.stdout, r.stderr)\n"
      "print(subprocess.run(['sh', '-c', 'sleep 0.1; exit 3']).returncode)"),
    C("c-subprocess-timeout", "-c",
      "import subprocess\ntry:\n    subprocess.run(['sleep', '5'], timeout=0.2)\n"
      "except subprocess.TimeoutExpired as e:\n    print('timed out', e.cmd)"),
    C("c-help-builtin", "-c", "help(len)"),
    C("c-hash-seed", "-c", "import sys; print(hash('abc'), sys.flags.hash_randomization)",
      env={"PYTHONHASHSEED": "123"}),
    C("c-pythonhome-usr", "-c", "import sys; print(sys.prefix, sys.exec_prefix, sys.path)",
      env={"PYTHONHOME": "/usr"}),
    C("c-pythonhome-missing", "-c", "print('never')", env={"PYTHONHOME": "/nonexistent"}),
    C("script-fork", "scripts/fork.py"),
    C("script-trace-profile", "scripts/trace.py"),
    C("script-broken-pipe", "scripts/broken_pipe.py"),
    C("script-user-greenlets", "scripts/user_greenlets.py"),
    C("script-multiprocessing", "scripts/mp_spawn.py"),
    C("c-sleep-pickle", "-c",
      "import pickle, time; print(pickle.loads(pickle.dumps(time.sleep)) is time.sleep, "
      "time.sleep.__self__, time.sleep.__text_signature__)"),
    C("c-sleep-in-signal-handler", "-c",
      "import signal, time\ndef h(*a):\n    print('handler sleeps')\n    time.sleep(0.05)\n"
      "    print('handler done')\nsignal.signal(signal.SIGALRM, h)\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\ntime.sleep(0.3)\nprint('main done')"),
    C("c-sys-exit-from-signal-handler", "-c",
      "import signal, sys, time\nsignal.signal(signal.SIGALRM, lambda *a: sys.exit(3))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\ntry:\n    time.sleep(5)\nfinally:\n"
      "    print('finally ran')"),
    C("c-interrupt-main-during-sleep-no-wakeup", "-c",
      # _thread.interrupt_main() only sets python3's signal flag: the sleep runs to its end
      "import _thread, threading, time\nthreading.Timer(0.1, _thread.interrupt_main).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(1)\nexcept KeyboardInterrupt:\n"
      "    print('KeyboardInterrupt; slept the full second:', time.monotonic() - t >= 0.95)"),
    C("c-signal-pause", "-c",
      "import signal\nsignal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nsignal.pause()\nprint('pause returned')"),
    C("c-select-retried-after-signal", "-c",
      "import select, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: print('alarm'))\n"
      "signal.setitimer(signal.ITIMER_REAL, 0.1)\nt = time.monotonic()\n"
      "print(select.select([], [], [], 0.3), time.monotonic() - t >= 0.29)"),
    C("c-setrecursionlimit-low", "-c",
      "import sys\nsys.setrecursionlimit(50)\ndef d(n=0):\n    try:\n        return d(n + 1)\n"
      "    except RecursionError:\n        return n\nprint(d())"),
    C("c-setrecursionlimit-too-low", "-c", "import sys; sys.setrecursionlimit(1)"),
    C("c-current-frames", "-c",
      "import sys, threading\nframes = sys._current_frames()\n"
      "print(len(frames), frames[threading.get_ident()] is sys._getframe())"),
    C("c-thread-state-per-thread", "-c",
      "import asyncio, decimal, sys, threading\n"
      "class L(threading.local):\n    x = None\n"
      "out = []\n"
      "def body():\n"
      "    out.append((L().x, sys.gettrace(), sys.get_asyncgen_hooks().firstiter,\n"
      "                sys.get_coroutine_origin_tracking_depth(), decimal.getcontext().prec))\n"
      "    try:\n        asyncio.get_running_loop()\n    except RuntimeError as e:\n        out.append(str(e))\n"
      "async def main():\n"
      "    sys.set_coroutine_origin_tracking_depth(2)\n"
      "    decimal.getcontext().prec = 7\n"
      "    t = threading.Thread(target=body); t.start(); t.join()\n"
      "sys.settrace(lambda *a: None)\nsys.settrace(None)\n"
      "asyncio.run(main())\nprint(out)"),
    C("c-async-exc-fiber-thread", "-c",
      "import ctypes, threading, time\n"
      "stop = threading.Event()\n"
      "def body():\n"
      "    try:\n        while not stop.is_set():\n            time.sleep(0.01)\n"
      "    except ZeroDivisionError:\n        print('raised in the thread')\n"
      "t = threading.Thread(target=body); t.start()\n"
      "n = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(ZeroDivisionError))\n"
      "print('thread states found:', n)\n"
      "time.sleep(0.1); stop.set(); t.join()"),
    C("c-sqlite-check-same-thread", "-c",
      "import sqlite3, threading\n"
      "c = sqlite3.connect(':memory:')\n"
      "def body():\n"
      "    try:\n        c.execute('select 1'); print('used from another thread')\n"
      "    except sqlite3.ProgrammingError as e:\n        print('ProgrammingError')\n"
      "t = threading.Thread(target=body); t.start(); t.join()"),
    C("c-excepthook", "-c",
      "import sys\nsys.excepthook = lambda t, v, tb: print('hooked', t.__name__, v, file=sys.stderr)\n"
      "raise ValueError('for the hook')"),
    C("c-excepthook-broken", "-c",
      "import sys\ndef hook(*a):\n    raise RuntimeError('hook failed')\nsys.excepthook = hook\n"
      "raise ValueError('original')"),
    C("c-threading-excepthook", "-c",
      "import threading\nthreading.excepthook = lambda a: print('thread hook', a.exc_type.__name__, "
      "a.thread.name)\nt = threading.Thread(target=lambda: 1 / 0, name='T')\nt.start()\nt.join()"),
    C("c-abort", "-c", "import os; print('aborting'); os.abort()"),
    C("c-faulthandler-segfault", "-X", "faulthandler", "-c", "import ctypes; ctypes.string_at(0)"),
    C("c-segfault-no-faulthandler", "-c", "import ctypes; ctypes.string_at(0)"),
    C("c-close-stdout-fd", "-c", "import os; os.close(1); print('x')"),
    C("c-asyncio-signal-handler", "-c",
      "import asyncio, os, signal\nasync def main():\n    loop = asyncio.get_running_loop()\n"
      "    got = loop.create_future()\n    loop.add_signal_handler(signal.SIGUSR1, got.set_result, 'usr1')\n"
      "    os.kill(os.getpid(), signal.SIGUSR1)\n    print(await asyncio.wait_for(got, 5))\n"
      "asyncio.run(main())"),
    C("c-asyncio-kbint", "-c",
      "import asyncio, signal, threading\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "asyncio.run(asyncio.sleep(5))"),
    # sockets, select, selectors, name resolution
    C("script-tcp-echo", "scripts/tcp_echo.py"),
    C("script-socket-big-transfer", "scripts/socket_big.py"),
    C("script-socket-errors", "scripts/socket_errors.py"),
    C("script-ssl-socket-methods", "scripts/ssl_socket_methods.py"),
    C("script-socket-timeouts", "scripts/socket_timeouts.py"),
    C("script-socket-misc", "scripts/socket_misc.py"),
    C("script-sockets-udp-unix", "scripts/sockets_udp_unix.py"),
    C("script-socket-signals", "scripts/socket_signals.py"),
    C("script-select-poll", "scripts/select_poll.py"),
    C("script-select-errors", "scripts/select_errors.py"),
    C("script-os-bad-fds", "scripts/os_bad_fds.py"),
    C("script-sigwait", "scripts/sigwait.py"),
    C("script-selectors", "scripts/selectors_demo.py"),
    C("script-http-roundtrip", "scripts/http_roundtrip.py"),
    C("script-asyncio-tcp", "scripts/asyncio_tcp.py"),
    C("script-fork-socket", "scripts/fork_socket.py"),
    C("script-resolver", "scripts/resolver.py"),
    C("c-connect-refused", "-c", "import socket; socket.socket().connect(('127.0.0.1', 1))"),
    C("c-create-connection-refused", "-c", "import socket; socket.create_connection(('127.0.0.1', 1))"),
    C("c-recv-timeout", "-c", "import socket; a, b = socket.socketpair(); a.settimeout(0.1); a.recv(1)"),
    C("c-accept-timeout", "-c",
      "import socket; s = socket.create_server(('127.0.0.1', 0)); s.settimeout(0.1); s.accept()"),
    C("c-accept-not-listening", "-c", "import socket; socket.socket().accept()"),
    C("c-recv-closed", "-c", "import socket; s = socket.socket(); s.close(); s.recv(1)"),
    C("c-send-str", "-c", "import socket; a, b = socket.socketpair(); a.send('text')"),
    C("c-getaddrinfo-bad-host", "-c", "import socket; socket.getaddrinfo('no-such-host.invalid', 80)"),
    C("c-gethostbyname-bad-host", "-c", "import socket; socket.gethostbyname('no-such-host.invalid')"),
    C("c-select-bad-fd", "-c", "import select; select.select([12345], [], [], 0)"),
    C("c-select-huge-timeout", "-c", "import os, select; r, w = os.pipe(); select.select([r], [], [], 1e300)"),
    C("c-poll-bad-timeout", "-c", "import select; select.poll().poll('x')"),
    C("c-kbint-in-recv", "-c",
      "import signal, socket, threading\na, b = socket.socketpair()\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "a.recv(1)"),
    C("c-kbint-in-select", "-c",
      "import os, select, signal, threading\nr, w = os.pipe()\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "select.select([r], [], [])"),
    C("c-kbint-in-poll", "-c",
      "import os, select, signal, threading\nr, w = os.pipe()\np = select.poll()\np.register(r)\n"
      "threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()\n"
      "p.poll()"),
    C("c-select-module-api", "-c",
      "import select\nprint(select.select, select.poll, type(select.poll()).__name__)\n"
      "print([n for n in ('select', 'poll', 'epoll', 'kqueue', 'devpoll') if hasattr(select, n)])"),
    C("c-selectors-default", "-c",
      "import selectors\nprint(selectors.DefaultSelector.__name__)\n"
      "print([n for n in ('EpollSelector', 'PollSelector', 'SelectSelector', 'DevpollSelector', "
      "'KqueueSelector') if hasattr(selectors, n)])"),
    C("c-epoll", "-c",
      "import os, select\nr, w = os.pipe()\nep = select.epoll()\nep.register(r, select.EPOLLIN)\n"
      "os.write(w, b'x')\nprint(ep.poll(1) == [(r, select.EPOLLIN)])\nep.close()"),
    C("c-socket-api", "-c",
      "import socket\nfor f in (socket.socket.recv, socket.socket.connect, socket.socket.recvfrom, "
      "socket.getaddrinfo, socket.gethostbyname):\n    print(f)"),
    # the patches underneath must stay invisible
    C("c-meta-path", "-c", "import sys; print(sys.meta_path)"),
    C("c-find-spec-signal", "-c",
      "import importlib.util; print(type(importlib.util.find_spec('signal').loader).__name__)"),
    C("c-pkgutil-loader-signal", "-c",
      "import pkgutil; print(pkgutil.get_loader('signal').get_filename('signal'))"),
    C("m-signal", "-m", "signal"),
    C("c-signal-reload", "-c",
      "import importlib, signal; importlib.reload(signal); print(signal.set_wakeup_fd(-1))"),
    C("c-set-wakeup-fd-introspection", "-c",
      "import signal\nf = signal.set_wakeup_fd\n"
      "print(f, f.__name__, f.__qualname__, f.__module__, type(f).__name__, f.__text_signature__)\n"
      "print(f.__doc__)"),
    C("c-set-wakeup-fd-bad-fd", "-c", "import signal; signal.set_wakeup_fd(12345)"),
    C("c-set-wakeup-fd-blocking-fd", "-c",
      "import os, signal; r, w = os.pipe(); signal.set_wakeup_fd(w)"),
    C("c-set-wakeup-fd-two-positional", "-c", "import signal; signal.set_wakeup_fd(-1, True)"),
    C("c-set-wakeup-fd-no-args", "-c", "import signal; signal.set_wakeup_fd()"),
    C("c-set-wakeup-fd-in-thread", "-c",
      "import signal, threading\ndef f():\n    signal.set_wakeup_fd(-1)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-set-wakeup-fd-round-trip", "-c",
      "import os, signal, socket\nr, w = socket.socketpair()\nw.setblocking(False)\n"
      "signal.signal(signal.SIGUSR1, lambda *a: print('handler'))\n"
      "print('first', signal.set_wakeup_fd(w.fileno()))\n"
      "print('again', signal.set_wakeup_fd(w.fileno()) == w.fileno())\n"
      "os.kill(os.getpid(), signal.SIGUSR1)\nprint('byte', r.recv(10) == bytes([signal.SIGUSR1]))\n"
      "print('reset', signal.set_wakeup_fd(-1) == w.fileno())\nprint('after', signal.set_wakeup_fd(-1))"),
    C("c-set-wakeup-fd-then-kbint-in-sleep", "-c",
      "import signal, socket, threading, time\nr, w = socket.socketpair()\nw.setblocking(False)\n"
      "signal.set_wakeup_fd(w.fileno())\nmain = threading.main_thread().ident\n"
      "threading.Timer(0.1, signal.pthread_kill, (main, signal.SIGINT)).start()\n"
      "t = time.monotonic()\ntry:\n    time.sleep(5)\nexcept KeyboardInterrupt:\n"
      "    print('interrupted early', time.monotonic() - t < 2)"),
    C("i-after-c-sys-exit", "-i", "-c", "import sys; sys.exit(3)", stdin="print('in the repl')\n"),
    # closed standard fds
    C("closed-stdin-c", "-c", "import sys; print(sys.stdin)", closed=(0,)),
    C("closed-stdin-no-args", closed=(0,)),
    C("closed-stdin-input", "-c", "input()", closed=(0,)),
    C("closed-stdout", "-c", "import sys; print('x'); sys.stderr.write(repr(sys.stdout) + '\\n')",
      closed=(1,)),
    C("closed-stderr-exception", "-c", "print('out'); 1 / 0", closed=(2,)),
    C("closed-stderr-warning", "-c", "import warnings; warnings.warn('w'); print('out')", closed=(2,)),
    C("closed-all-three", "-c", "import sys; sys.exit(sys.stdin is sys.stdout is sys.stderr is None)",
      closed=(0, 1, 2)),
    # threads: python3's are OS threads, preemptive, with their own C stacks
    C("script-threads-sync", "scripts/threads_sync.py"),
    C("c-thread-idents", "-c",
      "import os, threading\nmain = threading.main_thread()\nseen = {}\n"
      "def f():\n    seen['ident'] = threading.get_ident()\n    seen['native'] = threading.get_native_id()\n"
      "t = threading.Thread(target=f)\nt.start()\nt.join()\n"
      "print(main.native_id == os.getpid(), seen['native'] != main.native_id, seen['ident'] != main.ident,"
      " t.ident == seen['ident'], t.native_id == seen['native'])"),
    C("c-thread-blocked-in-os-read", "-c",
      "import os, threading, time\nr, w = os.pipe()\n"
      "t = threading.Thread(target=lambda: print('thread read', os.read(r, 10)))\nt.start()\n"
      "time.sleep(0.1)\nprint('main writes')\nos.write(w, b'data')\nt.join()"),
    C("c-thread-blocked-in-lock-acquire-c-level", "-c",
      "import threading, time\nimport _thread\nlock = _thread.allocate_lock()\nlock.acquire()\n"
      "threading.Timer(0.1, lock.release).start()\nprint('acquired', lock.acquire(timeout=5))"),
    C("c-thread-preemption-busy-wait", "-c",
      "import threading, time\nflag = []\n"
      "threading.Thread(target=lambda: (time.sleep(0.1), flag.append(1))).start()\n"
      "t = time.monotonic()\nwhile not flag and time.monotonic() - t < 5:\n    pass\n"
      "print('the thread ran while main was busy:', bool(flag))"),
    C("c-thread-runs-without-main-yielding", "-c",
      "import threading\nout = []\nt = threading.Thread(target=lambda: out.append('ran'))\nt.start()\n"
      "x = 0\nfor i in range(3_000_000):\n    x += i\nt.join()\nprint(out)"),
    C("c-signal-in-thread", "-c",
      "import signal, threading\ndef f():\n    signal.signal(signal.SIGUSR1, signal.SIG_IGN)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-signal-handler-runs-in-main-thread", "-c",
      "import os, signal, threading, time\n"
      "signal.signal(signal.SIGUSR1, lambda *a: print('handler in', threading.current_thread().name))\n"
      "def f():\n    os.kill(os.getpid(), signal.SIGUSR1)\n    time.sleep(0.2)\n"
      "t = threading.Thread(target=f, name='T')\nt.start()\nt.join()"),
    C("c-faulthandler-all-threads", "-c",
      "import faulthandler, threading, time\nt = threading.Thread(target=time.sleep, args=(0.5,))\n"
      "t.start()\ntime.sleep(0.1)\nfaulthandler.dump_traceback(all_threads=True)\nt.join()"),
    C("c-daemon-thread-at-exit", "-c",
      "import threading, time\ndef f():\n    time.sleep(0.2)\n    print('never: the daemon dies with the process')\n"
      "threading.Thread(target=f, daemon=True).start()\nprint('main exits')"),
    C("c-start-new-thread", "-c",
      "import _thread, time\ndone = _thread.allocate_lock()\ndone.acquire()\n"
      "def f(a, b):\n    print('low-level thread', a + b)\n    done.release()\n"
      "_thread.start_new_thread(f, (1, 2))\nprint('waiting', done.acquire(timeout=5))"),
    C("c-switch-interval", "-c", "import sys; print(sys.getswitchinterval()); sys.setswitchinterval(0.001); "
      "print(sys.getswitchinterval())"),
    C("c-thread-stack-size", "-c",
      "import threading; print(threading.stack_size()); print(threading.stack_size(1 << 20)); "
      "print(threading.stack_size())"),
    # stdio
    C("c-input", "-c", "print('got', input('prompt> '))", stdin="world\n"),
    C("c-input-eof", "-c", "input('prompt> ')"),
    C("c-stdin-read", "-c", "import sys; print(repr(sys.stdin.read()))", stdin="abc\ndéf"),
    C("c-stdio-objects", "-c",
      "import sys\nfor f in (sys.stdin, sys.stdout, sys.stderr):\n"
      "    print(type(f).__name__, type(f.buffer).__name__, type(getattr(f.buffer, 'raw', None)).__name__,"
      " f.name,"
      " f.fileno(), f.line_buffering, f.write_through, f.isatty())"),
    C("c-environ", "-c", "import os; print(sorted(os.environ))"),
    C("c-warnings-filters", "-c", "import warnings; print(warnings.filters)"),
    C("c-unraisable", "-c",
      "class A:\n    def __del__(self):\n        raise ValueError('in __del__')\nA()\nprint('after')"),
    # encodings
    C("c-nonascii-print", "-c", "print('héllo wörld ☃ 日本語 🐍')"),
    C("c-surrogate-print", "-c", "print('\\udcff')"),
    C("c-encodings", "-c", SHOW_ENCODINGS),
    C("c-encodings-lc-all-c", "-c", SHOW_ENCODINGS, env={"LC_ALL": "C"}),
    C("c-encodings-ioencoding", "-c", SHOW_ENCODINGS, env={"PYTHONIOENCODING": "latin-1:replace"}),
    C("c-encodings-utf8-off-c-locale", "-c", SHOW_ENCODINGS, env={"LC_ALL": "C", "PYTHONUTF8": "0"}),
    C("c-nonascii-ascii-stdout", "-c", "print('héllo')", env={"PYTHONIOENCODING": "ascii"}),
    C("c-nonascii-ascii-replace", "-c", "print('héllo ☃')", env={"PYTHONIOENCODING": "ascii:replace"}),
]
