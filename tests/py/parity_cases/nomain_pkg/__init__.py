print("nomain_pkg imported")
