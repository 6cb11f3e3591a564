// The host-wide limiter: limiters of different processes (here also two objects of one
// process, each with its own open file, as two processes have) share one table in a file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "airtable_lakeflow/http/rate_limiter.hpp"
#include "rate_windows.hpp"

namespace airtable_lakeflow::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

TimePoint steady_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh directory per test, removed after it.
class HostRateLimiter : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "alf-host-limiter-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    file_ = (dir_ / "rate-limits").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string file_;
};

TEST_F(HostRateLimiter, TwoLimitersOnOneFileShareOneBasesBudget) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  ASSERT_EQ(first.shared_file(), file_);
  ASSERT_EQ(second.shared_file(), file_);
  const TimePoint t0 = steady_now();
  std::vector<TimePoint> sent;
  for (int i = 0; i < 40; ++i) {
    RateLimiter& limiter = i % 2 == 0 ? first : second;
    sent.push_back(limiter.reserve("tok", "appA", t0 + milliseconds(i)));
  }
  EXPECT_TRUE(within_limit(sent, 5, milliseconds(1025)));
  // Either one alone would have given its 20 requests 5 per second; together they share.
  EXPECT_GE(*std::max_element(sent.begin(), sent.end()) - t0, milliseconds(7 * 1025));
}

TEST_F(HostRateLimiter, TwoLimitersOnOneFileShareOneTokensBudget) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  const TimePoint t0 = steady_now();
  std::vector<TimePoint> sent;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 20; ++b) {
      RateLimiter& limiter = b % 2 == 0 ? first : second;
      sent.push_back(limiter.reserve("tok", "app" + std::to_string(b), t0));
    }
  }
  EXPECT_TRUE(within_limit(sent, 50, milliseconds(1025)));
  EXPECT_EQ(std::count(sent.begin(), sent.end(), t0), 50);
}

TEST_F(HostRateLimiter, ASlotGivenBackThroughOneIsFreeForTheOther) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  const TimePoint t0 = steady_now();
  std::vector<TimePoint> slots;
  for (int i = 0; i < 5; ++i) {
    slots.push_back(first.reserve("tok", "appA", t0));
  }
  const TimePoint full = t0 + milliseconds(1025);
  EXPECT_EQ(second.reserve("tok", "appA", t0), full);  // the base's window was full
  first.release("tok", "appA", slots[4]);              // one of them never went out
  EXPECT_EQ(second.reserve("tok", "appA", t0), slots[4]);
  EXPECT_EQ(second.reserve("tok", "appA", t0), full + milliseconds(0));  // full again
  second.release("tok", "appB", t0);  // a base that logged nothing: nothing forgotten
  EXPECT_GE(first.reserve("tok", "appA", t0), full);
}

TEST_F(HostRateLimiter, APauseSetThroughOneIsSeenByTheOther) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  const TimePoint t0 = steady_now();
  first.pause_base("appP", t0 + seconds(30));
  EXPECT_EQ(second.paused_until("appP"), t0 + seconds(30));
  EXPECT_EQ(second.reserve("tok", "appP", t0), t0 + seconds(30));
  EXPECT_EQ(second.paused_until("appQ"), TimePoint{});
  EXPECT_EQ(second.reserve("tok", "appQ", t0), t0);
}

TEST_F(HostRateLimiter, RequestsOfNoBaseCountOnlyAgainstTheToken) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  const TimePoint t0 = steady_now();
  std::vector<TimePoint> meta;
  for (int i = 0; i < 20; ++i) {  // whoami of 20 processes at once
    meta.push_back((i % 2 == 0 ? first : second).reserve("tok" + std::to_string(i % 4), "", t0));
  }
  EXPECT_EQ(std::count(meta.begin(), meta.end(), t0), 20);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(first.reserve("tok0", "app" + std::to_string(i % 10), t0) == t0, i < 45) << i;
  }
  first.pause_base("", t0 + seconds(30));
  EXPECT_GE(second.reserve("tok9", "", t0), t0 + seconds(30));
}

TEST_F(HostRateLimiter, AFileOfAnotherLayoutIsNeitherUsedNorChanged) {
  { std::ofstream(file_, std::ios::binary) << "not a rate table"; }
  EXPECT_EQ(RateLimiter(RateLimit{}, file_).shared_file(), "");
  EXPECT_EQ(read_bytes(file_), "not a rate table");

  // The right size, another header (a later version, or damage).
  fs::remove(file_);
  { RateLimiter(RateLimit{}, file_).reserve("tok", "appA", steady_now()); }
  std::string table = read_bytes(file_);
  ASSERT_GT(table.size(), 64U);
  table[0] = 'X';
  { std::ofstream(file_, std::ios::binary | std::ios::trunc) << table; }
  EXPECT_EQ(RateLimiter(RateLimit{}, file_).shared_file(), "");
  EXPECT_EQ(read_bytes(file_), table);
}

