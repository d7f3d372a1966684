#include "compiler/diagnostics.h"

#include <algorithm>
#include <string>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ferry {

const std::vector<DiagKindInfo>& AllDiagKinds() {
  static const std::vector<DiagKindInfo> kinds = {
#define FERRY_DIAG(name, code, severity, summary) \
  {DiagKind::k##name, code, Severity::k##severity, summary},
#include "compiler/diagnostic_kinds.def"
#undef FERRY_DIAG
  };
  return kinds;
}

const DiagKindInfo& Info(DiagKind kind) { return AllDiagKinds()[static_cast<size_t>(kind)]; }

Diagnostic& Diagnostics::Emit(DiagKind kind, Span span, std::string message, std::string hint) {
  if (Info(kind).severity == Severity::kError) ++errors_;
  diags_.push_back(Diagnostic{kind, span, std::move(message), std::move(hint), {}});
  return diags_.back();
}

size_t Diagnostics::warning_count() const {
  return static_cast<size_t>(std::count_if(diags_.begin(), diags_.end(), [](const Diagnostic& d) {
    return d.severity() == Severity::kWarning;
  }));
}

std::vector<Diagnostic> Diagnostics::Sorted() const {
  std::vector<Diagnostic> out = diags_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tuple(a.span.file, a.span.begin, Info(a.kind).code) <
           std::tuple(b.span.file, b.span.begin, Info(b.kind).code);
  });
  return out;
}

