#include "runtime/mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "compiler/analyze.h"
#include "compiler/type_pattern.h"
#include "runtime/sql.h"

namespace ferry::runtime {

namespace {

using Sev = Problem::Severity;

// Glob matching with captures: each `*` takes the shortest run that lets the rest match,
// so `a_*_*` on `a_b_c_d` gives {"b", "c_d"}. Names are short; the recursion is bounded by
// the pattern's length.
bool Capture(std::string_view p, std::string_view t, std::vector<std::string>* stars) {
  if (p.empty()) return t.empty();
  if (p[0] == '*') {
    for (size_t n = 0; n <= t.size(); ++n) {
      size_t mark = stars->size();
      stars->emplace_back(t.substr(0, n));
      if (Capture(p.substr(1), t.substr(n), stars)) return true;
      stars->resize(mark);
    }
    return false;
  }
  if (t.empty()) return false;
  if (p[0] != '?' && p[0] != t[0]) return false;
  return Capture(p.substr(1), t.substr(1), stars);
}

std::string Capitalize(ir::Capitalization c, std::string s) {
  if (c == ir::Capitalization::kLower) {
    for (char& ch : s) {
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
  } else if (c == ir::Capitalization::kUpper) {
    for (char& ch : s) {
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    }
  }
  return s;
}

// The destination name of a source object: an explicit target (with `*` carried over from
// a glob), else the source name under `capitalization`.
std::string Target(const ir::Migration& m, std::string_view rule_source, std::string_view rule_target,
                   std::string_view name) {
  if (rule_target.empty()) return Capitalize(m.capitalization, std::string(name));
  if (!HasGlob(rule_source)) return std::string(rule_target);
  std::vector<std::string> stars;
  Capture(rule_source, name, &stars);
  return ApplyGlobTarget(rule_target, stars);
}

// Unquotes the members of an enum/set argument list: 'a','it''s' → {a, it's}.
std::vector<std::string> EnumValues(const SqlType& t) {
  std::vector<std::string> out;
  for (const auto& a : t.args) {
    std::string_view v = a;
    if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\'' && i + 1 < v.size() && v[i + 1] == '\'') ++i;
      else if (v[i] == '\\' && i + 1 < v.size()) ++i;
      s += v[i];
    }
    out.push_back(std::move(s));
  }
  return out;
}

size_t MaxIdentifier(ir::Engine e) { return e == ir::Engine::kPostgres ? 63 : 64; }

size_t Utf8Chars(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

class Mapper {
 public:
  Mapper(const ir::Plan& plan, const ir::Migration& m, const Catalog& src)
      : plan_(plan), m_(m), src_(src) {
    for (const auto& r : plan.EffectiveRules(m.typemap)) {
      std::string err;
      auto pat = ParseTypePattern(r.pattern, &err);
      if (pat) rules_.push_back({*pat, r});
    }
    zero_dates_ = plan.EffectiveZeroDates(m.typemap);
  }

  Selection Run() {
    sel_.from = m_.from_engine;
    sel_.to = m_.to_engine;
    std::set<const ir::SchemaRule*> schema_rule_used;
    for (const Schema& s : src_.schemas) {
      const ir::SchemaRule* rule = FirstSchemaRule(s.name);
      if (rule == nullptr || rule->exclude) continue;
      schema_rule_used.insert(rule);
      SchemaMapping sm{&s, Target(m_, rule->source, rule->target, s.name), rule->whole, rule->origin.loc};
      CheckIdentifier("schema " + s.name, sm.dst, rule->origin.loc);
      sel_.schemas.push_back(sm);
      SelectTables(s, *rule, sm);
      if (rule->whole && m_.to_engine == ir::Engine::kPostgres) {
        for (const UserType& t : s.types) NeedType(t, rule->origin.loc);
      }
    }
    for (const auto& r : m_.objects) {
      if (r.exclude || schema_rule_used.count(&r)) continue;
      if (HasGlob(r.source)) {
        Add(Sev::kWarning, "M003", "schema " + r.source,
            fmt::format("schema pattern \"{}\" matches no schema of the source endpoint {}", r.source, m_.from),
            "check the pattern, or remove the rule", r.origin.loc);
      } else if (FirstSchemaRule(r.source) == &r) {
        Add(Sev::kError, "M001", "schema " + r.source,
            fmt::format("schema \"{}\" does not exist in the source endpoint {}", r.source, m_.from),
            "check the name (names are case-sensitive) and that the source user can see it", r.origin.loc);
      }
    }
    CheckDuplicates();
    return std::move(sel_);
  }

 private:
  struct ParsedRule {
    TypePattern pattern;
    ir::TypeRule rule;
  };

  void Add(Sev sev, std::string code, std::string object, std::string message, std::string hint,
           std::string loc) {
    sel_.problems.push_back({sev, std::move(code), std::move(object), std::move(message), std::move(hint),
                             std::move(loc)});
  }

  const ir::SchemaRule* FirstSchemaRule(std::string_view name) const {
    for (const auto& r : m_.objects) {
      if (GlobMatch(r.source, name)) return &r;
    }
    return nullptr;
  }

  void CheckIdentifier(const std::string& object, const std::string& name, const std::string& loc) {
    size_t limit = MaxIdentifier(m_.to_engine);
    size_t len = m_.to_engine == ir::Engine::kPostgres ? name.size() : Utf8Chars(name);
    if (len > limit) {
      Add(Sev::kError, "M011", object,
          fmt::format("the destination name \"{}\" is {} {} long; {} allows {}", name, len,
                      m_.to_engine == ir::Engine::kPostgres ? "bytes" : "characters",
                      ir::Name(m_.to_engine), limit),
          "rename it in the plan to something shorter", loc);
    }
  }

  void SelectTables(const Schema& s, const ir::SchemaRule& rule, const SchemaMapping& sm) {
    std::set<const ir::TableRule*> used;
    for (const Table& t : s.tables) {
      const ir::TableRule* tr = nullptr;
      if (!rule.whole) {
        for (const auto& r : rule.tables) {
          if (GlobMatch(r.source, t.name)) {
            tr = &r;
            break;
          }
        }
        if (tr == nullptr || tr->exclude) continue;
        used.insert(tr);
      }
      TableMapping tm;
      tm.source = &t;
      tm.dst_schema = sm.dst;
      tm.dst_table = tr != nullptr ? Target(m_, tr->source, tr->target, t.name)
                                   : Capitalize(m_.capitalization, t.name);
      tm.loc = tr != nullptr ? tr->origin.loc : rule.origin.loc;
      if (tr != nullptr) {
        tm.where = tr->where;
        tm.ops = tr->ops;
      } else {
        tm.ops = {ir::Op::kInsert, ir::Op::kUpdate, ir::Op::kDelete, ir::Op::kDdl};
      }
      CheckIdentifier("table " + s.name + "." + t.name, tm.dst_table, tm.loc);
      MapColumns(t, tr, &tm);
      sel_.tables.push_back(std::move(tm));
    }
    if (rule.whole) return;
    for (const auto& r : rule.tables) {
      if (r.exclude || used.count(&r)) continue;
      std::string object = "table " + s.name + "." + r.source;
      if (HasGlob(r.source)) {
        Add(Sev::kWarning, "M003", object,
            fmt::format("table pattern \"{}\" matches no table of schema {}", r.source, s.name),
            "check the pattern, or remove the rule", r.origin.loc);
      } else if (s.FindView(r.source) != nullptr) {
        Add(Sev::kError, "M002", object,
            fmt::format("\"{}\" in schema {} is a view, not a table; rows are moved from tables only",
                        r.source, s.name),
            "select the tables the view reads, or the whole schema to recreate the view", r.origin.loc);
      } else {
        bool shadowed = false;  // an earlier rule took it (then the compiler has warned already)
        for (const auto& e : rule.tables) {
          if (&e == &r) break;
          if (GlobMatch(e.source, r.source)) shadowed = true;
        }
        if (!shadowed) {
          Add(Sev::kError, "M002", object,
              fmt::format("table \"{}\" does not exist in schema {} of the source endpoint {}", r.source,
                          s.name, m_.from),
              "check the name (names are case-sensitive) and that the source user can see it",
              r.origin.loc);
        }
      }
    }
  }

  void MapColumns(const Table& t, const ir::TableRule* tr, TableMapping* tm) {
    std::string tname = t.schema + "." + t.name;
    std::set<const ir::ColumnRule*> used;
    const Index* pk = t.PrimaryKey();
    for (const Column& c : t.columns) {
      const ir::ColumnRule* cr = nullptr;
      if (tr != nullptr) {
        for (const auto& r : tr->columns) {
          if (GlobMatch(r.source, c.name)) {
            cr = &r;
            break;
          }
        }
      }
      if (cr != nullptr) used.insert(cr);
      std::string object = "column " + tname + "." + c.name;
      if (cr != nullptr && cr->exclude) {
        if (pk != nullptr && std::find(pk->columns.begin(), pk->columns.end(), c.name) != pk->columns.end()) {
          Add(Sev::kError, "M005", object,
              fmt::format("column {} is part of the primary key of {}, so it cannot be excluded", c.name, tname),
              "keep the column (rename it if needed), or migrate the table without that key by hand",
              cr->origin.loc);
        }
        continue;
      }
      ColumnMapping cm;
      cm.source = &c;
      cm.name = cr != nullptr ? Target(m_, cr->source, cr->target, c.name) : Capitalize(m_.capitalization, c.name);
      cm.nullable = c.nullable;
      CheckIdentifier(object, cm.name, cr != nullptr ? cr->origin.loc : tm->loc);
      MapType(c, object, cr, tm->loc, &cm);
      if (!c.generated.empty() && m_.from_engine != m_.to_engine &&
          !(ir::IsMysqlFamily(m_.from_engine) && ir::IsMysqlFamily(m_.to_engine))) {
        cm.generated_as_data = true;
        Add(Sev::kWarning, "M006", object,
            fmt::format("generated column {}: its expression `{}` is {} SQL, which Ferry does not translate; "
                        "it is created as a plain column holding the source's values",
                        c.name, c.generated, ir::Name(m_.from_engine)),
            "to keep it generated, alter the destination column after the migration",
            cr != nullptr ? cr->origin.loc : tm->loc);
      }
      tm->columns.push_back(std::move(cm));
    }
    if (tr == nullptr) return;
    for (const auto& r : tr->columns) {
      if (used.count(&r) || HasGlob(r.source)) continue;
      Add(Sev::kError, "M004", "column " + tname + "." + r.source,
          fmt::format("column \"{}\" does not exist in table {}", r.source, tname),
          "check the name (names are case-sensitive)", r.origin.loc);
    }
  }

  // ---- PostgreSQL user-defined types ----------------------------------------------------

  // The destination schema of a source schema the catalog holds (so the plan selects it).
  std::string TypeSchema(const UserType& t) const {
    const ir::SchemaRule* rule = FirstSchemaRule(t.schema);
    return rule != nullptr ? Target(m_, rule->source, rule->target, t.schema) : t.schema;
  }

  // Records that the destination needs `t`, after the types it is made of.
  void NeedType(const UserType& t, const std::string& loc) {
    for (const auto& have : sel_.types) {
      if (have.source == &t) return;
    }
    auto need = [&](const TypeRef& ref) {
      if (ref.empty()) return;
      const UserType* u = src_.FindType(ref);
      if (u != nullptr && src_.FindSchema(ref.schema) != nullptr) {
        NeedType(*u, loc);
        return;
      }
      Add(Sev::kError, "M012", fmt::format("type {}.{}", t.schema, t.name),
          fmt::format("the {} {}.{} is made of the type {}.{}, defined in schema {}, which the plan does not move",
                      t.KindName(), t.schema, t.name, ref.schema, ref.name, ref.schema),
          fmt::format("add `schema {}` to the objects (its types are created with it)", ref.schema), loc);
    };
    need(t.base_type);
    for (const Column& a : t.attributes) need(a.user_type);
    sel_.types.push_back({&t, TypeSchema(t), loc});
  }

  // A user-defined type in the destination: into PostgreSQL the same type, created in its
  // schema's destination name; into the MySQL family an enum's labels as an ENUM and a
  // domain as its base type. Empty (after a Problem) when neither can be.
  std::string MapUserType(const Column& c, const TypeRef& ref, const std::string& object, const std::string& loc,
                          ColumnMapping* cm, int depth = 0) {
    std::string shown = ref.schema + "." + ref.name + (ref.array ? "[]" : "");
    const UserType* t = src_.FindType(ref);
    const bool to_pg = m_.to_engine == ir::Engine::kPostgres;
    if (t == nullptr || (to_pg && src_.FindSchema(ref.schema) == nullptr)) {
      // Into PostgreSQL the type is created, in the destination schema of its own.
      Add(Sev::kError, "M012", object,
          fmt::format("column {} has the type {}, defined in schema {}, which the plan does not move", c.name, shown,
                      ref.schema),
          fmt::format("add `schema {}` to the objects (its types are created with it), or override the column's "
                      "type: `column {} {{ type = \"…\" }}`",
                      ref.schema, c.name),
          loc);
      return "";
    }
    if (to_pg) {
      NeedType(*t, loc);
      cm->rule = fmt::format("{}{} {}.{}, created in the destination", ref.array ? "array of " : "", t->KindName(),
                             ref.schema, ref.name);
      return QuoteName(m_.to_engine, TypeSchema(*t), t->name) + (ref.array ? "[]" : "");
    }
    auto refuse = [&](std::string why) {
      Add(Sev::kError, "M010", object,
          fmt::format("column {} has {}the PostgreSQL {} {}.{}, {}", c.name, ref.array ? "an array of " : "",
                      t->KindName(), ref.schema, ref.name, why),
          fmt::format("override the column's type (its values are written as PostgreSQL prints them): "
                      "`column {} {{ type = \"…\" }}`",
                      c.name),
          loc);
      return std::string();
    };
    if (ref.array) return refuse("and the MySQL family has no arrays");
    if (t->kind == UserType::Kind::kEnum) {
      std::vector<std::string> labels;
      for (const auto& l : t->labels) labels.push_back(QuoteLiteral(m_.to_engine, l));
      cm->rule = fmt::format("enum {}: its labels", shown);
      cm->value_type = "text";
      return fmt::format("enum({})", fmt::join(labels, ","));
    }
    if (t->kind != UserType::Kind::kDomain || depth > 8) {
      return refuse("which has no counterpart in the MySQL family");
    }
    if (!t->base_type.empty()) {
      std::string out = MapUserType(c, t->base_type, object, loc, cm, depth + 1);
      if (!out.empty()) cm->rule = fmt::format("domain {} over {}", shown, cm->rule);
      return out;
    }
    // A domain over a built-in type: that type, through the type map.
    auto base = ParseSqlType(t->base);
    std::string rule;
    std::string out = base ? MapByRules(*base, &rule) : "";
    if (out.empty()) return refuse(fmt::format("over `{}`, which no rule of type map {} maps", t->base, m_.typemap));
    cm->rule = fmt::format("domain {} over {}", shown, rule);
    cm->value_type = t->base;
    return out;
  }

  // The first rule that maps `type`, and why in *rule; into PostgreSQL an array's elements may
  // be mapped instead (integer[] as integer, then []). Empty when none does.
  std::string MapByRules(const SqlType& type, std::string* rule) const {
    for (const auto& r : rules_) {
      if (auto t = Match(r.pattern, r.rule.target, type)) {
        *rule = fmt::format("typemap {}: \"{}\" -> \"{}\" ({})", r.rule.map, r.rule.pattern, r.rule.target,
                            r.rule.origin.loc);
        return *t;
      }
    }
    if (m_.to_engine == ir::Engine::kPostgres && type.name.ends_with("[]")) {
      SqlType element = type;
      std::string dims;
      while (element.name.ends_with("[]")) element.name.resize(element.name.size() - 2), dims += "[]";
      std::string out = MapByRules(element, rule);
      if (!out.empty()) {
        *rule = "array of " + *rule;
        return out + dims;
      }
    }
    return "";
  }

  void MapType(const Column& c, const std::string& object, const ir::ColumnRule* cr, const std::string& table_loc,
               ColumnMapping* cm) {
    std::string src_type = c.json_alias ? "json" : c.type;
    cm->value_type = src_type;
    if (cr != nullptr && !cr->type.empty()) {
      cm->type = cr->type;
      cm->rule = "type override at " + cr->origin.loc;
      if (!c.user_type.empty()) {
        // Its values are read as the built-in type under the domains (an enum's as text), or
        // as PostgreSQL prints them.
        const UserType* t = c.user_type.array ? nullptr : src_.FindType(c.user_type);
        for (int depth = 0; t != nullptr && t->kind == UserType::Kind::kDomain && !t->base_type.empty() && depth < 8;
             ++depth) {
          t = t->base_type.array ? nullptr : src_.FindType(t->base_type);
        }
        if (t != nullptr && t->kind == UserType::Kind::kEnum) cm->value_type = "text";
        if (t != nullptr && t->kind == UserType::Kind::kDomain && t->base_type.empty()) cm->value_type = t->base;
        return;
      }
    } else if (!c.user_type.empty()) {
      cm->type = MapUserType(c, c.user_type, object, cr != nullptr ? cr->origin.loc : table_loc, cm);
      return;
    }
    std::string err;
    auto parsed = ParseSqlType(src_type, &err);
    if (!parsed) {
      Add(Sev::kError, "M010", object,
          fmt::format("cannot read the type `{}` of column {}: {}", src_type, c.name, err),
          "override the column's type in the plan", cr != nullptr ? cr->origin.loc : table_loc);
      return;
    }
    if (cm->type.empty()) cm->type = MapByRules(*parsed, &cm->rule);
    if (cm->type.empty()) {
      Add(Sev::kError, "M010", object,
          fmt::format("column {} has type `{}`, which no rule of type map {} maps", c.name, src_type, m_.typemap),
          fmt::format("add `map \"{}\" -> \"…\"` to a typemap that extends {}, or override the column: "
                      "`column {} {{ type = \"…\" }}`",
                      parsed->name + (parsed->is_unsigned ? " unsigned" : ""), m_.typemap, c.name),
          cr != nullptr ? cr->origin.loc : table_loc);
      return;
    }
    auto dst = ParseSqlType(cm->type);
    bool dst_enum = dst && (dst->name == "enum" || dst->name == "set");
    if ((parsed->name == "enum" || parsed->name == "set") && !dst_enum) {
      cm->enum_values = EnumValues(*parsed);
      cm->is_set = parsed->name == "set";
    }
    if (zero_dates_ == ir::ZeroDates::kNull && ir::IsMysqlFamily(m_.from_engine) &&
        (parsed->name == "date" || parsed->name == "datetime" || parsed->name == "timestamp") && !c.nullable) {
      cm->nullable = true;
      Add(Sev::kNote, "M007", object,
          fmt::format("column {} is NOT NULL in the source but created nullable: the type map writes "
                      "MySQL zero dates (0000-00-00) as NULL (zero_dates = null)",
                      c.name),
          "set zero_dates = error in a typemap extending " + m_.typemap + " to keep NOT NULL and fail on zero dates",
          table_loc);
    }
  }

  void CheckDuplicates() {
    std::map<std::pair<std::string, std::string>, const TableMapping*> seen;
    for (const auto& t : sel_.tables) {
      auto key = std::make_pair(t.dst_schema, t.dst_table);
      auto [it, fresh] = seen.emplace(key, &t);
      if (!fresh) {
        Add(Sev::kError, "M008", "table " + t.dst_schema + "." + t.dst_table,
            fmt::format("two source tables, {}.{} and {}.{}, would both become {}.{} in the destination",
                        it->second->source->schema, it->second->source->name, t.source->schema, t.source->name,
                        t.dst_schema, t.dst_table),
            "rename one of them in the plan", t.loc);
      }
      std::map<std::string, const ColumnMapping*> cols;
      for (const auto& c : t.columns) {
        auto [cit, cfresh] = cols.emplace(c.name, &c);
        if (!cfresh) {
          Add(Sev::kError, "M009", "column " + t.source->schema + "." + t.source->name + "." + c.name,
              fmt::format("columns {} and {} of {}.{} would both be named {} in the destination",
                          cit->second->source->name, c.source->name, t.source->schema, t.source->name, c.name),
              "rename one of them in the plan", t.loc);
        }
      }
    }
  }

  const ir::Plan& plan_;
  const ir::Migration& m_;
  const Catalog& src_;
  std::vector<ParsedRule> rules_;
  ir::ZeroDates zero_dates_ = ir::ZeroDates::kUnset;
  Selection sel_;
};

}  // namespace

bool GlobCapture(std::string_view pattern, std::string_view text, std::vector<std::string>* stars) {
  stars->clear();
  return Capture(pattern, text, stars);
}

std::string ApplyGlobTarget(std::string_view target, const std::vector<std::string>& stars) {
  std::string out;
  size_t i = 0;
  for (char c : target) {
    if (c == '*' && i < stars.size()) out += stars[i++];
    else out += c;
  }
  return out;
}

std::string ColumnMapping::ValueType() const {
  if (!value_type.empty()) return value_type;
  return source->json_alias ? "json" : source->type;
}

const ColumnMapping* TableMapping::FindSource(std::string_view source_column) const {
  for (const auto& c : columns) {
    if (c.source->name == source_column) return &c;
  }
  return nullptr;
}

bool Selection::ok() const {
  return std::none_of(problems.begin(), problems.end(),
                      [](const Problem& p) { return p.severity == Problem::Severity::kError; });
}

const TableMapping* Selection::FindSource(std::string_view schema, std::string_view table) const {
  for (const auto& t : tables) {
    if (t.source->schema == schema && t.source->name == table) return &t;
  }
  return nullptr;
}

const SchemaMapping* Selection::FindSchema(std::string_view source_schema) const {
  for (const auto& s : schemas) {
    if (s.source->name == source_schema) return &s;
  }
  return nullptr;
}

std::vector<std::string> SelectSchemas(const ir::Migration& m, const std::vector<std::string>& available) {
  std::vector<std::string> out;
  for (const auto& name : available) {
    for (const auto& r : m.objects) {
      if (GlobMatch(r.source, name)) {
        if (!r.exclude) out.push_back(name);
        break;
      }
    }
  }
  return out;
}

Selection Select(const ir::Plan& plan, const ir::Migration& m, const Catalog& source) {
  return Mapper(plan, m, source).Run();
}

}  // namespace ferry::runtime
