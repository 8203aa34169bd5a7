# -*- coding: latin-1 -*-
s = "café ©"
print(s, len(s))
