// The adapter between the ANTLR-generated parser and Ferry's AST. Nothing else in Ferry
// includes an ANTLR header.
#include "compiler/parse.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "FerryLexer.h"
#include "FerryParser.h"
#include "antlr4-runtime.h"

namespace ferry {
namespace {

using grammar::FerryLexer;
using grammar::FerryParser;

constexpr size_t kCommentsChannel = 2;  // channels { COMMENTS, ERRORS } after HIDDEN (1)
constexpr size_t kErrorsChannel = 3;
constexpr int kMaxInvalidUtf8Reports = 8;
constexpr int kMaxInvalidCharReports = 16;

// ---------------------------------------------------------------------------------------
// UTF-8: the file is validated byte by byte; invalid sequences are reported and replaced
// by U+FFFD for the lexer, and `offsets` maps each code point back to its byte offset.

struct Decoded {
  std::u32string text;
  std::vector<uint32_t> offsets;  // offsets[i] = byte offset of code point i; one extra at end
};

// Returns the length of a valid UTF-8 sequence at s[i] and its code point, or 0.
size_t DecodeOne(std::string_view s, size_t i, char32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t len;
  char32_t min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

Decoded DecodeUtf8(const SourceManager& sm, FileId file, Diagnostics& diags, bool& had_errors) {
  const std::string& s = sm.file(file).text;
  Decoded d;
  d.text.reserve(s.size());
  d.offsets.reserve(s.size() + 1);
  int reported = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const size_t len = DecodeOne(s, i, cp);
    d.offsets.push_back(static_cast<uint32_t>(i));
    if (len == 0) {
      size_t j = i + 1;  // one report per run of bad bytes
      while (j < s.size() && DecodeOne(s, j, cp) == 0) ++j;
      if (reported++ < kMaxInvalidUtf8Reports) {
        diags.Emit(DiagKind::kInvalidUtf8,
                   Span{file, static_cast<uint32_t>(i), static_cast<uint32_t>(j)},
                   fmt::format("{} byte{} that {} not UTF-8", j - i, j - i == 1 ? "" : "s",
                               j - i == 1 ? "is" : "are"),
                   "save the plan as UTF-8");
      }
      had_errors = true;
      d.text.push_back(U'\uFFFD');
      for (size_t k = i + 1; k < j; ++k) {
        d.offsets.push_back(static_cast<uint32_t>(k));
        d.text.push_back(U'\uFFFD');
      }
      i = j;
      continue;
    }
    d.text.push_back(cp);
    i += len;
  }
  d.offsets.push_back(static_cast<uint32_t>(s.size()));
  return d;
}

// An input stream over already-decoded UTF-32, so the ANTLR runtime never sees bad bytes.
class DecodedStream : public antlr4::ANTLRInputStream {
 public:
  explicit DecodedStream(std::u32string text) {
    _data = std::move(text);
    p = 0;
  }
};

// ---------------------------------------------------------------------------------------

// The byte span of a token; conjured tokens and EOF get an empty span.
Span TokenSpan(FileId file, const Decoded& decoded, const antlr4::Token* t) {
  const size_t n = decoded.offsets.size() - 1;
  if (t == nullptr) return Span{file, static_cast<uint32_t>(decoded.offsets[n]), static_cast<uint32_t>(decoded.offsets[n])};
  const size_t a = std::min<size_t>(t->getStartIndex(), n);
  size_t b = t->getType() == antlr4::Token::EOF ? a : t->getStopIndex() + 1;
  b = std::clamp<size_t>(b, a, n);
  return Span{file, decoded.offsets[a], decoded.offsets[b]};
}

std::string TokenDisplayName(size_t type) {
  switch (type) {
    case FerryLexer::IDENT: return "a name";
    case FerryLexer::STRING: return "a string";
    case FerryLexer::NUMBER: return "a number";
    case FerryLexer::QUANTITY: return "a duration or size";
    case FerryLexer::IMPORT: return "`import`";
    case FerryLexer::EXTENDS: return "`extends`";
    case FerryLexer::SCHEMA: return "`schema`";
    case FerryLexer::TABLE: return "`table`";
    case FerryLexer::COLUMN: return "`column`";
    case FerryLexer::EXCLUDE: return "`exclude`";
    case FerryLexer::MAP: return "`map`";
    case FerryLexer::ARROW: return "`->`";
    case FerryLexer::EQUALS: return "`=`";
    case FerryLexer::LBRACE: return "`{`";
    case FerryLexer::RBRACE: return "`}`";
    case FerryLexer::LBRACKET: return "`[`";
    case FerryLexer::RBRACKET: return "`]`";
    case FerryLexer::LPAREN: return "`(`";
    case FerryLexer::RPAREN: return "`)`";
    case FerryLexer::SEMI: return "`;`";
    case FerryLexer::COMMA: return "`,`";
    case antlr4::Token::EOF: return "end of file";
    default: return "a token";
  }
}

// Turns ANTLR's reports into E0001 diagnostics in Ferry's words: what was expected, what
// was found. One report per line: what follows a first error on its line is usually its echo.
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  SyntaxErrorListener(const SourceManager& sm, FileId file, const Decoded& decoded, Diagnostics& diags,
                      std::vector<uint32_t>& error_offsets)
      : sm_(sm), file_(file), decoded_(decoded), diags_(diags), error_offsets_(error_offsets) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t, const std::string&, std::exception_ptr) override {
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser == nullptr || offending == nullptr) return;
    const Span span = TokenSpan(offending);
    error_offsets_.push_back(span.begin);  // even when not reported: the block is incomplete
    if (line == last_line_) return;
    last_line_ = line;

