#include "compiler/analyze.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "compiler/stdlib.h"
#include "compiler/type_pattern.h"

namespace ferry {

// ---------------------------------------------------------------------------------------
// Globs

bool HasGlob(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

bool GlobMatch(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point: linear in practice, no recursion.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi, ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool GlobSubsumes(std::string_view a, std::string_view b) {
  if (a == b || a == "*") return true;
  // Cheap necessary conditions first: `a`'s literal prefix and suffix must begin and end
  // every name `b` matches, so they must be `b`'s too.
  const size_t ap = a.find_first_of("*?"), bp = b.find_first_of("*?");
  if (ap == std::string_view::npos) return false;  // a literal `a` covers only itself
  const std::string_view a_prefix = a.substr(0, ap), b_prefix = b.substr(0, std::min(bp, b.size()));
  if (b_prefix.substr(0, a_prefix.size()) != a_prefix) return false;
  const size_t as = a.find_last_of("*?"), bs = b.find_last_of("*?");
  const std::string_view a_suffix = a.substr(as + 1), b_suffix = bs == std::string_view::npos ? b : b.substr(bs + 1);
  if (b_suffix.size() < a_suffix.size() || b_suffix.substr(b_suffix.size() - a_suffix.size()) != a_suffix) return false;
  if (a.size() > 1024 || b.size() > 1024) return false;  // names are far shorter; stay bounded
  // covers[j] for row i: a[i..] matches every string b[j..] matches. Two rows, bottom-up.
  std::vector<char> next(b.size() + 1, 0), cur(b.size() + 1, 0);
  next[b.size()] = 1;  // i == a.size(): only the empty rest is covered
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size() + 1; j-- > 0;) {
      if (a[i] == '*') {
        cur[j] = next[j] || (j < b.size() && cur[j + 1]);
      } else if (j == b.size() || b[j] == '*') {
        cur[j] = 0;
      } else if (a[i] == '?') {
        cur[j] = next[j + 1];
      } else {
        cur[j] = b[j] == a[i] && next[j + 1];
      }
    }
    std::swap(cur, next);
  }
  return next[0] != 0;
}

namespace {

size_t StarCount(std::string_view s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '*')); }

// ---------------------------------------------------------------------------------------
// Declarations and their schemas

enum class DeclKind { kAccount, kRole, kEndpoint, kTypemap, kMigration };
constexpr DeclKind kAllKinds[] = {DeclKind::kAccount, DeclKind::kRole, DeclKind::kEndpoint,
                                  DeclKind::kTypemap, DeclKind::kMigration};

std::string_view KindWord(DeclKind k) {
  switch (k) {
    case DeclKind::kAccount: return "account";
    case DeclKind::kRole: return "role";
    case DeclKind::kEndpoint: return "endpoint";
    case DeclKind::kTypemap: return "typemap";
    case DeclKind::kMigration: return "migration";
  }
  return "";
}

std::string_view Article(std::string_view word) {
  return !word.empty() && std::string_view("aeiou").find(word[0]) != std::string_view::npos ? "an" : "a";
}

enum class T { kString, kUrl, kInt, kNumber, kBool, kDuration, kEnum, kEnumList, kRef, kRefList, kSecret };

struct AttrSpec {
  std::string_view name;
  T type;
  bool required = false;
  std::vector<std::string_view> words = {};  // kEnum, kEnumList
  DeclKind ref = DeclKind::kAccount;         // kRef, kRefList
  int64_t min = LLONG_MIN;                   // kInt, kDuration (ms), kNumber (exclusive 0 when 1)
  int64_t max = LLONG_MAX;
};

struct BlockSpec {
  std::string_view what;  // "endpoint", "`retry` block"
  std::vector<AttrSpec> attrs;
};

constexpr int64_t kMinute = 60 * 1000;
const std::vector<std::string_view> kEngines = {"mysql", "mariadb", "postgres", "sqlserver"};

const BlockSpec& AccountSpec() {
  static const BlockSpec s{"account",
                           {{"id", T::kString, true},
                            {"access_key_id", T::kSecret},
                            {"access_key_secret", T::kSecret},
                            {"sts_endpoint", T::kUrl},
                            {"rds_endpoint", T::kUrl}}};
  return s;
}
const BlockSpec& RoleSpec() {
  static const BlockSpec s{"role",
                           {{"account", T::kRef, true, {}, DeclKind::kAccount},
                            {"name", T::kString, true},
                            {"trusts", T::kRefList, true, {}, DeclKind::kAccount},
                            {"external_id", T::kString},
                            {"session", T::kDuration, false, {}, DeclKind::kAccount, 15 * kMinute, 12 * 60 * kMinute}}};
  return s;
}
const BlockSpec& EndpointSpec() {
  static const BlockSpec s{
      "endpoint",
      {{"engine", T::kEnum, true, kEngines},
       {"host", T::kString},
       {"port", T::kInt, false, {}, DeclKind::kAccount, 1, 65535},
       {"instance", T::kString},
       {"region", T::kString},
       {"network", T::kEnum, false, {"private", "public"}},
       {"database", T::kString},
       {"account", T::kRef, false, {}, DeclKind::kAccount},
       {"assume", T::kRef, false, {}, DeclKind::kRole},
       {"user", T::kString},
       {"password", T::kSecret},
       {"tls", T::kEnum, false, {"disable", "prefer", "require", "verify_ca", "verify_full"}},
       {"ca", T::kString}}};
  return s;
}
const BlockSpec& TypemapSpec() {
  static const BlockSpec s{"typemap",
                           {{"from", T::kEnum, true, kEngines},
                            {"to", T::kEnum, true, kEngines},
                            {"zero_dates", T::kEnum, false, {"null", "error", "keep"}}}};
  return s;
}
const BlockSpec& MigrationSpec() {
  static const BlockSpec s{
      "migration",
      {{"from", T::kRef, true, {}, DeclKind::kEndpoint},
       {"to", T::kRef, true, {}, DeclKind::kEndpoint},
       {"account", T::kRef, false, {}, DeclKind::kAccount},
       {"stages", T::kEnumList, false, {"schema", "full", "incremental"}},
       {"conflicts", T::kEnum, false, {"report", "ignore"}},
       {"capitalization", T::kEnum, false, {"keep", "lower", "upper"}},
       {"triggers", T::kEnum, false, {"none", "with_schema", "after_full"}},
       {"events", T::kBool},
       {"assessment", T::kBool},
       {"online_ddl", T::kEnum, false, {"copy_temp_tables", "adapt_dms", "adapt_gh_ost"}},
       {"workers", T::kInt, false, {}, DeclKind::kAccount, 1, 64},
       {"typemap", T::kRef, false, {}, DeclKind::kTypemap},
       {"heartbeat", T::kBool},
       {"accounts", T::kBool},
       {"tag", T::kString}}};
  return s;
}
const BlockSpec& ThrottleFullSpec() {
  static const BlockSpec s{"`throttle full` block",
                           {{"source_qps", T::kNumber, false, {}, DeclKind::kAccount, 1},
                            {"rows_per_s", T::kNumber, false, {}, DeclKind::kAccount, 1},
                            {"mb_per_s", T::kNumber, false, {}, DeclKind::kAccount, 1}}};
  return s;
}
const BlockSpec& ThrottleIncrementalSpec() {
  static const BlockSpec s{"`throttle incremental` block",
                           {{"rows_per_s", T::kNumber, false, {}, DeclKind::kAccount, 1},
                            {"mb_per_s", T::kNumber, false, {}, DeclKind::kAccount, 1}}};
  return s;
}
const BlockSpec& RetrySpec() {
  static const BlockSpec s{
      "`retry` block",
      {{"connection", T::kDuration, false, {}, DeclKind::kAccount, 10 * kMinute, 1440 * kMinute},
       {"other", T::kDuration, false, {}, DeclKind::kAccount, 1 * kMinute, 1440 * kMinute}}};
  return s;
}
const BlockSpec& VerifySpec() {
  static const BlockSpec s{"`verify` block",
                           {{"mode", T::kEnum, false, {"count", "checksum", "rows"}},
                            {"after", T::kEnum, false, {"full", "incremental", "both"}}}};
  return s;
}
const BlockSpec& AlertSpec() {
  static const BlockSpec s{"`alert` block",
                           {{"on_failure", T::kBool},
                            {"lag_over", T::kDuration, false, {}, DeclKind::kAccount, 1000},
                            {"webhook", T::kUrl}}};
  return s;
}
const BlockSpec& TableSpec() {
  static const BlockSpec s{"`table` rule",
                           {{"where", T::kString},
                            {"ops", T::kEnumList, false, {"insert", "update", "delete", "ddl"}}}};
  return s;
}
const BlockSpec& ColumnSpec() {
  static const BlockSpec s{"`column` rule", {{"type", T::kString}}};
  return s;
}

const std::vector<const BlockSpec*>& AllSpecs() {
  static const std::vector<const BlockSpec*> all = {
      &AccountSpec(),  &RoleSpec(),     &EndpointSpec(), &TypemapSpec(), &MigrationSpec(),
      &ThrottleFullSpec(), &RetrySpec(), &VerifySpec(), &AlertSpec(), &TableSpec(), &ColumnSpec()};
  return all;
}

std::string Join(const std::vector<std::string_view>& words, std::string_view last = "or") {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? fmt::format(" {} ", last) : ", ";
    out += fmt::format("`{}`", words[i]);
  }
  return out;
}

std::string_view ValueKindWord(const ast::Value& v) {
  switch (v.kind) {
    case ast::ValueKind::kString: return "a string";
    case ast::ValueKind::kNumber: return "a number";
    case ast::ValueKind::kDuration: return "a duration";
    case ast::ValueKind::kSize: return "a size";
    case ast::ValueKind::kWord: return "a name";
    case ast::ValueKind::kList: return "a list";
    case ast::ValueKind::kCall: return "a call";
    case ast::ValueKind::kError: return "an invalid value";
  }
  return "a value";
}

// The attributes of one block that passed their checks, by name.
struct Attrs {
  std::map<std::string, const ast::Attribute*, std::less<>> ok;
  std::set<std::string, std::less<>> given;  // given at all, valid or not

  const ast::Attribute* Get(std::string_view name) const {
    auto it = ok.find(name);
    return it == ok.end() ? nullptr : it->second;
  }
  const ast::Value* Value(std::string_view name) const {
    const ast::Attribute* a = Get(name);
    return a == nullptr ? nullptr : &a->value;
  }
  bool Given(std::string_view name) const { return given.count(name) > 0; }
  std::string String(std::string_view name, std::string fallback = {}) const {
    const ast::Value* v = Value(name);
    return v == nullptr ? fallback : v->text;
  }
  bool Bool(std::string_view name, bool fallback) const {
    const ast::Value* v = Value(name);
    return v == nullptr ? fallback : v->text == "true";
  }
};

