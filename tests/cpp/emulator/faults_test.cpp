#include "faults.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace emu {
namespace {

TEST(FaultSpec, ParsesRules) {
  const auto rules = parse_fault_spec("kind=503,route=list,p=0.5,retry_after=2;kind=reset,every=3");
  ASSERT_EQ(rules.size(), 2U);
  EXPECT_EQ(rules[0].kind, "503");
  EXPECT_EQ(rules[0].route, "list");
  EXPECT_DOUBLE_EQ(rules[0].probability, 0.5);
  EXPECT_EQ(rules[0].retry_after_s, 2);
  EXPECT_EQ(rules[1].every, 3);
}

TEST(FaultSpec, RejectsBadInputNamingTheProblem) {
  try {
    parse_fault_spec("kind=teapot");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("kind="), std::string::npos);
  }
  EXPECT_THROW(parse_fault_spec("kind=500,p=2"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=500,colour=red"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=500,route=nowhere"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=500,every=x"), std::invalid_argument);
}

TEST(FaultInjector, EveryNthAndAtSchedules) {
  FaultInjector injector(1);
  injector.configure(parse_fault_spec("kind=500,every=3;kind=502,at=2|4,route=get"), {});
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    const auto fault = injector.decide(RouteClass::kList, false);
    seen.push_back(fault ? fault->kind : "-");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"-", "-", "500", "-", "-", "500"}));
  seen.clear();
  FaultInjector get_only(1);
  get_only.configure(parse_fault_spec("kind=502,at=2|4,route=get"), {});
  for (int i = 0; i < 5; ++i) {
    const auto fault = get_only.decide(RouteClass::kGet, false);
    seen.push_back(fault ? fault->kind : "-");
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"-", "502", "-", "502", "-"}));
}

TEST(FaultInjector, TimesCapsFiringsAndIteratorExpiryNeedsAnOffset) {
  FaultInjector injector(7);
  injector.configure(parse_fault_spec("kind=iterator_expiry,times=1"), {});
  EXPECT_FALSE(injector.decide(RouteClass::kList, false));
  EXPECT_TRUE(injector.decide(RouteClass::kList, true));
  EXPECT_FALSE(injector.decide(RouteClass::kList, true));
}

TEST(FaultInjector, ProbabilityIsSeededAndRoughlyRight) {
  auto count = [](uint64_t seed) {
    FaultInjector injector(seed);
    injector.configure(parse_fault_spec("kind=503,p=0.2"), {});
    int fired = 0;
    for (int i = 0; i < 5000; ++i) {
      fired += injector.decide(RouteClass::kList, false) ? 1 : 0;
    }
    return fired;
  };
  EXPECT_EQ(count(3), count(3));
  EXPECT_NEAR(count(3), 1000, 150);
}

TEST(Latency, FixedPlusJitterWithinBounds) {
  FaultInjector injector(5);
  injector.configure({}, parse_latency("150:350"));
  for (int i = 0; i < 200; ++i) {
    const int64_t ms = injector.latency_ms();
    EXPECT_GE(ms, 150);
    EXPECT_LE(ms, 500);
  }
  EXPECT_THROW(parse_latency("fast"), std::invalid_argument);
}

}  // namespace
}  // namespace emu
