# libFuzzer support: with XENBALLOON_FUZZ (clang), every target is built with
# -fsanitize=fuzzer-no-link and tests/fuzz/ adds the fuzz targets.