struct Declared {
  const ast::Declaration* decl;
  DeclKind kind;
  bool stdlib;
};

// ---------------------------------------------------------------------------------------

class Analyzer {
 public:
  Analyzer(Program& program, Diagnostics& diags) : program_(program), diags_(diags) {}

  ir::Plan Run() {
    plan_.root = program_.sources.file(program_.root).display;
    CollectDeclarations();
    for (const Declared& d : ordered_) {
      switch (d.kind) {
        case DeclKind::kAccount: BuildAccount(*d.decl); break;
        case DeclKind::kRole: BuildRole(*d.decl); break;
        case DeclKind::kEndpoint: BuildEndpoint(*d.decl); break;
        case DeclKind::kTypemap: BuildTypemap(*d.decl, d.stdlib); break;
        case DeclKind::kMigration: BuildMigration(*d.decl); break;
      }
    }
    CheckTypemaps();
    for (size_t i = 0; i < plan_.migrations.size(); ++i) CheckMigration(plan_.migrations[i], migration_attrs_[i]);
    return std::move(plan_);
  }

 private:
  // -- Names ------------------------------------------------------------------------------

  void CollectDeclarations() {
    for (const LoadedFile& f : program_.files) {
      if (!f.visible) continue;  // hidden stdlib files: their maps are used only as defaults
      const bool stdlib = program_.sources.file(f.ast.id).is_stdlib;
      for (const auto& item : f.ast.items) {
        const auto* d = std::get_if<ast::Declaration>(&item);
        if (d == nullptr) continue;
        std::optional<DeclKind> kind;
        for (DeclKind k : kAllKinds) {
          if (d->kind.text == KindWord(k)) kind = k;
        }
        if (!kind) {
          std::vector<std::string> words;
          for (DeclKind k : kAllKinds) words.emplace_back(KindWord(k));
          std::string hint = DidYouMean(d->kind.text, words);
          if (hint.empty()) hint = "a plan declares `account`, `role`, `endpoint`, `typemap` and `migration` blocks";
          diags_.Emit(DiagKind::kUnknownBlockKind, d->kind.span,
                      fmt::format("unknown block kind `{}`", d->kind.text), hint);
          continue;
        }
        if (d->base && *kind != DeclKind::kTypemap) {
          diags_.Emit(DiagKind::kMisplacedStatement, d->base->span,
                      fmt::format("{} `{}` cannot `extends`: only type maps extend one another", KindWord(*kind),
                                  d->name.text),
                      "declare every attribute in the block itself");
        }
        if (d->name.text.empty()) {
          diags_.Emit(DiagKind::kInvalidObjectName, d->name.span,
                      fmt::format("{} needs a name", KindWord(*kind)));
          continue;
        }
        auto& table = names_[*kind];
        if (auto it = table.find(d->name.text); it != table.end()) {
          diags_.Emit(DiagKind::kDuplicateName, d->name.span,
                      fmt::format("{} `{}` is declared twice", KindWord(*kind), d->name.text),
                      "rename one of them; names are unique per kind across a plan and its imports")
              .notes.push_back({it->second->name.span, "first declared here"});
          continue;
        }
        table[d->name.text] = d;
        ordered_.push_back(Declared{d, *kind, stdlib});
      }
    }
  }

  // Checks a reference's value names a declaration of `kind`. Returns the name or "".
  std::string Resolve(const ast::Value& v, DeclKind kind, std::string_view attr) {
    const std::string& name = v.text;
    if (names_[kind].count(name) > 0) return name;
    for (DeclKind other : kAllKinds) {
      if (other == kind || names_[other].count(name) == 0) continue;
      diags_.Emit(DiagKind::kWrongReferenceKind, v.span,
                  fmt::format("`{}` is {} {}, but `{}` needs {} {}", name, Article(KindWord(other)),
                              KindWord(other), attr, Article(KindWord(kind)), KindWord(kind)))
          .notes.push_back({names_[other][name]->name.span, fmt::format("`{}` is declared here", name)});
      return "";
    }
    std::vector<std::string> candidates;
    for (const auto& [n, _] : names_[kind]) candidates.push_back(n);
    std::string hint = DidYouMean(name, candidates);
    if (hint.empty() && kind == DeclKind::kTypemap && IsStdlibTypemap(name)) {
      hint = "the standard library's maps are in scope after `import \"std/typemaps\"`";
    }
    if (hint.empty()) {
      hint = candidates.empty() ? fmt::format("declare it: `{} {} {{ … }}`", KindWord(kind), name)
                                : fmt::format("declared {}s: {}", KindWord(kind),
                                              JoinNames(candidates));
    }
    diags_.Emit(DiagKind::kUnknownReference, v.span,
                fmt::format("no {} named `{}`", KindWord(kind), name), hint);
    return "";
  }

  static bool IsStdlibTypemap(std::string_view name) {
    for (const stdlib::EmbeddedFile& f : stdlib::Files()) {
      if (f.path == "typemaps/" + std::string(name) + ".ferry") return true;
    }
    return false;
  }

