#include "costroute/text.h"

#include "catch.h"

TEST_CASE("smoke") {
  costroute::TokenBuffer t;
  costroute::tokenize("Hello, World", true, t);
  REQUIRE(t.size() == 2);
}
