// Diagnostics: what the compiler tells a user about a plan.
//
// Every diagnostic has a stable code from diagnostic_kinds.def, a severity, a primary span,
// a message (lowercase, no trailing period, names in backticks), an optional hint, and
// optional notes pointing at related places ("first declared here"). The compiler never
// throws for a problem in the plan: it records a diagnostic and goes on, so one run reports
// every error. Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "compiler/source.h"

namespace ferry {

enum class Severity { kError, kWarning, kNote };

enum class DiagKind {
#define FERRY_DIAG(name, code, severity, summary) k##name,
#include "compiler/diagnostic_kinds.def"
#undef FERRY_DIAG
};

struct DiagKindInfo {
  DiagKind kind;
  std::string_view code;
  Severity severity;
  std::string_view summary;
};

// Every registered kind, in registry order.
const std::vector<DiagKindInfo>& AllDiagKinds();
const DiagKindInfo& Info(DiagKind kind);

struct DiagNote {
  Span span;
  std::string message;
};

struct Diagnostic {
  DiagKind kind;
  Span span;
  std::string message;
  std::string hint;  // empty when there is nothing certain to suggest
  std::vector<DiagNote> notes;
  bool redact = false;  // the span holds a secret's value: masked wherever it is shown

  Severity severity() const { return Info(kind).severity; }
};

class Diagnostics {
 public:
  // Records a diagnostic and returns it so that a note can be attached.
  Diagnostic& Emit(DiagKind kind, Span span, std::string message, std::string hint = {});

  // The diagnostic emitted last, to widen or annotate it; nullptr when there is none.
  Diagnostic* last() { return diags_.empty() ? nullptr : &diags_.back(); }

  bool has_errors() const { return errors_ > 0; }
  size_t error_count() const { return errors_; }
  size_t warning_count() const;
  const std::vector<Diagnostic>& all() const { return diags_; }

  // Sorted by file, position, then code, so output is deterministic whatever order the
  // phases found things in.
  std::vector<Diagnostic> Sorted() const;

 private:
  std::vector<Diagnostic> diags_;
  size_t errors_ = 0;
};

struct RenderOptions {
  bool color = false;
};

// The text form of LANGUAGE.md §5: location, severity[code], message, the source line with
// a caret under the span, the hint, then the notes.
std::string RenderText(const SourceManager& sm, const Diagnostic& d, const RenderOptions& opts);
// A JSON array with one object per diagnostic: code, severity, span (file, line, column,
// end_line, end_column), message, hint and notes when present.
std::string RenderJson(const SourceManager& sm, const std::vector<Diagnostic>& diags);

// True when a source line may hold a secret's value: it names a secret-like key (password,
// access key, token…) with anything but `secret("env:…")`/`secret("file:…")` as its value,
// or passes `secret(…)` something other than such a reference. Snippets of such lines are
// masked, and syntax errors on them do not quote tokens.
bool LineMayHoldSecret(std::string_view line);

// "did you mean `x`?" when a candidate is close enough to `word`; empty otherwise.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ferry