  static std::string JoinNames(const std::vector<std::string>& names) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < 8; ++i) {
      out += (i ? ", `" : "`") + names[i] + "`";
    }
    if (names.size() > 8) out += ", …";
    return out;
  }

  // -- Attributes -------------------------------------------------------------------------

  // Checks the attributes of `block` against `spec`. Members that are not attributes are
  // left to the caller. Required attributes are only demanded of blocks that parsed cleanly:
  // after a syntax error, a "missing" attribute is usually the line that failed to parse.
  Attrs CheckAttributes(const ast::Block& block, const BlockSpec& spec, Span owner) {
    Attrs attrs;
    std::map<std::string, const ast::Attribute*, std::less<>> first;
    for (const ast::Member& m : block.members) {
      const auto* a = std::get_if<ast::Attribute>(&m.node);
      if (a == nullptr) continue;
      const AttrSpec* as = nullptr;
      for (const AttrSpec& s : spec.attrs) {
        if (s.name == a->key.text) as = &s;
      }
      if (as == nullptr) {
        ReportUnknownAttribute(*a, spec);
        continue;
      }
      if (auto it = first.find(a->key.text); it != first.end()) {
        diags_.Emit(DiagKind::kDuplicateAttribute, a->key.span,
                    fmt::format("`{}` is given twice in this {}", a->key.text, spec.what),
                    "keep one of them")
            .notes.push_back({it->second->span, "first given here"});
        continue;
      }
      first[a->key.text] = a;
      attrs.given.insert(a->key.text);
      if (CheckValue(*a, *as)) attrs.ok[a->key.text] = a;
    }
    if (!BlockHasSyntaxErrors(block)) {
      for (const AttrSpec& s : spec.attrs) {
        if (s.required && first.count(s.name) == 0) {
          diags_.Emit(DiagKind::kMissingAttribute, owner,
                      fmt::format("{} needs `{}`", spec.what, s.name), RequiredHint(spec, s));
        }
      }
    }
    return attrs;
  }

  static std::string RequiredHint(const BlockSpec& spec, const AttrSpec& s) {
    if (s.name == "engine") return "add `engine = mysql` (or `mariadb`, `postgres`, `sqlserver`)";
    if (s.name == "id") return "add the account's numeric id as a string: `id = \"1234567890123456\"`";
    if (s.name == "trusts") return "list the accounts allowed to assume it: `trusts = [ops]`";
    if (spec.what == "migration" && (s.name == "from" || s.name == "to")) {
      return fmt::format("add `{} = <endpoint>`", s.name);
    }
    return {};
  }

  bool BlockHasSyntaxErrors(const ast::Block& block) const {
    if (block.span.file == kNoFile) return false;
    return program_.files[block.span.file].ast.HasSyntaxErrorIn(block.span);
  }

  void ReportUnknownAttribute(const ast::Attribute& a, const BlockSpec& spec) {
    std::vector<std::string> names;
    for (const AttrSpec& s : spec.attrs) names.emplace_back(s.name);
    std::string hint = DidYouMean(a.key.text, names);
    if (hint.empty()) {
      for (const BlockSpec* other : AllSpecs()) {
        if (other == &spec) continue;
        for (const AttrSpec& s : other->attrs) {
          if (s.name == a.key.text && hint.empty()) {
            hint = fmt::format("`{}` belongs to {} {}", a.key.text, Article(other->what), other->what);
          }
        }
      }
    }
    if (hint.empty() && spec.what == "`throttle incremental` block" && a.key.text == "source_qps") {
      hint = "`source_qps` applies to `throttle full` only";
    }
    if (hint.empty()) {
      std::vector<std::string_view> words;
      for (const AttrSpec& s : spec.attrs) words.push_back(s.name);
      hint = fmt::format("{} has {}", spec.what, Join(words, "and"));
    }
    diags_.Emit(DiagKind::kUnknownAttribute, a.key.span,
                fmt::format("{} has no attribute `{}`", spec.what, a.key.text), hint);
  }

  void WrongType(const ast::Attribute& a, std::string_view want, std::string hint = {}) {
    diags_.Emit(DiagKind::kWrongValueType, a.value.span,
                fmt::format("`{}` takes {}, found {}", a.key.text, want, ValueKindWord(a.value)),
                std::move(hint));
  }

  bool CheckValue(const ast::Attribute& a, const AttrSpec& s) {
    const ast::Value& v = a.value;
    if (v.kind == ast::ValueKind::kError) return false;  // already reported
    switch (s.type) {
      case T::kString:
        if (v.kind != ast::ValueKind::kString) {
          std::string hint;
          if (v.kind == ast::ValueKind::kNumber || v.kind == ast::ValueKind::kWord) {
            hint = fmt::format("write it as a string: `{} = \"{}\"`", a.key.text, v.text);
          }
          if (s.name == "id" && v.kind == ast::ValueKind::kNumber) {
            hint += "; long ids lose digits as numbers";
          }
          WrongType(a, "a string", hint);
          return false;
        }
        return CheckStringContent(a);
      case T::kUrl:
        if (v.kind != ast::ValueKind::kString) {
          WrongType(a, "a URL string");
          return false;
        }
        if (!IsUrl(v.text)) {
          diags_.Emit(DiagKind::kInvalidString, v.span,
                      fmt::format("`{}` must be an http:// or https:// URL", a.key.text),
                      fmt::format("for example `{} = \"https://host:port/path\"`", a.key.text));
          return false;
        }
        // The cloud API's requests carry the account's signed keys and its answers carry
        // temporary credentials: never in clear text across a network.
        if ((a.key.text == "sts_endpoint" || a.key.text == "rds_endpoint") && v.text.rfind("http://", 0) == 0 &&
            !ir::IsLoopbackUrl(v.text)) {
          diags_.Emit(DiagKind::kInvalidString, v.span,
                      fmt::format("`{}` is plain http: the cloud API's requests and answers carry credentials",
                                  a.key.text),
                      "use https://; plain http:// is allowed to a loopback address only (a local test server)");
          return false;
        }
        return true;
      case T::kInt:
      case T::kNumber: {
        if (v.kind != ast::ValueKind::kNumber) {
          std::string hint;
          if (v.kind == ast::ValueKind::kString) hint = fmt::format("write it without quotes: `{} = {}`", a.key.text, v.text);
          WrongType(a, s.type == T::kInt ? "a whole number" : "a number", hint);
          return false;
        }
        if (s.type == T::kInt && !v.integral) {
          WrongType(a, "a whole number", {});
          return false;
        }
        if (s.type == T::kInt && (v.number < static_cast<double>(s.min) || v.number > static_cast<double>(s.max))) {
          diags_.Emit(DiagKind::kValueOutOfRange, v.span,
                      fmt::format("`{}` must be between {} and {}, found {}", a.key.text, s.min, s.max, v.text));
          return false;
        }
        if (s.type == T::kNumber && s.min == 1 && v.number <= 0) {
          diags_.Emit(DiagKind::kValueOutOfRange, v.span,
                      fmt::format("`{}` must be greater than 0, found {}", a.key.text, v.text),
                      "remove the attribute for no limit");
          return false;
        }
        return true;
      }
      case T::kBool:
        if (v.kind != ast::ValueKind::kWord || (v.text != "true" && v.text != "false")) {
          WrongType(a, "`true` or `false`");
          return false;
        }
        return true;
      case T::kDuration: {
        if (v.kind == ast::ValueKind::kNumber) {
          diags_.Emit(DiagKind::kBareNumberForDuration, v.span,
                      fmt::format("`{}` is a duration; `{}` has no unit", a.key.text, v.text),
                      v.integral ? fmt::format("write `{}m` for minutes or `{}s` for seconds", v.text, v.text)
                                 : "add a unit: `ms`, `s`, `m`, `h` or `d`");
          return false;
        }
        if (v.kind != ast::ValueKind::kDuration) {
          WrongType(a, "a duration such as `30m`");
          return false;
        }
        if (v.millis < s.min || v.millis > s.max) {
          diags_.Emit(DiagKind::kValueOutOfRange, v.span,
                      s.max == LLONG_MAX
                          ? fmt::format("`{}` must be at least {}, found {}", a.key.text, ir::FormatDuration(s.min), v.text)
                          : fmt::format("`{}` must be between {} and {}, found {}", a.key.text,
                                        ir::FormatDuration(s.min), ir::FormatDuration(s.max), v.text));
          return false;
        }
        return true;
      }
      case T::kEnum:
        if (v.kind == ast::ValueKind::kString &&
            std::find(s.words.begin(), s.words.end(), v.text) != s.words.end()) {
          WrongType(a, "a word", fmt::format("write it without quotes: `{} = {}`", a.key.text, v.text));
          return false;
        }
        if (v.kind != ast::ValueKind::kWord) {
          WrongType(a, fmt::format("one of {}", Join(s.words)));
          return false;
        }
        return CheckWord(a.key.text, v, s.words);
      case T::kEnumList: {
        if (v.kind != ast::ValueKind::kList) {
          WrongType(a, "a list", fmt::format("write `{} = [{}]`", a.key.text, v.text));
          return false;
        }
        bool ok = true;
        std::map<std::string, const ast::Value*> seen;
        for (const ast::Value& item : v.items) {
          if (item.kind != ast::ValueKind::kWord) {
            diags_.Emit(DiagKind::kWrongValueType, item.span,
                        fmt::format("`{}` lists words, found {}", a.key.text, ValueKindWord(item)),
                        fmt::format("the words are {}", Join(s.words)));
            ok = false;
            continue;
          }
          if (!CheckWord(a.key.text, item, s.words)) {
            ok = false;
            continue;
          }
          if (auto [it, fresh] = seen.emplace(item.text, &item); !fresh) {
            diags_.Emit(DiagKind::kDuplicateListItem, item.span,
                        fmt::format("`{}` lists `{}` twice", a.key.text, item.text), "remove one")
                .notes.push_back({it->second->span, "first listed here"});
            ok = false;
          }
        }
        return ok;
      }
      case T::kRef:
        if (v.kind != ast::ValueKind::kWord) {
          WrongType(a, fmt::format("the name of {} {}", Article(KindWord(s.ref)), KindWord(s.ref)),
                    v.kind == ast::ValueKind::kString
                        ? fmt::format("references are bare names: `{} = {}`", a.key.text, v.text)
                        : "");
          return false;
        }
        return true;
      case T::kRefList: {
        if (v.kind != ast::ValueKind::kList) {
          WrongType(a, fmt::format("a list of {} names", KindWord(s.ref)),
                    fmt::format("write `{} = [{}]`", a.key.text, v.text));
          return false;
        }
        bool ok = true;
        std::map<std::string, const ast::Value*> seen;
        for (const ast::Value& item : v.items) {
          if (item.kind != ast::ValueKind::kWord) {
            diags_.Emit(DiagKind::kWrongValueType, item.span,
                        fmt::format("`{}` lists {} names, found {}", a.key.text, KindWord(s.ref), ValueKindWord(item)));
            ok = false;
          } else if (auto [it, fresh] = seen.emplace(item.text, &item); !fresh) {
            diags_.Emit(DiagKind::kDuplicateListItem, item.span,
                        fmt::format("`{}` lists `{}` twice", a.key.text, item.text), "remove one")
                .notes.push_back({it->second->span, "first listed here"});
            ok = false;
          }
        }
        if (ok && v.items.empty()) {
          diags_.Emit(DiagKind::kValueOutOfRange, v.span, fmt::format("`{}` is empty", a.key.text),
                      "list at least one account");
          ok = false;
        }
        return ok;
      }
      case T::kSecret:
        return CheckSecret(a);
    }
    return false;
  }

  bool CheckWord(std::string_view attr, const ast::Value& v, const std::vector<std::string_view>& words) {
    if (std::find(words.begin(), words.end(), v.text) != words.end()) return true;
    std::vector<std::string> cands(words.begin(), words.end());
    std::string hint = DidYouMean(v.text, cands);
    diags_.Emit(DiagKind::kUnknownEnumValue, v.span,
                fmt::format("`{}` is not a value of `{}`; expected {}", v.text, attr, Join(words)),
                hint);
    return false;
  }

  static bool IsUrl(std::string_view s) {
    for (std::string_view scheme : {"http://", "https://"}) {
      if (s.rfind(scheme, 0) == 0) {
        const std::string_view rest = s.substr(scheme.size());
        return !rest.empty() && rest[0] != '/' &&
               rest.find_first_of(" \t\n") == std::string_view::npos;
      }
    }
    return false;
  }

  bool CheckStringContent(const ast::Attribute& a) {
    const std::string& s = a.value.text;
    const std::string_view key = a.key.text;
    const bool must_be_nonempty = key == "host" || key == "instance" || key == "region" ||
                                  key == "database" || key == "user" || key == "name" ||
                                  key == "id" || key == "ca" || key == "tag";
    if (must_be_nonempty && s.empty()) {
      diags_.Emit(DiagKind::kInvalidString, a.value.span, fmt::format("`{}` is empty", key),
                  "remove the attribute or give it a value");
      return false;
    }
    if (key == "region") {
      for (char c : s) {
        if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-') {
          diags_.Emit(DiagKind::kInvalidString, a.value.span,
                      fmt::format("region `{}` is not a region id", s), "region ids look like `cn-hangzhou`");
          return false;
        }
      }
    }
    if (key == "host" && s.find_first_of(" /\t") != std::string::npos) {
      diags_.Emit(DiagKind::kInvalidString, a.value.span, fmt::format("`{}` is not a host name or address", s),
                  "give the port in `port`, not in `host`");
      return false;
    }
    return true;
  }

  bool CheckSecret(const ast::Attribute& a) {
    const ast::Value& v = a.value;
    if (v.kind == ast::ValueKind::kString || v.kind == ast::ValueKind::kWord || v.kind == ast::ValueKind::kNumber) {
      diags_.Emit(DiagKind::kLiteralSecret, v.span,
                  fmt::format("`{}` is written into the plan; plans live in version control", a.key.text),
                  fmt::format("read it at run time: `{} = secret(\"env:VAR\")` or `secret(\"file:/run/secrets/name\")`",
                              a.key.text))
          .redact = true;
      return false;
    }
    if (v.kind != ast::ValueKind::kCall || v.text != "secret") {
      WrongType(a, "`secret(\"env:VAR\")` or `secret(\"file:PATH\")`");
      return false;
    }
    if (v.items.size() != 1 || v.items[0].kind != ast::ValueKind::kString) {
      diags_.Emit(DiagKind::kMalformedSecret, v.span, "`secret` takes one string: the secret's source",
                  "write `secret(\"env:VAR\")` or `secret(\"file:PATH\")`");
      return false;
    }
    const std::string& ref = v.items[0].text;
    const size_t colon = ref.find(':');
    const std::string scheme = colon == std::string::npos ? "" : ref.substr(0, colon);
    if (scheme != "env" && scheme != "file") {
      // The reference is not the secret, but it may be one pasted by mistake: never echo it,
      // only a scheme that looks like one (a short word).
      const bool word_like = !scheme.empty() && scheme.size() <= 8 &&
                             std::all_of(scheme.begin(), scheme.end(), [](char c) { return std::islower(static_cast<unsigned char>(c)); });
      diags_.Emit(DiagKind::kUnknownSecretScheme, v.items[0].span,
                  colon == std::string::npos ? "a secret reference needs a scheme"
                  : word_like                ? fmt::format("unknown secret scheme `{}`", scheme)
                                             : "unknown secret scheme",
                  "the schemes are `env:` (an environment variable) and `file:` (a file's contents)")
          .redact = true;
      return false;
    }
    const std::string name = ref.substr(colon + 1);
    if (name.empty()) {
      diags_.Emit(DiagKind::kMalformedSecret, v.items[0].span,
                  fmt::format("`{}:` names no {}", scheme, scheme == "env" ? "variable" : "file"),
                  scheme == "env" ? "write `secret(\"env:SRC_PASSWORD\")`" : "write `secret(\"file:/run/secrets/src\")`");
      return false;
    }
    if (scheme == "env") {
      for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
          diags_.Emit(DiagKind::kMalformedSecret, v.items[0].span,
                      "an environment variable's name has only letters, digits and `_`");
          return false;
        }
      }
    }
    return true;
  }

  // Reports members of a block that are not attributes, where none are allowed.
  void RejectNonAttributes(const ast::Block& block, std::string_view what) {
    for (const ast::Member& m : block.members) {
      if (std::holds_alternative<ast::Attribute>(m.node)) continue;
      ReportMisplaced(m, what);
    }
  }

  void ReportMisplaced(const ast::Member& m, std::string_view where) {
    if (const auto* r = std::get_if<ast::ObjectRule>(&m.node)) {
      const std::string_view k = r->kind == ast::ObjectKind::kSchema ? "schema"
                                 : r->kind == ast::ObjectKind::kTable ? "table" : "column";
      const std::string_view home = r->kind == ast::ObjectKind::kSchema ? "`objects { … }`"
                                    : r->kind == ast::ObjectKind::kTable ? "a `schema` rule's block"
                                                                         : "a `table` rule's block";
      diags_.Emit(DiagKind::kMisplacedStatement, r->span,
                  fmt::format("{}{}` rule does not belong in {}", r->exclude ? "an `exclude " : "a `", k, where),
                  fmt::format("`{}` rules go inside {}", k, home));
    } else if (const auto* mr = std::get_if<ast::MapRule>(&m.node)) {
      diags_.Emit(DiagKind::kMisplacedStatement, mr->span, fmt::format("a `map` rule does not belong in {}", where),
                  "`map` rules go inside a `typemap` block");
    } else if (const auto* sb = std::get_if<ast::SubBlock>(&m.node)) {
      diags_.Emit(DiagKind::kMisplacedStatement, sb->kind.span,
                  fmt::format("a `{}` block does not belong in {}", sb->kind.text, where),
                  "`objects`, `throttle`, `retry`, `verify` and `alert` blocks go inside a `migration`");
    }
  }

  ir::Origin Origin(Span span) const { return ir::Origin{span, program_.sources.Location(span)}; }

  // -- Accounts, roles, endpoints ---------------------------------------------------------

  static std::optional<ir::Secret> SecretOf(const Attrs& attrs, std::string_view name) {
    const ast::Value* v = attrs.Value(name);
    if (v == nullptr) return std::nullopt;
    const std::string& ref = v->items[0].text;
    const size_t colon = ref.find(':');
    return ir::Secret{ref.substr(0, colon), ref.substr(colon + 1)};
  }

  void BuildAccount(const ast::Declaration& d) {
    RejectNonAttributes(d.body, "an `account`");
    const Attrs attrs = CheckAttributes(d.body, AccountSpec(), d.name.span);
    ir::Account a;
    a.name = d.name.text;
    a.origin = Origin(d.name.span);
    if (const ast::Value* id = attrs.Value("id")) {
      const bool digits = !id->text.empty() && std::all_of(id->text.begin(), id->text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      });
      if (!digits) {
        diags_.Emit(DiagKind::kAccountIdNotDigits, id->span,
                    fmt::format("account id `{}` is not all digits", id->text),
                    "an account id is the number shown in the cloud console, such as `1234567890123456`");
      }
      a.id = id->text;
    }
    a.access_key_id = SecretOf(attrs, "access_key_id");
    a.access_key_secret = SecretOf(attrs, "access_key_secret");
    a.sts_endpoint = attrs.String("sts_endpoint");
    a.rds_endpoint = attrs.String("rds_endpoint");
    plan_.accounts.push_back(std::move(a));
    account_keys_given_[d.name.text] = {attrs.Given("access_key_id"), attrs.Given("access_key_secret")};
  }

  void BuildRole(const ast::Declaration& d) {
    RejectNonAttributes(d.body, "a `role`");
    const Attrs attrs = CheckAttributes(d.body, RoleSpec(), d.name.span);
    ir::Role r;
    r.name = d.name.text;
    r.origin = Origin(d.name.span);
    if (const ast::Value* v = attrs.Value("account")) r.account = Resolve(*v, DeclKind::kAccount, "account");
    if (const ast::Value* v = attrs.Value("name")) {
      r.role_name = v->text;
      if (v->text == "AliyunDTSDefaultRole") {
        diags_.Emit(DiagKind::kDefaultServiceRole, v->span,
                    "role name \"AliyunDTSDefaultRole\" is the service's default role",
                    "create a dedicated role in the source account (e.g. \"ram-for-dts\") and name it here");
      } else if (v->text.rfind("acs:", 0) == 0) {
        std::string hint = "give the role's name only";
        if (const size_t slash = v->text.rfind('/'); slash != std::string::npos && slash + 1 < v->text.size()) {
          hint = fmt::format("give the role's name only: `name = \"{}\"`", v->text.substr(slash + 1));
        }
        diags_.Emit(DiagKind::kRoleNameIsArn, v->span, "role name is a resource name (ARN), not a role name", hint);
      }
    }
    if (const ast::Value* v = attrs.Value("trusts")) {
      for (const ast::Value& item : v->items) {
        const std::string n = Resolve(item, DeclKind::kAccount, "trusts");
        if (!n.empty()) r.trusts.push_back(n);
      }
      role_trusts_complete_[d.name.text] = r.trusts.size() == v->items.size();
    }
    if (const ast::Value* v = attrs.Value("external_id")) {
      const bool chars_ok = std::all_of(v->text.begin(), v->text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_+=,.@:/-").find(c) != std::string_view::npos;
      });
      if (v->text.size() < 2 || v->text.size() > 1224 || !chars_ok) {
        diags_.Emit(DiagKind::kInvalidExternalId, v->span,
                    !chars_ok ? "`external_id` has characters the cloud does not accept"
                              : fmt::format("`external_id` is {} characters long", v->text.size()),
                    "use 2 to 1,224 characters of letters, digits and `_+=,.@:/-`");
      }
      r.external_id = v->text;
    }
    if (const ast::Value* v = attrs.Value("session")) r.session_ms = v->millis;
    plan_.roles.push_back(std::move(r));
  }

  void BuildEndpoint(const ast::Declaration& d) {
    RejectNonAttributes(d.body, "an `endpoint`");
    const Attrs attrs = CheckAttributes(d.body, EndpointSpec(), d.name.span);
    ir::Endpoint e;
    e.name = d.name.text;
    e.origin = Origin(d.name.span);
    const std::string engine = attrs.String("engine");
    e.engine = EngineOf(engine);
    e.host = attrs.String("host");
    if (const ast::Value* v = attrs.Value("port")) e.port = static_cast<int>(v->number);
    e.instance = attrs.String("instance");
    e.region = attrs.String("region");
    e.network = attrs.String("network") == "public" ? ir::Network::kPublic : ir::Network::kPrivate;
    e.database = attrs.String("database");
    e.user = attrs.String("user");
    e.password = SecretOf(attrs, "password");
    const std::string tls = attrs.String("tls", "prefer");
    e.tls = tls == "disable" ? ir::Tls::kDisable
            : tls == "require" ? ir::Tls::kRequire
            : tls == "verify_ca" ? ir::Tls::kVerifyCa
            : tls == "verify_full" ? ir::Tls::kVerifyFull
                                   : ir::Tls::kPrefer;
    e.ca = attrs.String("ca");
    if (const ast::Value* v = attrs.Value("account")) e.account = Resolve(*v, DeclKind::kAccount, "account");
    if (const ast::Value* v = attrs.Value("assume")) e.assume = Resolve(*v, DeclKind::kRole, "assume");

    if (attrs.Value("engine") != nullptr && (e.engine == ir::Engine::kPostgres || e.engine == ir::Engine::kSqlserver) &&
        !attrs.Given("database") && !BlockHasSyntaxErrors(d.body)) {
      diags_.Emit(DiagKind::kDatabaseRequired, d.name.span,
                  fmt::format("{} endpoint `{}` needs `database`", engine, e.name),
                  "a postgres or sqlserver connection is to one database: add `database = \"…\"`");
    }
    if (!attrs.Given("host") && attrs.Given("instance") && !attrs.Given("region") && !BlockHasSyntaxErrors(d.body)) {
      diags_.Emit(DiagKind::kMissingAttribute, attrs.Get("instance") != nullptr ? attrs.Get("instance")->value.span : d.name.span,
                  fmt::format("endpoint `{}` is given by `instance`, which needs `region` to be resolved", e.name),
                  "add the instance's region, e.g. `region = \"cn-hangzhou\"`");
    }
    if (!attrs.Given("host") && !attrs.Given("instance") && !BlockHasSyntaxErrors(d.body)) {
      diags_.Emit(DiagKind::kEndpointWithoutAddress, d.name.span,
                  fmt::format("endpoint `{}` has neither `host` nor `instance`", e.name),
                  "give `host = \"…\"` (and `port`), or `instance = \"…\"` with `region` to resolve it through the cloud API");
    }
    if (e.tls == ir::Tls::kDisable && e.network == ir::Network::kPublic) {
      diags_.Emit(DiagKind::kTlsDisabledPublic, attrs.Get("tls")->value.span,
                  fmt::format("endpoint `{}` is reached over the public network without TLS", e.name),
                  "use `tls = verify_full` (with `ca`) or `require`");
    }
    if (!e.ca.empty() && e.tls != ir::Tls::kVerifyCa && e.tls != ir::Tls::kVerifyFull) {
      diags_.Emit(DiagKind::kCaWithoutVerify, attrs.Get("ca")->value.span,
                  fmt::format("`ca` is not used with `tls = {}`", tls),
                  "set `tls = verify_full` (or `verify_ca`) to check the server's certificate against it");
    }
    plan_.endpoints.push_back(std::move(e));
    endpoint_attrs_[d.name.text] = attrs;
  }

  // -- Type maps --------------------------------------------------------------------------

  static ir::Engine EngineOf(const std::string& s) {
    return s == "mariadb" ? ir::Engine::kMariadb
           : s == "postgres" ? ir::Engine::kPostgres
           : s == "sqlserver" ? ir::Engine::kSqlserver
                              : ir::Engine::kMysql;
  }

  void BuildTypemap(const ast::Declaration& d, bool stdlib) {
    const Attrs attrs = CheckAttributes(d.body, TypemapSpec(), d.name.span);
    ir::TypeMap m;
    m.name = d.name.text;
    m.stdlib = stdlib;
    m.origin = Origin(d.name.span);
    m.from = EngineOf(attrs.String("from"));
    m.to = EngineOf(attrs.String("to"));
    typemap_engines_known_[m.name] = attrs.Value("from") != nullptr && attrs.Value("to") != nullptr;
    if (d.base) m.base = d.base->text;
    const std::string zd = attrs.String("zero_dates");
    m.zero_dates = zd == "null" ? ir::ZeroDates::kNull
                   : zd == "error" ? ir::ZeroDates::kError
                   : zd == "keep" ? ir::ZeroDates::kKeep
                                  : ir::ZeroDates::kUnset;
    if (const ast::Attribute* a = attrs.Get("zero_dates"); a != nullptr && typemap_engines_known_[m.name]) {
      if (!ir::IsMysqlFamily(m.from)) {
        diags_.Emit(DiagKind::kZeroDatesNotMysql, a->value.span,
                    fmt::format("`zero_dates` applies to MySQL-family sources; this map is from `{}`", ir::Name(m.from)),
                    "remove it: only MySQL and MariaDB have zero dates");
      } else if (m.zero_dates == ir::ZeroDates::kKeep && !ir::IsMysqlFamily(m.to)) {
        diags_.Emit(DiagKind::kZeroDatesNotMysql, a->value.span,
                    fmt::format("`{}` cannot store zero dates, so they cannot be kept", ir::Name(m.to)),
                    "use `zero_dates = null` or `error`");
      }
    }

    std::vector<std::pair<TypePattern, const ast::MapRule*>> parsed;
    for (const ast::Member& mem : d.body.members) {
      if (std::holds_alternative<ast::Attribute>(mem.node)) continue;
      const auto* r = std::get_if<ast::MapRule>(&mem.node);
      if (r == nullptr) {
        ReportMisplaced(mem, "a `typemap`");
        continue;
      }
      m.rules.push_back(ir::TypeRule{r->pattern.text, r->target.text, m.name, Origin(r->span)});
      std::string error;
      std::optional<TypePattern> p = ParseTypePattern(r->pattern.text, &error);
      if (!p) {
        diags_.Emit(DiagKind::kInvalidTypePattern, r->pattern.span,
                    fmt::format("`{}` is not a type pattern: {}", r->pattern.text, error),
                    "patterns look like `\"int unsigned\"`, `\"decimal(p,s)\"`, `\"enum(*)\"`");
        continue;
      }
      if (!ParseSqlType(r->target.text, &error)) {
        diags_.Emit(DiagKind::kInvalidTypePattern, r->target.span,
                    fmt::format("`{}` is not a type: {}", r->target.text, error));
        continue;
      }
      for (const std::string& param : TargetParameters(r->target.text)) {
        const bool bound = param == "*" ? p->any_args
                                        : std::find(p->params.begin(), p->params.end(), param) != p->params.end();
        if (!bound) {
          diags_.Emit(DiagKind::kUnboundTypeParameter, r->target.span,
                      param == "*" ? "the target uses `*` but the pattern has no `(*)`"
                                   : fmt::format("the target uses `{}`, which the pattern does not bind", param),
                      param == "*" ? "write the pattern with `(*)`, as in `\"enum(*)\"`"
                                   : fmt::format("bind it in the pattern, as in `\"varchar({})\"`", param));
        }
      }
      for (const auto& [earlier, er] : parsed) {
        if (Subsumes(earlier, *p)) {
          diags_.Emit(DiagKind::kShadowedTypeRule, r->span,
                      fmt::format("`{}` never applies: an earlier rule of `{}` matches every type it matches",
                                  r->pattern.text, m.name),
                      "put specific rules before general ones")
              .notes.push_back({er->span, "this rule wins"});
          break;
        }
      }
      parsed.emplace_back(std::move(*p), r);
    }
    typemap_decls_[m.name] = &d;
    plan_.typemaps.push_back(std::move(m));
  }

  void CheckTypemaps() {
    for (ir::TypeMap& m : plan_.typemaps) {
      if (m.base.empty()) continue;
      const ast::Declaration& d = *typemap_decls_[m.name];
      ast::Value ref;
      ref.kind = ast::ValueKind::kWord;
      ref.text = m.base;
      ref.span = d.base->span;
      if (Resolve(ref, DeclKind::kTypemap, "extends").empty()) {
        m.base.clear();
        continue;
      }
      // A cycle is reported once, at the map that closes it.
      std::vector<std::string> chain = {m.name};
      for (const ir::TypeMap* cur = plan_.FindTypeMap(m.base); cur != nullptr; cur = plan_.FindTypeMap(cur->base)) {
        if (std::find(chain.begin(), chain.end(), cur->name) != chain.end()) {
          if (cur->name == m.name) {
            std::string path;
            for (const std::string& n : chain) path += "`" + n + "` extends ";
            path += "`" + m.name + "`";
            diags_.Emit(DiagKind::kExtendsCycle, d.base->span, fmt::format("type maps extend each other: {}", path),
                        "one of them must stand on its own");
          }
          break;
        }
        chain.push_back(cur->name);
      }
      const ir::TypeMap* base = plan_.FindTypeMap(m.base);
      if (base != nullptr && typemap_engines_known_[m.name] && typemap_engines_known_[base->name] &&
          (base->from != m.from || base->to != m.to)) {
        diags_.Emit(DiagKind::kExtendsEnginesMismatch, d.base->span,
                    fmt::format("`{}` maps {} to {}, but `{}` extends it to map {} to {}", base->name, ir::Name(base->from),
                                ir::Name(base->to), m.name, ir::Name(m.from), ir::Name(m.to)),
                    fmt::format("extend `{}_to_{}` instead", ir::Name(m.from), ir::Name(m.to)));
      }
    }
  }

  // -- Migrations -------------------------------------------------------------------------

  void BuildMigration(const ast::Declaration& d) {
    const Attrs attrs = CheckAttributes(d.body, MigrationSpec(), d.name.span);
    ir::Migration m;
    m.name = d.name.text;
    m.origin = Origin(d.name.span);
    if (const ast::Value* v = attrs.Value("from")) m.from = Resolve(*v, DeclKind::kEndpoint, "from");
    if (const ast::Value* v = attrs.Value("to")) m.to = Resolve(*v, DeclKind::kEndpoint, "to");
    if (const ast::Value* v = attrs.Value("account")) m.account = Resolve(*v, DeclKind::kAccount, "account");
    if (const ast::Value* v = attrs.Value("stages")) {
      m.types.clear();
      for (const char* t : {"schema", "full", "incremental"}) {
        for (const ast::Value& item : v->items) {
          if (item.text == t) {
            m.types.push_back(std::string_view(t) == "schema" ? ir::MigrationType::kSchema
                              : std::string_view(t) == "full" ? ir::MigrationType::kFull
                                                              : ir::MigrationType::kIncremental);
          }
        }
      }
      if (v->items.empty()) {
        diags_.Emit(DiagKind::kEmptyStages, v->span, "`stages` lists nothing, so the migration would do nothing",
                    "list what to migrate: `stages = [schema, full, incremental]`");
      }
    } else if (attrs.Given("stages")) {
      stages_invalid_.insert(m.name);
    }
    const std::string conflicts = attrs.String("conflicts", "report");
    m.conflicts = conflicts == "ignore" ? ir::Conflicts::kIgnore : ir::Conflicts::kReport;
    const std::string cap = attrs.String("capitalization", "keep");
    m.capitalization = cap == "lower" ? ir::Capitalization::kLower
                       : cap == "upper" ? ir::Capitalization::kUpper
                                        : ir::Capitalization::kKeep;
    const std::string trig = attrs.String("triggers", "after_full");
    m.triggers = trig == "none" ? ir::Triggers::kNone
                 : trig == "with_schema" ? ir::Triggers::kWithSchema
                                         : ir::Triggers::kAfterFull;
    m.events = attrs.Bool("events", false);
    m.assessment = attrs.Bool("assessment", false);
    const std::string od = attrs.String("online_ddl", "adapt_gh_ost");
    m.online_ddl = od == "copy_temp_tables" ? ir::OnlineDdl::kCopyTempTables
                   : od == "adapt_dms" ? ir::OnlineDdl::kAdaptDms
                                       : ir::OnlineDdl::kAdaptGhOst;
    if (const ast::Value* v = attrs.Value("workers")) m.workers = static_cast<int>(v->number);
    if (const ast::Value* v = attrs.Value("typemap")) m.typemap = Resolve(*v, DeclKind::kTypemap, "typemap");
    m.heartbeat = attrs.Bool("heartbeat", false);
    m.accounts = attrs.Bool("accounts", false);
    m.tag = attrs.String("tag");
    migration_attrs_.push_back(attrs);

    bool has_objects = false;
    for (const ast::Member& mem : d.body.members) {
      if (std::holds_alternative<ast::Attribute>(mem.node)) continue;
      const auto* sb = std::get_if<ast::SubBlock>(&mem.node);
      if (sb == nullptr) {
        ReportMisplaced(mem, "a `migration`");
        continue;
      }
      BuildMigrationBlock(m, *sb, has_objects);
    }
    if (!has_objects && !BlockHasSyntaxErrors(d.body)) {
      diags_.Emit(DiagKind::kObjectsRequired, d.name.span, fmt::format("migration `{}` has no `objects` block", m.name),
                  "say what to migrate, e.g. `objects { schema shop }`");
    }
    plan_.migrations.push_back(std::move(m));
  }

  void BuildMigrationBlock(ir::Migration& m, const ast::SubBlock& sb, bool& has_objects) {
    const std::string& k = sb.kind.text;
    const std::string qual = sb.qualifier ? sb.qualifier->text : "";
    auto no_qualifier = [&]() {
      if (!sb.qualifier) return true;
      diags_.Emit(DiagKind::kMisplacedStatement, sb.qualifier->span,
                  fmt::format("`{}` takes no qualifier", k), fmt::format("write `{} {{ … }}`", k));
      return false;
    };
    auto once = [&](bool seen) {
      if (!seen) return true;
      diags_.Emit(DiagKind::kDuplicateAttribute, sb.kind.span,
                  fmt::format("migration `{}` has two `{}{}` blocks", m.name, k, qual.empty() ? "" : " " + qual),
                  "merge them into one");
      return false;
    };
    if (k == "objects") {
      if (!no_qualifier() || !once(has_objects)) return;
      has_objects = true;
      objects_blocks_[m.name] = &sb;
    } else if (k == "throttle") {
      if (qual != "full" && qual != "incremental") {
        diags_.Emit(DiagKind::kUnknownEnumValue, sb.qualifier ? sb.qualifier->span : sb.kind.span,
                    sb.qualifier ? fmt::format("`throttle {}` is not a throttle", qual) : "`throttle` needs a stage",
                    "write `throttle full { … }` or `throttle incremental { … }`");
        return;
      }
      const bool full = qual == "full";
      if (!once(full ? m.throttle_full.has_value() : m.throttle_incremental.has_value())) return;
      RejectNonAttributes(sb.body, fmt::format("a `throttle {}` block", qual));
      const Attrs a = CheckAttributes(sb.body, full ? ThrottleFullSpec() : ThrottleIncrementalSpec(), sb.kind.span);
      ir::Throttle t;
      t.origin = Origin(sb.span);
      if (const ast::Value* v = a.Value("source_qps")) t.source_qps = v->number;
      if (const ast::Value* v = a.Value("rows_per_s")) t.rows_per_s = v->number;
      if (const ast::Value* v = a.Value("mb_per_s")) t.mb_per_s = v->number;
      (full ? m.throttle_full : m.throttle_incremental) = t;
    } else if (k == "retry") {
      if (!no_qualifier() || !once(retry_blocks_.count(m.name) > 0)) return;
      RejectNonAttributes(sb.body, "a `retry` block");
      const Attrs a = CheckAttributes(sb.body, RetrySpec(), sb.kind.span);
      m.retry.origin = Origin(sb.span);
      if (const ast::Value* v = a.Value("connection")) m.retry.connection_ms = v->millis;
      if (const ast::Value* v = a.Value("other")) m.retry.other_ms = v->millis;
      retry_blocks_[m.name] = a;
    } else if (k == "verify") {
      if (!no_qualifier() || !once(m.verify.has_value())) return;
      RejectNonAttributes(sb.body, "a `verify` block");
      const Attrs a = CheckAttributes(sb.body, VerifySpec(), sb.kind.span);
      ir::Verify v;
      v.origin = Origin(sb.span);
      const std::string mode = a.String("mode", "checksum");
      v.mode = mode == "count" ? ir::VerifyMode::kCount : mode == "rows" ? ir::VerifyMode::kRows : ir::VerifyMode::kChecksum;
      verify_after_[m.name] = a.Get("after");
      m.verify = v;
    } else if (k == "alert") {
      if (!no_qualifier() || !once(m.alert.has_value())) return;
      RejectNonAttributes(sb.body, "an `alert` block");
      const Attrs a = CheckAttributes(sb.body, AlertSpec(), sb.kind.span);
      ir::Alert al;
      al.origin = Origin(sb.span);
      al.on_failure = a.Bool("on_failure", true);
      if (const ast::Value* v = a.Value("lag_over")) al.lag_over_ms = v->millis;
      al.webhook = a.String("webhook");
      alert_lag_[m.name] = a.Get("lag_over");
      m.alert = al;
    } else {
      std::string hint = DidYouMean(k, {"objects", "throttle", "retry", "verify", "alert"});
      if (hint.empty()) hint = "a migration has `objects`, `throttle full`, `throttle incremental`, `retry`, `verify` and `alert` blocks";
      diags_.Emit(DiagKind::kMisplacedStatement, sb.kind.span,
                  fmt::format("a `{}` block does not belong in a `migration`", k), hint);
    }
  }

  // The relations between blocks that only a migration decides: who runs it, whether it may
  // reach its endpoints, and which options fit its stages, engines and type map.
  void CheckMigration(ir::Migration& m, const Attrs& attrs) {
    const ir::Endpoint* from = plan_.FindEndpoint(m.from);
    const ir::Endpoint* to = plan_.FindEndpoint(m.to);
    const bool stages_known = stages_invalid_.count(m.name) == 0;
    const bool schema = m.Has(ir::MigrationType::kSchema);
    const bool full = m.Has(ir::MigrationType::kFull);
    const bool incremental = m.Has(ir::MigrationType::kIncremental);

    if (from != nullptr) m.from_engine = from->engine;
    if (to != nullptr) m.to_engine = to->engine;
    if (from != nullptr && to != nullptr && from == to) {
      diags_.Emit(DiagKind::kSameEndpoint, attrs.Get("to")->value.span,
                  fmt::format("migration `{}` reads from and writes to the same endpoint `{}`", m.name, m.from),
                  "`to` must name another endpoint");
    }

    // -- Accounts: who runs the task, and may it reach each endpoint? --
    if (m.account.empty() && to != nullptr) m.account = to->account;
    for (const ir::Endpoint* e : {from, to}) {
      if (e == nullptr) continue;
      CheckEndpointAccess(m, *e);
    }

    // -- Stages --
    if (stages_known) {
      if (const ast::Attribute* a = attrs.Get("triggers"); a != nullptr && !(schema && incremental)) {
        diags_.Emit(DiagKind::kTriggersNeedSchemaAndIncremental, a->key.span,
                    "`triggers` applies only when both `schema` and `incremental` are staged",
                    "without incremental migration triggers are created with the schema; remove `triggers`");
      }
      if (m.throttle_full && !full) {
        diags_.Emit(DiagKind::kThrottleFullWithoutFull, m.throttle_full->origin.span,
                    "`throttle full` limits the full load, but `full` is not staged",
                    "add `full` to `stages` or remove the block");
      }
      if (m.throttle_incremental && !incremental) {
        diags_.Emit(DiagKind::kThrottleIncrementalWithoutIncremental, m.throttle_incremental->origin.span,
                    "`throttle incremental` limits the incremental stage, but `incremental` is not staged",
                    "add `incremental` to `stages` or remove the block");
      }
      if (const ast::Attribute* a = attrs.Get("assessment"); a != nullptr && m.assessment && !schema) {
        diags_.Emit(DiagKind::kAssessmentWithoutSchema, a->key.span,
                    "`assessment` assesses schema migration, but `schema` is not staged",
                    "add `schema` to `stages` or remove `assessment`");
      }
      if (!incremental) {
        if (const ast::Attribute* a = attrs.Get("heartbeat"); a != nullptr && m.heartbeat) {
          diags_.Emit(DiagKind::kOptionWithoutIncremental, a->key.span,
                      "`heartbeat` measures incremental lag, but `incremental` is not staged", "remove it");
        }
        if (const ast::Attribute* a = attrs.Get("online_ddl")) {
          diags_.Emit(DiagKind::kOptionWithoutIncremental, a->key.span,
                      "`online_ddl` concerns DDL replicated by the incremental stage, which is not staged",
                      "remove it");
        }
        if (auto it = alert_lag_.find(m.name); it != alert_lag_.end() && it->second != nullptr) {
          diags_.Emit(DiagKind::kOptionWithoutIncremental, it->second->key.span,
                      "`lag_over` alerts on incremental lag, but `incremental` is not staged", "remove it");
        }
      }
      if (m.verify) {
        const ast::Attribute* after = verify_after_[m.name];
        const std::string word = after != nullptr ? after->value.text : (full ? "full" : "incremental");
        m.verify->after = word == "incremental" ? ir::VerifyAfter::kIncremental
                          : word == "both"      ? ir::VerifyAfter::kBoth
                                                : ir::VerifyAfter::kFull;
        const bool ok = (word == "full" && full) || (word == "incremental" && incremental) ||
                        (word == "both" && full && incremental);
        if (!ok && (full || incremental)) {
          diags_.Emit(DiagKind::kVerifyAfterNotStaged, after != nullptr ? after->value.span : m.verify->origin.span,
                      word == "both" ? "`verify.after = both` needs both `full` and `incremental` staged"
                                     : fmt::format("`verify.after = {}`, but `{}` is not staged", word, word),
                      full ? "use `after = full`" : "use `after = incremental`");
        } else if (!full && !incremental) {
          diags_.Emit(DiagKind::kVerifyAfterNotStaged, m.verify->origin.span,
                      "`verify` compares data, but neither `full` nor `incremental` is staged",
                      "remove the `verify` block from a schema-only migration");
        }
      }
    }
    if (from != nullptr && !ir::IsMysqlFamily(from->engine)) {
      if (const ast::Attribute* a = attrs.Get("online_ddl")) {
        diags_.Emit(DiagKind::kOnlineDdlNotMysql, a->key.span,
                    fmt::format("`online_ddl` is about MySQL online-DDL tools, but the source is {}", ir::Name(from->engine)),
                    "remove it");
      }
    }
    for (std::string_view opt : {"events", "accounts"}) {
      const ast::Attribute* a = attrs.Get(opt);
      if (a == nullptr || a->value.text != "true" || from == nullptr || to == nullptr) continue;
      if (!ir::IsMysqlFamily(from->engine) || !ir::IsMysqlFamily(to->engine)) {
        diags_.Emit(DiagKind::kMysqlOnlyOption, a->key.span,
                    fmt::format("`{}` migrates MySQL {}, but this migration is {} to {}", opt,
                                opt == "events" ? "events" : "accounts and grants", ir::Name(from->engine),
                                ir::Name(to->engine)),
                    "remove it; both endpoints must be `mysql` or `mariadb`");
      }
    }
    if (const ast::Attribute* a = attrs.Get("conflicts"); a != nullptr && m.conflicts == ir::Conflicts::kIgnore) {
      diags_.Emit(DiagKind::kConflictsIgnore, a->value.span,
                  "`conflicts = ignore` proceeds over tables that already exist in the destination",
                  "during full load a row whose key exists keeps the destination's version; during incremental "
                  "the destination's row is overwritten — rename with `objects` rules if you can");
    }

    // -- Retry --
    if (auto it = retry_blocks_.find(m.name); it != retry_blocks_.end()) {
      const Attrs& ra = it->second;
      if (ra.Given("connection") == (ra.Value("connection") != nullptr) &&
          ra.Given("other") == (ra.Value("other") != nullptr)) {
        if (m.retry.other_ms >= m.retry.connection_ms) {
          const ast::Attribute* other = ra.Get("other");
          diags_.Emit(DiagKind::kRetryOtherNotLess,
                      other != nullptr ? other->value.span : ra.Get("connection")->value.span,
                      fmt::format("`other` ({}) must be less than `connection` ({})", ir::FormatDuration(m.retry.other_ms),
                                  ir::FormatDuration(m.retry.connection_ms)),
                      "a connection failure may need longer to heal than a failed statement");
        } else {
          if (const ast::Attribute* c = ra.Get("connection"); c != nullptr && m.retry.connection_ms < 30 * kMinute) {
            diags_.Emit(DiagKind::kShortRetryWindow, c->value.span,
                        fmt::format("retrying failed connections for only {}", ir::FormatDuration(m.retry.connection_ms)),
                        "at least 30m is recommended: a failover or a network change can take that long");
          }
          if (const ast::Attribute* o = ra.Get("other"); o != nullptr && m.retry.other_ms < 10 * kMinute) {
            diags_.Emit(DiagKind::kShortRetryWindow, o->value.span,
                        fmt::format("retrying other failures for only {}", ir::FormatDuration(m.retry.other_ms)),
                        "at least 10m is recommended");
          }
        }
      }
    }

    // -- Type map --
    if (from != nullptr && to != nullptr) {
      const std::string pair = fmt::format("{}_to_{}", ir::Name(from->engine), ir::Name(to->engine));
      const bool defaulted = attrs.Value("typemap") == nullptr && !attrs.Given("typemap");
      if (defaulted) {
        m.typemap = pair;
        UsePreludeMap(pair);
      }
      // Checked whichever map is in effect: a plan map named like a stdlib map becomes the
      // default for its pair, and must then map that pair.
      if (const ir::TypeMap* tm = plan_.FindTypeMap(m.typemap);
          tm != nullptr && typemap_engines_known_[tm->name] && (tm->from != from->engine || tm->to != to->engine)) {
        diags_.Emit(DiagKind::kTypemapEnginesMismatch,
                    defaulted ? m.origin.span : attrs.Get("typemap")->value.span,
                    fmt::format("type map `{}` maps {} to {}, but migration `{}` is {} to {}", tm->name,
                                ir::Name(tm->from), ir::Name(tm->to), m.name, ir::Name(from->engine), ir::Name(to->engine)),
                    defaulted ? fmt::format("`{}` is used because it has the name of the default map for this pair; rename it", tm->name)
                              : fmt::format("use a map from `{}` to `{}`, such as one that extends `{}`", ir::Name(from->engine),
                                            ir::Name(to->engine), pair))
            .notes.push_back({tm->origin.span, "the map is declared here"});
      }
    }

    // -- Objects --
    if (auto it = objects_blocks_.find(m.name); it != objects_blocks_.end()) {
      CheckObjects(m, *it->second, incremental, stages_known);
    }
  }

  // The stdlib map for an engine pair, loaded on demand when the plan did not import it.
  void UsePreludeMap(const std::string& name) {
    if (plan_.FindTypeMap(name) != nullptr) return;
    if (prelude_typemaps_.count(name) == 0) {
      Diagnostics quiet;  // the stdlib is checked by its own tests
      const FileId id = LoadHiddenStdlib(program_, "typemaps/" + name + ".ferry", quiet);
      if (id == kNoFile) return;
      for (const auto& item : program_.files[id].ast.items) {
        if (const auto* d = std::get_if<ast::Declaration>(&item); d != nullptr && d->kind.text == "typemap") {
          prelude_typemaps_[d->name.text] = d;
        }
      }
    }
    auto it = prelude_typemaps_.find(name);
    if (it == prelude_typemaps_.end()) return;
    // Build it quietly: the stdlib is checked by its own tests.
    Diagnostics quiet;
    std::swap(quiet, diags_);
    BuildTypemap(*it->second, true);
    std::swap(quiet, diags_);
  }

  void CheckEndpointAccess(const ir::Migration& m, const ir::Endpoint& e) {
    const Attrs& ea = endpoint_attrs_[e.name];
    const bool other_account = !e.account.empty() && e.account != m.account;
    const std::string runner = m.account.empty() ? "the migration's own" : fmt::format("`{}`", m.account);
    if (reported_access_.count({m.name, e.name}) > 0) return;
    reported_access_.insert({m.name, e.name});

    if (other_account && e.assume.empty() && !ea.Given("assume")) {
      diags_.Emit(DiagKind::kCrossAccountWithoutAssume, ea.Get("account")->value.span,
                  fmt::format("endpoint `{}` belongs to account `{}`, but migration `{}` runs as {}", e.name,
                              e.account, m.name, m.account.empty() ? "an undeclared account" : "account " + runner),
                  fmt::format("add `assume = <role>` with a role of account `{}` that trusts {}", e.account,
                              m.account.empty() ? "the migrating account" : runner))
          .notes.push_back({m.origin.span, "the migration is declared here"});
    }
    if (!e.assume.empty()) {
      const ir::Role* role = plan_.FindRole(e.assume);
      const Span at = ea.Get("assume")->value.span;
      if (!other_account) {
        diags_.Emit(DiagKind::kNeedlessAssume, at,
                    fmt::format("endpoint `{}` belongs to the migrating account, so `assume` is not needed", e.name),
                    "remove `assume`; roles are for reaching another account's instances");
      } else if (role != nullptr) {
        if (!role->account.empty() && role->account != e.account) {
          diags_.Emit(DiagKind::kRoleAccountMismatch, at,
                      fmt::format("role `{}` belongs to account `{}`, but endpoint `{}` is in account `{}`", role->name,
                                  role->account, e.name, e.account),
                      fmt::format("assume a role created in account `{}`", e.account))
              .notes.push_back({role->origin.span, "the role is declared here"});
        }
        const bool trusts_complete = role_trusts_complete_.count(role->name) > 0 && role_trusts_complete_[role->name];
        const bool trusted = !m.account.empty() &&
                             std::find(role->trusts.begin(), role->trusts.end(), m.account) != role->trusts.end();
        if (!trusted && trusts_complete) {
          diags_.Emit(DiagKind::kRoleDoesNotTrust, at,
                      m.account.empty()
                          ? fmt::format("role `{}` can only be assumed by a declared account, but migration `{}` declares none",
                                        role->name, m.name)
                          : fmt::format("role `{}` does not trust account `{}`, which runs migration `{}`", role->name,
                                        m.account, m.name),
                      m.account.empty() ? "set `account = <account>` on the migration or on its `to` endpoint"
                                        : fmt::format("add `{}` to the role's `trusts` (its trust policy)", m.account))
              .notes.push_back({role->origin.span, "the role is declared here"});
        }
      }
    }
    if (e.host.empty() && !e.instance.empty() && !ea.Given("host")) {
      const std::string& runner_name = m.account;
      const auto keys = account_keys_given_.find(runner_name);
      const bool has_keys = keys != account_keys_given_.end() && keys->second.first && keys->second.second;
      if (!has_keys) {
        diags_.Emit(DiagKind::kInstanceWithoutKeys, ea.Get("instance")->value.span,
                    fmt::format("endpoint `{}` is given by `instance`, which is resolved through the cloud API, but {} has no API keys",
                                e.name, runner_name.empty() ? "the migration declares no account, so it" : fmt::format("account `{}`", runner_name)),
                    runner_name.empty()
                        ? "set `account =` on the migration, and give that account `access_key_id` and `access_key_secret`"
                        : fmt::format("give account `{}` `access_key_id = secret(\"env:…\")` and `access_key_secret = secret(\"env:…\")`, or give the endpoint a `host`",
                                      runner_name));
      }
    }
  }

  // -- Objects ----------------------------------------------------------------------------

  std::string Capitalize(const std::string& s, ir::Capitalization c) const {
    std::string out = s;
    if (c == ir::Capitalization::kKeep) return out;
    for (char& ch : out) {
      ch = static_cast<char>(c == ir::Capitalization::kLower ? std::tolower(static_cast<unsigned char>(ch))
                                                             : std::toupper(static_cast<unsigned char>(ch)));
    }
    return out;
  }

  // Checks one level of rules (schemas, or one schema's tables, or one table's columns):
  // names, globs, shadowing and destination collisions.
  void CheckRuleLevel(const std::vector<const ast::ObjectRule*>& rules, const ir::Migration& m,
                      std::string_view kind_word) {
    std::unordered_map<std::string, const ast::ObjectRule*> literal_rules;
    std::vector<const ast::ObjectRule*> glob_rules;
    std::unordered_map<std::string, const ast::ObjectRule*> dests;
    for (const ast::ObjectRule* r : rules) {
      const std::string& src = r->source.text;
      if (src.empty()) {
        diags_.Emit(DiagKind::kInvalidObjectName, r->source.span, fmt::format("{} name is empty", kind_word),
                    "name the object, or `\"*\"` for all");
        continue;
      }
      if (r->target && r->target->text.empty()) {
        diags_.Emit(DiagKind::kInvalidObjectName, r->target->span, fmt::format("rename target of {} `{}` is empty", kind_word, src),
                    "give the destination name, or remove `->` to keep the name");
        continue;
      }
      // Shadowing: a literal earlier rule shadows only the same name (a hash lookup); glob
      // rules, usually few, are checked by language inclusion. Keeps 10,000 rules linear.
      const ast::ObjectRule* shadow = nullptr;
      if (auto it = literal_rules.find(src); it != literal_rules.end()) shadow = it->second;
      for (size_t g = 0; shadow == nullptr && g < glob_rules.size(); ++g) {
        if (GlobSubsumes(glob_rules[g]->source.text, src)) shadow = glob_rules[g];
      }
      const bool shadowed = shadow != nullptr;
      if (shadowed) {
        const bool same = shadow->source.text == src;
        diags_.Emit(DiagKind::kShadowedRule, r->span,
                    same ? fmt::format("{} `{}` has a rule already; this one never applies", kind_word, src)
                         : fmt::format("this rule never applies: `{}` matches every {} `{}` matches",
                                       shadow->source.text, kind_word, src),
                    same ? "merge the two rules" : "rules are read in order and the first match decides: move this rule above it")
            .notes.push_back({shadow->span, "the earlier rule"});
      }
      if (HasGlob(src)) {
        glob_rules.push_back(r);
      } else {
        literal_rules.emplace(src, r);
      }
      if (shadowed || r->exclude) continue;

      // Globs in the rename target must carry the source's `*`s.
      std::string dest;
      if (r->target) {
        const std::string& tgt = r->target->text;
        const size_t src_stars = StarCount(src), tgt_stars = StarCount(tgt);
        const bool src_q = src.find('?') != std::string::npos;
        if (tgt.find('?') != std::string::npos) {
          diags_.Emit(DiagKind::kGlobTargetMismatch, r->target->span, "a rename target cannot hold `?`",
                      "use `*` in both source and target to carry a part of the name");
          continue;
        }
        if (HasGlob(src) && (src_q || src_stars != tgt_stars)) {
          diags_.Emit(DiagKind::kGlobTargetMismatch, r->target->span,
                      tgt_stars == 0 ? fmt::format("every {} `{}` matches would be renamed to the one name `{}`", kind_word, src, tgt)
                      : src_q        ? fmt::format("the part `?` matches in `{}` cannot be carried to `{}`", src, tgt)
                                     : fmt::format("`{}` has {} `*` but its target `{}` has {}", src, src_stars, tgt, tgt_stars),
                      "give the target as many `*` as the source, each taking the text its source `*` matched");
          continue;
        }
        if (!HasGlob(src) && tgt_stars > 0) {
          diags_.Emit(DiagKind::kGlobTargetMismatch, r->target->span,
                      fmt::format("`{}` names one {}, but its target `{}` is a glob", src, kind_word, tgt),
                      "give the new name in full");
          continue;
        }
        dest = HasGlob(tgt) ? "" : tgt;
      } else {
        dest = HasGlob(src) ? "" : Capitalize(src, m.capitalization);
      }
      if (dest.empty()) continue;
      if (auto [it, fresh] = dests.emplace(dest, r); !fresh) {
        diags_.Emit(DiagKind::kDestinationCollision, r->target ? r->target->span : r->source.span,
                    fmt::format("{} `{}` and {} `{}` would both become `{}` in the destination", kind_word,
                                it->second->source.text, kind_word, src, dest),
                    "rename one of them with `->`")
            .notes.push_back({it->second->span, "the other rule"});
      }
    }
  }

  void CheckFilter(const ast::Attribute& a, bool mysql_source) {
    const std::string& w = a.value.text;
    std::string problem;
    int depth = 0;
    char quote = 0;
    bool blank = true;
    for (size_t i = 0; i < w.size(); ++i) {
      const char c = w[i];
      if (!std::isspace(static_cast<unsigned char>(c))) blank = false;
      if (quote != 0) {
        if (c == '\\' && mysql_source) ++i;  // MySQL strings take backslash escapes
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '\'' || c == '"' || c == '`') quote = c;
      else if (c == '#' && mysql_source) { problem = "it holds `#`, which starts a comment in MySQL"; break; }
      else if (c == '(') ++depth;
      else if (c == ')' && --depth < 0) { problem = "a `)` closes nothing"; break; }
      else if (c == ';') { problem = "it holds `;`, which would end the statement"; break; }
      else if ((c == '-' && i + 1 < w.size() && w[i + 1] == '-') || (c == '/' && i + 1 < w.size() && w[i + 1] == '*')) {
        problem = "it holds an SQL comment, which could hide the rest of the query";
        break;
      }
    }
    if (problem.empty()) {
      if (blank) problem = "it is empty";
      else if (quote != 0) problem = fmt::format("a `{}` is never closed", quote);
      else if (depth > 0) problem = "a `(` is never closed";
    }
    if (!problem.empty()) {
      diags_.Emit(DiagKind::kInvalidFilter, a.value.span, fmt::format("`where` is not one SQL expression: {}", problem),
                  "write one boolean expression in the source engine's SQL, e.g. `where = \"created_at >= '2024-01-01'\"`");
    }
  }

  void CheckObjects(ir::Migration& m, const ast::SubBlock& objects, bool incremental, bool stages_known) {
    std::vector<const ast::ObjectRule*> schemas;
    for (const ast::Member& mem : objects.body.members) {
      const auto* r = std::get_if<ast::ObjectRule>(&mem.node);
      if (r != nullptr && r->kind == ast::ObjectKind::kSchema) {
        schemas.push_back(r);
      } else {
        if (const auto* a = std::get_if<ast::Attribute>(&mem.node)) {
          diags_.Emit(DiagKind::kUnknownAttribute, a->key.span,
                      fmt::format("`objects` has no attribute `{}`", a->key.text),
                      "`where`, `ops` and `type` go inside a `table` or `column` rule");
        } else {
          ReportMisplaced(mem, "`objects` (only `schema` rules do)");
        }
      }
    }
    CheckRuleLevel(schemas, m, "schema");
    bool selects_any = false;
    for (const ast::ObjectRule* s : schemas) {
      ir::SchemaRule sr;
      sr.exclude = s->exclude;
      sr.source = s->source.text;
      sr.target = s->target ? s->target->text : "";
      sr.whole = !s->body.has_value();
      sr.origin = Origin(s->span);
      if (!s->exclude && !s->body) selects_any = true;
      if (s->body) {
        std::vector<const ast::ObjectRule*> tables;
        for (const ast::Member& mem : s->body->members) {
          const auto* r = std::get_if<ast::ObjectRule>(&mem.node);
          if (r != nullptr && r->kind == ast::ObjectKind::kTable) {
            tables.push_back(r);
          } else if (const auto* a = std::get_if<ast::Attribute>(&mem.node)) {
            diags_.Emit(DiagKind::kUnknownAttribute, a->key.span,
                        fmt::format("a `schema` rule has no attribute `{}`", a->key.text),
                        "`where` and `ops` go inside a `table` rule");
          } else {
            ReportMisplaced(mem, "a `schema` rule (only `table` rules do)");
          }
        }
        CheckRuleLevel(tables, m, "table");
        bool any_table = false;
        for (const ast::ObjectRule* t : tables) {
          sr.tables.push_back(BuildTableRule(*t, m, incremental, stages_known));
          if (!t->exclude) any_table = true;
        }
        if (any_table && !s->exclude) {
          selects_any = true;
          diags_.Emit(DiagKind::kPartialSchemaNote, s->source.span,
                      fmt::format("tables of schema `{}` are selected one by one, so its views, triggers and routines are not migrated",
                                  s->source.text),
                      fmt::format("to migrate them too, select the whole schema: `schema {}` without a block", s->source.quoted ? "\"" + s->source.text + "\"" : s->source.text));
        }
      }
      m.objects.push_back(std::move(sr));
    }
    if (!selects_any) {
      diags_.Emit(DiagKind::kSelectsNothing, objects.kind.span, fmt::format("migration `{}` selects no objects", m.name),
                  "`exclude` rules only carve out of rules that follow them: add one such as `schema \"*\"` after them");
    }
  }

  ir::TableRule BuildTableRule(const ast::ObjectRule& t, const ir::Migration& m, bool incremental, bool stages_known) {
    ir::TableRule tr;
    tr.exclude = t.exclude;
    tr.source = t.source.text;
    tr.target = t.target ? t.target->text : "";
    tr.origin = Origin(t.span);
    if (!t.body) return tr;
    const Attrs a = CheckAttributes(*t.body, TableSpec(), t.source.span);
    if (const ast::Attribute* w = a.Get("where")) {
      CheckFilter(*w, ir::IsMysqlFamily(m.from_engine));
      tr.where = w->value.text;
    }
    if (const ast::Attribute* ops = a.Get("ops")) {
      tr.ops.clear();
      for (const char* o : {"insert", "update", "delete", "ddl"}) {
        for (const ast::Value& item : ops->value.items) {
          if (item.text == o) {
            tr.ops.push_back(std::string_view(o) == "insert"   ? ir::Op::kInsert
                             : std::string_view(o) == "update" ? ir::Op::kUpdate
                             : std::string_view(o) == "delete" ? ir::Op::kDelete
                                                               : ir::Op::kDdl);
          }
        }
      }
      if (!incremental && stages_known) {
        diags_.Emit(DiagKind::kOptionWithoutIncremental, ops->key.span,
                    "`ops` selects what the incremental stage replicates, but `incremental` is not staged",
                    "remove it, or add `incremental` to `stages`");
      }
    }
    std::vector<const ast::ObjectRule*> columns;
    for (const ast::Member& mem : t.body->members) {
      if (std::holds_alternative<ast::Attribute>(mem.node)) continue;
      const auto* r = std::get_if<ast::ObjectRule>(&mem.node);
      if (r != nullptr && r->kind == ast::ObjectKind::kColumn) {
        columns.push_back(r);
      } else {
        ReportMisplaced(mem, "a `table` rule (only `column` rules do)");
      }
    }
    CheckRuleLevel(columns, m, "column");
    for (const ast::ObjectRule* c : columns) {
      ir::ColumnRule cr;
      cr.exclude = c->exclude;
      cr.source = c->source.text;
      cr.target = c->target ? c->target->text : "";
      cr.origin = Origin(c->span);
      if (c->body) {
        for (const ast::Member& mem : c->body->members) {
          if (!std::holds_alternative<ast::Attribute>(mem.node)) ReportMisplaced(mem, "a `column` rule");
        }
        const Attrs ca = CheckAttributes(*c->body, ColumnSpec(), c->source.span);
        if (const ast::Attribute* ty = ca.Get("type")) {
          std::string error;
          if (!ParseSqlType(ty->value.text, &error)) {
            diags_.Emit(DiagKind::kInvalidTypePattern, ty->value.span,
                        fmt::format("`{}` is not a type: {}", ty->value.text, error),
                        "give a type of the destination engine, e.g. `type = \"numeric(12,2)\"`");
          }
          cr.type = ty->value.text;
        }
      }
      tr.columns.push_back(std::move(cr));
    }
    return tr;
  }

  Program& program_;
  Diagnostics& diags_;
  ir::Plan plan_;

  std::map<DeclKind, std::map<std::string, const ast::Declaration*>> names_;
  std::vector<Declared> ordered_;
  std::map<std::string, const ast::Declaration*> prelude_typemaps_;
  std::map<std::string, const ast::Declaration*> typemap_decls_;
  std::map<std::string, bool> typemap_engines_known_;
  std::map<std::string, bool> role_trusts_complete_;
  std::map<std::string, Attrs> endpoint_attrs_;
  std::map<std::string, std::pair<bool, bool>> account_keys_given_;
  std::vector<Attrs> migration_attrs_;
  std::set<std::string> stages_invalid_;
  std::map<std::string, const ast::SubBlock*> objects_blocks_;
  std::map<std::string, Attrs> retry_blocks_;
  std::map<std::string, const ast::Attribute*> verify_after_;
  std::map<std::string, const ast::Attribute*> alert_lag_;
  std::set<std::pair<std::string, std::string>> reported_access_;
};

}  // namespace

ir::Plan Analyze(Program& program, Diagnostics& diags) { return Analyzer(program, diags).Run(); }

}  // namespace ferry
