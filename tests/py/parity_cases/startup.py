STARTUP_VAR = "set by PYTHONSTARTUP"
print("startup file ran")
