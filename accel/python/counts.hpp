// How often each stand-in answered itself and how often it handed over to
// its original: tests prove with these that the C path ran.
#pragma once

namespace tf::accel {

struct Counts {
  unsigned long long parsestr_fast = 0, parsestr_original = 0;
  unsigned long long formatdate_fast = 0, formatdate_original = 0;
};

extern Counts g_counts;  // the GIL guards it

}  // namespace tf::accel
