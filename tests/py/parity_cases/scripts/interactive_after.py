value = 42
print("script ran")
raise ValueError("then dropped into -i")
