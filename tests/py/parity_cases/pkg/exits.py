import sys
print("pkg.exits exiting with 5")
sys.exit(5)
