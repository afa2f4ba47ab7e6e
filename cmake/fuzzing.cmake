# libFuzzer support (docs/fuzzing.md). With XENBALLOON_FUZZ (clang only) every target is compiled
# with -fsanitize=fuzzer-no-link (coverage counters and comparison hooks, no fuzzer runtime: the
# sanitizer runtime's weak hooks serve the ordinary tests), and tests/fuzz/ adds the fuzz targets,
# linked with -fsanitize=fuzzer. The sanitizers come from XENBALLOON_SANITIZE, turned on here when
# it is off: a fuzz target without ASan and UBSan finds only crashes.
if(XENBALLOON_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "XENBALLOON_FUZZ needs clang (CC=clang CXX=clang++): libFuzzer is clang's")
  endif()
  if(NOT XENBALLOON_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
