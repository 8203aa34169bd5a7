# greenlet is installed for python3.11 too: plain greenlet code must behave
# the same inside tfpython's target greenlet.
import sys

import greenlet


def child(x):
    print("child got", x)
    y = main.switch(x + 1)
    print("child resumed with", y)
    return "child result"


main = greenlet.getcurrent()
g = greenlet.greenlet(child)
print("main got", g.switch(1))
print("main got", g.switch(10))
print("dead", g.dead)


def failing():
    raise ValueError("raised in a user greenlet")


try:
    greenlet.greenlet(failing).switch()
except ValueError as exc:
    print("propagated to parent:", exc)

greenlet.greenlet(lambda: sys.exit(4)).switch()
print("never printed")