namespace {

std::string_view SeverityWord(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

struct Style {
  bool on;
  std::string operator()(std::string_view codes, std::string_view text) const {
    if (!on) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", codes, text);
  }
};

// Invalid UTF-8 is shown as U+FFFD, one per byte, so output is always valid text.
std::string Sanitize(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len > 0 && i + len <= raw.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(raw[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    out.append(raw.substr(i, len));
    i += len - 1;
  }
  return out;
}

constexpr std::string_view kSecretKeys[] = {"passw", "pwd", "secret", "access_key", "token", "credential"};

// The line in lower case with the contents of string literals blanked, so keys are only
// found where they are keys, not inside `"env:SRC_PASSWORD"`.
std::string KeySearchText(std::string_view line) {
  std::string out(line);
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (in_string) {
      if (c == '\\' && i + 1 < out.size()) {
        out[i] = out[i + 1] = ' ';
        ++i;
      } else if (c == '"') {
        in_string = false;
      } else {
        out[i] = ' ';
      }
      continue;
    }
    if (c == '"') in_string = true;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Offsets just past each secret-like key that starts a word in `keys` (from KeySearchText).
std::vector<size_t> SecretKeyEnds(const std::string& keys) {
  std::vector<size_t> out;
  for (std::string_view key : kSecretKeys) {
    for (size_t pos = keys.find(key); pos != std::string::npos; pos = keys.find(key, pos + 1)) {
      if (pos > 0 && (std::isalnum(static_cast<unsigned char>(keys[pos - 1])) || keys[pos - 1] == '_')) continue;
      size_t i = pos + key.size();
      while (i < keys.size() && (std::isalnum(static_cast<unsigned char>(keys[i])) || keys[i] == '_')) ++i;
      if (i < keys.size() && keys[i] == '(') continue;  // the call `secret(` itself
      out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The byte offset of 1-based column `col` (in code points) of `line`.
size_t ByteOfColumn(const std::string& line, uint32_t col) {
  size_t b = 0;
  for (uint32_t c = 1; c < col && b < line.size(); ++c) {
    ++b;
    while (b < line.size() && (static_cast<unsigned char>(line[b]) & 0xC0) == 0x80) ++b;
  }
  return b;
}

void MaskRange(std::string& line, size_t begin, size_t end) {
  for (size_t k = begin; k < end && k < line.size(); ++k) {
    if ((static_cast<unsigned char>(line[k]) & 0xC0) != 0x80) line[k] = '*';
  }
  // Drop the continuation bytes of masked characters so one character stays one column.
  std::string out;
  for (size_t k = 0; k < line.size(); ++k) {
    if (k >= begin && k < end && (static_cast<unsigned char>(line[k]) & 0xC0) == 0x80) continue;
    out += line[k];
  }
  line = std::move(out);
}

// Masks what may be a secret on a line, keeping widths so carets still line up: every string
// literal and every bare value after a key. Plans with `password = "…"` are errors, and
// printing the line in that error must not leak the password.
std::string RedactSecrets(std::string_view raw) {
  std::string line = Sanitize(raw);
  if (!LineMayHoldSecret(line)) return line;
  std::string out = line;
  // What follows a secret-like key, whatever separates them (`=`, `:`, spaces): a string's
  // contents or a bare word; and the argument of a `secret(…)` that is not a reference.
  const std::string keys = KeySearchText(out);
  std::vector<std::pair<size_t, size_t>> ranges;
  auto string_end = [&](size_t open) {  // one past the closing quote's predecessor
    size_t j = open + 1;
    while (j < out.size() && out[j] != '"') j += out[j] == '\\' ? 2 : 1;
    return std::min(j, out.size());
  };
  for (size_t i : SecretKeyEnds(keys)) {
    while (i < out.size() && std::string_view(" \t:=").find(out[i]) != std::string_view::npos) ++i;
    if (i >= out.size() || out.compare(i, 7, "secret(") == 0) continue;
    if (out[i] == '"') {
      ranges.emplace_back(i + 1, string_end(i));
    } else {
      size_t end = i;
      while (end < out.size() && std::string_view(" \t};,()").find(out[end]) == std::string_view::npos) ++end;
      ranges.emplace_back(i, end);
    }
  }
  for (size_t pos = keys.find("secret("); pos != std::string::npos; pos = keys.find("secret(", pos + 1)) {
    const size_t arg = pos + 7;
    const std::string_view rest = std::string_view(out).substr(arg);
    if (rest.rfind("\"env:", 0) == 0 || rest.rfind("\"file:", 0) == 0) continue;
    size_t end = arg;
    if (end < out.size() && out[end] == '"') {
      ranges.emplace_back(arg + 1, string_end(arg));
    } else {
      while (end < out.size() && out[end] != ')') ++end;
      ranges.emplace_back(arg, end);
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) MaskRange(out, it->first, it->second);
  return out;
}

// Prints the source line holding the span and a caret line under it.
void RenderSnippet(const SourceManager& sm, const Span& span, const Style& style,
                   std::string_view caret_color, bool redact_span, std::string& out) {
  if (!span.valid()) return;
  const LineCol start = sm.Position(span.file, span.begin);
  std::string line = RedactSecrets(sm.LineText(span.file, start.line));
  if (redact_span) {
    // The span itself is a secret's value (it may stand on a line of its own).
    const LineCol stop = sm.Position(span.file, span.end);
    MaskRange(line, ByteOfColumn(line, start.col),
              stop.line == start.line ? ByteOfColumn(line, stop.col) : line.size());
  }
  const LineCol end = sm.Position(span.file, std::max(span.end, span.begin));
  const std::string gutter = fmt::format("{:>5}", start.line);
  out += fmt::format("{} | {}\n", style("34", gutter), line);

  // Padding copies tabs from the source so the caret lines up under them.
  std::string pad;
  uint32_t col = 1;
  for (size_t i = 0; i < line.size() && col < start.col; ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80) continue;
    pad += c == '\t' ? '\t' : ' ';
    ++col;
  }
  uint32_t width = 1;
  if (end.line == start.line && end.col > start.col) {
    width = end.col - start.col;
  } else if (end.line > start.line) {
    // A span over several lines: underline to the end of the first.
    uint32_t line_cols = 1;
    for (unsigned char c : line) {
      if ((c & 0xC0) != 0x80) ++line_cols;
    }
    width = line_cols > start.col ? line_cols - start.col : 1;
  }
  std::string caret = "^" + std::string(width - 1, '~');
  out += fmt::format("{} | {}{}\n", std::string(5, ' '), pad, style(caret_color, caret));
}

}  // namespace

std::string RenderText(const SourceManager& sm, const Diagnostic& d, const RenderOptions& opts) {
  const Style style{opts.color};
  const DiagKindInfo& info = Info(d.kind);
  const std::string_view color = info.severity == Severity::kError     ? "1;31"
                                 : info.severity == Severity::kWarning ? "1;33"
                                                                       : "1;36";
  std::string out = fmt::format("{}: {}: {}\n", style("1", sm.Location(d.span)),
                                style(color, fmt::format("{}[{}]", SeverityWord(info.severity),
                                                         info.code)),
                                d.message);
  RenderSnippet(sm, d.span, style, color, d.redact, out);
  if (!d.hint.empty()) out += fmt::format("{} = {}: {}\n", std::string(5, ' '), style("1", "hint"), d.hint);
  for (const DiagNote& n : d.notes) {
    out += fmt::format("{}: {}: {}\n", style("1", sm.Location(n.span)), style("1;36", "note"),
                       n.message);
    RenderSnippet(sm, n.span, style, "1;36", false, out);
  }
  return out;
}

namespace {

nlohmann::ordered_json SpanJson(const SourceManager& sm, const Span& span) {
  nlohmann::ordered_json j;
  if (!span.valid()) return j;
  const LineCol a = sm.Position(span.file, span.begin);
  const LineCol b = sm.Position(span.file, span.end);
  j["file"] = sm.file(span.file).display;
  j["line"] = a.line;
  j["column"] = a.col;
  j["end_line"] = b.line;
  j["end_column"] = b.col;
  return j;
}

}  // namespace

std::string RenderJson(const SourceManager& sm, const std::vector<Diagnostic>& diags) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const Diagnostic& d : diags) {
    nlohmann::ordered_json j;
    j["code"] = Info(d.kind).code;
    j["severity"] = SeverityWord(d.severity());
    j["span"] = SpanJson(sm, d.span);
    j["message"] = d.message;
    if (!d.hint.empty()) j["hint"] = d.hint;
    if (!d.notes.empty()) {
      nlohmann::ordered_json notes = nlohmann::ordered_json::array();
      for (const DiagNote& n : d.notes) {
        notes.push_back({{"span", SpanJson(sm, n.span)}, {"message", n.message}});
      }
      j["notes"] = std::move(notes);
    }
    arr.push_back(std::move(j));
  }
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool LineMayHoldSecret(std::string_view line) {
  std::string lower(line);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // A `secret(…)` whose argument is not an `env:`/`file:` reference may be a pasted secret.
  for (size_t pos = lower.find("secret("); pos != std::string::npos; pos = lower.find("secret(", pos + 1)) {
    const std::string_view arg = std::string_view(lower).substr(pos + 7);
    if (arg.rfind("\"env:", 0) != 0 && arg.rfind("\"file:", 0) != 0) return true;
  }
  // A secret-like key whose value is not `secret(`.
  const std::string keys = KeySearchText(line);
  for (size_t i : SecretKeyEnds(keys)) {
    while (i < keys.size() && std::string_view(" \t:=").find(keys[i]) != std::string_view::npos) ++i;
    if (keys.compare(i, 7, "secret(") != 0) return true;
  }
  return false;
}

namespace {

// Optimal-string-alignment distance, bounded so hostile input stays cheap.
size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64) return SIZE_MAX;
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  size_t best = SIZE_MAX;
  std::string_view best_name;
  for (const std::string& c : candidates) {
    const size_t dist = EditDistance(word, c);
    if (dist < best || (dist == best && c < best_name)) {
      best = dist;
      best_name = c;
    }
  }
  const size_t limit = std::max<size_t>(1, std::max(word.size(), best_name.size()) / 3);
  if (best == 0 || best > limit) return {};
  return fmt::format("did you mean `{}`?", best_name);
}

}  // namespace ferry
