this first line is not Python and -x skips it
import sys
print("skipped the first line", sys.argv[1:])
raise ValueError("line numbers must count the skipped line (this is line 4)")