    std::vector<std::string> expected;
    const antlr4::misc::IntervalSet set = parser->getExpectedTokens();
    bool name_listed = false;
    for (size_t t : set.toList()) {
      const bool is_name = t == FerryLexer::IDENT || (t >= FerryLexer::IMPORT && t <= FerryLexer::MAP);
      if (is_name) {
        if (name_listed) continue;
        name_listed = true;
        t = FerryLexer::IDENT;
      }
      expected.push_back(TokenDisplayName(t));
    }
    std::string want;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (i > 0) want += i + 1 == expected.size() ? " or " : ", ";
      want += expected[i];
    }
    std::string found;
    if (offending->getType() == antlr4::Token::EOF) {
      found = "the end of the file";
    } else if (offending->getType() == FerryLexer::STRING || LineMayHoldSecret(LineOf(span))) {
      // Never quote what may be a secret's value.
      found = TokenDisplayName(offending->getType());
    } else {
      std::string text = offending->getText();
      if (text.size() > 24) text = text.substr(0, 21) + "...";
      found = fmt::format("`{}`", text);
    }
    std::string hint;
    if (offending->getType() == antlr4::Token::EOF) {
      hint = "a block may be missing its closing `}`";
    } else if (offending->getType() == FerryLexer::LBRACE) {
      hint = "a block starts after its kind and name, as in `endpoint src { … }`";
    }
    diags_.Emit(DiagKind::kSyntaxError, span,
                want.empty() ? fmt::format("unexpected {}", found)
                             : fmt::format("expected {}, found {}", want, found),
                std::move(hint));
  }

  Span TokenSpan(const antlr4::Token* t) const { return ferry::TokenSpan(file_, decoded_, t); }

  std::string_view LineOf(Span span) const {
    return sm_.LineText(file_, sm_.Position(file_, span.begin).line);
  }

 private:
  const SourceManager& sm_;
  FileId file_;
  const Decoded& decoded_;
  Diagnostics& diags_;
  std::vector<uint32_t>& error_offsets_;
  size_t last_line_ = 0;
};

// ANTLR's default recovery may delete the token in the way; deleting a closing bracket
// makes the parser swallow the next member into the broken one and report a cascade. So
// closers are never deleted: the parser conjures the missing token instead and the block
// ends where the user ended it.
class FerryErrorStrategy : public antlr4::DefaultErrorStrategy {
 protected:
  antlr4::Token* singleTokenDeletion(antlr4::Parser* recognizer) override {
    const size_t la = recognizer->getInputStream()->LA(1);
    if (la == FerryLexer::RBRACE || la == FerryLexer::RBRACKET || la == FerryLexer::RPAREN) return nullptr;
    return DefaultErrorStrategy::singleTokenDeletion(recognizer);
  }
};

// A token the parser conjured during recovery: not in the file.
bool IsConjured(const antlr4::Token* t) {
  return t == nullptr || t->getTokenIndex() == INVALID_INDEX ||
         t->getText().rfind("<missing", 0) == 0;
}

// ---------------------------------------------------------------------------------------

class Builder {
 public:
  Builder(const SourceManager& sm, FileId file, const Decoded& decoded, Diagnostics& diags)
      : sm_(sm), file_(file), decoded_(decoded), diags_(diags) {}

