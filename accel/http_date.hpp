// The date email.utils.formatdate() writes for a timestamp in UTC
// ("Sun, 06 Nov 1994 08:49:37 GMT", or "... -0000"), computed the way
// datetime computes it, so the text is the same to the character. No
// CPython here.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace tf::accel {

// 9999-12-31T23:59:59Z, the last second datetime can hold.
constexpr int64_t kLastDatetimeSecond = 253402300799;

// CPython's _PyTime_RoundHalfEven.
inline double round_half_even(double x) {
  double rounded = std::round(x);
  if (std::fabs(x - rounded) == 0.5) rounded = 2.0 * std::round(x / 2.0);
  return rounded;
}

// The whole second datetime.fromtimestamp(t) lands on: CPython splits t
// into seconds and microseconds rounded half-even, so 1.9999996 is second 2.
// False when t is not a finite time from 1970 to 9999 (the caller then asks
// the real formatdate, which gives python3's errors).
inline bool timestamp_second(double t, int64_t* second) {
  if (!std::isfinite(t)) return false;
  double whole;
  volatile double fraction = std::modf(t, &whole);  // volatile: as CPython, no fused rounding
  fraction = fraction * 1e6;
  fraction = round_half_even(fraction);
  if (fraction >= 1e6) {
    whole += 1.0;
  } else if (fraction < 0) {
    whole -= 1.0;
  }
  if (!(whole >= 0 && whole <= static_cast<double>(kLastDatetimeSecond))) return false;
  *second = static_cast<int64_t>(whole);
  return true;
}

constexpr size_t kHttpDateMax = 32;

// Writes the date of `second` (0 .. kLastDatetimeSecond) with zone "GMT"
// (gmt) or "-0000"; returns its length.
inline size_t format_email_date(int64_t second, bool gmt, char (&out)[kHttpDateMax]) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(second);
  struct tm tm;
  gmtime_r(&t, &tm);
  int sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;  // datetime folds leap seconds
  int n = std::snprintf(out, kHttpDateMax, "%s, %02d %s %04d %02d:%02d:%02d %s", kDays[tm.tm_wday], tm.tm_mday,
                        kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, sec, gmt ? "GMT" : "-0000");
  return static_cast<size_t>(n);
}

}  // namespace tf::accel
