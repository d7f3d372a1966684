#include "compiler/source.h"

#include <algorithm>

#include <fmt/format.h>

namespace ferry {

FileId SourceManager::Add(std::string path, std::string display, std::string text,
                          bool is_stdlib) {
  SourceFile f;
  f.path = std::move(path);
  f.display = std::move(display);
  f.text = std::move(text);
  f.is_stdlib = is_stdlib;
  f.line_starts.push_back(0);
  for (uint32_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  files_.push_back(std::move(f));
  return static_cast<FileId>(files_.size() - 1);
}

LineCol SourceManager::Position(FileId id, uint32_t offset) const {
  const SourceFile& f = files_[id];
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(f.text.size()));
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  const uint32_t line = static_cast<uint32_t>(it - f.line_starts.begin());
  const uint32_t start = f.line_starts[line - 1];
  // Columns count code points, so a caret under a UTF-8 name lines up.
  uint32_t col = 1;
  for (uint32_t i = start; i < offset; ++i) {
    if ((static_cast<unsigned char>(f.text[i]) & 0xC0) != 0x80) ++col;
  }
  return {line, col};
}

std::string_view SourceManager::LineText(FileId id, uint32_t line) const {
  const SourceFile& f = files_[id];
  if (line == 0 || line > f.line_starts.size()) return {};
  const uint32_t start = f.line_starts[line - 1];
  uint32_t end = line < f.line_starts.size() ? f.line_starts[line] - 1
                                             : static_cast<uint32_t>(f.text.size());
  if (end > start && f.text[end - 1] == '\r') --end;
  return std::string_view(f.text).substr(start, end - start);
}

std::string SourceManager::Location(const Span& span) const {
  if (!span.valid()) return "<plan>";
  const LineCol lc = Position(span.file, span.begin);
  return fmt::format("{}:{}:{}", files_[span.file].display, lc.line, lc.col);
}

}  // namespace ferry