  Span TokenSpan(const antlr4::Token* t) const { return ferry::TokenSpan(file_, decoded_, t); }

  Span CtxSpan(antlr4::ParserRuleContext* ctx) const {
    if (ctx == nullptr) return Span{file_, 0, 0};
    Span a = TokenSpan(ctx->getStart());
    const antlr4::Token* stop = ctx->getStop();
    if (stop != nullptr && stop->getType() != antlr4::Token::EOF &&
        stop->getStopIndex() + 1 >= ctx->getStart()->getStartIndex()) {
      a.end = std::max(a.begin, TokenSpan(stop).end);
    }
    return a;
  }

  std::string_view Bytes(Span s) const {
    return std::string_view(sm_.file(file_).text).substr(s.begin, s.end - s.begin);
  }

  ast::File BuildFile(FerryParser::FileContext* ctx) {
    ast::File file;
    file.id = file_;
    for (antlr4::tree::ParseTree* child : ctx->children) {
      if (auto* imp = dynamic_cast<FerryParser::ImportDeclContext*>(child)) {
        if (imp->STRING() == nullptr || IsConjured(imp->STRING()->getSymbol())) continue;
        ast::Import i;
        i.path = StringName(imp->STRING()->getSymbol());
        i.span = CtxSpan(imp);
        file.items.emplace_back(std::move(i));
      } else if (auto* decl = dynamic_cast<FerryParser::DeclarationContext*>(child)) {
        if (decl->kind == nullptr || decl->name == nullptr || decl->block() == nullptr || IsConjured(decl->kind)) continue;
        ast::Declaration d;
        d.kind = WordToken(decl->kind);
        d.name = LabelName(decl->name);
        if (decl->base != nullptr) d.base = LabelName(decl->base);
        d.body = BuildBlock(decl->block());
        d.span = CtxSpan(decl);
        file.items.emplace_back(std::move(d));
      }
    }
    return file;
  }

 private:
  ast::Name WordToken(const antlr4::Token* t) {
    return ast::Name{t->getText(), TokenSpan(t), false};
  }

  ast::Name WordName(FerryParser::WordContext* w) {
    return ast::Name{w->getText(), CtxSpan(w), false};
  }

  ast::Name LabelName(FerryParser::LabelContext* l) {
    if (l->STRING() != nullptr) return StringName(l->STRING()->getSymbol());
    if (l->word() != nullptr) return WordName(l->word());
    return ast::Name{"", CtxSpan(l), false};
  }

  ast::Name StringName(const antlr4::Token* t) {
    const Span span = TokenSpan(t);
    return ast::Name{DecodeString(span), span, true};
  }

  // Decodes `"…"` with the escapes of LANGUAGE.md §1, reporting bad ones at their bytes.
  std::string DecodeString(Span span) {
    const std::string_view raw = Bytes(span);
    std::string out;
    size_t end = raw.size();
    bool closed = false;
    if (raw.size() >= 2 && raw.back() == '"') {
      // Closed unless the final quote is itself escaped.
      size_t backslashes = 0;
      for (size_t k = raw.size() - 1; k > 1 && raw[k - 1] == '\\'; --k) ++backslashes;
      closed = backslashes % 2 == 0;
    }
    if (closed) {
      end = raw.size() - 1;
    } else {
      lexical_error_ = true;
      diags_.Emit(DiagKind::kUnterminatedString, span, "string is missing its closing `\"`",
                  "close it on the same line; write `\\n` for a line break inside a string");
    }
    for (size_t i = 1; i < end; ++i) {
      if (raw[i] != '\\') {
        out += raw[i];
        continue;
      }
      const uint32_t at = span.begin + static_cast<uint32_t>(i);
      if (i + 1 >= end) break;
      const char e = raw[++i];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'u': {
          size_t j = i + 1;
          bool ok = j < end && raw[j] == '{';
          uint64_t cp = 0;
          size_t digits = 0;
          if (ok) {
            for (++j; j < end && std::isxdigit(static_cast<unsigned char>(raw[j])); ++j, ++digits) {
              cp = cp * 16 + static_cast<uint64_t>(std::stoi(std::string(1, raw[j]), nullptr, 16));
              if (digits > 8) break;
            }
            ok = j < end && raw[j] == '}' && digits >= 1 && digits <= 6;
          }
          if (ok && (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
            lexical_error_ = true;
      diags_.Emit(DiagKind::kInvalidEscape,
                        Span{file_, at, span.begin + static_cast<uint32_t>(j + 1)},
                        fmt::format("`\\u{{{:X}}}` is not a Unicode scalar value", cp),
                        "use a code point up to 10FFFF, outside D800–DFFF");
            i = j;
            break;
          }
          if (!ok) {
            const size_t stop = std::min(j < end ? j + 1 : j, end);
            lexical_error_ = true;
      diags_.Emit(DiagKind::kInvalidEscape,
                        Span{file_, at, span.begin + static_cast<uint32_t>(stop)},
                        "malformed `\\u` escape", "write it as `\\u{1F600}`: 1 to 6 hex digits in braces");
            i = stop - 1;
            break;
          }
          AppendUtf8(out, static_cast<char32_t>(cp));
          i = j;
          break;
        }
        default: {
          // Take the whole (possibly multi-byte) character for the span.
          size_t len = 1;
          char32_t cp;
          if (const size_t l = DecodeOne(raw, i, cp); l > 0) len = l;
          lexical_error_ = true;
      diags_.Emit(DiagKind::kInvalidEscape,
                      Span{file_, at, span.begin + static_cast<uint32_t>(i + len)},
                      fmt::format("unknown escape `\\{}`", raw.substr(i, len)),
                      "the escapes are `\\\"` `\\\\` `\\n` `\\t` and `\\u{HEX}`; write `\\\\` for a backslash");
          i += len - 1;
        }
      }
    }
    return out;
  }

