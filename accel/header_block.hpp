// Reading a block of simple RFC 822 header lines, as email's FeedParser
// (compat32) reads it, for the inputs where the answer is obvious.
//
// A block is simple when every line before the first blank line is
//   NAME ":" VALUE ("\r\n" | "\n")
// with NAME one or more of the characters FeedParser's headerRE accepts in a
// field name (33-57, 59-126) and no "\r" anywhere but just before the "\n".
// For such a block FeedParser gives exactly: one (NAME, VALUE) pair per line,
// VALUE with its leading blanks and tabs removed; the blank line ("\r\n" or
// "\n") thrown away; the rest of the text as the payload (for a content type
// that is neither multipart nor message, which the caller checks).
//
// Anything else (continuation lines, a "From " envelope, a lone "\r", a
// missing blank line, a malformed name) makes scan() give up, and the caller
// runs the real parser. No CPython here: the caller maps code units.
#pragma once

#include <cstddef>
#include <vector>

namespace tf::accel {

struct HeaderField {
  size_t name_begin, name_end;    // [begin, end) in code units
  size_t value_begin, value_end;
};

struct HeaderBlock {
  std::vector<HeaderField> fields;
  size_t body_begin = 0;  // the first code unit after the blank line
};

inline bool is_field_name_char(unsigned long c) { return (c >= 33 && c <= 57) || (c >= 59 && c <= 126); }

// True (and *block filled) when text[0, n) starts with a simple block.
template <typename CodeUnit>
bool scan_header_block(const CodeUnit* text, size_t n, HeaderBlock* block) {
  block->fields.clear();
  size_t pos = 0;
  for (;;) {
    size_t nl = pos;
    while (nl < n && text[nl] != '\n') ++nl;
    if (nl == n) return false;  // no blank line: the real parser decides
    size_t line_end = (nl > pos && text[nl - 1] == '\r') ? nl - 1 : nl;
    if (line_end == pos) {
      block->body_begin = nl + 1;
      return true;
    }
    size_t colon = pos;
    while (colon < line_end && is_field_name_char(text[colon])) ++colon;
    if (colon == pos || colon == line_end || text[colon] != ':') return false;
    size_t value = colon + 1;
    while (value < line_end && (text[value] == ' ' || text[value] == '\t')) ++value;
    for (size_t i = value; i < line_end; ++i) {
      if (text[i] == '\r') return false;  // FeedParser would end the line here
    }
    block->fields.push_back(HeaderField{pos, colon, value, line_end});
    pos = nl + 1;
  }
}

}  // namespace tf::accel
