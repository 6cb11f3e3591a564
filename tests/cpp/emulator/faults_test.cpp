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

TEST(FaultSpec, DownloadRulesAndTheirKeys) {
  const auto rules = parse_fault_spec(
      "kind=410,route=download,attachment=attAAAAAAAAAAAAAA;kind=404,route=download,times=1;"
      "kind=truncate,route=download,every=2");
  ASSERT_EQ(rules.size(), 3U);
  EXPECT_EQ(rules[0].kind, "410");
  EXPECT_EQ(rules[0].route, "download");
  EXPECT_EQ(rules[0].attachment, "attAAAAAAAAAAAAAA");
  EXPECT_EQ(rules[1].kind, "404");
  EXPECT_EQ(rules[1].times, 1);
  EXPECT_TRUE(rules[2].attachment.empty());
  for (const char* kind : {"500", "502", "503", "reset", "truncate", "delay"}) {
    EXPECT_NO_THROW(parse_fault_spec(std::string("kind=") + kind + ",route=download")) << kind;
  }
  // 404 and 410 answer for a file, never for the API; malformed JSON and iterators are API
  // things; attachment= narrows download rules only.
  EXPECT_THROW(parse_fault_spec("kind=404"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=410,route=list"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=malformed,route=download"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=iterator_expiry,route=download"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=500,attachment=attAAAAAAAAAAAAAA"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("kind=500,route=download,attachment="), std::invalid_argument);
}

TEST(FaultInjector, AnyMeansApiRoutesAndDownloadsMatchOnlyTheirOwnRules) {
  FaultInjector injector(1);
  injector.configure(parse_fault_spec("kind=500"), {});
  EXPECT_FALSE(injector.decide(RouteClass::kDownload, false, "attAAAAAAAAAAAAAA"));
  EXPECT_TRUE(injector.decide(RouteClass::kList, false));
  injector.set_rules(parse_fault_spec("kind=410,route=download,attachment=attBBBBBBBBBBBBBB"));
  EXPECT_FALSE(injector.decide(RouteClass::kList, false));
  EXPECT_FALSE(injector.decide(RouteClass::kDownload, false, "attAAAAAAAAAAAAAA"));
  const auto fault = injector.decide(RouteClass::kDownload, false, "attBBBBBBBBBBBBBB");
  ASSERT_TRUE(fault);
  EXPECT_EQ(fault->kind, "410");
  EXPECT_EQ(route_class_name(RouteClass::kDownload), "download");
}

TEST(Latency, DownloadsHaveTheirOwn) {
  FaultInjector injector(5);
  injector.configure({}, parse_latency("100"));
  injector.set_download_latency(parse_latency("7"));
  EXPECT_EQ(injector.latency_ms(), 100);
  EXPECT_EQ(injector.download_latency_ms(), 7);
}

}  // namespace
}  // namespace emu