  static void AppendUtf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  ast::Block BuildBlock(FerryParser::BlockContext* ctx) {
    ast::Block block;
    block.span = CtxSpan(ctx);
    for (FerryParser::MemberContext* m : ctx->member()) {
      if (auto* a = m->attribute()) {
        if (a->key == nullptr || a->value() == nullptr) continue;
        ast::Attribute attr;
        attr.key = WordName(a->key);
        attr.value = BuildValue(a->value());
        attr.span = CtxSpan(a);
        block.members.push_back(ast::Member{std::move(attr)});
      } else if (auto* r = m->objectRule()) {
        if (r->kind == nullptr || r->source == nullptr || IsConjured(r->kind)) continue;
        block.members.push_back(ast::Member{BuildRule(r->kind, r->source, r->target, r->block(),
                                                      false, CtxSpan(r))});
      } else if (auto* x = m->excludeRule()) {
        if (x->kind == nullptr || x->source == nullptr || IsConjured(x->kind)) continue;
        block.members.push_back(
            ast::Member{BuildRule(x->kind, x->source, nullptr, nullptr, true, CtxSpan(x))});
      } else if (auto* mr = m->mapRule()) {
        if (mr->pattern == nullptr || mr->target == nullptr || IsConjured(mr->pattern) || IsConjured(mr->target)) continue;
        ast::MapRule rule;
        rule.pattern = StringName(mr->pattern);
        rule.target = StringName(mr->target);
        rule.span = CtxSpan(mr);
        block.members.push_back(ast::Member{std::move(rule)});
      } else if (auto* sb = m->subBlock()) {
        if (sb->kind == nullptr || sb->block() == nullptr || IsConjured(sb->kind)) continue;
        ast::SubBlock sub;
        sub.kind = WordToken(sb->kind);
        if (sb->qualifier != nullptr) sub.qualifier = WordName(sb->qualifier);
        sub.body = BuildBlock(sb->block());
        sub.span = CtxSpan(sb);
        block.members.push_back(ast::Member{std::move(sub)});
      }
    }
    return block;
  }

  ast::ObjectRule BuildRule(const antlr4::Token* kind, FerryParser::LabelContext* source,
                            FerryParser::LabelContext* target, FerryParser::BlockContext* body,
                            bool exclude, Span span) {
    ast::ObjectRule rule;
    switch (kind->getType()) {
      case FerryLexer::SCHEMA: rule.kind = ast::ObjectKind::kSchema; break;
      case FerryLexer::TABLE: rule.kind = ast::ObjectKind::kTable; break;
      default: rule.kind = ast::ObjectKind::kColumn; break;
    }
    rule.exclude = exclude;
    rule.source = LabelName(source);
    if (target != nullptr) rule.target = LabelName(target);
    if (body != nullptr) rule.body = BuildBlock(body);
    rule.span = span;
    return rule;
  }

