print("extmod imported from PYTHONPATH")
