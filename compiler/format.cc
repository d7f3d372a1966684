#include "compiler/format.h"

#include <fmt/format.h>

namespace ferry {
namespace {

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += fmt::format("\\u{{{:X}}}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string NameText(const ast::Name& n) {
  return n.quoted || !IsIdentifier(n.text) ? QuoteString(n.text) : n.text;
}

std::string ValueText(const ast::Value& v) {
  switch (v.kind) {
    case ast::ValueKind::kString: return QuoteString(v.text);
    case ast::ValueKind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + ValueText(v.items[i]);
      return out + "]";
    }
    case ast::ValueKind::kCall: {
      std::string out = v.text + "(";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + ValueText(v.items[i]);
      return out + ")";
    }
    default: return v.text;
  }
}

// Marks where a trailing comment starts until the final pass aligns it.
constexpr char kTrailingMark = '\x01';

size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// Trailing comments on consecutive lines start in one column (two spaces after the longest
// line of the run), as gofmt lays them out.
std::string AlignTrailingComments(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  for (size_t i = 0; i < lines.size();) {
    if (lines[i].find(kTrailingMark) == std::string::npos) {
      ++i;
      continue;
    }
    size_t j = i, width = 0;
    while (j < lines.size() && lines[j].find(kTrailingMark) != std::string::npos) {
      width = std::max(width, Width(lines[j].substr(0, lines[j].find(kTrailingMark))));
      ++j;
    }
    for (size_t k = i; k < j; ++k) {
      const size_t at = lines[k].find(kTrailingMark);
      const std::string code = lines[k].substr(0, at);
      lines[k] = code + std::string(width - Width(code) + 2, ' ') + lines[k].substr(at + 1);
    }
    i = j;
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  if (!text.empty() && text.back() != '\n') out.pop_back();
  return out;
}

class Formatter {
 public:
  Formatter(const SourceManager& sm, const ast::File& file)
      : text_(sm.file(file.id).text), comments_(file.comments) {}

  std::string Run(const ast::File& file) {
    bool first = true;
    bool prev_import = false;
    for (const auto& item : file.items) {
      const bool is_import = std::holds_alternative<ast::Import>(item);
      const Span span = std::visit([](const auto& x) { return x.span; }, item);
      // Declarations are separated by a blank line; imports stay together.
      const bool blank = !first && (!(is_import && prev_import) || HasBlankLine(prev_end_, LeadingStart(span.begin)));
      Comments(span.begin, 0, blank);
      if (!first && blank && !just_blanked_) out_ += "\n";
      just_blanked_ = false;
      if (const auto* imp = std::get_if<ast::Import>(&item)) {
        out_ += "import " + QuoteString(imp->path.text);
        prev_end_ = imp->span.end;
        Trailing();
      } else {
        const auto& d = std::get<ast::Declaration>(item);
        std::string head = d.kind.text + " " + NameText(d.name);
        if (d.base) head += " extends " + NameText(*d.base);
        BlockOut(head, d.body, 0);
      }
      first = false;
      prev_import = is_import;
    }
    // Comments after the last item.
    if (next_ < comments_.size() && !out_.empty()) out_ += "\n";
    Comments(UINT32_MAX, 0, false);
    return AlignTrailingComments(out_);
  }

 private:
  static std::string Indent(int n) { return std::string(static_cast<size_t>(n) * 2, ' '); }

  bool HasBlankLine(uint32_t from, uint32_t to) const {
    if (to <= from || to > text_.size()) return false;
    int newlines = 0;
    for (uint32_t i = from; i < to; ++i) {
      if (text_[i] == '\n' && ++newlines >= 2) return true;
    }
    return false;
  }

  // Where the leading comments of something starting at `begin` start.
  uint32_t LeadingStart(uint32_t begin) const {
    return next_ < comments_.size() && comments_[next_].span.begin < begin ? comments_[next_].span.begin : begin;
  }

  // Emits the comments that start before `offset`, each on its own line.
  void Comments(uint32_t offset, int indent, bool blank_before_first) {
    bool first = true;
    while (next_ < comments_.size() && comments_[next_].span.begin < offset) {
      const ast::Comment& c = comments_[next_++];
      if ((first && blank_before_first && !out_.empty()) || (!first && HasBlankLine(prev_end_, c.span.begin)) ||
          (first && !blank_before_first && !at_block_start_ && HasBlankLine(prev_end_, c.span.begin))) {
        out_ += "\n";
        if (first) just_blanked_ = true;
      }
      out_ += Indent(indent) + TrimRight(c.text) + "\n";
      prev_end_ = c.span.end;
      first = false;
    }
    if (!first && HasBlankLine(prev_end_, offset) && offset != UINT32_MAX) out_ += "\n";
  }

  static std::string TrimRight(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.pop_back();
    return s;
  }

  // A comment on the same source line as what was just printed goes at the end of its line,
  // unless something else printed later starts before it (`before`).
  void Trailing(uint32_t before = UINT32_MAX) {
    if (next_ < comments_.size()) {
      const ast::Comment& c = comments_[next_];
      bool same_line = c.span.begin >= prev_end_ && c.span.begin < before;
      for (uint32_t i = prev_end_; same_line && i < c.span.begin; ++i) {
        if (text_[i] == '\n') same_line = false;
      }
      if (same_line && c.text.find('\n') == std::string::npos) {
        out_ += kTrailingMark + TrimRight(c.text);
        prev_end_ = c.span.end;
        ++next_;
      }
    }
    out_ += "\n";
  }

  void BlockOut(const std::string& head, const ast::Block& block, int indent) {
    out_ += Indent(indent) + head + " {";
    prev_end_ = block.span.begin + 1;
    const bool empty = block.members.empty() &&
                       (next_ >= comments_.size() || comments_[next_].span.begin >= block.span.end);
    if (empty) {
      out_ += "}";
      prev_end_ = block.span.end;
      Trailing();
      return;
    }
    Trailing(block.members.empty() ? block.span.end : block.members.front().span().begin);
    // Consecutive attributes (no blank line or other member between) align their `=`, as
    // terraform fmt does: a run's keys are padded to its longest key.
    std::vector<size_t> widths(block.members.size(), 0);
    for (size_t i = 0; i < block.members.size();) {
      size_t j = i, width = 0;
      while (j < block.members.size()) {
        const auto* a = std::get_if<ast::Attribute>(&block.members[j].node);
        if (a == nullptr) break;
        if (j > i && HasBlankLine(block.members[j - 1].span().end, block.members[j].span().begin)) break;
        width = std::max(width, a->key.text.size());
        ++j;
      }
      for (size_t k = i; k < j; ++k) widths[k] = width;
      i = j == i ? i + 1 : j;
    }
    at_block_start_ = true;
    for (const ast::Member& m : block.members) {
      const Span span = m.span();
      const bool blank = !at_block_start_ && HasBlankLine(prev_end_, LeadingStart(span.begin));
      Comments(span.begin, indent + 1, blank);
      if (blank && !just_blanked_ && !(next_ > 0 && comments_[next_ - 1].span.end == prev_end_ && prev_end_ > span.begin)) {
        if (!EndsWithBlank()) out_ += "\n";
      }
      just_blanked_ = false;
      at_block_start_ = false;
      const size_t i = static_cast<size_t>(&m - block.members.data());
      next_start_ = i + 1 < block.members.size() ? block.members[i + 1].span().begin : block.span.end;
      key_width_ = widths[i];
      MemberOut(m, indent + 1);
    }
    at_block_start_ = false;
    Comments(block.span.end - 1, indent + 1, false);
    out_ += Indent(indent) + "}";
    prev_end_ = block.span.end;
    Trailing();
  }

  bool EndsWithBlank() const { return out_.size() >= 2 && out_[out_.size() - 1] == '\n' && out_[out_.size() - 2] == '\n'; }

  void MemberOut(const ast::Member& m, int indent) {
    const uint32_t next = next_start_;
    if (const auto* a = std::get_if<ast::Attribute>(&m.node)) {
      std::string key = a->key.text;
      if (key.size() < key_width_) key.resize(key_width_, ' ');
      out_ += Indent(indent) + key + " = " + ValueText(a->value);
      prev_end_ = a->span.end;
      Trailing(next);
    } else if (const auto* r = std::get_if<ast::ObjectRule>(&m.node)) {
      const char* kind = r->kind == ast::ObjectKind::kSchema ? "schema" : r->kind == ast::ObjectKind::kTable ? "table" : "column";
      std::string head = std::string(r->exclude ? "exclude " : "") + kind + " " + NameText(r->source);
      if (r->target) head += " -> " + NameText(*r->target);
      if (r->body) {
        BlockOut(head, *r->body, indent);
      } else {
        out_ += Indent(indent) + head;
        prev_end_ = r->span.end;
        Trailing(next);
      }
    } else if (const auto* mr = std::get_if<ast::MapRule>(&m.node)) {
      out_ += Indent(indent) + "map " + QuoteString(mr->pattern.text) + " -> " + QuoteString(mr->target.text);
      prev_end_ = mr->span.end;
      Trailing(next);
    } else if (const auto* sb = std::get_if<ast::SubBlock>(&m.node)) {
      std::string head = sb->kind.text;
      if (sb->qualifier) head += " " + sb->qualifier->text;
      BlockOut(head, sb->body, indent);
    }
  }

  const std::string& text_;
  const std::vector<ast::Comment>& comments_;
  size_t next_ = 0;
  uint32_t prev_end_ = 0;
  bool at_block_start_ = false;
  bool just_blanked_ = false;
  uint32_t next_start_ = UINT32_MAX;
  size_t key_width_ = 0;  // the width the `=` of the member being printed aligns to  // where the member after the one being printed starts
  std::string out_;
};

}  // namespace

std::string Format(const SourceManager& sm, const ast::File& file) { return Formatter(sm, file).Run(file); }

}  // namespace ferry
