greeting = "hello"
print(greeting, "from hello.py")
