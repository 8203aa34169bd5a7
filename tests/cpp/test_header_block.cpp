#include "accel/header_block.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using tf::accel::HeaderBlock;
using tf::accel::scan_header_block;

namespace {

// The (name, value) pairs and the body, or nothing when the scanner gives up.
struct Scanned {
  bool simple = false;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
};

Scanned scan(const std::string& text) {
  HeaderBlock block;
  Scanned out;
  out.simple = scan_header_block(text.data(), text.size(), &block);
  if (!out.simple) return out;
  for (const auto& f : block.fields) {
    out.fields.emplace_back(text.substr(f.name_begin, f.name_end - f.name_begin),
                            text.substr(f.value_begin, f.value_end - f.value_begin));
  }
  out.body = text.substr(block.body_begin);
  return out;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST(HeaderBlock, SplitsNamesAndValuesUpToTheBlankLine) {
  Scanned s = scan("Host: x:1\r\nAccept:\t */* \r\nX-Empty:\r\n\r\nbody\r\n");
  ASSERT_TRUE(s.simple);
  EXPECT_EQ(s.fields, (Fields{{"Host", "x:1"}, {"Accept", "*/* "}, {"X-Empty", ""}}));
  EXPECT_EQ(s.body, "body\r\n");
}

TEST(HeaderBlock, BareNewlinesAndAnEmptyBlock) {
  Scanned s = scan("A: 1\nB: 2\n\n");
  ASSERT_TRUE(s.simple);
  EXPECT_EQ(s.fields, (Fields{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(s.body, "");
  Scanned empty = scan("\r\nrest");
  ASSERT_TRUE(empty.simple);
  EXPECT_TRUE(empty.fields.empty());
  EXPECT_EQ(empty.body, "rest");
}

TEST(HeaderBlock, NameCharactersAreFeedParsersFieldNameSet) {
  EXPECT_TRUE(scan("!#$%&'*+-.^_`|~(),;<=>?@[]{}\"/9: v\r\n\r\n").simple);
  for (const char* bad : {"Bad Name: v\r\n\r\n", ": v\r\n\r\n", " Lead: v\r\n\r\n", "\tTab: v\r\n\r\n",
                          "Del\x7f: v\r\n\r\n", "Hi\x80: v\r\n\r\n", "From me: v\r\n\r\n", "NoColon\r\n\r\n"}) {
    EXPECT_FALSE(scan(bad).simple) << bad;
  }
}

TEST(HeaderBlock, GivesUpWhereFeedParserSplitsOrContinuesLines) {
  EXPECT_FALSE(scan("A: 1\r\n continued\r\n\r\n").simple);
  EXPECT_FALSE(scan("A: a\rb\r\n\r\n").simple);    // a lone CR ends a line for FeedParser
  EXPECT_FALSE(scan("A: 1\r\r\n\r\n").simple);
  EXPECT_FALSE(scan("A: 1\r\n\r").simple);         // no blank line
  EXPECT_FALSE(scan("A: 1\r\nB: 2").simple);       // no blank line
  EXPECT_FALSE(scan("").simple);
}

TEST(HeaderBlock, WideCodeUnits) {
  std::u32string text = U"X: \u00e9\U0001F600\r\n\r\n";
  HeaderBlock block;
  ASSERT_TRUE(scan_header_block(text.data(), text.size(), &block));
  ASSERT_EQ(block.fields.size(), 1u);
  EXPECT_EQ(block.fields[0].value_end - block.fields[0].value_begin, 2u);
  std::u16string wide_name = u"X\u0100: v\r\n\r\n";
  EXPECT_FALSE(scan_header_block(wide_name.data(), wide_name.size(), &block));
}
