"""email.utils: formatdate for a UTC timestamp in C, kept for the current
second (http.server dates every response with it); local times and the
clock's own time go to the original."""
from theframework._accel import accel


def patches(utils):
    return {"formatdate": accel.make_formatdate(utils.formatdate)}
