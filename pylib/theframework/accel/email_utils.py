"""email.utils: formatdate for a UTC timestamp in C, kept for the current
second (http.server dates every response with it); local times and the
clock's own time go to the original."""
import _framework_accel


def stand_ins(utils):
    return {"formatdate": _framework_accel.make_formatdate(utils.formatdate)}
