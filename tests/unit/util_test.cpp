#include <catch2/catch.hpp>

#include "xenballoon/util/parse.h"

using namespace xenballoon;

TEST_CASE("parse_u64 accepts whole decimal numbers only") {
  CHECK(parse_u64("0") == 0u);
  CHECK(parse_u64("18446744073709551615") == 18446744073709551615ull);
  CHECK_FALSE(parse_u64("18446744073709551616"));
  CHECK_FALSE(parse_u64(""));
  CHECK_FALSE(parse_u64("-1"));
  CHECK_FALSE(parse_u64("+1"));
  CHECK_FALSE(parse_u64("12 "));
  CHECK_FALSE(parse_u64("0x10"));
}

TEST_CASE("parse_double rejects non-finite and partial input") {
  CHECK(parse_double("7.30") == Approx(7.30));
  CHECK(parse_double("-2") == Approx(-2.0));
  CHECK_FALSE(parse_double("nan"));
  CHECK_FALSE(parse_double("inf"));
  CHECK_FALSE(parse_double("1e400"));
  CHECK_FALSE(parse_double("1.2.3"));
}

TEST_CASE("trim strips surrounding whitespace") {
  CHECK(trim("  a b \n") == "a b");
  CHECK(trim(" \t\n").empty());
}
