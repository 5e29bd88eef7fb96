//! Black-box tests of Tessera live in `tests/`.
