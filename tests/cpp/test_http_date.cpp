#include "accel/http_date.hpp"

#include <gtest/gtest.h>

#include <string>

using tf::accel::format_email_date;
using tf::accel::kHttpDateMax;
using tf::accel::kLastDatetimeSecond;
using tf::accel::timestamp_second;

namespace {

std::string date(int64_t second, bool gmt) {
  char buf[kHttpDateMax];
  size_t n = format_email_date(second, gmt, buf);
  return std::string(buf, n);
}

int64_t second_of(double t) {
  int64_t s = -1;
  EXPECT_TRUE(timestamp_second(t, &s)) << t;
  return s;
}

}  // namespace

TEST(HttpDate, FormatsAsEmailUtils) {
  EXPECT_EQ(date(0, true), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(date(784111777, true), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(date(951782400, false), "Tue, 29 Feb 2000 00:00:00 -0000");
  EXPECT_EQ(date(kLastDatetimeSecond, true), "Fri, 31 Dec 9999 23:59:59 GMT");
}

TEST(HttpDate, SecondsRoundLikeDatetime) {
  // Microseconds are rounded half-even; a fraction that rounds to 1e6
  // carries into the next second.
  EXPECT_EQ(second_of(10.4999995), 10);
  EXPECT_EQ(second_of(10.9999994), 10);
  EXPECT_EQ(second_of(10.9999996), 11);
  EXPECT_EQ(second_of(0.0), 0);
  EXPECT_EQ(second_of(-0.0000004), 0);  // rounds up to 0.000000
  EXPECT_EQ(second_of(1764171234.5), 1764171234);
}

TEST(HttpDate, OutsideDatetimesRangeIsLeftToPython) {
  int64_t s;
  EXPECT_FALSE(timestamp_second(-0.5, &s));
  EXPECT_FALSE(timestamp_second(static_cast<double>(kLastDatetimeSecond) + 1, &s));
  EXPECT_FALSE(timestamp_second(1e300, &s));
  EXPECT_FALSE(timestamp_second(std::nan(""), &s));
  EXPECT_FALSE(timestamp_second(INFINITY, &s));
}
