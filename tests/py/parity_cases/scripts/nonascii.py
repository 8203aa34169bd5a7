# Non-ASCII source, output, and exception text.
import sys
print("héllo wörld ☃ 日本語 🐍")
print("stderr: ünïcödé", file=sys.stderr)
print(sys.stdout.encoding, sys.stdout.errors, sys.stderr.encoding, sys.stderr.errors)
raise ValueError("ошибка ☠")
