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

// Masks the value of every secret attribute written literally on a source line, keeping its
// width so carets still line up: a plan with `password = "…"` is an error, and printing the
// line in that error must not leak the password.
std::string RedactSecrets(std::string_view raw) {
  // Invalid UTF-8 is shown as U+FFFD, one per byte, so output is always valid text.
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
  for (std::string_view key : {"access_key_secret", "access_key_id", "password"}) {
    size_t pos = 0;
    while ((pos = out.find(key, pos)) != std::string::npos) {
      size_t i = pos + key.size();
      pos = i;
      while (i < out.size() && (out[i] == ' ' || out[i] == '\t')) ++i;
      if (i >= out.size() || out[i] != '=') continue;
      ++i;
      while (i < out.size() && (out[i] == ' ' || out[i] == '\t')) ++i;
      if (out.compare(i, 7, "secret(") == 0) continue;
      size_t end = i;
      if (end < out.size() && out[end] == '"') {
        for (++end; end < out.size() && out[end] != '"'; ++end) {
          if (out[end] == '\\') ++end;
        }
        end = std::min(end + 1, out.size());
      } else {
        while (end < out.size() && std::string_view(" \t};,").find(out[end]) == std::string_view::npos) ++end;
      }
      std::string masked;
      for (size_t k = i; k < end; ++k) {
        if ((static_cast<unsigned char>(out[k]) & 0xC0) != 0x80) masked += '*';
      }
      out.replace(i, end - i, masked);
      pos = i + masked.size();
    }
  }
  return out;
}

// Prints the source line holding the span and a caret line under it.
void RenderSnippet(const SourceManager& sm, const Span& span, const Style& style,
                   std::string_view caret_color, std::string& out) {
  if (!span.valid()) return;
  const LineCol start = sm.Position(span.file, span.begin);
  const std::string line = RedactSecrets(sm.LineText(span.file, start.line));
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
  RenderSnippet(sm, d.span, style, color, out);
  if (!d.hint.empty()) out += fmt::format("{} = {}: {}\n", std::string(5, ' '), style("1", "hint"), d.hint);
  for (const DiagNote& n : d.notes) {
    out += fmt::format("{}: {}: {}\n", style("1", sm.Location(n.span)), style("1;36", "note"),
                       n.message);
    RenderSnippet(sm, n.span, style, "1;36", out);
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
