with open("big.bin", "wb") as handle:
    chunk = b"\0" * 2**20
    for _ in range(10 * 1024):
        handle.write(chunk)
print("wrote 10 GiB")