TEST_F(HostRateLimiter, ASymbolicLinkIsNotFollowed) {
  const fs::path target = dir_ / "elsewhere";
  { std::ofstream(target) << ""; }
  fs::create_symlink(target, file_);
  EXPECT_EQ(RateLimiter(RateLimit{}, file_).shared_file(), "");
  EXPECT_EQ(fs::file_size(target), 0U);
}

TEST_F(HostRateLimiter, LimitsAboveWhatAnEntryHoldsStayInProcess) {
  EXPECT_EQ(RateLimiter(RateLimit{1000, 1000}, file_).shared_file(), "");
}

TEST_F(HostRateLimiter, TheFileIsPrivateToItsUser) {
  RateLimiter limiter(RateLimit{}, file_);
  ASSERT_EQ(limiter.shared_file(), file_);
  EXPECT_EQ(fs::status(file_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(HostRateLimiter, TheDirectoryIsOursOrNotUsed) {
  const std::string name = "airtable-lakeflow-" + std::to_string(::getuid());
  const std::string file = host_rate_file(dir_.string());
  EXPECT_EQ(file, (dir_ / name / "rate-limits-v2").string());
  EXPECT_EQ(fs::status(dir_ / name).permissions() & fs::perms::all, fs::perms::owner_all);

  const fs::path as_file = dir_ / "a";
  fs::create_directory(as_file);
  { std::ofstream(as_file / name) << ""; }
  EXPECT_EQ(host_rate_file(as_file.string()), "");

  const fs::path as_link = dir_ / "b";
  fs::create_directory(as_link);
  fs::create_directory_symlink(dir_ / name, as_link / name);
  EXPECT_EQ(host_rate_file(as_link.string()), "");
}

TEST_F(HostRateLimiter, StaleEntriesAreReusedWhenTheTableIsFull) {
  const TimePoint t0 = steady_now();
  {
    // Many more keys than slots, one send each (a limit no shared slot reaches).
    RateLimiter filler(RateLimit{64, 64}, file_);
    for (int i = 0; i < 4096; ++i) {
      filler.reserve("tok" + std::to_string(i), "fill" + std::to_string(i), t0);
    }
  }
  RateLimiter limiter(RateLimit{}, file_);
  ASSERT_EQ(limiter.shared_file(), file_);
  // While they are live, a new key shares a slot: its budget is smaller, never larger.
  std::vector<TimePoint> crowded;
  for (int i = 0; i < 5; ++i) {
    crowded.push_back(limiter.reserve("tokNew", "appNew", t0));
  }
  EXPECT_GT(crowded.back(), t0);
  // Once they are stale, new keys take their slots and each base has its whole budget.
  const TimePoint later = t0 + seconds(2);
  for (int b = 0; b < 200; ++b) {
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(limiter.reserve("tokLater" + std::to_string(b), "later" + std::to_string(b), later),
                later)
          << b << " " << i;
    }
  }
}

TEST_F(HostRateLimiter, AQuotaMarkSetThroughOneIsSeenByTheOther) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  const TimePoint t0 = steady_now();
  EXPECT_FALSE(second.quota_exhausted("tokQ@server", t0));
  first.mark_quota_exhausted("tokQ@server", t0);
  const auto mark = second.quota_exhausted("tokQ@server", t0 + seconds(1));
  ASSERT_TRUE(mark);
  EXPECT_EQ(mark->found, t0);
  EXPECT_EQ(mark->until, t0 + RateLimit{}.quota_stop);
  EXPECT_FALSE(second.quota_exhausted("tokR@server", t0));
  EXPECT_FALSE(second.quota_exhausted("tokQ@server", t0 + RateLimit{}.quota_stop));
  // A limiter opened later (another process starting) sees it too.
  EXPECT_TRUE(RateLimiter(RateLimit{}, file_).quota_exhausted("tokQ@server", t0 + seconds(2)));
}

TEST_F(HostRateLimiter, AQuotaMarkKeepsItsEntryAndNeverStopsAnotherToken) {
  const TimePoint t0 = steady_now();
  RateLimiter limiter(RateLimit{}, file_);
  limiter.mark_quota_exhausted("tokMarked", t0);
  {
    // Every slot taken by live keys: the marked entry is not stale, so it is not reused, and
    // new keys share their home slots (some of them the marked key's).
    RateLimiter filler(RateLimit{64, 64}, file_);
    for (int i = 0; i < 4096; ++i) {
      filler.reserve("tok" + std::to_string(i), "fill" + std::to_string(i), t0);
    }
  }
  EXPECT_TRUE(limiter.quota_exhausted("tokMarked", t0 + seconds(1)));
  // Marks made in shared slots belong to their own key only.
  for (int i = 0; i < 2000; ++i) {
    limiter.mark_quota_exhausted("tokShared" + std::to_string(i), t0);
  }
  for (int i = 0; i < 4000; ++i) {
    ASSERT_FALSE(limiter.quota_exhausted("tokOther" + std::to_string(i), t0)) << i;
  }
}

TEST_F(HostRateLimiter, ReadersOfTwoProcessesWithOneShareShareIt) {
  RateLimiter first(RateLimit{}, file_);
  RateLimiter second(RateLimit{}, file_);
  std::vector<TimePoint> all;
  TimePoint at_first = steady_now();
  TimePoint at_second = at_first;
  for (int i = 0; i < 10; ++i) {
    at_first = first.reserve("tok", "appS", at_first, 2.5);
    at_second = second.reserve("tok", "appS", at_second, 2.5);
    all.push_back(at_first);
    all.push_back(at_second);
  }
  EXPECT_TRUE(within_rate(all, 2.5, milliseconds(1000)));
}

TEST_F(HostRateLimiter, AShareBelowOnePerWindowHoldsItsEntry) {
  const TimePoint t0 = steady_now();
  RateLimiter limiter(RateLimit{}, file_);
  ASSERT_EQ(limiter.reserve("tok", "appSlow", t0, 0.2), t0);  // one per 5.125 s
  {
    RateLimiter filler(RateLimit{64, 64}, file_);  // new keys, 3 s later, wanting slots
    for (int i = 0; i < 4096; ++i) {
      filler.reserve("tok" + std::to_string(i), "fill" + std::to_string(i), t0 + seconds(3));
    }
  }
  // Its entry, idle for longer than a window but held, still knows the send at t0 (without the
  // hold a new key takes it, and the next send goes at once). Asked when the new keys' sends
  // are out of their window too, so no entry of theirs counts against it.
  EXPECT_GE(limiter.reserve("tok", "appSlow", t0 + milliseconds(4100), 0.2),
            t0 + milliseconds(5125));
}

// Each child reserves `count` slots for one base, and with `wait` sleeps until each as a reader
// does; the parent gets every child's slots through a pipe.
std::vector<TimePoint> reserve_in_children(int children, int count, bool wait,
                                           const std::function<RateLimiter&()>& limiter) {
  std::vector<std::pair<pid_t, int>> running;
  for (int c = 0; c < children; ++c) {
    int fds[2];
    if (::pipe(fds) != 0) {
      ADD_FAILURE() << "pipe";
      return {};
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      RateLimiter& mine = limiter();
      SystemClock clock;
      int status = mine.shared_file().empty() ? 2 : 0;
      for (int i = 0; i < count; ++i) {
        const TimePoint at = mine.reserve("tokF", "appF", clock.now());
        if (wait) {
          clock.sleep_until(at);
        }
        const int64_t ns = at.time_since_epoch().count();
        if (::write(fds[1], &ns, sizeof(ns)) != sizeof(ns)) {
          status = 3;
        }
      }
      ::_exit(status);
    }
    ::close(fds[1]);
    running.emplace_back(pid, fds[0]);
  }
  std::vector<TimePoint> slots;
  for (const auto& [pid, fd] : running) {
    int64_t ns = 0;
    while (::read(fd, &ns, sizeof(ns)) == sizeof(ns)) {
      slots.emplace_back(Duration(ns));
    }
    ::close(fd);
    int status = -1;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  return slots;
}

TEST_F(HostRateLimiter, TwoProcessesStayWithinOneBasesBudget) {
  std::unique_ptr<RateLimiter> own;
  const std::vector<TimePoint> slots = reserve_in_children(2, 20, true, [&]() -> RateLimiter& {
    own = std::make_unique<RateLimiter>(RateLimit{}, file_);
    return *own;
  });
  ASSERT_EQ(slots.size(), 40U);
  EXPECT_TRUE(within_limit(slots, 5, milliseconds(1025)));
}

// A limiter opened before fork() is opened again in the child: a flock belongs to the open
// file, which parent and children would otherwise share (and then never exclude each other).
// The children reserve as fast as they can, without sleeping, so that they contend.
TEST_F(HostRateLimiter, ALimiterInheritedThroughForkStillExcludes) {
  RateLimiter inherited(RateLimit{}, file_);
  ASSERT_EQ(inherited.shared_file(), file_);
  const std::vector<TimePoint> slots =
      reserve_in_children(3, 2000, false, [&]() -> RateLimiter& { return inherited; });
  ASSERT_EQ(slots.size(), 6000U);
  EXPECT_TRUE(within_limit(slots, 5, milliseconds(1025)));
}

// shared_rate_limiter() decides once per process, so each case runs in a child of its own.
int in_child(const std::function<bool()>& check) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(check() ? 0 : 1);
  }
  int status = -1;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(HostRateLimiter, TheSharedLimiterIsHostWideUnlessTurnedOff) {
  const std::string tmpdir = dir_.string();
  const std::string expected = host_rate_file(tmpdir);
  EXPECT_EQ(in_child([&] {
              ::setenv("TMPDIR", tmpdir.c_str(), 1);
              ::unsetenv("AIRTABLE_LAKEFLOW_HOST_LIMITER");
              return host_limiter_path() == expected;
            }),
            0);
  EXPECT_EQ(in_child([&] {
              ::setenv("TMPDIR", tmpdir.c_str(), 1);
              ::setenv("AIRTABLE_LAKEFLOW_HOST_LIMITER", "0", 1);
              return host_limiter_path().empty();
            }),
            0);
}

}  // namespace
}  // namespace airtable_lakeflow::http
