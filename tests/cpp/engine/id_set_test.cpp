#include "airtable_lakeflow/read/id_set.hpp"

#include <gtest/gtest.h>

namespace airtable_lakeflow::read {
namespace {

TEST(IdSet, SealedIdsAreFoundOthersAreNot) {
  IdSet ids;
  ids.add("recAAAAAAAAAAAAA2");
  ids.add("recAAAAAAAAAAAAA1");
  ids.add("not-a-record-id");
  EXPECT_FALSE(ids.contains("recAAAAAAAAAAAAA1"));  // not sealed yet
  ids.seal();
  EXPECT_TRUE(ids.contains("recAAAAAAAAAAAAA1"));
  EXPECT_TRUE(ids.contains("recAAAAAAAAAAAAA2"));
  EXPECT_TRUE(ids.contains("not-a-record-id"));
  EXPECT_FALSE(ids.contains("recAAAAAAAAAAAAA3"));
  EXPECT_FALSE(ids.contains("recaAAAAAAAAAAAA1"));  // ids are case-sensitive
  EXPECT_EQ(ids.size(), 3U);
}

}  // namespace
}  // namespace airtable_lakeflow::read