  ast::Value BuildValue(FerryParser::ValueContext* ctx) {
    ast::Value v;
    v.span = CtxSpan(ctx);
    if (ctx->exception != nullptr || IsConjured(ctx->getStart())) return v;  // reported as E0001
    if (auto* s = dynamic_cast<FerryParser::StringValueContext*>(ctx)) {
      v.kind = ast::ValueKind::kString;
      v.text = DecodeString(TokenSpan(s->STRING()->getSymbol()));
    } else if (auto* n = dynamic_cast<FerryParser::NumberValueContext*>(ctx)) {
      v.kind = ast::ValueKind::kNumber;
      v.text = n->getText();
      v.integral = v.text.find('.') == std::string::npos;
      v.number = std::strtod(v.text.c_str(), nullptr);
      if (v.number > 9007199254740992.0) {  // 2^53: beyond exact integers
        lexical_error_ = true;
      diags_.Emit(DiagKind::kNumberOutOfRange, v.span, fmt::format("number `{}` is too large", v.text));
        v.kind = ast::ValueKind::kError;
      }
    } else if (auto* q = dynamic_cast<FerryParser::QuantityValueContext*>(ctx)) {
      v.text = q->getText();
      BuildQuantity(v);
    } else if (auto* c = dynamic_cast<FerryParser::CallValueContext*>(ctx)) {
      v.kind = ast::ValueKind::kCall;
      v.text = c->callee != nullptr ? c->callee->getText() : "";
      for (FerryParser::ValueContext* arg : c->value()) v.items.push_back(BuildValue(arg));
    } else if (auto* w = dynamic_cast<FerryParser::WordValueContext*>(ctx)) {
      v.kind = ast::ValueKind::kWord;
      v.text = w->getText();
    } else if (auto* l = dynamic_cast<FerryParser::ListValueContext*>(ctx)) {
      v.kind = ast::ValueKind::kList;
      for (FerryParser::ValueContext* item : l->value()) v.items.push_back(BuildValue(item));
    }
    return v;
  }

  // `30s`, `10m`, `1.5h`, `40MB`, `2GiB`: the unit decides duration or size.
  void BuildQuantity(ast::Value& v) {
    size_t split = 0;
    while (split < v.text.size() && (std::isdigit(static_cast<unsigned char>(v.text[split])) ||
                                     v.text[split] == '.')) {
      ++split;
    }
    const std::string unit = v.text.substr(split);
    const double amount = std::strtod(v.text.substr(0, split).c_str(), nullptr);
    struct Unit {
      std::string_view name;
      double factor;
      bool duration;
    };
    static constexpr Unit kUnits[] = {
        {"ms", 1, true},           {"s", 1e3, true},          {"m", 60e3, true},
        {"h", 3600e3, true},       {"d", 86400e3, true},      {"KB", 1e3, false},
        {"MB", 1e6, false},        {"GB", 1e9, false},        {"KiB", 1024.0, false},
        {"MiB", 1048576.0, false}, {"GiB", 1073741824.0, false},
    };
    for (const Unit& u : kUnits) {
      if (u.name != unit) continue;
      const double scaled = amount * u.factor;
      if (scaled > 9.2e18) {
        lexical_error_ = true;
      diags_.Emit(DiagKind::kNumberOutOfRange, v.span, fmt::format("`{}` is too large", v.text));
        v.kind = ast::ValueKind::kError;
        return;
      }
      if (std::floor(scaled) != scaled) {
        lexical_error_ = true;
      diags_.Emit(DiagKind::kNumberOutOfRange, v.span,
                    fmt::format("`{}` is not a whole number of {}", v.text,
                                u.duration ? "milliseconds" : "bytes"));
        v.kind = ast::ValueKind::kError;
        return;
      }
      v.kind = u.duration ? ast::ValueKind::kDuration : ast::ValueKind::kSize;
      (u.duration ? v.millis : v.bytes) = static_cast<int64_t>(scaled);
      return;
    }
    std::string hint;
    for (const Unit& u : kUnits) {
      if (unit.size() == u.name.size() &&
          std::equal(unit.begin(), unit.end(), u.name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        hint = fmt::format("did you mean `{}{}`?", v.text.substr(0, split), u.name);
      }
    }
    if (hint.empty()) hint = "durations use `ms` `s` `m` `h` `d`; sizes use `KB` `MB` `GB` `KiB` `MiB` `GiB`";
    lexical_error_ = true;
      diags_.Emit(DiagKind::kUnknownUnit, v.span, fmt::format("unknown unit `{}` in `{}`", unit, v.text),
                std::move(hint));
    v.kind = ast::ValueKind::kError;
  }

  const SourceManager& sm_;
  FileId file_;
  const Decoded& decoded_;
  Diagnostics& diags_;

 public:
  bool lexical_error_ = false;  // a bad string, number or unit: the file cannot be formatted
};

std::string_view InvalidCharHint(std::string_view c) {
  if (c == ":") return "attributes are written `name = value`";
  if (c == "'") return "strings use double quotes: `\"…\"`";
  if (c == "`") return "names that are not identifiers are written as strings: `\"my table\"`";
  return "";
}

}  // namespace

