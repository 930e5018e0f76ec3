buffer = bytearray(50 * 2**30)
print("allocated", len(buffer))
