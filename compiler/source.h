// Source files and spans.
//
// A Span is a byte range in one file; it becomes line:column only when printed. The
// SourceManager owns every file a compilation reads (the plan, its imports, stdlib
// modules) and is not thread-safe: one per compilation.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

using FileId = uint32_t;
inline constexpr FileId kNoFile = UINT32_MAX;

struct Span {
  FileId file = kNoFile;
  uint32_t begin = 0;  // byte offset of the first byte
  uint32_t end = 0;    // byte offset one past the last byte

  bool valid() const { return file != kNoFile; }
  friend bool operator==(const Span&, const Span&) = default;
};

struct LineCol {
  uint32_t line = 0;  // 1-based
  uint32_t col = 0;   // 1-based, in characters (UTF-8 code points)
};

struct SourceFile {
  std::string path;     // as opened (absolute for imports), or "std/…" for stdlib modules
  std::string display;  // how diagnostics name it: relative to the working directory
  std::string text;
  bool is_stdlib = false;
  std::vector<uint32_t> line_starts;  // byte offsets
};

class SourceManager {
 public:
  // Adds a file and returns its id. `text` is kept as given (bytes, not yet validated).
  FileId Add(std::string path, std::string display, std::string text, bool is_stdlib = false);

  const SourceFile& file(FileId id) const { return files_[id]; }
  size_t size() const { return files_.size(); }

  LineCol Position(FileId id, uint32_t offset) const;
  // The text of the line holding `offset`, without its line break.
  std::string_view LineText(FileId id, uint32_t line) const;
  // "file:line:col" for the start of the span.
  std::string Location(const Span& span) const;

 private:
  std::deque<SourceFile> files_;  // a deque: references stay valid as files are added
};

}  // namespace ferry