ast::File Parse(const SourceManager& sm, FileId file_id, Diagnostics& diags) {
  bool bad_bytes = false;
  const Decoded decoded = DecodeUtf8(sm, file_id, diags, bad_bytes);

  DecodedStream input(decoded.text);
  FerryLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();

  Builder builder(sm, file_id, decoded, diags);
  ast::File empty;
  empty.id = file_id;

  // Comments (kept for fmt), stray characters, and the nesting guard, in one pass.
  std::vector<ast::Comment> comments;
  int invalid_chars = 0;
  size_t last_invalid_index = 0;  // diags.size() right after the last E0002
  int depth = 0;
  bool too_deep = false;
  for (antlr4::Token* t : tokens.getTokens()) {
    const size_t channel = t->getChannel();
    if (channel == kCommentsChannel) {
      const Span span = builder.TokenSpan(t);
      std::string text(builder.Bytes(span));
      if (t->getType() == FerryLexer::UNTERMINATED_COMMENT) {
        diags.Emit(DiagKind::kUnterminatedComment, Span{file_id, span.begin, span.begin + 2},
                   "comment is never closed", "end it with `*/`");
        bad_bytes = true;
      }
      comments.push_back(ast::Comment{span, std::move(text)});
    } else if (channel == kErrorsChannel) {
      bad_bytes = true;
      const Span span = builder.TokenSpan(t);
      const std::string_view c = builder.Bytes(span);
      if (c == "\xEF\xBF\xBD" && sm.file(file_id).text.compare(span.begin, 3, c) != 0) continue;  // E0005
      // A run of stray characters is one mistake: one report, widened over the run.
      if (Diagnostic* prev = diags.last(); prev != nullptr && prev->kind == DiagKind::kInvalidCharacter &&
          prev->span.end == span.begin && last_invalid_index == diags.all().size()) {
        prev->span.end = span.end;
        prev->message = "unexpected characters";
        continue;
      }
      if (invalid_chars++ >= kMaxInvalidCharReports) continue;
      diags.Emit(DiagKind::kInvalidCharacter, span, fmt::format("unexpected character `{}`", c),
                 std::string(InvalidCharHint(c)));
      last_invalid_index = diags.all().size();
    } else if (!too_deep) {
      const size_t type = t->getType();
      if (type == FerryLexer::LBRACE || type == FerryLexer::LBRACKET || type == FerryLexer::LPAREN) {
        if (++depth > kMaxNesting) {
          too_deep = true;
          diags.Emit(DiagKind::kNestingTooDeep, builder.TokenSpan(t),
                     fmt::format("nested deeper than {} levels", kMaxNesting),
                     "plans never need this much nesting; check for unbalanced brackets");
        }
      } else if (type == FerryLexer::RBRACE || type == FerryLexer::RBRACKET ||
                 type == FerryLexer::RPAREN) {
        depth = std::max(0, depth - 1);
      }
    }
  }
  if (too_deep) {
    empty.comments = std::move(comments);
    empty.has_syntax_errors = true;
    return empty;
  }

  FerryParser parser(&tokens);
  parser.removeErrorListeners();
  std::vector<uint32_t> error_offsets;
  SyntaxErrorListener listener(sm, file_id, decoded, diags, error_offsets);
  parser.addErrorListener(&listener);
  parser.setErrorHandler(std::make_shared<FerryErrorStrategy>());
  FerryParser::FileContext* tree = parser.file();

  ast::File file = builder.BuildFile(tree);
  file.comments = std::move(comments);
  file.has_syntax_errors = bad_bytes || builder.lexical_error_ || !error_offsets.empty() || parser.getNumberOfSyntaxErrors() > 0;
  file.syntax_error_offsets = std::move(error_offsets);
  return file;
}

}  // namespace ferry
