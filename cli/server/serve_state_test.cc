#include "cli/server/serve_state.h"

#include <stdlib.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "base/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tqs1::server {
namespace {

using ::testing::HasSubstr;

std::string TestPath(const std::string& name) {
  return absl::StrCat(getenv("TEST_TMPDIR"), "/", name);
}

TEST(ServeStateTest, WhatIsWrittenIsReadBack) {
  const std::string path = TestPath("serve-state.json");
  EXPECT_TRUE(absl::IsNotFound(ReadServeState(path).status()));
  tqs1::v1::ServeState state;
  tqs1::v1::SyncDrift* drift = state.add_syncs();
  drift->set_sync_name("C -> HQ");
  drift->set_missing(7);
  ASSERT_TRUE(WriteServeState(path, state).ok());
  absl::StatusOr<tqs1::v1::ServeState> read = ReadServeState(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->format(), "tqs1.serve-state.v1");
  ASSERT_EQ(read->syncs_size(), 1);
  EXPECT_EQ(read->syncs(0).sync_name(), "C -> HQ");
  EXPECT_EQ(read->syncs(0).missing(), 7u);
}

TEST(ServeStateTest, AFileOfAnotherFormatOrNotJsonIsRefusedByName) {
  const std::string path = TestPath("bad-state.json");
  ASSERT_TRUE(
      WriteFileAtomically(
          path, R"({"format": "tqs1.serve-state.v9", "later": 1})", 0644)
          .ok());
  absl::StatusOr<tqs1::v1::ServeState> read = ReadServeState(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(read.status().message(),
            absl::StrCat("the server's state file ", path,
                         " is unreadable (format \"tqs1.serve-state.v9\" is "
                         "not \"tqs1.serve-state.v1\")"));
  ASSERT_TRUE(WriteFileAtomically(path, "{not json", 0644).ok());
  read = ReadServeState(path);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(),
              HasSubstr(absl::StrCat("the server's state file ", path,
                                     " is unreadable (")));
}

TEST(ServeStateTest, FieldsOfALaterReleaseAreIgnored) {
  const std::string path = TestPath("later-state.json");
  ASSERT_TRUE(
      WriteFileAtomically(path,
                          R"({"format": "tqs1.serve-state.v1", "syncs": [)"
                          R"({"sync_name": "C -> HQ", "new_field": true}]})",
                          0644)
          .ok());
  absl::StatusOr<tqs1::v1::ServeState> read = ReadServeState(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->syncs(0).sync_name(), "C -> HQ");
}

}  // namespace
}  // namespace tqs1::server
