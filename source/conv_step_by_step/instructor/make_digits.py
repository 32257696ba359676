"""Convert scikit-learn's 8x8 handwritten digits into digits.h5, the data of the notebook's digits section.

Run once, by an instructor, with scikit-learn installed (students need neither scikit-learn nor a
network: digits.h5 ships with the assignment). scikit-learn is not a dependency of the course, so
install it somewhere temporary, for example:

    python -m venv /tmp/sk-venv
    /tmp/sk-venv/bin/pip install scikit-learn h5py
    /tmp/sk-venv/bin/python source/conv_step_by_step/instructor/make_digits.py

The file holds the 1,797 images of `sklearn.datasets.load_digits` (the test set of the UCI
"Optical Recognition of Handwritten Digits" data) as uint8 pixels 0-16, split once into a fixed,
stratified training and test set: the same share of every digit goes to the test set, drawn with a
fixed seed, so every student trains and tests on the same digits. Running the script again writes
the same file, byte for byte.
"""

import argparse
from pathlib import Path

import h5py
import numpy as np
import sklearn
from sklearn.datasets import load_digits

TEST_FRACTION = 0.2
SEED = 0
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "digits.h5"

SOURCE = (
    "sklearn.datasets.load_digits (scikit-learn {version}): a copy of the test set (optdigits.tes, "
    "1,797 images written by 13 people) of the UCI 'Optical Recognition of Handwritten Digits' data, "
    "https://archive.ics.uci.edu/dataset/80"
)
LICENSE = (
    "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), "
    "as stated on https://archive.ics.uci.edu/dataset/80"
)
CITATION = (
    "Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten Digits [Dataset]. "
    "UCI Machine Learning Repository. https://doi.org/10.24432/C50P49"
)
DESCRIPTION = (
    "8x8 images of handwritten digits 0-9. Each pixel counts the 'on' pixels of a 4x4 block of a "
    "32x32 bitmap, so its value is an integer from 0 (no ink) to 16 (all ink)."
)


def stratified_split(labels, test_fraction, seed):
    """Indices of a training and a test set holding the same share of every class (both sorted)."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = int(round(test_fraction * len(members)))
        test.extend(rng.choice(members, size=n_test, replace=False))
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def add_array(file, name, data):
    """Store data compressed as a single chunk: h5py's smaller default chunks compress worse."""
    return file.create_dataset(name, data=data, chunks=data.shape, compression="gzip", compression_opts=9)


def write_digits(path):
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # float64 in scikit-learn, but integers 0..16
    labels = digits.target.astype(np.uint8)
    assert images.shape == (1797, 8, 8) and np.array_equal(images, digits.images)
    train, test = stratified_split(labels, TEST_FRACTION, SEED)

    with h5py.File(path, "w") as file:
        file.attrs["source"] = SOURCE.format(version=sklearn.__version__)
        file.attrs["license"] = LICENSE
        file.attrs["citation"] = CITATION
        file.attrs["description"] = DESCRIPTION
        file.attrs["made_by"] = (
            "source/conv_step_by_step/instructor/make_digits.py: the images and labels of load_digits() "
            f"unchanged (as uint8), split per digit with numpy.random.default_rng({SEED}): "
            f"{TEST_FRACTION:.0%} of each digit in the test set"
        )
        for name, index in (("train", train), ("test", test)):
            images_data = add_array(file, f"{name}_images", images[index])
            images_data.attrs["layout"] = "(N, 8, 8), pixel values 0..16"
            add_array(file, f"{name}_labels", labels[index])
            # Position of each example in load_digits(), to trace it back to the original data.
            add_array(file, f"{name}_index", index.astype(np.uint16))
    return len(train), len(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT, help="default: %(default)s")
    args = parser.parse_args()
    n_train, n_test = write_digits(args.output)
    size = args.output.stat().st_size
    print(f"wrote {args.output}: {n_train} training and {n_test} test digits, {size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
