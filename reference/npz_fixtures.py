"""NumPy's own .npz files for the toolkit's archive reader, and a check of the archives it writes.

    python3 reference/npz_fixtures.py make Tests/DatasetsTests/Fixtures
        writes numpy-savez.npz (np.savez: stored entries) and numpy-savez-compressed.npz
        (np.savez_compressed: deflated), each holding
          small   uint8   (2, 3, 4)  0 ... 23
          values  float64 (5,)       linspace(-1, 1, 5)
          counts  int64   (2, 2)     [[1, -2], [3, 2**40]]
        and numpy-savez-zip64.npz, the same arrays in a zip with every ZIP64 record: extra
        fields in the local headers and the directory, and the ZIP64 end records (zipfile writes
        them for archives past 4 GiB or 65,535 entries; its limits are lowered here so that a
        small file has them all).
    python3 reference/npz_fixtures.py check FILE.npz
        reads an archive the toolkit wrote (e.g. `vae data --make dsprites`) with NumPy and
        prints each array's dtype, shape, and sum, so the two readers can be compared.
Only NumPy is needed (pip install numpy).
"""
import sys
import zipfile

import numpy as np


def arrays():
    return {
        "small": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        "values": np.linspace(-1, 1, 5),
        "counts": np.array([[1, -2], [3, 2**40]], dtype=np.int64),
    }


def make(folder):
    np.savez(f"{folder}/numpy-savez.npz", **arrays())
    np.savez_compressed(f"{folder}/numpy-savez-compressed.npz", **arrays())
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 16, 1
    try:
        with zipfile.ZipFile(f"{folder}/numpy-savez-zip64.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays().items():
                with archive.open(name + ".npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits


def check(path):
    with np.load(path) as archive:
        for name in archive.files:
            array = archive[name]
            print(f"{name}: {array.dtype} {array.shape} sum {array.sum(dtype=np.float64):.6f}")


if __name__ == "__main__":
    {"make": make, "check": check}[sys.argv[1]](sys.argv[2])
